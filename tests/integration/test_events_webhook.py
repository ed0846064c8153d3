"""Ingest requests published to Event Grid reach the app through the host's webhook, in both the
Event Grid and the CloudEvents schema, and become exactly one job per event."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.azurite import Azurite
from local.emulator.geocatalog import GeoCatalogConfig
from local.stack import LocalStack, StackConfig
from shared.pipeline.events import INGEST_REQUESTED, job_id_for_event

pytestmark = pytest.mark.integration

WEBHOOK = "/runtime/webhooks/eventgrid?functionName=ingest_events"


@pytest.fixture(scope="module")
def stack(azurite: Azurite) -> Iterator[LocalStack]:
    config = StackConfig(
        geocatalog=GeoCatalogConfig(operation_duration_seconds=(0.05, 0.2)),
        settings_overrides={
            "INGEST_STATUS_INITIAL_DELAY_SECONDS": "0.2",
            "INGEST_STATUS_MAX_DELAY_SECONDS": "1",
        },
    )
    with LocalStack(config) as running:
        yield running


def ingest_request(stack: LocalStack, collection: str) -> dict[str, Any]:
    assert stack.planetary_computer is not None
    pc = stack.planetary_computer.base_url
    return {
        "collection": collection,
        "source": {
            "type": "stac-search",
            "url": f"{pc}/api/stac/v1",
            "collections": ["sentinel-2-l2a"],
            "bbox": [8.0, 79.5, 16.0, 80.2],
            "datetime": "2024-05-10/2024-05-20",
            "maxItems": 2,
        },
        "createCollection": {"templateUrl": f"{pc}/api/stac/v1/collections/sentinel-2-l2a"},
    }


def wait_for_job(stack: LocalStack, job_id: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(f"{stack.base_url}/api/jobs/{job_id}", timeout=10)
        if response.status_code == 200 and response.json()["state"] not in ("planning", "running"):
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish")


def test_an_event_grid_event_starts_one_job_even_when_delivered_twice(stack: LocalStack) -> None:
    event_id = uuid.uuid4().hex
    events = [
        {
            "id": event_id,
            "topic": "/subscriptions/x/resourceGroups/y/providers/Microsoft.EventGrid/topics/ingest",
            "subject": "/pipelines/nightly",
            "eventType": INGEST_REQUESTED,
            "eventTime": "2026-11-24T06:00:00.0000000Z",
            "data": ingest_request(stack, "events-eg"),
            "dataVersion": "1",
            "metadataVersion": "1",
        }
    ]
    headers = {"aeg-event-type": "Notification", "Content-Type": "application/json"}
    for _ in range(2):  # at-least-once delivery
        response = httpx.post(stack.base_url + WEBHOOK, content=json.dumps(events), headers=headers)
        assert response.status_code in (200, 202), response.text
    job = wait_for_job(stack, job_id_for_event(event_id))
    assert job["state"] == "succeeded"
    assert job["counts"]["total"] == 2
    assert job["counts"]["succeeded"] == 2


def test_a_cloudevent_starts_a_job(stack: LocalStack) -> None:
    event_id = uuid.uuid4().hex
    cloud_event = {
        "specversion": "1.0",
        "id": event_id,
        "source": "/pipelines/nightly",
        "type": INGEST_REQUESTED,
        "time": "2026-11-24T06:00:00Z",
        "datacontenttype": "application/json",
        "data": ingest_request(stack, "events-ce"),
    }
    response = httpx.post(
        stack.base_url + WEBHOOK,
        content=json.dumps(cloud_event),
        headers={"aeg-event-type": "Notification", "Content-Type": "application/cloudevents+json"},
    )
    assert response.status_code in (200, 202), response.text
    assert wait_for_job(stack, job_id_for_event(event_id))["state"] == "succeeded"


def test_a_malformed_request_event_is_accepted_and_creates_no_job(stack: LocalStack) -> None:
    event_id = uuid.uuid4().hex
    events = [
        {
            "id": event_id,
            "topic": "/t",
            "subject": "/s",
            "eventType": INGEST_REQUESTED,
            "eventTime": "2026-11-24T06:00:00Z",
            "data": {"collection": "events-bad", "source": {"type": "ftp"}},
            "dataVersion": "1",
        }
    ]
    response = httpx.post(
        stack.base_url + WEBHOOK,
        content=json.dumps(events),
        headers={"aeg-event-type": "Notification"},
    )
    # Refused, not failed: a redelivery would be refused the same way.
    assert response.status_code in (200, 202)
    missing = httpx.get(f"{stack.base_url}/api/jobs/{job_id_for_event(event_id)}", timeout=10)
    assert missing.status_code == 404
