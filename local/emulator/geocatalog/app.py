"""The ASGI app: routing, and the one wrapper every data-plane call passes through
(auth, api-version, budget, faults, latency, lazy operation progress, stats, error shape)."""

from __future__ import annotations

import asyncio
import math
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from local.emulator.geocatalog import (
    bulk_ingestion,
    collections,
    configurations,
    control,
    ingestion_sources,
    items,
    operations_api,
    sas_api,
    search,
    storage_api,
)
from local.emulator.geocatalog.clock import Clock
from local.emulator.geocatalog.config import GeoCatalogConfig
from local.emulator.geocatalog.emulator import GeoCatalogEmulator
from local.emulator.geocatalog.errors import ApiError, error_body
from local.emulator.geocatalog.faults import Fault, Faults, fault_error, retry_after_text
from local.emulator.geocatalog.http import RequestContext, RouteSpec, dumps, json_response

UNMATCHED = "<unmatched>"


def all_routes() -> list[RouteSpec]:
    return [
        *collections.routes(),
        *configurations.routes(),
        *items.routes(),
        *search.routes(),
        *operations_api.routes(),
        *ingestion_sources.routes(),
        *bulk_ingestion.routes(),
        *sas_api.routes(),
        *storage_api.routes(),
        *control.routes(),
    ]


def _base_url(request: Request, config: GeoCatalogConfig) -> str:
    if config.public_url:
        return config.public_url.rstrip("/")
    host = request.headers.get("host") or "127.0.0.1"
    return f"{request.url.scheme}://{host}"


def _error_response(error: ApiError) -> Response:
    return Response(
        dumps(error.body()),
        status_code=error.status,
        headers=error.headers or None,
        media_type="application/json",
    )


def _authenticate(request: Request, config: GeoCatalogConfig) -> None:
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    challenge = {
        "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common/'
        'oauth2/authorize", resource_id="https://geocatalog.spatio.azure.com"'
    }
    if scheme.lower() != "bearer" or not token:
        raise ApiError(
            401,
            "Unauthorized",
            "Authentication failed: a bearer token is required in the Authorization header.",
            challenge,
        )
    if config.auth_token is not None and token != config.auth_token:
        raise ApiError(
            401, "Unauthorized", "Authentication failed: the token is not valid.", challenge
        )


def _api_version(request: Request, config: GeoCatalogConfig) -> str:
    version = request.query_params.get("api-version")
    if not version:
        raise ApiError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if version not in config.api_versions:
        raise ApiError(
            400,
            "UnsupportedApiVersion",
            f"The HTTP resource that matches the request URI '{request.url}' does not support "
            f"the API version '{version}'.",
        )
    return version


def _fault_response(fault: Fault) -> Response:
    code, message = fault_error(fault.status)
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
    return json_response(error_body(code, message), fault.status, headers=headers)


def _throttled(config: GeoCatalogConfig, wait: float) -> ApiError:
    seconds = max(1, math.ceil(wait))
    headers: dict[str, str] = {}
    if config.throttle_retry_after:
        fixed = config.throttle_retry_after_seconds
        headers["Retry-After"] = retry_after_text(fixed) if fixed is not None else str(seconds)
    return ApiError(
        429,
        "TooManyRequests",
        f"Rate limit of {config.budget_per_second:g} requests per second is exceeded. "
        f"Try again in {seconds} seconds.",
        headers,
    )


def _make_endpoint(emu: GeoCatalogEmulator, spec: RouteSpec) -> Any:
    template, handler, kind = spec.template, spec.handler, spec.kind
    # Stats name routes as the SDK's templates do ("{path}", not Starlette's "{path:path}").
    route_name = template.replace(":path}", "}")

    async def control_endpoint(request: Request) -> Response:
        ctx = RequestContext(request, emu, template, "", _base_url(request, emu.config))
        try:
            return await handler(ctx)
        except ApiError as error:
            return _error_response(error)

    async def endpoint(request: Request) -> Response:
        config = emu.config
        delay = config.latency_seconds
        if config.latency_jitter_seconds > 0:
            delay += emu.rng.uniform(0, config.latency_jitter_seconds)
        if delay > 0:
            await asyncio.sleep(delay)
        method = request.method
        after_fault: Fault | None = None
        try:
            if kind == "managed":
                api_version = ""
            else:
                _authenticate(request, config)
                api_version = _api_version(request, config)
                wait = emu.budget.try_acquire(emu.now(), config.budget_per_second)
                if wait is not None:
                    raise _throttled(config, wait)
                fault = emu.faults.take_scripted(method, template, request.url.path) or Faults.roll(
                    config, emu.rng
                )
                if fault is not None:
                    if fault.phase == "before":
                        response = _fault_response(fault)
                        emu.stats.record(route_name, method, response.status_code)
                        return response
                    after_fault = fault
            emu.advance()
            ctx = RequestContext(request, emu, template, api_version, _base_url(request, config))
            response = await handler(ctx)
        except ApiError as error:
            response = _error_response(error)
        if after_fault is not None:
            response = _fault_response(after_fault)
        if kind != "managed":
            response.headers["X-Request-ID"] = str(uuid.uuid4())
        emu.stats.record(route_name, method, response.status_code)
        return response

    return control_endpoint if kind == "control" else endpoint


def create_app(config: GeoCatalogConfig | None = None, *, clock: Clock | None = None) -> Starlette:
    """The GeoCatalog emulator as an ASGI app; its state is `app.state.emulator`."""
    emu = GeoCatalogEmulator(config, clock=clock)
    routes = [
        Route(spec.template, _make_endpoint(emu, spec), methods=list(spec.methods))
        for spec in all_routes()
    ]

    async def unmatched(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        emu.stats.record(UNMATCHED, request.method, status)
        if status == 405:
            body = error_body("MethodNotAllowed", f"Method {request.method} is not allowed here.")
        elif status == 404:
            body = error_body(
                "NotFound", f"The requested resource '{request.url.path}' does not exist."
            )
        else:
            body = error_body("InternalServerError", "The server failed to handle the request.")
        return json_response(body, status)

    app = Starlette(
        routes=routes,
        exception_handlers={404: unmatched, 405: unmatched, 500: unmatched},
    )
    app.state.emulator = emu
    return app
