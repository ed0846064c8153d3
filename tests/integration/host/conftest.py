"""Fixtures for the local host's integration tests: real Azurite, real HTTP, the sample app."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from local.azurite import Azurite
from local.host import LocalHost
from tests.integration.host import sample_app

SAMPLE_APP = "tests.integration.host.sample_app"
ALL_FUNCTIONS = (
    "greet",
    "item_by_id",
    "latest_item",
    "files",
    "tags",
    "nothing",
    "boom",
    "secret",
    "operator",
    "enqueue",
    "flaky",
    "flaky_poison",
    "relay",
    "sink",
    "slow",
    "slow_async",
    "tick",
    "tock",
    "on_startup",
    "on_blob",
)

# Fast polling and few attempts so failure paths finish quickly; everything else as in Azure.
FAST_HOST_JSON: dict[str, Any] = {
    "version": "2.0",
    "functionTimeout": "00:01:00",
    "extensions": {
        "queues": {
            "batchSize": 4,
            "newBatchThreshold": 2,
            "maxPollingInterval": "00:00:00.500",
            "visibilityTimeout": "00:00:00",
            "maxDequeueCount": 3,
        }
    },
}


class Queues:
    """Producer/inspector for test queues, writing base64 as the host expects by default."""

    def __init__(self, connection_string: str) -> None:
        self._conn = connection_string

    def client(self, name: str, *, base64: bool = True) -> QueueClient:
        # Policies given to a QueueServiceClient do not reach the queue clients it hands out.
        return QueueClient.from_connection_string(
            self._conn,
            name,
            message_encode_policy=TextBase64EncodePolicy() if base64 else None,
            message_decode_policy=TextBase64DecodePolicy() if base64 else None,
        )

    def send(
        self, name: str, body: str | dict[str, Any], *, base64: bool = True, delay: int = 0
    ) -> str:
        client = self.client(name, base64=base64)
        with contextlib.suppress(ResourceExistsError):
            client.create_queue()
        text = body if isinstance(body, str) else json.dumps(body)
        return str(client.send_message(text, visibility_timeout=delay or None).id)

    def receive_and_release(self, name: str, times: int) -> None:
        """Raise the dequeue count of the one message in `name` by `times` (another consumer
        that received it and gave it back)."""
        client = self.client(name, base64=False)
        for _ in range(times):
            (message,) = list(client.receive_messages(max_messages=1, visibility_timeout=30))
            client.update_message(message, visibility_timeout=0)

    def peek_raw(self, name: str, max_messages: int = 32) -> list[str]:
        """The stored text of the visible messages (not decoded)."""
        client = self.client(name, base64=False)
        try:
            return [m.content for m in client.peek_messages(max_messages=max_messages)]
        except Exception:  # noqa: BLE001 - a queue that does not exist holds nothing
            return []

    def count(self, name: str) -> int:
        try:
            props = self.client(name).get_queue_properties()
        except Exception:  # noqa: BLE001 - a queue that does not exist holds nothing
            return 0
        return int(props.approximate_message_count or 0)


@pytest.fixture
def queues(azurite: Azurite) -> Queues:
    return Queues(azurite.connection_string)


@pytest.fixture(autouse=True)
def _fresh_sample_state() -> Iterator[None]:
    sample_app.reset()
    yield
    # Let any thread still held by a test run to its end.
    sample_app.RELEASE_TICK.set()
    sample_app.RELEASE_SLOW.set()


@pytest.fixture
def names(unique_name: str) -> dict[str, str]:
    return {
        "FLAKY_QUEUE": f"{unique_name}-flaky",
        "RELAY_QUEUE": f"{unique_name}-relay",
        "RELAY_OUT_QUEUE": f"{unique_name}-out",
        "SLOW_QUEUE": f"{unique_name}-slow",
        "SLOW_ASYNC_QUEUE": f"{unique_name}-slowa",
        # Once a year: a timer test sets its own schedule.
        "TICK_SCHEDULE": "0 0 0 1 1 *",
    }


MakeHost = Callable[..., LocalHost]


@pytest.fixture
def make_host(
    azurite: Azurite, tmp_path: Path, names: dict[str, str], unique_name: str
) -> Iterator[MakeHost]:
    """Start a LocalHost over the sample app with only `enabled` functions running (the others
    disabled through `AzureWebJobs.<name>.Disabled`, as in Azure); stopped at teardown."""
    started: list[LocalHost] = []

    def make(
        enabled: tuple[str, ...] | set[str],
        *,
        host_json: dict[str, Any] | None = None,
        settings: dict[str, str] | None = None,
        project_dir: Path | None = None,
        **kwargs: Any,
    ) -> LocalHost:
        project = project_dir or tmp_path / f"project{len(started)}"
        project.mkdir(exist_ok=True)
        (project / "host.json").write_text(json.dumps(host_json or FAST_HOST_JSON))
        overrides = {
            "AzureWebJobsStorage": azurite.connection_string,
            **names,
            **{f"AzureWebJobs.{n}.Disabled": "true" for n in ALL_FUNCTIONS if n not in enabled},
            **(settings or {}),
        }
        kwargs.setdefault("host_id", unique_name)
        host = LocalHost(
            project, app_module=SAMPLE_APP, settings_overrides=overrides, http_port=0, **kwargs
        )
        host.start()
        started.append(host)
        return host

    yield make
    # Release held functions first, or stopping would wait for them.
    sample_app.RELEASE_TICK.set()
    sample_app.RELEASE_SLOW.set()
    for host in reversed(started):
        host.stop()
