"""STAC collections: list, get, create (operation), replace, delete (operation), collection
assets (multipart upload into managed storage) and the thumbnail."""

from __future__ import annotations

import copy
import json
import re
from typing import TYPE_CHECKING, Any

from starlette.datastructures import UploadFile
from starlette.responses import Response

from local.emulator.geocatalog.clock import format_micros
from local.emulator.geocatalog.configurations import default_mosaics, default_tile_settings
from local.emulator.geocatalog.errors import (
    ApiError,
    OperationError,
    bad_request,
    collection_not_found,
    not_found,
)
from local.emulator.geocatalog.http import RequestContext, RouteSpec, accepted, json_response
from local.emulator.geocatalog.managed_storage import container_name, guess_type, managed_href
from local.emulator.geocatalog.operations import Operation, Outcome
from local.emulator.geocatalog.store import CollectionRecord, ManagedBlob

if TYPE_CHECKING:
    from local.emulator.geocatalog.emulator import GeoCatalogEmulator

COLLECTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$")
SERVICE_COLLECTION_RELS = frozenset({"self", "parent", "root", "items", "collection"})
STORAGE_FIELDS = ("msft:storage_account", "msft:container")
SERVICE_FIELDS = ("msft:_created", "msft:_updated", "links", "assets")


def get_record(emu: GeoCatalogEmulator, collection_id: str) -> CollectionRecord:
    record = emu.state.collections.get(collection_id)
    if record is None:
        raise collection_not_found(collection_id)
    return record


def present_collection(
    emu: GeoCatalogEmulator,
    record: CollectionRecord,
    base_url: str,
    *,
    sign: bool = False,
    minutes: int | None = None,
) -> dict[str, Any]:
    body = copy.deepcopy(record.doc)
    body["msft:_created"] = format_micros(record.created)
    body["msft:_updated"] = format_micros(record.updated)
    if record.assets:
        cache: dict[str, str] = {}
        body["assets"] = {
            key: {**asset, "href": emu.sign_href(asset["href"], minutes, cache)}
            if sign
            else dict(asset)
            for key, asset in record.assets.items()
        }
    url = f"{base_url}/stac/collections/{record.id}"
    extra = [
        link
        for link in record.doc.get("links") or []
        if isinstance(link, dict) and link.get("rel") not in SERVICE_COLLECTION_RELS
    ]
    body["links"] = [
        {"rel": "items", "type": "application/geo+json", "href": f"{url}/items"},
        {"rel": "parent", "type": "application/json", "href": f"{base_url}/stac/"},
        {"rel": "root", "type": "application/json", "href": f"{base_url}/stac/"},
        {"rel": "self", "type": "application/json", "href": url},
        *extra,
    ]
    return body


def _validate_collection(emu: GeoCatalogEmulator, body: dict[str, Any], *, creating: bool) -> str:
    collection_id = body.get("id")
    if not isinstance(collection_id, str) or not COLLECTION_ID.match(collection_id):
        raise bad_request(
            f"Collection id {collection_id!r} is invalid: 3-32 letters, digits, '-' or '_', "
            "starting with a letter or digit."
        )
    if creating and body.get("assets"):
        raise bad_request(
            "A collection cannot be created with collection-level assets. Create the collection "
            "without 'assets', then add them with POST /stac/collections/{collectionId}/assets.",
            "InvalidCollection",
        )
    if emu.config.reject_storage_fields:
        present = [name for name in STORAGE_FIELDS if name in body]
        if present:
            raise bad_request(
                f"Collection fields {present} refer to storage outside the GeoCatalog and are "
                "not allowed.",
                "InvalidCollection",
            )
    for required in ("description", "license", "extent"):
        if required not in body:
            raise bad_request(
                f"Collection '{collection_id}' is missing required field '{required}'.",
                "InvalidCollection",
            )
    if body.get("type", "Collection") != "Collection":
        raise bad_request("A collection must have type 'Collection'.", "InvalidCollection")
    return collection_id


def _stored_doc(body: dict[str, Any]) -> dict[str, Any]:
    doc = {k: v for k, v in body.items() if k not in SERVICE_FIELDS}
    doc.setdefault("type", "Collection")
    if "links" in body:
        doc["links"] = [
            link
            for link in body["links"] or []
            if isinstance(link, dict) and link.get("rel") not in SERVICE_COLLECTION_RELS
        ]
    return doc


