"""POST /api/collections through the real function object, with real azure.functions requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
import requests
import responses

from function_app import app
from shared.runtime import reset, runtime
from tests.app_settings import set_queue_names
from tests.triggers import function_by_name, http_request, invoke
from tests.unit.collections.fake_geocatalog import FakeGeoCatalog

TESTS = Path(__file__).parents[2]
GEOCATALOG = "http://127.0.0.1:9"  # nothing listens: a call that should not happen fails loudly
PC = "https://planetarycomputer.microsoft.com"
TEMPLATE_URL = f"{PC}/api/stac/v1/collections/sentinel-2-l2a"
THUMBNAIL_URL = (
    "https://ai4edatasetspublicassets.blob.core.windows.net/assets/pc_thumbnails/sentinel-2.png"
)
URL = "http://localhost:7071/api/collections"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GEOCATALOG_URL", GEOCATALOG)
    monkeypatch.setenv("GEOCATALOG_CREDENTIAL", "none")
    monkeypatch.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    monkeypatch.setenv(
        "SOURCE_ALLOWED_HOSTS",
        "planetarycomputer.microsoft.com,ai4edatasetspublicassets.blob.core.windows.net",
    )
    monkeypatch.delenv("LOCAL_MODE", raising=False)
    monkeypatch.delenv("PLANETARY_COMPUTER_URL", raising=False)
    set_queue_names(monkeypatch)
    reset()
    yield
    reset()


def post(
    body: Any = None, *, raw: bytes | None = None
) -> tuple[int, dict[str, Any], func.HttpResponse]:
    request = (
        http_request("POST", URL, body=raw)
        if raw is not None
        else http_request("POST", URL, json=body)
    )
    response: func.HttpResponse = invoke(function_by_name(app, "create_collection"), req=request)
    return response.status_code, json.loads(response.get_body()), response


def test_the_function_is_registered_with_function_key_auth() -> None:
    function = function_by_name(app, "create_collection")
    trigger = function.get_trigger()
    assert trigger.route == "collections"
    assert [str(m.value) if hasattr(m, "value") else str(m) for m in trigger.methods] == ["POST"]
    assert trigger.auth_level == func.AuthLevel.FUNCTION


@pytest.mark.parametrize(
    ("raw", "body", "field", "words"),
    [
        (b"", None, "body", "empty"),
        (b"{not json", None, "body", "not valid JSON"),
        (None, ["a"], "body", "JSON object"),
        (None, {"templateUrl": TEMPLATE_URL}, "id", "required"),
        (None, {"id": "Bad Id", "templateUrl": TEMPLATE_URL}, "id", "3-32 characters"),
        (None, {"id": "ab", "templateUrl": TEMPLATE_URL}, "id", "3-32 characters"),
        (None, {"id": "s2-copy"}, "templateUrl", "required"),
        (
            None,
            {"id": "s2-copy", "templateUrl": "https://evil.example/c.json"},
            "templateUrl",
            "SOURCE_ALLOWED_HOSTS",
        ),
        (
            None,
            {"id": "s2-copy", "templateUrl": "http://planetarycomputer.microsoft.com/x"},
            "templateUrl",
            "https",
        ),
        (None, {"id": "s2-copy", "templateUrl": TEMPLATE_URL, "title": 5}, "title", "title"),
        (
            None,
            {"id": "s2-copy", "templateUrl": TEMPLATE_URL, "colour": "red"},
            "colour",
            "unknown field",
        ),
    ],
)
def test_bad_input_is_problem_json_naming_the_field(
    raw: bytes | None, body: Any, field: str, words: str
) -> None:
    with responses.RequestsMock() as mock:  # no HTTP call may leave the process
        status, problem, response = post(body, raw=raw)
        assert len(mock.calls) == 0
    assert status == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert problem["status"] == 400
    assert problem["type"] == "urn:geocatalog-ingest:problem:invalid-request"
    assert problem["field"] == field
    assert words in problem["detail"]
    assert problem["instance"] == "/api/collections"


def test_a_template_that_is_not_json_is_422() -> None:
    with responses.RequestsMock() as mock:
        mock.get(TEMPLATE_URL, body="<html>maintenance</html>", content_type="text/html")
        status, problem, _ = post({"id": "s2-copy", "templateUrl": TEMPLATE_URL})
    assert status == 422
    assert problem["field"] == "templateUrl"
    assert problem["type"] == "urn:geocatalog-ingest:problem:unprocessable-content"


def test_an_unreachable_template_is_502() -> None:
    with responses.RequestsMock() as mock:
        mock.get(TEMPLATE_URL, body=requests.ConnectionError("refused"))
        status, problem, _ = post({"id": "s2-copy", "templateUrl": TEMPLATE_URL})
    assert status == 502
    assert problem["field"] == "templateUrl"
    assert problem["upstreamHost"] == "planetarycomputer.microsoft.com"


def pc_answers(mock: responses.RequestsMock) -> None:
    render = json.loads(
        (TESTS / "fixtures" / "render" / "pc-apis.collection_config.json").read_text()
    )
    mock.get(
        TEMPLATE_URL,
        json=json.loads(
            (TESTS / "unit" / "collections" / "data" / "sentinel-2-l2a.json").read_text()
        ),
    )
    mock.get(THUMBNAIL_URL, body=b"\x89PNG thumbnail", content_type="image/png")
    mock.get(f"{PC}/api/data/v1/mosaic/info", json=render["sentinel-2-l2a"]["mosaic_info"])


def test_a_geocatalog_refusal_is_passed_on_with_its_code() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        pc_answers(mock)
        mock.get(
            f"{GEOCATALOG}/stac/collections/s2-copy",
            status=404,
            json={
                "error": {"code": "ResourceNotFound", "message": "Collection 's2-copy' not found."}
            },
        )
        mock.post(
            f"{GEOCATALOG}/stac/collections",
            status=400,
            json={"error": {"code": "InvalidCollection", "message": "extent is malformed"}},
        )
        status, problem, _ = post({"id": "s2-copy", "templateUrl": TEMPLATE_URL})
    assert status == 502
    assert problem["type"] == "urn:geocatalog-ingest:problem:upstream-refused"
    assert problem["geocatalogCode"] == "InvalidCollection"
    assert problem["upstreamStatus"] == 400
    assert "extent is malformed" in problem["detail"]


def test_a_throttling_geocatalog_is_503_with_retry_after() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        pc_answers(mock)
        mock.get(
            f"{GEOCATALOG}/stac/collections/s2-copy",
            status=429,
            headers={"Retry-After": "45"},
            json={"error": {"code": "TooManyRequests", "message": "slow down"}},
        )
        status, problem, response = post({"id": "s2-copy", "templateUrl": TEMPLATE_URL})
    assert status == 503
    assert problem["retryAfter"] == 45
    assert response.headers["Retry-After"] == "45"


def test_created_is_201_and_a_rerun_is_200_with_nothing_changed() -> None:
    fake = FakeGeoCatalog(polls_until_done=1)
    # The Runtime holds the process's clients; a test hands it the fake one.
    runtime().__dict__["geocatalog"] = fake
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        pc_answers(mock)
        status, first, _ = post({"id": "s2-copy", "templateUrl": TEMPLATE_URL, "title": "Demo"})
        again, second, _ = post({"id": "s2-copy", "templateUrl": TEMPLATE_URL, "title": "Demo"})
    assert status == 201
    assert first["collectionId"] == "s2-copy"
    assert first["created"] is True
    assert first["changed"] is True
    assert {"kind": "collection", "id": "s2-copy", "action": "created"} in first["changes"]
    assert again == 200
    assert second["created"] is False
    assert second["changed"] is False
    assert second["summary"]["created"] == second["summary"]["updated"] == 0
    assert fake.collections["s2-copy"].body["title"] == "Demo"


def test_a_misconfigured_service_is_503_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEOCATALOG_URL")
    reset()
    status, problem, _ = post({"id": "s2-copy", "templateUrl": TEMPLATE_URL})
    assert status == 503
    assert "GEOCATALOG_URL" in problem["detail"]
