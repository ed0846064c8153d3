"""Real azure.functions trigger objects for unit tests, built the way the Python worker builds them.

Every factory goes through the worker's own converter (`HttpRequestConverter`,
`QueueMessageInConverter`, `TimerRequestConverter`, `EventGridEventInConverter`) with host-shaped
data, so a handler under test sees exactly the classes and parsing it sees in Azure: the full
`azure.functions.queue.QueueMessage` with `dequeue_count`, a `TimerRequest` with `past_due`, and
Event Grid events decoded from wire JSON (an `EventGridEvent`, or a `CloudEvent` when the JSON
carries `specversion`).

    from tests.triggers import function_by_name, invoke, queue_message
    from function_app import app

    fn = function_by_name(app, "ingest_items")
    invoke(fn, msg=queue_message({"itemId": "a"}, dequeue_count=5))
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import json as jsonlib
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func
from azure.functions.decorators.function_app import Function
from azure.functions.eventgrid import EventGridEventInConverter
from azure.functions.http import HttpRequestConverter
from azure.functions.meta import Datum
from azure.functions.queue import QueueMessage, QueueMessageInConverter
from azure.functions.timer import TimerRequest, TimerRequestConverter

T = TypeVar("T")

EVENT_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "events"

# The storage service's default time-to-live for a queue message.
_DEFAULT_TTL = dt.timedelta(days=7)


def http_request(
    method: str,
    url: str,
    *,
    body: bytes | str = b"",
    json: Any = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    route_params: Mapping[str, str] | None = None,
) -> func.HttpRequest:
    """An HTTP request as the worker hands it to a function.

    `json` (any JSON value) replaces `body` and sets `Content-Type: application/json` unless given.
    Without `params`, the query string of `url` becomes the params, as the host does (a repeated
    key keeps its values comma-joined).
    """
    all_headers = {k.lower(): v for k, v in (headers or {}).items()}
    if json is not None:
        body = jsonlib.dumps(json).encode()
        all_headers.setdefault("content-type", "application/json")
    raw = body.encode() if isinstance(body, str) else bytes(body)
    if params is None:
        params = _query_params(url)
    data = Datum(
        {
            "method": Datum(method.upper(), "string"),
            "url": Datum(url, "string"),
            "headers": {k: Datum(v, "string") for k, v in all_headers.items()},
            "query": {k: Datum(v, "string") for k, v in params.items()},
            "params": {k: Datum(str(v), "string") for k, v in (route_params or {}).items()},
            "body": Datum(raw, "bytes"),
        },
        "http",
    )
    request: func.HttpRequest = HttpRequestConverter.decode(data, trigger_metadata=None)
    return request


def _query_params(url: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def queue_message(
    body: str | bytes | Mapping[str, Any] | list[Any],
    *,
    dequeue_count: int = 1,
    id: str | None = None,
    pop_receipt: str | None = None,
    insertion_time: dt.datetime | None = None,
    expiration_time: dt.datetime | None = None,
    next_visible_time: dt.datetime | None = None,
) -> QueueMessage:
    """The full queue message class (with `dequeue_count` and times) the worker builds.

    A dict or list body is sent as its JSON text, which is what a producer puts on the queue.
    Times default to "inserted now, expires in 7 days, visible again in 10 minutes" (the lease
    the host takes while the function runs).
    """
    if isinstance(body, Mapping | list):
        body = jsonlib.dumps(body)
    inserted = insertion_time or dt.datetime.now(dt.UTC).replace(microsecond=0)
    metadata = {
        "Id": Datum(id or str(uuid.uuid4()), "string"),
        "PopReceipt": Datum(pop_receipt or uuid.uuid4().hex, "string"),
        "DequeueCount": Datum(dequeue_count, "int"),
        "InsertionTime": _json_time(inserted),
        "ExpirationTime": _json_time(expiration_time or inserted + _DEFAULT_TTL),
        "NextVisibleTime": _json_time(next_visible_time or inserted + dt.timedelta(minutes=10)),
    }
    kind = "bytes" if isinstance(body, bytes) else "string"
    message: QueueMessage = QueueMessageInConverter.decode(
        Datum(body, kind), trigger_metadata=metadata
    )
    return message


def _json_time(value: dt.datetime) -> Datum:
    # The host sends trigger-metadata times as JSON strings in UTC with a trailing Z.
    text = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return Datum(jsonlib.dumps(text), "json")


def timer_request(
    past_due: bool = False,
    *,
    last: dt.datetime | None = None,
    next: dt.datetime | None = None,
    last_updated: dt.datetime | None = None,
    adjust_for_dst: bool = True,
) -> TimerRequest:
    """The timer object of one invocation; `last`/`next`/`last_updated` fill `schedule_status`."""
    status = {
        key: value.astimezone(dt.UTC).isoformat()
        for key, value in (("Last", last), ("Next", next), ("LastUpdated", last_updated))
        if value is not None
    }
    payload = {
        "Schedule": {"AdjustForDST": adjust_for_dst},
        "ScheduleStatus": status or None,
        "IsPastDue": past_due,
    }
    timer: TimerRequest = TimerRequestConverter.decode(
        Datum(jsonlib.dumps(payload), "json"), trigger_metadata=None
    )
    return timer


def event_grid_event(wire_json: Mapping[str, Any] | str) -> func.EventGridEvent | Any:
    """One event decoded from its wire JSON: an `EventGridEvent`, or a `CloudEvent` when the
    JSON has `specversion` (the worker's rule). Pass one element of a delivered array."""
    text = wire_json if isinstance(wire_json, str) else jsonlib.dumps(wire_json)
    parsed = jsonlib.loads(text)
    if not isinstance(parsed, dict):
        raise TypeError("one event object is expected; use event_grid_events() for an array")
    return EventGridEventInConverter.decode(Datum(text, "json"), trigger_metadata=None)


def event_grid_events(payload: list[Any] | Mapping[str, Any] | str) -> list[Any]:
    """Every event of a delivery (an array, or a single CloudEvent object), decoded one by one,
    which is how the host invokes the function: once per element."""
    parsed = jsonlib.loads(payload) if isinstance(payload, str) else payload
    elements = parsed if isinstance(parsed, list) else [parsed]
    return [event_grid_event(element) for element in elements]


def load_event_fixture(name: str) -> Any:
    """A golden wire payload from tests/fixtures/events/ (parsed JSON)."""
    return jsonlib.loads((EVENT_FIXTURES / name).read_text(encoding="utf-8"))


class CapturingOut(func.Out[T]):
    """An output binding that records every `set`.

    `get()` answers the last value, which is also the only value the worker sends to the host:
    a function that calls `set` twice loses the first value in Azure. `values` keeps them all so
    a test can catch that mistake.
    """

    def __init__(self) -> None:
        self.values: list[T] = []

    def set(self, val: T) -> None:
        self.values.append(val)

    def get(self) -> T:
        # None before any set, as the worker's Out answers.
        return self.values[-1] if self.values else cast(T, None)

    @property
    def was_set(self) -> bool:
        return bool(self.values)


def app_functions(app: func.FunctionApp) -> list[Function]:
    """`app.get_functions()`, callable more than once.

    azure-functions 1.26 remembers the names it has seen in `app.functions_bindings`, so a second
    `get_functions()` on the same app raises "does not have a unique function name". The worker
    calls it once per process; tests (and the local host) call it again, so each call checks
    uniqueness against a fresh record.
    """
    remembered = app.functions_bindings
    app.functions_bindings = None
    try:
        return app.get_functions()
    finally:
        app.functions_bindings = remembered


def function_by_name(app: func.FunctionApp, name: str) -> Function:
    """The registered function called `name` (the `@function_name`, else the Python name)."""
    functions = {f.get_function_name() or "": f for f in app_functions(app)}
    try:
        return functions[name]
    except KeyError:
        raise KeyError(f"no function {name!r}; the app has {sorted(functions)}") from None


def invoke(function: Function | Callable[..., Any], /, **kwargs: Any) -> Any:
    """Call a function's user code with keyword arguments named like its bindings; a coroutine
    function is run to completion on a fresh event loop."""
    target = function.get_user_function() if isinstance(function, Function) else function
    result = target(**kwargs)
    if inspect.isawaitable(result):
        return asyncio.run(_awaited(result))
    return result


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


__all__ = [
    "EVENT_FIXTURES",
    "CapturingOut",
    "app_functions",
    "event_grid_event",
    "event_grid_events",
    "function_by_name",
    "http_request",
    "invoke",
    "load_event_fixture",
    "queue_message",
    "timer_request",
]
