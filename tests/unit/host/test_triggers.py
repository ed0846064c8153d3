"""The trigger factories build the worker's real classes from host-shaped data."""

from __future__ import annotations

import asyncio
import datetime as dt

import azure.functions as func
import pytest
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest

from tests.triggers import (
    CapturingOut,
    app_functions,
    event_grid_event,
    event_grid_events,
    function_by_name,
    http_request,
    invoke,
    load_event_fixture,
    queue_message,
    timer_request,
)


def test_http_request_carries_route_params_query_and_json_body() -> None:
    req = http_request(
        "post",
        "http://127.0.0.1:7071/api/jobs/42?x=1&x=2&y=",
        json={"a": 1},
        headers={"X-Trace": "t"},
        route_params={"job_id": "42"},
    )
    assert isinstance(req, func.HttpRequest)
    assert req.method == "POST"
    assert req.route_params == {"job_id": "42"}
    assert dict(req.params) == {"x": "1,2", "y": ""}
    assert req.headers["x-trace"] == "t"
    assert req.headers["Content-Type"] == "application/json"
    assert req.get_json() == {"a": 1}


def test_queue_message_is_the_full_class_with_dequeue_count_and_times() -> None:
    inserted = dt.datetime(2024, 5, 16, 13, 7, 24, tzinfo=dt.UTC)
    msg = queue_message({"itemId": "a"}, dequeue_count=5, id="m-1", insertion_time=inserted)
    assert isinstance(msg, QueueMessage)
    assert isinstance(msg, func.QueueMessage)
    assert msg.id == "m-1"
    assert msg.dequeue_count == 5
    assert msg.get_json() == {"itemId": "a"}
    assert msg.insertion_time == inserted
    assert msg.expiration_time == inserted + dt.timedelta(days=7)
    assert msg.pop_receipt


def test_queue_message_keeps_bytes_bodies() -> None:
    assert queue_message(b"\x00\xff").get_body() == b"\x00\xff"


def test_timer_request_reports_past_due_and_schedule_status() -> None:
    last = dt.datetime(2024, 1, 1, 0, 5, tzinfo=dt.UTC)
    timer = timer_request(past_due=True, last=last, next=last + dt.timedelta(minutes=5))
    assert isinstance(timer, TimerRequest)
    assert isinstance(timer, func.TimerRequest)
    assert timer.past_due is True
    assert timer.schedule_status["Last"] == "2024-01-01T00:05:00+00:00"
    assert timer.schedule == {"AdjustForDST": True}
    assert timer_request().past_due is False


def test_golden_event_grid_payload_decodes_to_event_grid_events() -> None:
    events = event_grid_events(load_event_fixture("blob_created.eventgrid.json"))
    assert len(events) == 2
    first = events[0]
    assert isinstance(first, func.EventGridEvent)
    assert first.event_type == "Microsoft.Storage.BlobCreated"
    assert first.subject.startswith("/blobServices/default/containers/stac-drop/blobs/")
    assert first.get_json()["api"] == "PutBlob"
    # Seven fractional digits on the wire; the converter keeps six.
    assert first.event_time == dt.datetime(2024, 5, 16, 13, 7, 24, 357142, tzinfo=dt.UTC)


def test_golden_cloudevents_decode_to_cloud_events_batched_or_single() -> None:
    batch = event_grid_events(load_event_fixture("blob_created.cloudevents.json"))
    single = event_grid_events(load_event_fixture("blob_created.cloudevent.single.json"))
    assert [type(e).__name__ for e in batch] == ["CloudEvent", "CloudEvent"]
    assert len(single) == 1
    assert single[0].type == "Microsoft.Storage.BlobCreated"
    assert single[0].id == batch[0].id
    assert single[0].get_json() == batch[0].get_json()


def test_event_grid_event_refuses_an_array() -> None:
    with pytest.raises(TypeError, match="one event object"):
        event_grid_event("[]")


def test_capturing_out_records_every_set_and_answers_the_last() -> None:
    out: CapturingOut[str] = CapturingOut()
    assert not out.was_set
    assert out.get() is None
    out.set("a")
    out.set("b")
    assert out.values == ["a", "b"]
    assert out.get() == "b"


def test_function_by_name_and_invoke_await_coroutines() -> None:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.queue_trigger(arg_name="msg", queue_name="q", connection="AzureWebJobsStorage")
    @app.queue_output(arg_name="out", queue_name="next", connection="AzureWebJobsStorage")
    async def relay(msg: func.QueueMessage, out: func.Out[str]) -> None:
        await asyncio.sleep(0)
        out.set(msg.get_body().decode().upper())

    out: CapturingOut[str] = CapturingOut()
    invoke(function_by_name(app, "relay"), msg=queue_message("hi"), out=out)
    assert out.values == ["HI"]
    with pytest.raises(KeyError, match="relay"):
        function_by_name(app, "missing")


def test_app_functions_can_enumerate_an_app_twice_and_still_checks_uniqueness() -> None:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="a")
    def a(req: func.HttpRequest) -> str:
        return "a"

    assert [f.get_function_name() for f in app_functions(app)] == ["a"]
    assert [f.get_function_name() for f in app_functions(app)] == ["a"]

    @app.function_name("a")
    @app.route(route="b")
    def b(req: func.HttpRequest) -> str:
        return "b"

    with pytest.raises(ValueError, match="unique"):
        app_functions(app)
