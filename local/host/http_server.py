"""The host's HTTP front end: function routes under the route prefix, the Event Grid webhook,
and the admin API (`/admin/functions/<name>`, `/admin/host/status`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, Protocol
from urllib.parse import parse_qsl

from azure.functions import HttpResponse
from azure.functions.http import HttpRequestConverter, HttpResponseConverter
from azure.functions.meta import Datum
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from local.host import eventgrid
from local.host.app_loader import HttpTriggerSpec, TriggerKind
from local.host.auth import Keys, presented_key
from local.host.bindings import ResolvedFunction
from local.host.invocation import InvocationResult
from local.host.landing import landing_page
from local.host.routes import RouteTable

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class AdminInputError(ValueError):
    pass


class HostRuntime(Protocol):
    route_prefix: str
    keys: Keys
    http_routes: RouteTable[ResolvedFunction]

    def function(self, name: str) -> ResolvedFunction | None: ...

    async def invoke(
        self, function: ResolvedFunction, value: Any, *, reason: str, details: dict[str, Any]
    ) -> InvocationResult: ...

    def run_in_background(self, function: ResolvedFunction, raw_input: str | None) -> str: ...

    def status(self) -> dict[str, Any]: ...


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Repeated names keep every value, comma-joined, as the host hands them to the worker."""
    joined: dict[str, str] = {}
    for key, value in pairs:
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def build_http_request(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    query: str,
    route: Mapping[str, str],
    body: bytes,
) -> Any:
    """The `azure.functions.HttpRequest` the worker builds from the host's RPC request."""
    header_map: dict[str, str] = {}
    for key, value in headers:
        name = key.lower()
        header_map[name] = f"{header_map[name]}, {value}" if name in header_map else value
    params = _joined(parse_qsl(query, keep_blank_values=True))
    data = Datum(
        {
            "method": Datum(method, "string"),
            "url": Datum(url, "string"),
            "headers": {k: Datum(v, "string") for k, v in header_map.items()},
            "query": {k: Datum(v, "string") for k, v in params.items()},
            "params": {k: Datum(v, "string") for k, v in route.items()},
            "body": Datum(body, "bytes"),
        },
        "http",
    )
    return HttpRequestConverter.decode(data, trigger_metadata=None)


def to_response(value: Any) -> Response:
    """The HTTP response for a function's return value, as the worker encodes it."""
    if value is None:
        # Functions 2.x and later answer 204 for a function that returns nothing.
        return Response(status_code=204)
    if isinstance(value, str):
        return Response(value, status_code=200, media_type="text/plain; charset=utf-8")
    if not isinstance(value, HttpResponse):
        raise TypeError(
            f"an HTTP function must return HttpResponse or str, not {type(value).__name__}"
        )
    datum = HttpResponseConverter.encode(value, expected_type=None)
    parts = datum.value
    raw_headers = [
        (name.lower().encode("latin-1"), str(h.value).encode("latin-1"))
        for name, h in parts["headers"].items()
        if name.lower() != "content-length"
    ]
    for cookie in parts["cookies"] or []:
        for morsel in cookie.values():
            raw_headers.append((b"set-cookie", morsel.OutputString().encode("latin-1")))
    response = Response(
        content=parts["body"].value or b"", status_code=int(parts["status_code"].value)
    )
    response.raw_headers = [
        h for h in response.raw_headers if h[0] == b"content-length"
    ] + raw_headers
    return response


def _original_url(request: Request, raw_path: str) -> str:
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    query = request.url.query
    return f"{request.url.scheme}://{host}{raw_path}" + (f"?{query}" if query else "")


def _problem(status: int, detail: str) -> Response:
    return JSONResponse({"status": status, "detail": detail}, status_code=status)


