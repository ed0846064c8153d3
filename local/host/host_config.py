"""host.json: the settings the local host honours, with the real host's defaults."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any


class HostConfigError(ValueError):
    """host.json is unreadable or a setting is out of range; the message names the setting."""


class MessageEncoding(StrEnum):
    BASE64 = "base64"
    NONE = "none"


# Flex Consumption's default; Consumption's is 5 minutes. The project targets Flex.
DEFAULT_FUNCTION_TIMEOUT_SECONDS = 30 * 60.0


@dataclass(frozen=True)
class QueuesOptions:
    """`extensions.queues`, defaults from the WebJobs `QueuesOptions` source."""

    batch_size: int = 16
    new_batch_threshold: int = 8
    max_polling_interval: float = 60.0
    visibility_timeout: float = 0.0
    max_dequeue_count: int = 5
    message_encoding: MessageEncoding = MessageEncoding.BASE64

    @property
    def max_in_flight(self) -> int:
        return self.batch_size + self.new_batch_threshold


@dataclass(frozen=True)
class HostConfig:
    queues: QueuesOptions
    # None means no limit (host.json "-1").
    function_timeout: float | None = DEFAULT_FUNCTION_TIMEOUT_SECONDS
    route_prefix: str = "api"


_TIMESPAN = re.compile(
    r"^(?P<sign>-)?(?:(?P<days>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{1,2})"
    r"(?::(?P<s>\d{1,2})(?:\.(?P<frac>\d{1,7}))?)?$"
)


def parse_timespan(text: str, *, setting: str) -> float:
    """A .NET TimeSpan string (`[-][d.]hh:mm[:ss[.fffffff]]`, or whole days) in seconds."""
    value = text.strip()
    if re.fullmatch(r"-?\d+", value):
        return int(value) * 86400.0
    match = _TIMESPAN.match(value)
    if match is None:
        raise HostConfigError(f"host.json {setting} {text!r} is not a TimeSpan like 00:05:00")
    hours, minutes = int(match["h"]), int(match["m"])
    seconds = int(match["s"] or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise HostConfigError(f"host.json {setting} {text!r} is not a TimeSpan like 00:05:00")
    total = (
        int(match["days"] or 0) * 86400
        + hours * 3600
        + minutes * 60
        + seconds
        + float("0." + (match["frac"] or "0"))
    )
    return -total if match["sign"] else total


def _lower_keys(section: Any) -> dict[str, Any]:
    # .NET configuration binding ignores the case of keys.
    return {str(k).lower(): v for k, v in section.items()} if isinstance(section, Mapping) else {}


def _int(section: Mapping[str, Any], key: str, name: str, default: int) -> int:
    raw = section.get(key.lower())
    if raw is None:
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise HostConfigError(f"host.json {name} must be a whole number, not {raw!r}") from None


def parse_queues(section: Any, *, processor_count: int | None = None) -> QueuesOptions:
    q = _lower_keys(section)
    prefix = "extensions.queues."
    batch_size = _int(q, "batchSize", prefix + "batchSize", 16)
    if not 1 <= batch_size <= 32:
        raise HostConfigError(f"host.json {prefix}batchSize must be between 1 and 32")
    cpus = processor_count or os.cpu_count() or 1
    # The source's default scales with processors: batchSize / 2 per processor.
    threshold = _int(q, "newBatchThreshold", prefix + "newBatchThreshold", batch_size // 2 * cpus)
    if threshold < 0:
        raise HostConfigError(f"host.json {prefix}newBatchThreshold must not be negative")
    polling = 60.0
    if q.get("maxpollinginterval") is not None:
        raw = q["maxpollinginterval"]
        if isinstance(raw, int | float):
            # host.json v1 took milliseconds; v2 binds a bare number as days. Both are mistakes here.
            raise HostConfigError(
                f"host.json {prefix}maxPollingInterval must be a TimeSpan like 00:00:02, not {raw!r}"
            )
        polling = parse_timespan(str(raw), setting=prefix + "maxPollingInterval")
    if polling < 0.1:
        raise HostConfigError(f"host.json {prefix}maxPollingInterval must be at least 00:00:00.1")
    visibility = 0.0
    if q.get("visibilitytimeout") is not None:
        visibility = parse_timespan(
            str(q["visibilitytimeout"]), setting=prefix + "visibilityTimeout"
        )
    if visibility < 0:
        raise HostConfigError(f"host.json {prefix}visibilityTimeout must not be negative")
    max_dequeue = _int(q, "maxDequeueCount", prefix + "maxDequeueCount", 5)
    if max_dequeue < 1:
        raise HostConfigError(f"host.json {prefix}maxDequeueCount must be at least 1")
    encoding_raw = str(q.get("messageencoding", "base64")).lower()
    try:
        encoding = MessageEncoding(encoding_raw)
    except ValueError:
        raise HostConfigError(
            f"host.json {prefix}messageEncoding must be base64 or none, not {encoding_raw!r}"
        ) from None
    return QueuesOptions(
        batch_size=batch_size,
        new_batch_threshold=threshold,
        max_polling_interval=polling,
        visibility_timeout=visibility,
        max_dequeue_count=max_dequeue,
        message_encoding=encoding,
    )


def parse_host_json(data: Mapping[str, Any], *, processor_count: int | None = None) -> HostConfig:
    top = _lower_keys(data)
    extensions = _lower_keys(top.get("extensions"))
    queues = parse_queues(extensions.get("queues"), processor_count=processor_count)
    timeout: float | None = DEFAULT_FUNCTION_TIMEOUT_SECONDS
    raw_timeout = top.get("functiontimeout")
    if raw_timeout is not None:
        parsed = parse_timespan(str(raw_timeout), setting="functionTimeout")
        timeout = None if parsed < 0 else parsed
        if timeout == 0:
            raise HostConfigError("host.json functionTimeout must be positive (or -1 for none)")
    http = _lower_keys(extensions.get("http"))
    prefix = http.get("routeprefix", "api")
    if not isinstance(prefix, str):
        raise HostConfigError("host.json extensions.http.routePrefix must be a string")
    return HostConfig(queues=queues, function_timeout=timeout, route_prefix=prefix.strip("/"))


# App settings named `AzureFunctionsJobHost__<path>__<to>__<setting>` override host.json values
# ("Override host.json values" in the host.json reference), e.g.
# `AzureFunctionsJobHost__extensions__queues__maxDequeueCount`.
HOST_OVERRIDE_PREFIX = "AzureFunctionsJobHost__"


def apply_overrides(data: Mapping[str, Any], settings: Mapping[str, str]) -> dict[str, Any]:
    """A copy of host.json `data` with the `AzureFunctionsJobHost__...` app settings applied.

    Keys match case-insensitively (.NET configuration); a section named by a setting but absent
    from host.json is created. Values stay strings, as the host's configuration binding reads them.
    """
    result: dict[str, Any] = json.loads(json.dumps(data))
    prefix = HOST_OVERRIDE_PREFIX.lower()
    for name, value in sorted(settings.items()):
        if not name.lower().startswith(prefix):
            continue
        path = [part for part in name[len(prefix) :].split("__") if part]
        if not path:
            continue
        section = result
        for part in path[:-1]:
            key = _existing_key(section, part)
            if not isinstance(section.get(key), dict):
                section[key] = {}
            section = section[key]
        section[_existing_key(section, path[-1])] = value
    return result


def _existing_key(section: Mapping[str, Any], name: str) -> str:
    for key in section:
        if key.lower() == name.lower():
            return key
    return name


def load_host_json(
    project_dir: Path,
    *,
    processor_count: int | None = None,
    settings: Mapping[str, str] | None = None,
) -> HostConfig:
    """host.json of the project (or the defaults when the file is absent, as the host does),
    with the `AzureFunctionsJobHost__*` overrides among `settings` applied."""
    path = project_dir / "host.json"
    data: Any = {}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise HostConfigError(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(data, Mapping):
            raise HostConfigError(f"{path} must hold a JSON object")
    return parse_host_json(apply_overrides(data, settings or {}), processor_count=processor_count)
