"""host.json parsing with the real host's defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.host.host_config import (
    DEFAULT_FUNCTION_TIMEOUT_SECONDS,
    HostConfigError,
    MessageEncoding,
    load_host_json,
    parse_host_json,
    parse_timespan,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:00:02", 2.0),
        ("00:10:00", 600.0),
        ("00:00:00.5", 0.5),
        ("00:00:00.100", 0.1),
        ("1.02:00:00", 93600.0),
        ("01:30", 5400.0),
        ("2", 172800.0),
        ("-1", -86400.0),
        ("-00:00:01", -1.0),
    ],
)
def test_timespans(text: str, seconds: float) -> None:
    assert parse_timespan(text, setting="x") == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5 minutes", "00:60:00", "1:2:3:4", ""])
def test_bad_timespans_name_the_setting(text: str) -> None:
    with pytest.raises(HostConfigError, match="functionTimeout"):
        parse_timespan(text, setting="functionTimeout")


def test_defaults_when_everything_is_absent() -> None:
    config = parse_host_json({"version": "2.0"}, processor_count=4)
    queues = config.queues
    assert queues.batch_size == 16
    # (batchSize / 2) per processor, from the source.
    assert queues.new_batch_threshold == 32
    assert queues.max_polling_interval == 60.0
    assert queues.visibility_timeout == 0.0
    assert queues.max_dequeue_count == 5
    assert queues.message_encoding is MessageEncoding.BASE64
    assert config.route_prefix == "api"
    assert config.function_timeout == DEFAULT_FUNCTION_TIMEOUT_SECONDS


def test_the_projects_host_json() -> None:
    config = load_host_json(REPO)
    assert config.function_timeout == 600.0
    assert config.route_prefix == "api"
    q = config.queues
    assert (q.batch_size, q.new_batch_threshold, q.max_dequeue_count) == (16, 8, 5)
    assert (q.max_polling_interval, q.visibility_timeout) == (2.0, 5.0)
    assert q.max_in_flight == 24


def test_keys_are_case_insensitive_and_prefix_may_be_empty() -> None:
    config = parse_host_json(
        {
            "FunctionTimeout": "-1",
            "Extensions": {
                "Http": {"RoutePrefix": ""},
                "Queues": {"BatchSize": 1, "MessageEncoding": "None", "MaxDequeueCount": 1},
            },
        }
    )
    assert config.function_timeout is None
    assert config.route_prefix == ""
    assert config.queues.batch_size == 1
    assert config.queues.message_encoding is MessageEncoding.NONE
    assert config.queues.max_dequeue_count == 1


@pytest.mark.parametrize(
    ("queues", "message"),
    [
        ({"batchSize": 33}, "batchSize"),
        ({"batchSize": 0}, "batchSize"),
        ({"maxDequeueCount": 0}, "maxDequeueCount"),
        ({"maxPollingInterval": "00:00:00.05"}, "maxPollingInterval"),
        ({"maxPollingInterval": 2000}, "maxPollingInterval"),
        ({"messageEncoding": "utf8"}, "messageEncoding"),
        ({"newBatchThreshold": -1}, "newBatchThreshold"),
        ({"batchSize": "many"}, "batchSize"),
    ],
)
def test_out_of_range_settings_are_refused(queues: dict[str, object], message: str) -> None:
    with pytest.raises(HostConfigError, match=message):
        parse_host_json({"extensions": {"queues": queues}})


def test_missing_file_means_defaults_and_broken_file_is_an_error(tmp_path: Path) -> None:
    assert load_host_json(tmp_path).queues.batch_size == 16
    (tmp_path / "host.json").write_text("{not json")
    with pytest.raises(HostConfigError, match="not valid JSON"):
        load_host_json(tmp_path)
    (tmp_path / "host.json").write_text(json.dumps({"functionTimeout": "00:00:00"}))
    with pytest.raises(HostConfigError, match="functionTimeout"):
        load_host_json(tmp_path)


def test_app_settings_override_host_json_values() -> None:
    # "Override host.json values": AzureFunctionsJobHost__path__to__setting, keys in any case.
    config = load_host_json(
        REPO,
        settings={
            "AzureFunctionsJobHost__extensions__queues__maxDequeueCount": "2",
            "azurefunctionsjobhost__Extensions__Queues__VisibilityTimeout": "00:00:01",
            "AzureFunctionsJobHost__functionTimeout": "00:01:00",
            "AzureFunctionsJobHost__extensions__http__routePrefix": "v1",
            "GEOCATALOG_URL": "http://127.0.0.1:8700",
        },
    )
    q = config.queues
    assert (q.max_dequeue_count, q.visibility_timeout) == (2, 1.0)
    # Values the settings do not name keep host.json's.
    assert (q.batch_size, q.max_polling_interval) == (16, 2.0)
    assert config.function_timeout == 60.0
    assert config.route_prefix == "v1"


def test_overrides_create_sections_and_are_validated_like_host_json(tmp_path: Path) -> None:
    config = load_host_json(
        tmp_path, settings={"AzureFunctionsJobHost__extensions__queues__batchSize": "4"}
    )
    assert config.queues.batch_size == 4
    with pytest.raises(HostConfigError, match="maxDequeueCount"):
        load_host_json(
            tmp_path, settings={"AzureFunctionsJobHost__extensions__queues__maxDequeueCount": "0"}
        )