class HostHttpApp:
    """An ASGI application over a HostRuntime."""

    def __init__(self, runtime: HostRuntime) -> None:
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            response = await self._dispatch(request)
        except Exception:
            log.exception("request %s %s failed in the host", request.method, request.url.path)
            response = Response(status_code=500)
        await response(scope, receive, send)

    async def _dispatch(self, request: Request) -> Response:
        path = request.url.path
        runtime = self._runtime
        key = presented_key(request.query_params, request.headers)
        if path in ("", "/"):
            return landing_page(
                request,
                runtime.route_prefix,
                lambda name: runtime.function(name) is not None,
                strict=runtime.keys.strict,
            )
        if path == "/admin/host/status":
            if not runtime.keys.allows_admin(key):
                return Response(status_code=401)
            return JSONResponse(runtime.status())
        if path.startswith("/admin/functions/"):
            if not runtime.keys.allows_admin(key):
                return Response(status_code=401)
            return await self._admin(request, path.removeprefix("/admin/functions/"))
        if path.rstrip("/") == "/runtime/webhooks/eventgrid":
            if not runtime.keys.allows_eventgrid(request.query_params.get("code")):
                return Response(status_code=401)
            return await self._eventgrid(request)
        prefix = "/" + runtime.route_prefix if runtime.route_prefix else ""
        if prefix and not (path == prefix or path.startswith(prefix + "/")):
            return Response(status_code=404)
        raw_path = request.scope.get("raw_path", path.encode()).decode("latin-1").split("?", 1)[0]
        relative = raw_path[len(prefix) :]
        match = runtime.http_routes.match(request.method, relative)
        if match.target is None:
            if match.allowed:
                return Response(
                    status_code=405, headers={"Allow": ", ".join(sorted(match.allowed))}
                )
            return Response(status_code=404)
        function = match.target
        trigger = function.spec.trigger
        level = trigger.auth_level if isinstance(trigger, HttpTriggerSpec) else "function"
        if not runtime.keys.allows(level, key):
            return Response(status_code=401)
        body = await request.body()
        http_request = build_http_request(
            request.method,
            # The URL as sent (still percent-encoded), as the host passes it on.
            _original_url(request, raw_path),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
            request.url.query,
            match.values,
            body,
        )
        result = await runtime.invoke(
            function,
            http_request,
            reason="This function was programmatically called via the host APIs.",
            details={"method": request.method, "path": request.url.path},
        )
        if not result.invocation.succeeded:
            return Response(status_code=500)
        try:
            return to_response(result.value)
        except (TypeError, NotImplementedError) as exc:
            log.error("%s: %s", function.name, exc)
            return Response(status_code=500)

    async def _admin(self, request: Request, name: str) -> Response:
        if request.method != "POST":
            return Response(status_code=405, headers={"Allow": "POST"})
        function = self._runtime.function(name)
        if function is None:
            return _problem(404, f"no function named {name!r} is running in this host")
        if function.spec.kind is TriggerKind.HTTP:
            return _problem(400, f"{name} is an HTTP function: call its route instead")
        raw = await request.body()
        raw_input: str | None = None
        if raw.strip():
            try:
                payload = json.loads(raw)
            except ValueError:
                return _problem(400, 'the body must be JSON like {"input": "..."}')
            value = payload.get("input") if isinstance(payload, dict) else None
            if value is not None:
                raw_input = value if isinstance(value, str) else json.dumps(value)
        try:
            self._runtime.run_in_background(function, raw_input)
        except AdminInputError as exc:
            return _problem(400, str(exc))
        return Response(status_code=202)

    async def _eventgrid(self, request: Request) -> Response:
        name = next(
            (v for k, v in request.query_params.items() if k.lower() == "functionname"), None
        )
        function = self._runtime.function(name) if name else None
        if function is None or function.spec.kind is not TriggerKind.EVENT_GRID:
            return _problem(404, f"no Event Grid function named {name!r}")
        if request.method == "OPTIONS":
            origin = request.headers.get("webhook-request-origin")
            if not origin:
                return _problem(400, "an OPTIONS handshake needs WebHook-Request-Origin")
            return Response(
                status_code=200,
                headers={"WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": "*"},
            )
        if request.method != "POST":
            return Response(status_code=405, headers={"Allow": "POST, OPTIONS"})
        event_type = request.headers.get(eventgrid.EVENT_TYPE_HEADER)
        body = await request.body()
        try:
            if event_type == "SubscriptionValidation":
                code = eventgrid.validation_code(body)
                return JSONResponse({"validationResponse": code})
            if event_type == "Unsubscribe":
                return Response(status_code=202)
            if event_type != "Notification":
                return _problem(400, f"header {eventgrid.EVENT_TYPE_HEADER} is missing or unknown")
            events = eventgrid.parse_events(body)
            decoded = [eventgrid.decode_event(e) for e in events]
        except eventgrid.EventGridPayloadError as exc:
            return _problem(400, str(exc))
        failed = 0
        for wire, event in zip(events, decoded, strict=True):
            result = await self._runtime.invoke(
                function,
                event,
                reason="EventGrid trigger fired",
                details={"event_id": wire.id, "event_type": wire.type},
            )
            failed += 0 if result.invocation.succeeded else 1
        if failed:
            # A 5xx makes Event Grid (or a test) deliver the whole request again.
            return _problem(500, f"{failed} of {len(events)} event(s) failed")
        return Response(status_code=202)
