"""Settings from the environment: the GeoCatalog call limit per instance (derived from the
subscription's budget, or explicit) and the queue names the triggers bind."""

from __future__ import annotations

import json

import pytest

import function_app
from shared.runtime import Runtime
from shared.settings import QUEUE_SETTINGS, Settings, SettingsError
from tests.app_settings import QUEUE_NAMES
from tests.triggers import app_functions

BASE = {
    "GEOCATALOG_URL": "https://example.abc123.westeurope.geocatalog.spatio.azure.com",
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    **QUEUE_NAMES,
}


def _geocatalog(**values: str) -> Settings:
    return Settings.from_env({**BASE, **values})


def test_one_instance_gets_four_fifths_of_the_budget_by_default() -> None:
    settings = _geocatalog().geocatalog
    assert settings.subscription_calls_per_second == 50.0
    assert settings.max_instances == 1
    assert settings.max_calls_per_second is None
    assert settings.calls_per_second_per_instance == 40.0


def test_the_budget_is_divided_among_the_most_instances_that_may_run() -> None:
    settings = _geocatalog(
        GEOCATALOG_MAX_INSTANCES="16", GEOCATALOG_SUBSCRIPTION_CALLS_PER_SECOND="100"
    ).geocatalog
    assert settings.calls_per_second_per_instance == 5.0


def test_an_explicit_limit_wins_and_an_empty_one_means_derived() -> None:
    explicit = _geocatalog(GEOCATALOG_MAX_INSTANCES="40", GEOCATALOG_MAX_CALLS_PER_SECOND="7.5")
    assert explicit.geocatalog.calls_per_second_per_instance == 7.5
    empty = _geocatalog(GEOCATALOG_MAX_INSTANCES="40", GEOCATALOG_MAX_CALLS_PER_SECOND="")
    assert empty.geocatalog.calls_per_second_per_instance == 1.0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GEOCATALOG_MAX_INSTANCES", "0"),
        ("GEOCATALOG_MAX_INSTANCES", "2.5"),
        ("GEOCATALOG_SUBSCRIPTION_CALLS_PER_SECOND", "0"),
        ("GEOCATALOG_MAX_CALLS_PER_SECOND", "fast"),
        ("GEOCATALOG_MAX_CALLS_PER_SECOND", "0"),
    ],
)
def test_bad_values_are_reported_by_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        _geocatalog(**{name: value})
    assert caught.value.name == name
    assert name in str(caught.value)


def test_a_bad_value_is_not_echoed() -> None:
    with pytest.raises(SettingsError) as caught:
        _geocatalog(GEOCATALOG_MAX_CALLS_PER_SECOND="fast-please")
    assert "fast-please" not in str(caught.value)


def test_the_runtime_limits_its_geocatalog_client_to_the_instance_share() -> None:
    settings = _geocatalog(GEOCATALOG_MAX_INSTANCES="40", GEOCATALOG_CREDENTIAL="none")
    limiter = Runtime(settings).geocatalog.limiter
    assert limiter is not None
    assert limiter.max_rate == 1.0
    assert limiter.min_rate < limiter.max_rate  # a 429 can still slow it down


@pytest.mark.parametrize("name", QUEUE_SETTINGS)
def test_each_queue_setting_is_required_since_the_triggers_bind_it(name: str) -> None:
    env = {**BASE}
    del env[name]
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert caught.value.name == name
    assert str(caught.value) == f"app setting {name} is required but not set"


def test_the_queue_settings_are_the_ones_the_triggers_bind() -> None:
    bound = {
        binding["queueName"].split("%")[1]
        for function in app_functions(function_app.app)
        for binding in json.loads(function.get_function_json())["bindings"]
        if binding["type"] == "queueTrigger"
    }
    assert bound == set(QUEUE_SETTINGS)


def test_queue_names_come_from_their_settings() -> None:
    queues = Settings.from_env(
        {
            **BASE,
            "INGEST_PLAN_QUEUE": "p1",
            "INGEST_ITEMS_QUEUE": "i1",
            "INGEST_STATUS_QUEUE": "s1",
        }
    ).queues
    assert (queues.plan, queues.items, queues.status) == ("p1", "i1", "s1")
