"""`/_emulator/*`: switches, stats, reset and scripted faults for tests and benchmarks.
No api-version, no auth, never counted against the budget."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from starlette.responses import Response

from local.emulator.geocatalog.config import GeoCatalogConfig
from local.emulator.geocatalog.errors import bad_request
from local.emulator.geocatalog.http import RequestContext, RouteSpec, empty_response, json_response


async def _optional_json(ctx: RequestContext) -> Any:
    raw = await ctx.request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise bad_request(f"The request body is not valid JSON: {exc}") from exc


async def get_config(ctx: RequestContext) -> Response:
    return json_response(ctx.emulator.config.to_dict())


async def update_config(ctx: RequestContext) -> Response:
    changes = await ctx.json_object()
    try:
        config = ctx.emulator.update_config(changes)
    except (TypeError, ValueError) as exc:
        raise bad_request(str(exc), "InvalidConfig") from exc
    return json_response(config.to_dict())


async def get_stats(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    snapshot = emu.stats.snapshot()
    with emu.lock:
        operations: dict[str, Counter[str]] = {}
        for op in emu.operations.all():
            operations.setdefault(op.type, Counter())[str(op.status)] += 1
        state = {
            "collections": len(emu.state.collections),
            "items": sum(len(r.items) for r in emu.state.collections.values()),
            "ingestionSources": len(emu.state.sources),
            "ingestions": len(emu.state.ingestions),
            "operations": len(emu.operations),
        }
    snapshot["operations"] = {kind: dict(counts) for kind, counts in operations.items()}
    snapshot["state"] = state
    return json_response(snapshot)


async def reset(ctx: RequestContext) -> Response:
    body = await _optional_json(ctx)
    config = None
    if isinstance(body, dict) and "config" in body:
        try:
            config = GeoCatalogConfig().updated(body["config"] or {})
        except (TypeError, ValueError) as exc:
            raise bad_request(str(exc), "InvalidConfig") from exc
    ctx.emulator.reset(config)
    return json_response(ctx.emulator.config.to_dict())


async def get_faults(ctx: RequestContext) -> Response:
    return json_response({"value": ctx.emulator.faults.pending()})


async def add_fault(ctx: RequestContext) -> Response:
    try:
        scripted = ctx.emulator.faults.script(await ctx.json_object())
    except ValueError as exc:
        raise bad_request(str(exc), "InvalidFault") from exc
    return json_response(scripted.to_json(), 201)


async def clear_faults(ctx: RequestContext) -> Response:
    ctx.emulator.faults.clear()
    return empty_response(204)


async def health(ctx: RequestContext) -> Response:
    return json_response({"status": "ok"})


def routes() -> list[RouteSpec]:
    return [
        RouteSpec("/_emulator/health", ("GET",), health, "control"),
        RouteSpec("/_emulator/config", ("GET",), get_config, "control"),
        RouteSpec("/_emulator/config", ("PUT", "PATCH"), update_config, "control"),
        RouteSpec("/_emulator/stats", ("GET",), get_stats, "control"),
        RouteSpec("/_emulator/reset", ("POST",), reset, "control"),
        RouteSpec("/_emulator/faults", ("GET",), get_faults, "control"),
        RouteSpec("/_emulator/faults", ("POST",), add_fault, "control"),
        RouteSpec("/_emulator/faults", ("DELETE",), clear_faults, "control"),
    ]
