"""Start-up effects happen where they are named (shared.startup), not on first use elsewhere."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from shared import startup
from shared.runtime import Runtime, reset, runtime
from shared.settings import (
    CredentialMode,
    GeoCatalogSettings,
    Settings,
    StorageSettings,
    current_settings,
)
from tests.app_settings import set_queue_names

SDK_REQUEST_LOG = "azure.core.pipeline.policies.http_logging_policy"
# Nothing listens on port 9: a request there would fail (after azure-core's retries).
UNREACHABLE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
    "QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;"
    "TableEndpoint=http://127.0.0.1:9/devstoreaccount1;"
    "BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;"
)


@pytest.fixture
def sdk_log_level() -> Iterator[logging.Logger]:
    logger = logging.getLogger(SDK_REQUEST_LOG)
    before = logger.level
    logger.setLevel(logging.NOTSET)
    yield logger
    logger.setLevel(before)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("GEOCATALOG_URL", "https://one.example")
    monkeypatch.setenv("GEOCATALOG_CREDENTIAL", "none")
    monkeypatch.setenv("AzureWebJobsStorage", UNREACHABLE)
    set_queue_names(monkeypatch)
    reset()
    yield monkeypatch
    reset()


def test_the_pipeline_is_built_without_touching_storage() -> None:
    settings = Settings(
        geocatalog=GeoCatalogSettings(url="http://127.0.0.1:9", credential=CredentialMode.NONE),
        storage=StorageSettings(connection_string=UNREACHABLE),
    )
    pipeline = Runtime(settings).pipeline
    assert pipeline.store is not None
    assert pipeline.queues is not None


@pytest.mark.usefixtures("environment")
def test_the_runtime_leaves_logging_alone(sdk_log_level: logging.Logger) -> None:
    runtime()
    assert sdk_log_level.level == logging.NOTSET


def test_start_up_quiets_the_sdk_request_log(sdk_log_level: logging.Logger) -> None:
    startup.configure_logging()
    assert sdk_log_level.level == logging.WARNING


def test_the_settings_check_names_a_missing_setting_and_does_not_raise(
    environment: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    environment.delenv("INGEST_STATUS_QUEUE")
    with caplog.at_level(logging.ERROR, logger=startup.__name__):
        assert startup.check_settings() is None
    assert [r.getMessage() for r in caplog.records] == [
        "the app is misconfigured: app setting INGEST_STATUS_QUEUE is required but not set"
    ]


def test_the_settings_check_caches_nothing(environment: pytest.MonkeyPatch) -> None:
    checked = startup.check_settings()
    assert checked is not None
    environment.setenv("GEOCATALOG_URL", "https://two.example")
    assert runtime().settings.geocatalog.url == "https://two.example"


def test_reset_forgets_the_settings_and_the_runtime_together(
    environment: pytest.MonkeyPatch,
) -> None:
    first = runtime()
    assert current_settings().geocatalog.url == "https://one.example"
    environment.setenv("GEOCATALOG_URL", "https://two.example")
    assert runtime() is first
    reset()
    assert runtime() is not first
    assert runtime().settings.geocatalog.url == "https://two.example"
    assert current_settings() is runtime().settings