async def list_collections(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    sign, minutes = ctx.sign_requested(), ctx.duration_minutes()
    with emu.lock:
        collections = [
            present_collection(emu, record, ctx.base_url, sign=sign, minutes=minutes)
            for record in emu.state.collections.values()
        ]
    return json_response(
        {
            "collections": collections,
            "links": [
                {"rel": "root", "type": "application/json", "href": f"{ctx.base_url}/stac/"},
                {
                    "rel": "self",
                    "type": "application/json",
                    "href": f"{ctx.base_url}/stac/collections",
                },
            ],
        }
    )


async def get_collection(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    sign, minutes = ctx.sign_requested(), ctx.duration_minutes()
    with emu.lock:
        record = get_record(emu, ctx.path("collectionId"))
        body = present_collection(emu, record, ctx.base_url, sign=sign, minutes=minutes)
    return json_response(body)


async def create_collection(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    body = await ctx.json_object()
    collection_id = _validate_collection(emu, body, creating=True)
    doc = _stored_doc(body)
    base_url = ctx.base_url

    def work(op: Operation, when: float) -> Outcome:
        emu.state.collections_being_created.pop(collection_id, None)
        if collection_id in emu.state.collections:
            return Outcome.failed(
                OperationError.COLLECTION_ALREADY_EXISTS,
                f"Collection '{collection_id}' already exists.",
            )
        container = container_name(collection_id, emu.hex8())
        emu.state.collections[collection_id] = CollectionRecord(
            id=collection_id,
            doc=doc,
            container=container,
            created=when,
            updated=when,
            base_url=base_url,
            mosaics=default_mosaics(emu.config),
            tile_settings=default_tile_settings(),
        )
        emu.state.containers[container] = collection_id
        return Outcome.ok()

    with emu.lock:
        if emu.config.duplicate_collection == "409":
            pending = emu.state.collections_being_created.get(collection_id)
            if collection_id in emu.state.collections or (
                pending is not None and not pending.status.terminal
            ):
                raise ApiError(
                    409,
                    "CollectionAlreadyExists",
                    f"Collection '{collection_id}' already exists.",
                )
        op = emu.submit("AddCollection", collection_id, work, reports_times=False)
        emu.state.collections_being_created[collection_id] = op
        return accepted(ctx, op.to_json())


async def replace_collection(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id = ctx.path("collectionId")
    body = await ctx.json_object()
    if body.get("id", collection_id) != collection_id:
        raise bad_request(
            f"Collection id '{body.get('id')}' in the body does not match '{collection_id}'."
        )
    body = {**body, "id": collection_id}
    _validate_collection(emu, body, creating=False)
    with emu.lock:
        record = get_record(emu, collection_id)
        # Collection-level assets live in managed storage and change only through /assets.
        record.doc = _stored_doc(body)
        record.updated = emu.now()
        return json_response(present_collection(emu, record, ctx.base_url))


async def delete_collection(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id = ctx.path("collectionId")

    def work(op: Operation, when: float) -> Outcome:
        record = emu.state.collections.pop(collection_id, None)
        if record is None:
            return Outcome.failed(
                OperationError.COLLECTION_DOES_NOT_EXIST,
                f"Collection '{collection_id}' does not exist.",
            )
        emu.state.containers.pop(record.container, None)
        prefix = f"{record.container}/"
        for key in [k for k in emu.state.blobs if k.startswith(prefix)]:
            del emu.state.blobs[key]
        for ingestion_id in [
            i for i, rec in emu.state.ingestions.items() if rec.collection_id == collection_id
        ]:
            del emu.state.ingestions[ingestion_id]
        return Outcome.ok()

    with emu.lock:
        get_record(emu, collection_id)
        op = emu.submit("DeleteCollection", collection_id, work, reports_times=False)
        return accepted(ctx, op.to_json())


# -- collection assets ---------------------------------------------------------------------


async def _read_asset_form(ctx: RequestContext) -> tuple[dict[str, Any], bytes, str]:
    """The multipart body: `data` (JSON, as a field or as a file part: the SDK sends it as a
    file part, the tutorial as a form field) and `file` (the bytes)."""
    try:
        form = await ctx.request.form()
    except Exception as exc:  # any parse failure is the client's 400
        raise bad_request(f"The body must be multipart/form-data: {exc}") from exc
    raw_data = form.get("data")
    if isinstance(raw_data, UploadFile):
        raw_data = (await raw_data.read()).decode("utf-8", errors="replace")
    if not isinstance(raw_data, str) or not raw_data:
        raise bad_request("The multipart field 'data' (asset metadata JSON) is required.")
    try:
        meta = json.loads(raw_data)
    except ValueError as exc:
        raise bad_request(f"The multipart field 'data' is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict):
        raise bad_request("The multipart field 'data' must be a JSON object.")
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise bad_request("The multipart file part 'file' is required.")
    content = await upload.read()
    filename = upload.filename or "file"
    key = meta.get("key")
    if not isinstance(key, str) or not key:
        raise bad_request("The asset metadata needs a non-empty 'key'.")
    roles = meta.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise bad_request("The asset 'roles' must be a list of strings.")
    return meta, content, filename


def _store_collection_asset(
    emu: GeoCatalogEmulator,
    record: CollectionRecord,
    meta: dict[str, Any],
    content: bytes,
    filename: str,
    base_url: str,
) -> None:
    key = meta["key"]
    _forget_collection_asset(emu, record, key)
    path = f"collection-assets/{key}/{filename}"
    media_type = guess_type(filename, meta.get("type") or None)
    emu.state.blobs[f"{record.container}/{path}"] = ManagedBlob(media_type, content)
    asset: dict[str, Any] = {"href": managed_href(emu.config, base_url, record.container, path)}
    asset["type"] = media_type
    for name in ("title", "description", "roles"):
        if meta.get(name) not in (None, ""):
            asset[name] = meta[name]
    record.assets[key] = asset
    record.updated = emu.now()


def _forget_collection_asset(emu: GeoCatalogEmulator, record: CollectionRecord, key: str) -> None:
    asset = record.assets.pop(key, None)
    if asset is None:
        return
    location = emu.managed_location(asset["href"])
    if location is not None:
        emu.state.blobs.pop(f"{location[0]}/{location[1]}", None)


async def create_collection_asset(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id = ctx.path("collectionId")
    with emu.lock:
        get_record(emu, collection_id)
    meta, content, filename = await _read_asset_form(ctx)
    with emu.lock:
        record = get_record(emu, collection_id)
        if meta["key"] in record.assets:
            raise ApiError(
                409,
                "AssetAlreadyExists",
                f"Asset '{meta['key']}' already exists in collection '{collection_id}'. "
                "Use PUT to replace it.",
            )
        _store_collection_asset(emu, record, meta, content, filename, ctx.base_url)
        return json_response(present_collection(emu, record, ctx.base_url), 201)


async def replace_collection_asset(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id, asset_id = ctx.path("collectionId"), ctx.path("assetId")
    with emu.lock:
        get_record(emu, collection_id)
    meta, content, filename = await _read_asset_form(ctx)
    if meta["key"] != asset_id:
        raise bad_request(f"Asset key '{meta['key']}' does not match '{asset_id}' in the path.")
    with emu.lock:
        record = get_record(emu, collection_id)
        if asset_id not in record.assets:
            raise not_found(f"Asset '{asset_id}' not found in collection '{collection_id}'.")
        _store_collection_asset(emu, record, meta, content, filename, ctx.base_url)
        return json_response(present_collection(emu, record, ctx.base_url))


async def delete_collection_asset(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id, asset_id = ctx.path("collectionId"), ctx.path("assetId")
    with emu.lock:
        record = get_record(emu, collection_id)
        if asset_id not in record.assets:
            raise not_found(f"Asset '{asset_id}' not found in collection '{collection_id}'.")
        _forget_collection_asset(emu, record, asset_id)
        record.updated = emu.now()
        return json_response(present_collection(emu, record, ctx.base_url))


async def get_thumbnail(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id = ctx.path("collectionId")
    with emu.lock:
        record = get_record(emu, collection_id)
        asset = record.assets.get("thumbnail") or next(
            (a for a in record.assets.values() if "thumbnail" in (a.get("roles") or [])), None
        )
        if asset is None:
            raise not_found(f"Collection '{collection_id}' has no thumbnail.")
        location = emu.managed_location(asset["href"])
        blob = emu.state.blobs.get(f"{location[0]}/{location[1]}") if location else None
        if blob is None or blob.data is None:
            raise not_found(f"Collection '{collection_id}' has no thumbnail.")
        return Response(blob.data, media_type=blob.content_type)


def routes() -> list[RouteSpec]:
    return [
        RouteSpec("/stac/collections", ("GET",), list_collections),
        RouteSpec("/stac/collections", ("POST",), create_collection),
        RouteSpec("/stac/collections/{collectionId}", ("GET",), get_collection),
        RouteSpec("/stac/collections/{collectionId}", ("PUT",), replace_collection),
        RouteSpec("/stac/collections/{collectionId}", ("DELETE",), delete_collection),
        RouteSpec("/stac/collections/{collectionId}/assets", ("POST",), create_collection_asset),
        RouteSpec(
            "/stac/collections/{collectionId}/assets/{assetId}", ("PUT",), replace_collection_asset
        ),
        RouteSpec(
            "/stac/collections/{collectionId}/assets/{assetId}",
            ("DELETE",),
            delete_collection_asset,
        ),
        RouteSpec("/stac/collections/{collectionId}/thumbnail", ("GET",), get_thumbnail),
    ]
