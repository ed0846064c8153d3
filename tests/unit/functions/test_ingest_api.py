"""POST /api/ingest through the real function object, with nothing listening behind it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import function_app
from shared.runtime import reset
from tests.app_settings import set_queue_names
from tests.triggers import app_functions, http_request

UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture
def unreachable_dependencies(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GEOCATALOG_URL", UNREACHABLE)
    monkeypatch.setenv("GEOCATALOG_CREDENTIAL", "none")
    monkeypatch.setenv("GEOCATALOG_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv(
        "AzureWebJobsStorage",
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
        f"QueueEndpoint={UNREACHABLE}/devstoreaccount1;TableEndpoint={UNREACHABLE}/devstoreaccount1;"
        f"BlobEndpoint={UNREACHABLE}/devstoreaccount1;",
    )
    monkeypatch.setenv("LOCAL_MODE", "true")
    monkeypatch.setenv("SOURCE_ALLOWED_HOSTS", "127.0.0.1")
    set_queue_names(monkeypatch)
    reset()
    yield
    reset()


def ingest(body: object) -> tuple[int, dict[str, object]]:
    function = next(f for f in app_functions(function_app.app) if f.get_function_name() == "ingest")
    request = http_request("POST", "http://localhost/api/ingest", body=json.dumps(body).encode())
    response = function.get_user_function()(request)
    return response.status_code, json.loads(response.get_body())


@pytest.mark.usefixtures("unreachable_dependencies")
def test_bad_input_is_refused_before_any_dependency_is_touched() -> None:
    status, problem = ingest({"collection": "c-1", "source": {"type": "ftp"}})
    assert status == 400
    assert problem["field"] == "source.type"


@pytest.mark.usefixtures("unreachable_dependencies")
def test_valid_input_with_dependencies_down_is_a_503_not_a_500() -> None:
    body = {"collection": "c-1", "source": {"type": "items", "items": [{"type": "Feature"}]}}
    status, problem = ingest(body)
    assert status == 503
    assert problem["type"].endswith(":service-unavailable")


@pytest.mark.usefixtures("unreachable_dependencies")
def test_a_body_nested_100000_levels_is_a_400_not_a_500() -> None:
    function = next(f for f in app_functions(function_app.app) if f.get_function_name() == "ingest")
    raw = b'{"collection":"c-1","source":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = function.get_user_function()(
        http_request("POST", "http://localhost/api/ingest", body=raw)
    )
    assert response.status_code == 400
    problem = json.loads(response.get_body())
    assert problem["field"] == "body"
    assert "nested deeper" in problem["detail"]
