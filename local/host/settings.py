"""App settings as the local host sees them: local.settings.json, the environment, overrides.

Resolution rules follow Core Tools and the WebJobs source:
- `local.settings.json` Values go into the environment without replacing variables that are
  already set (Core Tools); explicit overrides (tests) replace both.
- `%NAME%` in a queue name or schedule is replaced by the setting NAME (INameResolver).
- A connection name is looked up as `AzureWebJobs<name>` first, then `<name>`
  (`GetWebJobsConnectionStringSection`); an empty name means `AzureWebJobsStorage`.
- .NET configuration keys are case-insensitive and `__` separates sections.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

STORAGE_CONNECTION = "AzureWebJobsStorage"
_WEBJOBS_PREFIX = "AzureWebJobs"
# Settings under a connection name that mean "identity-based connection" to the host.
_IDENTITY_KEYS = ("serviceuri", "queueserviceuri", "blobserviceuri", "accountname", "credential")


class SettingsFileError(ValueError):
    """local.settings.json cannot be read or has the wrong shape."""


class BindingExpressionError(ValueError):
    """A `%NAME%` expression names a setting that is not set (the host's indexing error)."""


class ConnectionSettingError(ValueError):
    """A binding's connection cannot be used by the local host; the message says why."""


@dataclass(frozen=True)
class LocalSettingsFile:
    """What a local.settings.json holds that the host uses."""

    path: Path | None
    values: dict[str, str] = field(default_factory=dict)
    local_http_port: int | None = None


def find_settings_file(project_dir: Path, explicit: Path | None = None) -> Path | None:
    """The settings file to read: the explicit one, else local.settings.json, else the example."""
    if explicit is not None:
        if not explicit.exists():
            raise SettingsFileError(f"settings file {explicit} does not exist")
        return explicit
    for name in ("local.settings.json", "local.settings.example.json"):
        candidate = project_dir / name
        if candidate.exists():
            return candidate
    return None


def read_settings_file(path: Path | None) -> LocalSettingsFile:
    if path is None:
        return LocalSettingsFile(path=None)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsFileError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise SettingsFileError(f"{path} must hold a JSON object")
    if data.get("IsEncrypted"):
        raise SettingsFileError(f"{path} is encrypted (IsEncrypted: true); decrypt it first")
    raw_values = data.get("Values", {})
    if not isinstance(raw_values, Mapping):
        raise SettingsFileError(f"{path}: Values must be an object of strings")
    values: dict[str, str] = {}
    for key, value in raw_values.items():
        if isinstance(value, str):
            values[str(key)] = value
        elif isinstance(value, bool | int | float):
            # Core Tools passes such values on as text; say so, since it hides typos like 1 vs "1".
            log.warning("local settings: %s is not a string; using %s", key, json.dumps(value))
            values[str(key)] = json.dumps(value)
        elif value is None:
            continue
        else:
            raise SettingsFileError(f"{path}: Values.{key} must be a string")
    host = data.get("Host") if isinstance(data.get("Host"), Mapping) else {}
    port = host.get("LocalHttpPort") if host else None
    return LocalSettingsFile(
        path=path, values=values, local_http_port=int(port) if port is not None else None
    )


def merge_settings(
    environ: Mapping[str, str],
    file_values: Mapping[str, str],
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """What the environment must gain: file values that are not already set, then overrides."""
    merged = {k: v for k, v in file_values.items() if k not in environ}
    merged.update(overrides or {})
    return merged


class AppSettings(Mapping[str, str]):
    """A case-insensitive view of the settings the app runs with (as .NET configuration is)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)
        self._lower = {k.lower(): v for k, v in values.items()}

    def __getitem__(self, key: str) -> str:
        return self._lower[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._lower

    def section_children(self, name: str) -> dict[str, str]:
        """Settings `<name>__<child>` (the .NET section `<name>:<child>`), by lowercase child."""
        prefix = name.lower() + "__"
        return {k[len(prefix) :]: v for k, v in self._lower.items() if k.startswith(prefix)}

    def flag(self, name: str) -> bool:
        return self.get(name, "").strip().lower() in ("1", "true", "yes")

    @classmethod
    def from_environ(cls) -> AppSettings:
        return cls(dict(os.environ))


_EXPRESSION = re.compile(r"%([^%]+)%")


def resolve_expression(text: str, settings: Mapping[str, str]) -> str:
    """Replace every `%NAME%` in `text` with the setting NAME."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        value = settings.get(name)
        if value is None:
            raise BindingExpressionError(
                f"'%{name}%' does not resolve to a value: app setting {name} is not set"
            )
        return value

    return _EXPRESSION.sub(substitute, text)


def resolve_connection(name: str | None, settings: AppSettings) -> str:
    """The connection string a binding's `connection` names.

    Identity-based connections (`<name>__serviceUri` and friends) are real in Azure but cannot be
    exercised against Azurite, so they are refused with an error that says what to set instead.
    """
    wanted = (name or "").strip() or STORAGE_CONNECTION
    candidates = [_WEBJOBS_PREFIX + wanted, wanted]
    for candidate in candidates:
        value = settings.get(candidate)
        if value is not None and value.strip():
            return value.strip()
        children = settings.section_children(candidate)
        if value is None and children:
            identity = sorted(k for k in children if k in _IDENTITY_KEYS) or sorted(children)
            raise ConnectionSettingError(
                f"connection {wanted!r} is identity-based ({candidate}__{identity[0]}); the local "
                f"host supports connection strings only: set {candidate} to an Azurite connection "
                "string"
            )
        if value is not None:
            raise ConnectionSettingError(f"connection {wanted!r}: app setting {candidate} is empty")
    raise ConnectionSettingError(
        f"connection {wanted!r} does not exist: set app setting {wanted}"
        + (f" (or {_WEBJOBS_PREFIX + wanted})" if not wanted.startswith(_WEBJOBS_PREFIX) else "")
    )


def function_disabled(function_name: str, settings: AppSettings) -> bool:
    """`AzureWebJobs.<name>.Disabled` set to true disables a function, as in Azure."""
    return settings.flag(f"AzureWebJobs.{function_name}.Disabled")
