"""The Event Grid webhook over real HTTP, with the golden payloads."""

from __future__ import annotations

import json

import httpx
import pytest

from local.host import LocalHost, Outcome
from tests.integration.host import sample_app
from tests.integration.host.conftest import MakeHost
from tests.triggers import load_event_fixture

NOTIFICATION = {"aeg-event-type": "Notification"}


@pytest.fixture
def host(make_host: MakeHost) -> LocalHost:
    return make_host({"on_blob", "flaky"})


def _post(
    host: LocalHost, payload: object, *, function: str = "on_blob", **headers: str
) -> httpx.Response:
    return httpx.post(
        f"{host.base_url}/runtime/webhooks/eventgrid",
        params={"functionName": function},
        content=payload if isinstance(payload, bytes) else json.dumps(payload).encode(),
        headers=headers,
        timeout=30,
    )


def test_event_grid_schema_invokes_once_per_event(host: LocalHost) -> None:
    events = load_event_fixture("blob_created.eventgrid.json")
    response = _post(host, events, **NOTIFICATION, **{"content-type": "application/json"})
    assert response.status_code == 202
    calls = sample_app.calls("on_blob")
    assert [c["id"] for c in calls] == [e["id"] for e in events]
    assert {c["type"] for c in calls} == {"EventGridEvent"}
    assert calls[0]["url"] == events[0]["data"]["url"]
    assert [i.details["event_type"] for i in host.invocations_of("on_blob")] == [
        "Microsoft.Storage.BlobCreated"
    ] * 2


@pytest.mark.parametrize(
    ("fixture", "content_type", "count"),
    [
        ("blob_created.cloudevents.json", "application/cloudevents-batch+json", 2),
        ("blob_created.cloudevent.single.json", "application/cloudevents+json", 1),
    ],
)
def test_cloudevents_batched_and_single(
    host: LocalHost, fixture: str, content_type: str, count: int
) -> None:
    payload = load_event_fixture(fixture)
    response = _post(host, payload, **NOTIFICATION, **{"content-type": content_type})
    assert response.status_code == 202
    calls = sample_app.calls("on_blob")
    assert len(calls) == count
    assert {c["type"] for c in calls} == {"CloudEvent"}
    assert calls[0]["subject"].endswith(
        "S2B_MSIL2A_20220612T182919_R027_T24XWR_20220613T123251.json"
    )


def test_subscription_validation_handshake(host: LocalHost) -> None:
    response = _post(
        host,
        load_event_fixture("subscription_validation.eventgrid.json"),
        **{"aeg-event-type": "SubscriptionValidation"},
    )
    assert response.status_code == 200
    assert response.json() == {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}
    assert host.invocations_of("on_blob") == []


def test_cloudevents_options_handshake(host: LocalHost) -> None:
    response = httpx.options(
        f"{host.base_url}/runtime/webhooks/eventgrid?functionName=on_blob",
        headers={"WebHook-Request-Origin": "eventgrid.azure.net"},
    )
    assert response.status_code == 200
    assert response.headers["webhook-allowed-origin"] == "eventgrid.azure.net"


def test_a_failing_event_answers_5xx_so_the_sender_retries(host: LocalHost) -> None:
    events = load_event_fixture("blob_created.eventgrid.json")
    events[1]["subject"] = "/blobServices/default/containers/stac-drop/blobs/fail.json"
    response = _post(host, events, **NOTIFICATION)
    assert response.status_code == 500
    outcomes = [i.outcome for i in host.invocations_of("on_blob")]
    assert outcomes == [Outcome.SUCCEEDED, Outcome.FAILED]


@pytest.mark.parametrize(
    ("function", "headers", "payload", "status"),
    [
        ("nosuch", NOTIFICATION, [], 404),
        ("flaky", NOTIFICATION, [], 404),
        ("on_blob", {}, "events", 400),
        ("on_blob", {"aeg-event-type": "Whatever"}, "events", 400),
        ("on_blob", NOTIFICATION, b"not json", 400),
        ("on_blob", NOTIFICATION, [{"id": "x"}], 400),
        ("on_blob", {"aeg-event-type": "SubscriptionValidation"}, "events", 400),
        # Nested past Python's decoder: malformed (400), not a host failure (500).
        ("on_blob", NOTIFICATION, b"[" * 100_000 + b"]" * 100_000, 400),
        (
            "on_blob",
            {"aeg-event-type": "SubscriptionValidation"},
            b'[{"data":' * 100_000 + b"1" + b"}]" * 100_000,
            400,
        ),
    ],
)
def test_refusals(
    host: LocalHost, function: str, headers: dict[str, str], payload: object, status: int
) -> None:
    body = load_event_fixture("blob_created.eventgrid.json") if payload == "events" else payload
    assert _post(host, body, function=function, **headers).status_code == status
    assert host.invocations_of("on_blob") == []
