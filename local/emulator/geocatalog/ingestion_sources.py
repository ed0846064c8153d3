"""Ingestion sources: the containers GeoCatalog may read, with a SAS token or a managed
identity. One source per container URL; the SAS token is write-only."""

from __future__ import annotations

import contextlib
import re
import uuid
from typing import Any

from starlette.responses import Response

from local.emulator.geocatalog.blob_endpoints import path_style_container
from local.emulator.geocatalog.errors import ApiError, bad_request, not_found
from local.emulator.geocatalog.http import RequestContext, RouteSpec, empty_response, json_response
from local.emulator.geocatalog.sas import parse_sas
from local.emulator.geocatalog.store import SourceRecord

CONTAINER_URL = re.compile(
    r"^https://(?P<account>[a-z0-9]{3,24})\.blob\.core\.windows\.net/(?P<container>[a-z0-9$][a-z0-9-]{1,62})$",
    re.IGNORECASE,
)
KINDS = ("SasToken", "BlobManagedIdentity")


def _validate_container_url(value: Any, blob_endpoints: tuple[str, ...] = ()) -> str:
    if not isinstance(value, str) or not value:
        raise bad_request("'connectionInfo.containerUrl' is required.", "InvalidParameter")
    if value.endswith("/"):
        raise bad_request(f"Container url '{value}' must not end with a '/'.", "InvalidParameter")
    if path_style_container(value, blob_endpoints) == value:
        return value
    if CONTAINER_URL.match(value) is None:
        raise bad_request(
            f"Container url '{value}' must be a blob container URL "
            "'https://<account>.blob.core.windows.net/<container>' (account-level URLs are not "
            "allowed).",
            "InvalidParameter",
        )
    return value


def _parse_source(
    ctx: RequestContext, body: dict[str, Any]
) -> tuple[str, str, str | None, float | None, str | None]:
    """(kind, container URL, token, expiration, object id) of a create/replace body."""
    kind = body.get("kind")
    if kind not in KINDS:
        raise bad_request(f"'kind' must be one of {list(KINDS)}.", "InvalidParameter")
    info = body.get("connectionInfo")
    if not isinstance(info, dict):
        raise bad_request("'connectionInfo' is required.", "InvalidParameter")
    container_url = _validate_container_url(
        info.get("containerUrl"), ctx.emulator.config.blob_endpoints
    )
    if kind == "SasToken":
        token = info.get("sasToken")
        if not isinstance(token, str) or not token.strip():
            raise bad_request("'connectionInfo.sasToken' is required.", "InvalidParameter")
        try:
            parsed = parse_sas(token)
        except ValueError as exc:
            raise bad_request(f"The SAS token cannot be parsed: {exc}", "InvalidParameter") from exc
        if parsed.expiry is None:
            raise bad_request(
                "The SAS token has no expiry ('se'); a container SAS with an expiry is required.",
                "InvalidParameter",
            )
        if parsed.is_account_sas:
            raise bad_request(
                "Account-level SAS tokens are not allowed; use a container SAS.",
                "InvalidParameter",
            )
        if parsed.permissions and "r" not in parsed.permissions:
            raise bad_request("The SAS token must grant read ('r').", "InvalidParameter")
        return kind, container_url, token.strip().removeprefix("?"), parsed.expiry, None
    object_id = info.get("objectId")
    identities = {identity["objectId"] for identity in ctx.emulator.managed_identities}
    if object_id not in identities:
        raise bad_request(
            f"Managed identity '{object_id}' is not assigned to this GeoCatalog.",
            "ManagedIdentityInfoNotFound",
        )
    return kind, container_url, None, None, object_id


def _conflict(container_url: str, existing: SourceRecord) -> ApiError:
    # Message documented on Learn (docs/reference/geocatalog-api.md §6).
    return ApiError(
        409,
        "Conflict",
        f"Container url {container_url} already contains a SAS token ingestion source "
        f"with id {existing.id}",
    )


