"""`POST /admin/functions/<name>` and `LocalHost.run_function`: run a non-HTTP function now."""

from __future__ import annotations

import json

import httpx

from local.host import Outcome
from tests.integration.host import sample_app
from tests.integration.host.conftest import MakeHost, Queues
from tests.triggers import load_event_fixture


def test_admin_endpoint_runs_a_queue_function_with_the_input_as_body(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    host = make_host({"flaky"})
    response = httpx.post(
        f"{host.base_url}/admin/functions/flaky", json={"input": '{"itemId": "manual"}'}
    )
    assert response.status_code == 202

    (invocation,) = host.wait_for_invocations("flaky", 1)

    assert invocation.outcome is Outcome.SUCCEEDED
    (call,) = sample_app.calls("flaky")
    assert call["body"] == '{"itemId": "manual"}'
    assert call["dequeue_count"] == 1
    assert call["type"] == "QueueMessage"
    # Nothing went through the queue itself.
    assert queues.count(names["FLAKY_QUEUE"]) == 0


def test_admin_failure_is_logged_not_retried(make_host: MakeHost) -> None:
    host = make_host({"flaky"})
    response = httpx.post(f"{host.base_url}/admin/functions/flaky", json={"input": "fail"})
    assert response.status_code == 202
    (invocation,) = host.wait_for_invocations("flaky", 1)
    assert invocation.outcome is Outcome.FAILED
    assert "asked to fail on attempt 1" in (invocation.error or "")
    host.drain(timeout=30)
    assert len(host.invocations_of("flaky")) == 1


def test_admin_runs_timer_and_event_grid_functions(make_host: MakeHost) -> None:
    host = make_host({"tick", "on_blob"})
    event = load_event_fixture("blob_created.eventgrid.json")[0]
    timer = httpx.post(f"{host.base_url}/admin/functions/tick", json={"input": "ignored"})
    grid = httpx.post(f"{host.base_url}/admin/functions/on_blob", json={"input": json.dumps(event)})
    assert (timer.status_code, grid.status_code) == (202, 202)
    host.wait_for_invocations("tick", 1)
    host.wait_for_invocations("on_blob", 1)
    assert sample_app.calls("tick")[0]["past_due"] is False
    assert sample_app.calls("tick")[0]["type"] == "TimerRequest"
    assert sample_app.calls("on_blob")[0]["id"] == event["id"]


def test_admin_refusals(make_host: MakeHost) -> None:
    host = make_host({"greet", "on_blob"})
    base = f"{host.base_url}/admin/functions"
    assert httpx.post(f"{base}/nosuch", json={"input": ""}).status_code == 404
    assert httpx.post(f"{base}/greet", json={"input": ""}).status_code == 400
    assert httpx.post(f"{base}/on_blob", json={"input": "not an event"}).status_code == 400
    assert httpx.post(f"{base}/on_blob", content=b"{broken").status_code == 400
    assert httpx.get(f"{host.base_url}/admin/host/status").json()["state"] == "Running"


def test_run_function_in_process_waits_for_the_outcome(make_host: MakeHost) -> None:
    host = make_host({"flaky", "on_startup"})
    ok = host.run_function("flaky", "hello")
    failed = host.run_function("flaky", "fail now")
    assert (ok.outcome, failed.outcome) == (Outcome.SUCCEEDED, Outcome.FAILED)
    assert [c["body"] for c in sample_app.calls("flaky")] == ["hello", "fail now"]
