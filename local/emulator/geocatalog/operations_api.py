"""`/inma/operations`: get, list (newest first, `$top`/`$skip`/`collectionId`/`status`),
cancel one, cancel all."""

from __future__ import annotations

from starlette.responses import Response

from local.emulator.geocatalog.errors import bad_request, not_found
from local.emulator.geocatalog.http import RequestContext, RouteSpec, empty_response, json_response
from local.emulator.geocatalog.ingestion_sources import paged
from local.emulator.geocatalog.operations import OpStatus

_STATUSES = {status.value.lower(): status for status in OpStatus}


async def get_operation(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    operation_id = ctx.path("operationId")
    with emu.lock:
        op = emu.operations.get(operation_id)
        if op is None:
            raise not_found(f"Operation '{operation_id}' not found.")
        return json_response(op.to_json())


async def list_operations(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id = ctx.query("collectionId")
    status_text = ctx.query("status")
    wanted = None
    if status_text:
        wanted = _STATUSES.get(status_text.lower())
        if wanted is None:
            raise bad_request(f"Unknown operation status '{status_text}'.", "InvalidParameter")
    with emu.lock:
        operations = [
            op.to_json()
            for op in emu.operations.newest_first()
            if (collection_id is None or op.collection_id == collection_id)
            and (wanted is None or op.status is wanted)
        ]
    return json_response(
        paged(
            ctx,
            "/inma/operations",
            operations,
            {"collectionId": collection_id, "status": status_text},
        )
    )


async def cancel_operation(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    operation_id = ctx.path("operationId")
    with emu.lock:
        op = emu.operations.get(operation_id)
        if op is None:
            raise not_found(f"Operation '{operation_id}' not found.")
        emu.operations.cancel(op, emu.now())
    return empty_response(204)


async def cancel_all_operations(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    with emu.lock:
        emu.operations.cancel_all(emu.now())
    return empty_response(204)


def routes() -> list[RouteSpec]:
    return [
        RouteSpec("/inma/operations", ("GET",), list_operations),
        RouteSpec("/inma/operations", ("DELETE",), cancel_all_operations),
        RouteSpec("/inma/operations/{operationId}", ("GET",), get_operation),
        RouteSpec("/inma/operations/{operationId}", ("DELETE",), cancel_operation),
    ]