def _source_url(ctx: RequestContext, source_id: str) -> str:
    return ctx.url(f"/inma/ingestion-sources/{source_id}")


async def create_source(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    body = await ctx.json_object()
    kind, container_url, token, expiration, object_id = _parse_source(ctx, body)
    with emu.lock:
        existing = emu.state.source_for_container(container_url)
        if existing is not None:
            raise _conflict(container_url, existing)
        source_id = emu.new_id()
        requested = body.get("id")
        if emu.config.honor_client_source_id and isinstance(requested, str):
            with contextlib.suppress(ValueError):
                source_id = str(uuid.UUID(requested))
            if source_id in emu.state.sources:
                raise ApiError(409, "Conflict", f"Ingestion source {source_id} already exists.")
        source = SourceRecord(
            id=source_id,
            kind=kind,
            created=emu.now(),
            container_url=container_url,
            sas_token=token,
            expiration=expiration,
            object_id=object_id,
        )
        emu.state.sources[source_id] = source
        return json_response(
            source.to_json(), 201, headers={"Location": _source_url(ctx, source_id)}
        )


async def replace_source(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    source_id = ctx.path("id")
    body = await ctx.json_object()
    kind, container_url, token, expiration, object_id = _parse_source(ctx, body)
    with emu.lock:
        source = emu.state.sources.get(source_id)
        if source is None:
            raise not_found(f"Ingestion source '{source_id}' not found.")
        existing = emu.state.source_for_container(container_url)
        if existing is not None and existing.id != source_id:
            raise _conflict(container_url, existing)
        source.kind = kind
        source.container_url = container_url
        source.sas_token = token
        source.expiration = expiration
        source.object_id = object_id
        return json_response(source.to_json(), headers={"Location": _source_url(ctx, source_id)})


async def delete_source(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    source_id = ctx.path("id")
    with emu.lock:
        if emu.state.sources.pop(source_id, None) is None:
            raise not_found(f"Ingestion source '{source_id}' not found.")
    return empty_response(204)


async def get_source(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    source_id = ctx.path("id")
    with emu.lock:
        source = emu.state.sources.get(source_id)
        if source is None:
            raise not_found(f"Ingestion source '{source_id}' not found.")
        return json_response(source.to_json())


def paged(
    ctx: RequestContext, path: str, values: list[Any], extra: dict[str, str | None] | None = None
) -> dict[str, Any]:
    """`{value, nextLink?}` with `$top`/`$skip` paging."""
    top = ctx.query_int("$top", ctx.emulator.config.operations_page_size)
    skip = ctx.query_int("$skip", 0)
    if top is None or top < 1 or skip is None or skip < 0:
        raise bad_request("'$top' must be >= 1 and '$skip' >= 0.", "InvalidParameter")
    page = values[skip : skip + top]
    body: dict[str, Any] = {"value": page}
    if skip + top < len(values):
        body["nextLink"] = ctx.url(path, **{"$top": top, "$skip": skip + top, **(extra or {})})
    return body


async def list_sources(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    with emu.lock:
        summaries = [source.summary() for source in emu.state.sources.values()]
    return json_response(paged(ctx, "/inma/ingestion-sources", summaries))


async def list_managed_identities(ctx: RequestContext) -> Response:
    return json_response({"value": list(ctx.emulator.managed_identities)})


def routes() -> list[RouteSpec]:
    return [
        RouteSpec("/inma/ingestion-sources", ("GET",), list_sources),
        RouteSpec("/inma/ingestion-sources", ("POST",), create_source),
        # Before {id}: a literal segment must win over the parameter.
        RouteSpec("/inma/ingestion-sources/managed-identities", ("GET",), list_managed_identities),
        RouteSpec("/inma/ingestion-sources/{id}", ("GET",), get_source),
        RouteSpec("/inma/ingestion-sources/{id}", ("PUT",), replace_source),
        RouteSpec("/inma/ingestion-sources/{id}", ("DELETE",), delete_source),
    ]
