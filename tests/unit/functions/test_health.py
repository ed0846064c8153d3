from __future__ import annotations

import json

import azure.functions as func
import pytest

from functions.health import health
from shared.health import run_probes
from shared.runtime import reset
from tests.app_settings import set_queue_names


def test_report_lists_each_probe_and_fails_when_one_fails() -> None:
    def boom() -> str:
        raise RuntimeError("storage unreachable\nsecond line never shown")

    report = run_probes({"configuration": lambda: "fine", "storage": boom})
    body = report.to_dict()
    assert not report.ok
    assert body["status"] == "unhealthy"
    assert body["checks"]["configuration"]["ok"] is True
    assert body["checks"]["storage"] == {
        "ok": False,
        "detail": "RuntimeError: storage unreachable",
        "durationMs": body["checks"]["storage"]["durationMs"],
    }


def test_health_without_configuration_answers_503_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GEOCATALOG_URL", raising=False)
    reset()
    req = func.HttpRequest("GET", "http://localhost/api/health", body=b"")
    resp = health(req)
    reset()
    assert resp.status_code == 503
    body = json.loads(resp.get_body())
    assert body["checks"]["configuration"]["ok"] is False
    assert "GEOCATALOG_URL" in body["checks"]["configuration"]["detail"]


def test_health_names_a_missing_queue_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOCATALOG_URL", "https://catalog.example")
    monkeypatch.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    set_queue_names(monkeypatch)
    monkeypatch.delenv("INGEST_ITEMS_QUEUE")
    reset()
    resp = health(func.HttpRequest("GET", "http://localhost/api/health", body=b""))
    reset()
    assert resp.status_code == 503
    configuration = json.loads(resp.get_body())["checks"]["configuration"]
    assert configuration["ok"] is False
    assert "INGEST_ITEMS_QUEUE is required but not set" in configuration["detail"]
