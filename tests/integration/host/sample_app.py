"""A sample function app for the local host's integration tests: one FunctionApp and a Blueprint
covering every trigger the host runs. Queue names and the timer schedule come from app settings
(`%SETTING%`), so each test gets its own queues.

Functions record what they saw in `CALLS` (per function name), which tests read directly: the
host imports this very module.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import defaultdict
from typing import Any

import azure.functions as func
from azure.functions.timer import TimerRequest

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
bp = func.Blueprint()

_lock = threading.Lock()
CALLS: dict[str, list[dict[str, Any]]] = defaultdict(list)
# Tests set these to hold a function inside its run.
RELEASE_TICK = threading.Event()
RELEASE_SLOW = threading.Event()
_running = {"tick": 0, "tick_max": 0, "slow": 0, "slow_max": 0}


def record(name: str, **data: Any) -> None:
    with _lock:
        CALLS[name].append(data)


def calls(name: str) -> list[dict[str, Any]]:
    with _lock:
        return list(CALLS[name])


def reset() -> None:
    with _lock:
        CALLS.clear()
        _running.update(tick=0, tick_max=0, slow=0, slow_max=0)
    RELEASE_TICK.set()
    RELEASE_SLOW.set()


def max_concurrent(name: str) -> int:
    with _lock:
        return _running[f"{name}_max"]


def _enter(name: str) -> None:
    with _lock:
        _running[name] += 1
        _running[f"{name}_max"] = max(_running[f"{name}_max"], _running[name])


def _leave(name: str) -> None:
    with _lock:
        _running[name] -= 1


# --- HTTP ----------------------------------------------------------------------------------


@bp.route(route="greet/{name}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def greet(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(
            {
                "name": req.route_params["name"],
                "params": dict(req.params),
                "trace": req.headers.get("x-trace"),
                "url": req.url,
            }
        ),
        mimetype="application/json",
        headers={"X-Greeted": req.route_params["name"]},
    )


@bp.route(route="items/{id:int}", methods=["GET", "PUT"], auth_level=func.AuthLevel.ANONYMOUS)
def item_by_id(req: func.HttpRequest) -> func.HttpResponse:
    body = req.get_json() if req.get_body() else None
    return func.HttpResponse(
        json.dumps({"id": int(req.route_params["id"]), "method": req.method, "body": body}),
        status_code=200 if req.method == "GET" else 201,
        mimetype="application/json",
    )


@bp.route(route="items/latest", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def latest_item(req: func.HttpRequest) -> str:
    return "latest"


@bp.route(route="files/{*path}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def files(req: func.HttpRequest) -> func.HttpResponse:
    await asyncio.sleep(0)
    return func.HttpResponse(req.route_params.get("path", ""), mimetype="text/plain")


@bp.route(route="tags/{tag?}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def tags(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(dict(req.route_params)), mimetype="application/json")


@bp.route(route="nothing", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def nothing(req: func.HttpRequest) -> None:
    record("nothing", body=req.get_body().decode())


@bp.route(route="boom", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("the HTTP function failed")


@app.route(route="secret", methods=["GET"])
def secret(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("function level")


@app.route(route="operator", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
def operator(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("admin level")


@app.route(route="enqueue", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@app.queue_output(arg_name="out", queue_name="%RELAY_OUT_QUEUE%", connection="AzureWebJobsStorage")
def enqueue(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
    out.set(req.get_body().decode())
    return func.HttpResponse(status_code=202)


# --- Queues --------------------------------------------------------------------------------


@bp.queue_trigger(arg_name="msg", queue_name="%FLAKY_QUEUE%", connection="AzureWebJobsStorage")
def flaky(msg: func.QueueMessage) -> None:
    body = msg.get_body().decode("utf-8", errors="replace")
    record(
        "flaky",
        body=body,
        dequeue_count=msg.dequeue_count,
        id=msg.id,
        type=type(msg).__name__,
        times=(msg.insertion_time, msg.expiration_time, msg.time_next_visible),
        pop_receipt=msg.pop_receipt,
    )
    if "fail" in body:
        raise RuntimeError(f"asked to fail on attempt {msg.dequeue_count}")


@bp.queue_trigger(arg_name="msg", queue_name="%FLAKY_QUEUE%-poison", connection="")
def flaky_poison(msg: str) -> None:
    # A `str` annotation gets the body text, as the worker does.
    record("flaky_poison", body=msg)


@bp.queue_trigger(arg_name="msg", queue_name="%RELAY_QUEUE%", connection="AzureWebJobsStorage")
@bp.queue_output(arg_name="out", queue_name="%RELAY_OUT_QUEUE%", connection="AzureWebJobsStorage")
async def relay(msg: func.QueueMessage, out: func.Out[Any], context: func.Context) -> None:
    data = msg.get_json()
    record("relay", data=data, invocation_id=context.invocation_id)
    out.set([f"{data['text']}-{n}" for n in range(data.get("copies", 1))])
    if data.get("fail"):
        raise RuntimeError("failed after setting the output")


@bp.queue_trigger(arg_name="msg", queue_name="%RELAY_OUT_QUEUE%", connection="AzureWebJobsStorage")
def sink(msg: func.QueueMessage) -> None:
    record("sink", body=msg.get_body().decode(), dequeue_count=msg.dequeue_count)


@bp.queue_trigger(arg_name="msg", queue_name="%SLOW_QUEUE%", connection="AzureWebJobsStorage")
def slow(msg: func.QueueMessage) -> None:
    _enter("slow")
    try:
        record("slow", body=msg.get_body().decode(), dequeue_count=msg.dequeue_count)
        hold = float(json.loads(msg.get_body()).get("hold", 20))
        if json.loads(msg.get_body()).get("sleep"):
            # A fixed run time, for the lease test: no event can cut it short.
            threading.Event().wait(hold)
        else:
            # Bounded, so an abandoned thread ends by itself.
            RELEASE_SLOW.wait(hold)
    finally:
        _leave("slow")


@bp.queue_trigger(arg_name="msg", queue_name="%SLOW_ASYNC_QUEUE%", connection="AzureWebJobsStorage")
async def slow_async(msg: func.QueueMessage) -> None:
    record("slow_async", dequeue_count=msg.dequeue_count)
    await asyncio.sleep(20)


# --- Timers --------------------------------------------------------------------------------


@bp.timer_trigger(arg_name="timer", schedule="%TICK_SCHEDULE%", use_monitor=True)
def tick(timer: TimerRequest) -> None:
    # The concrete class the worker passes; the abstract func.TimerRequest lacks schedule_status.
    _enter("tick")
    record(
        "tick",
        past_due=timer.past_due,
        status=dict(timer.schedule_status),
        type=type(timer).__name__,
    )
    try:
        RELEASE_TICK.wait(20)
    finally:
        _leave("tick")


@bp.timer_trigger(arg_name="timer", schedule="0 0 0 1 1 *", run_on_startup=True, use_monitor=False)
def on_startup(timer: func.TimerRequest) -> None:
    record("on_startup", past_due=timer.past_due)


@bp.timer_trigger(arg_name="timer", schedule="%TICK_SCHEDULE%", use_monitor=False)
async def tock(timer: func.TimerRequest) -> None:
    record("tock", past_due=timer.past_due)
    raise RuntimeError("the timer failed")


# --- Event Grid ----------------------------------------------------------------------------


@bp.event_grid_trigger(arg_name="event")
def on_blob(event: Any) -> None:
    record(
        "on_blob",
        id=event.id,
        type=type(event).__name__,
        subject=event.subject,
        url=event.get_json().get("url"),
    )
    if "fail" in (event.subject or ""):
        raise RuntimeError("asked to fail")


app.register_functions(bp)
