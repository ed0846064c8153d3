"""STAC items: create (Item or FeatureCollection), replace, merge-patch, delete, all as
operations whose business failures happen inside the operation; and GET of one item."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from local.emulator.geocatalog.errors import (
    OperationError,
    bad_request,
    collection_not_found,
    not_found,
)
from local.emulator.geocatalog.http import (
    GEOJSON,
    RequestContext,
    RouteSpec,
    accepted,
    json_response,
)
from local.emulator.geocatalog.ingest import (
    Failure,
    check_asset_access,
    check_item_assets,
    copy_assets,
    forget_item_blobs,
    present_item,
    store_item,
    validate_item,
)
from local.emulator.geocatalog.operations import Operation, Outcome
from local.emulator.geocatalog.store import CollectionRecord

if TYPE_CHECKING:
    from local.emulator.geocatalog.emulator import GeoCatalogEmulator

SERVICE_ITEM_FIELDS = ("_msft:etag", "_msft:ts")


def counters(total: int, succeeded: int = 0, failed: int = 0) -> dict[str, str]:
    """Item operation counters; the service reports numbers as strings."""
    return {
        "TotalItems": str(total),
        "TotalPendingItems": str(total - succeeded - failed),
        "TotalSuccessfulItems": str(succeeded),
        "TotalFailedItems": str(failed),
    }


def batch_outcome(failures: list[tuple[str, Failure]], total: int) -> Outcome:
    """One item: its own failure. Several: the shared code when all failed alike, else
    ErrorsInBatchOperation; the message names every failed item."""
    if not failures:
        return Outcome.ok()
    if total == 1:
        return Outcome.failed(failures[0][1].code, failures[0][1].message)
    codes = {failure.code for _, failure in failures}
    details = "; ".join(f"{item_id}: {f.code}: {f.message}" for item_id, f in failures)
    summary = f"{len(failures)} of {total} items failed. {details}"
    if len(failures) == total and len(codes) == 1:
        return Outcome.failed(next(iter(codes)), summary)
    return Outcome.failed(OperationError.BATCH_ERRORS, summary)


def _collection_or_failure(
    emu: GeoCatalogEmulator, collection_id: str
) -> CollectionRecord | Outcome:
    record = emu.state.collections.get(collection_id)
    if record is None:
        return Outcome.failed(
            OperationError.COLLECTION_DOES_NOT_EXIST,
            f"Collection '{collection_id}' does not exist.",
        )
    return record


def _fail_all(op: Operation, total: int, outcome: Outcome) -> Outcome:
    op.additional_information = counters(total, failed=total)
    return outcome


def add_items_work(
    emu: GeoCatalogEmulator,
    collection_id: str,
    items: list[Any],
    base_url: str,
    *,
    skip_existing: bool = False,
) -> Callable[[Operation, float], Outcome]:
    def work(op: Operation, when: float) -> Outcome:
        total = len(items)
        found = _collection_or_failure(emu, collection_id)
        if isinstance(found, Outcome):
            return _fail_all(op, total, found)
        limit = emu.config.max_items_per_request
        if limit is not None and total > limit:
            return _fail_all(
                op,
                total,
                Outcome.failed(
                    OperationError.COLLECTION_SIZE_EXCEEDED,
                    f"The request holds {total} items; at most {limit} are accepted per request.",
                ),
            )
        failures: list[tuple[str, Failure]] = []
        succeeded = 0
        for index, item in enumerate(items):
            label = item.get("id") if isinstance(item, dict) else None
            label = str(label) if label is not None else f"#{index}"
            failure = add_item(emu, found, item, base_url, when, skip_existing=skip_existing)
            if failure is not None:
                failures.append((label, failure))
            else:
                succeeded += 1
        op.additional_information = counters(total, succeeded, len(failures))
        return batch_outcome(failures, total)

    return work


def _items_of(body: dict[str, Any]) -> list[Any]:
    kind = body.get("type")
    if kind == "Feature":
        return [body]
    if kind == "FeatureCollection":
        features = body.get("features")
        if not isinstance(features, list) or not features:
            raise bad_request("A FeatureCollection needs a non-empty 'features' list.")
        return features
    raise bad_request("The body must be a STAC Item (Feature) or a FeatureCollection of items.")


def _check_collection_sync(emu: GeoCatalogEmulator, collection_id: str) -> None:
    if emu.config.missing_collection_items == "404" and collection_id not in emu.state.collections:
        raise collection_not_found(collection_id)


async def create_items(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id = ctx.path("collectionId")
    items = copy.deepcopy(_items_of(await ctx.json_object()))
    with emu.lock:
        _check_collection_sync(emu, collection_id)
        op = emu.submit(
            "AddItem",
            collection_id,
            add_items_work(emu, collection_id, items, ctx.base_url),
            reports_times=True,
            additional_information=counters(len(items)),
        )
        return accepted(ctx, op.to_json())


def _replace_work(
    emu: GeoCatalogEmulator, collection_id: str, item_id: str, item: dict[str, Any], base_url: str
) -> Callable[[Operation, float], Outcome]:
    def work(op: Operation, when: float) -> Outcome:
        found = _collection_or_failure(emu, collection_id)
        if isinstance(found, Outcome):
            return _fail_all(op, 1, found)
        failure = validate_item(item, collection_id, expected_id=item_id)
        if failure is None and item_id not in found.items and emu.config.put_missing_item == "fail":
            failure = Failure(
                OperationError.NO_RECORDS_TO_UPDATE,
                f"Item '{item_id}' does not exist in collection '{collection_id}' to update",
            )
        if failure is None:
            failure = check_item_assets(emu, item.get("assets") or {}, when)
        if failure is not None:
            return _fail_all(op, 1, Outcome.failed(failure.code, failure.message))
        store_item(emu, found, item, base_url, when)
        op.additional_information = counters(1, succeeded=1)
        return Outcome.ok()

    return work


async def replace_item(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id, item_id = ctx.path("collectionId"), ctx.path("itemId")
    item = await ctx.json_object()
    with emu.lock:
        _check_collection_sync(emu, collection_id)
        op = emu.submit(
            "UpdateItem",
            collection_id,
            _replace_work(emu, collection_id, item_id, item, ctx.base_url),
            reports_times=True,
            additional_information=counters(1),
        )
        return accepted(ctx, op.to_json())


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _patch_work(
    emu: GeoCatalogEmulator, collection_id: str, item_id: str, patch: dict[str, Any], base_url: str
) -> Callable[[Operation, float], Outcome]:
    def work(op: Operation, when: float) -> Outcome:
        found = _collection_or_failure(emu, collection_id)
        if isinstance(found, Outcome):
            return _fail_all(op, 1, found)
        stored = found.items.get(item_id)
        if stored is None:
            return _fail_all(
                op,
                1,
                Outcome.failed(
                    OperationError.NO_RECORDS_TO_PATCH,
                    f"Item '{item_id}' does not exist in collection '{collection_id}' to patch",
                ),
            )
        base = {k: v for k, v in stored.items() if k not in SERVICE_ITEM_FIELDS}
        merged = merge_patch(base, patch)
        failure = validate_item(merged, collection_id, expected_id=item_id)
        if failure is not None:
            return _fail_all(op, 1, Outcome.failed(failure.code, failure.message))
        # Only assets whose href the patch sets are read again (and copied again).
        raw_assets = patch.get("assets")
        patched_assets: dict[str, Any] = raw_assets if isinstance(raw_assets, dict) else {}
        touched = {
            key: merged["assets"][key]
            for key, value in patched_assets.items()
            if isinstance(value, dict) and "href" in value and key in merged.get("assets", {})
        }
        for asset in touched.values():
            failure = check_asset_access(emu, asset["href"], when)
            if failure is not None:
                return _fail_all(op, 1, Outcome.failed(failure.code, failure.message))
        copied = copy_assets(emu, found, item_id, touched, base_url)
        assets = {key: copied.get(key, asset) for key, asset in merged.get("assets", {}).items()}
        store_item(emu, found, merged, base_url, when, copied_assets=assets)
        _prune_blobs(emu, found, item_id, assets)
        op.additional_information = counters(1, succeeded=1)
        return Outcome.ok()

    return work


def _prune_blobs(
    emu: GeoCatalogEmulator, record: CollectionRecord, item_id: str, assets: dict[str, Any]
) -> None:
    kept = set()
    for asset in assets.values():
        location = emu.managed_location(asset["href"])
        if location is not None:
            kept.add(f"{location[0]}/{location[1]}")
    keys = record.item_blobs.get(item_id, [])
    for key in [k for k in keys if k not in kept]:
        emu.state.blobs.pop(key, None)
    record.item_blobs[item_id] = [k for k in keys if k in kept]


async def update_item(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id, item_id = ctx.path("collectionId"), ctx.path("itemId")
    patch = await ctx.json_object()
    with emu.lock:
        _check_collection_sync(emu, collection_id)
        op = emu.submit(
            "UpdateItem",
            collection_id,
            _patch_work(emu, collection_id, item_id, patch, ctx.base_url),
            reports_times=True,
            additional_information=counters(1),
        )
        return accepted(ctx, op.to_json())


async def delete_item(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id, item_id = ctx.path("collectionId"), ctx.path("itemId")

    def work(op: Operation, when: float) -> Outcome:
        found = _collection_or_failure(emu, collection_id)
        if isinstance(found, Outcome):
            return _fail_all(op, 1, found)
        if item_id not in found.items:
            return _fail_all(
                op,
                1,
                Outcome.failed(
                    OperationError.NO_RECORDS_TO_DELETE,
                    f"Item '{item_id}' does not exist in collection '{collection_id}' to delete",
                ),
            )
        del found.items[item_id]
        forget_item_blobs(emu, found, item_id)
        op.additional_information = counters(1, succeeded=1)
        return Outcome.ok()

    with emu.lock:
        _check_collection_sync(emu, collection_id)
        op = emu.submit(
            "DeleteItem",
            collection_id,
            work,
            reports_times=True,
            additional_information=counters(1),
        )
        return accepted(ctx, op.to_json())


async def get_item(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id, item_id = ctx.path("collectionId"), ctx.path("itemId")
    sign, minutes = ctx.sign_requested(), ctx.duration_minutes()
    with emu.lock:
        record = emu.state.collections.get(collection_id)
        if record is None:
            raise collection_not_found(collection_id)
        stored = record.items.get(item_id)
        if stored is None:
            raise not_found(f"Item '{item_id}' not found in collection '{collection_id}'.")
        cache: dict[str, str] = {}
        body = present_item(
            stored,
            ctx.base_url,
            sign=sign,
            sign_item=lambda href: emu.sign_href(href, minutes, cache),
        )
    return json_response(body, media_type=GEOJSON)


def routes() -> list[RouteSpec]:
    item = "/stac/collections/{collectionId}/items/{itemId}"
    return [
        RouteSpec("/stac/collections/{collectionId}/items", ("POST",), create_items),
        RouteSpec(item, ("GET",), get_item),
        RouteSpec(item, ("PUT",), replace_item),
        RouteSpec(item, ("PATCH",), update_item),
        RouteSpec(item, ("DELETE",), delete_item),
    ]


def add_item(
    emu: GeoCatalogEmulator,
    collection: CollectionRecord,
    item: Any,
    base_url: str,
    when: float,
    *,
    skip_existing: bool,
) -> Failure | None:
    """Ingest one item of a post or a bulk run: the checks the service makes inside the
    operation, then the write. None when the item is in the collection afterwards."""
    failure = validate_item(item, collection.id)
    if failure is None and item["id"] in collection.items:
        if skip_existing:
            return None
        failure = Failure(
            OperationError.ITEM_ALREADY_EXISTS,
            f"Item '{item['id']}' already exists in collection '{collection.id}'",
        )
    if failure is None:
        failure = check_item_assets(emu, item.get("assets") or {}, when)
    if failure is None:
        store_item(emu, collection, item, base_url, when)
    return failure
