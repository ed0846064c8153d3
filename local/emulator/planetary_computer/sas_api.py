"""Routes of the PC SAS API (`/api/sas/v1`) and the data API's mosaic info (`/api/data/v1`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.emulator.planetary_computer.context import EmulatorContext, context_of
from local.emulator.planetary_computer.data import blob_container_of
from local.emulator.planetary_computer.mosaic import mosaic_info_document
from local.emulator.planetary_computer.sas import IssuedToken

SAS_PATH = "/api/sas/v1"
DATA_PATH = "/api/data/v1"


def _detail(message: str, status: int) -> JSONResponse:
    # FastAPI's HTTPException body. The exact messages of the real SAS API are not recorded.
    return JSONResponse({"detail": message}, status_code=status)


def _missing_query(name: str) -> JSONResponse:
    # FastAPI's 422 for a required query parameter that is absent.
    return JSONResponse(
        {
            "detail": [
                {"type": "missing", "loc": ["query", name], "msg": "Field required", "input": None}
            ]
        },
        status_code=422,
    )


def _issue(ctx: EmulatorContext, account: str, container: str) -> IssuedToken:
    switches = ctx.switches.current
    return ctx.signer.issue(
        account,
        container,
        now=datetime.now(UTC),
        lifetime=switches.sas_lifetime,
        expired=switches.sas_expired,
    )


def _token_body(issued: IssuedToken) -> dict[str, Any]:
    return {"msft:expiry": issued.expiry_text, "token": issued.token}


async def token_for_collection(request: Request) -> Response:
    ctx = context_of(request)
    collection_id = request.path_params["collection_id"]
    collection = ctx.data.collections.get(collection_id)
    account = (collection or {}).get("msft:storage_account")
    container = (collection or {}).get("msft:container")
    if not account or not container:
        return _detail(f"No storage container found for collection {collection_id}", 404)
    return JSONResponse(_token_body(_issue(ctx, account, container)))


async def token_for_container(request: Request) -> Response:
    ctx = context_of(request)
    account = request.path_params["account"]
    container = request.path_params["container"]
    if (account, container) not in ctx.data.containers:
        return _detail(f"Storage container {account}/{container} is not served", 404)
    return JSONResponse(_token_body(_issue(ctx, account, container)))


async def sign(request: Request) -> Response:
    ctx = context_of(request)
    href = request.query_params.get("href")
    if href is None:
        return _missing_query("href")
    pair = blob_container_of(href)
    if pair is None:
        return _detail(f"Cannot sign {href}: not an Azure Blob Storage URL", 400)
    if pair not in ctx.data.containers:
        return _detail(f"Storage container {pair[0]}/{pair[1]} is not served", 404)
    issued = _issue(ctx, *pair)
    # A signed href carries only the SAS: any query it had is replaced, not merged.
    scheme, netloc, path, _, _ = urlsplit(href)
    signed = urlunsplit((scheme, netloc, path, issued.token, ""))
    return JSONResponse({"msft:expiry": issued.expiry_text, "href": signed})


async def mosaic_info(request: Request) -> Response:
    ctx = context_of(request)
    collection_id = request.query_params.get("collection")
    if collection_id is None:
        return _missing_query("collection")
    source = ctx.data.mosaic_info_sources.get(collection_id)
    if source is None:
        # pctiler returns the bare string as the JSON body.
        return JSONResponse(f"No mosaic info available for collection {collection_id}", 404)
    return JSONResponse(
        mosaic_info_document(source, omit_nulls=ctx.config.mosaic_info_nulls == "omit")
    )


def routes() -> list[Route]:
    return [
        Route(f"{SAS_PATH}/token/{{collection_id}}", token_for_collection, methods=["GET"]),
        Route(f"{SAS_PATH}/token/{{account}}/{{container}}", token_for_container, methods=["GET"]),
        Route(f"{SAS_PATH}/sign", sign, methods=["GET"]),
        Route(f"{DATA_PATH}/mosaic/info", mosaic_info, methods=["GET"]),
    ]
