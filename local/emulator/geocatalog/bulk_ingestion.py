"""Bulk ingestion from a static STAC catalog: ingestion definitions, runs, and the crawler
that reads the catalog over HTTP (following `child` and `item` links relative to each
document) while the run's IngestionStaticCatalog operation is queued."""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import httpx
from starlette.responses import Response

from local.emulator.geocatalog.clock import format_ticks
from local.emulator.geocatalog.errors import (
    ApiError,
    OperationError,
    bad_request,
    collection_not_found,
    not_found,
)
from local.emulator.geocatalog.http import RequestContext, RouteSpec, accepted, json_response
from local.emulator.geocatalog.ingest import (
    Failure,
    blob_container_url,
    resolve_relative_hrefs,
)
from local.emulator.geocatalog.ingestion_sources import paged
from local.emulator.geocatalog.items import add_item, batch_outcome, counters
from local.emulator.geocatalog.operations import Operation, Outcome
from local.emulator.geocatalog.sas import carries_sas
from local.emulator.geocatalog.store import IngestionRecord, RunRecord

if TYPE_CHECKING:
    from local.emulator.geocatalog.emulator import GeoCatalogEmulator

IMPORT_TYPES = ("StaticCatalog", "StacGeoparquet")
MAX_ITEMS_PER_RUN = 10_000  # documented service limit per bulk ingestion
MAX_DOCUMENTS = 20_000
FETCH_TIMEOUT_SECONDS = 10.0


class FetchError(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


@dataclass
class CatalogRead:
    """What a crawl found: items with the URL of their document, per-item failures, or a
    failure of the whole catalog."""

    items: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failures: list[tuple[str, Failure]] = field(default_factory=list)
    fatal: Failure | None = None
    done: threading.Event = field(default_factory=threading.Event)


FetchJson = Callable[[str], Any]


def crawl(root_url: str, fetch_json: FetchJson, read: CatalogRead) -> None:
    """Walk a static catalog from its root (a Catalog or a Collection)."""
    try:
        root = fetch_json(root_url)
    except FetchError as exc:
        read.fatal = exc.failure
        return
    if not isinstance(root, dict) or root.get("type") not in ("Catalog", "Collection"):
        read.fatal = Failure(
            OperationError.INVALID_CATALOG,
            f"'{root_url}' is not a STAC Catalog or Collection.",
        )
        return
    queue: list[tuple[str, dict[str, Any]]] = [(root_url, root)]
    seen = {root_url}
    documents = 1
    while queue:
        url, document = queue.pop(0)
        for link in document.get("links") or []:
            if not isinstance(link, dict) or link.get("rel") not in ("child", "item"):
                continue
            href = link.get("href")
            if not isinstance(href, str):
                continue
            target = urljoin(url, href)
            if target in seen:
                continue
            seen.add(target)
            documents += 1
            if documents > MAX_DOCUMENTS or len(read.items) >= MAX_ITEMS_PER_RUN:
                read.fatal = Failure(
                    OperationError.INVALID_CATALOG,
                    f"The catalog holds more than {MAX_ITEMS_PER_RUN} items.",
                )
                return
            try:
                child = fetch_json(target)
            except FetchError as exc:
                if link["rel"] == "item":
                    read.failures.append((target, exc.failure))
                continue
            if link["rel"] == "item":
                if isinstance(child, dict) and child.get("type") == "Feature":
                    read.items.append((target, child))
                else:
                    read.failures.append(
                        (
                            target,
                            Failure(
                                OperationError.STAC_VALIDATION_FAILED,
                                f"'{target}' is not a STAC Item.",
                            ),
                        )
                    )
            elif isinstance(child, dict) and child.get("type") in ("Catalog", "Collection"):
                queue.append((target, child))


def http_fetcher(emu: GeoCatalogEmulator, client: httpx.Client) -> FetchJson:
    """GET a catalog document as GeoCatalog would: public URLs directly, blob URLs only with an
    ingestion source (whose SAS is appended) or their own SAS."""

    def fetch(url: str) -> Any:
        target = url
        container_url = blob_container_url(url)
        if container_url is not None and not carries_sas(urlsplit(url).query):
            with emu.lock:
                source = emu.state.source_for_container(container_url)
                now = emu.now()
                if source is None:
                    raise FetchError(
                        Failure(
                            OperationError.RESOURCE_FORBIDDEN,
                            f"Access to '{url}' is forbidden: no ingestion source for '{container_url}'.",
                        )
                    )
                if source.kind == "SasToken":
                    if source.expiration is not None and source.expiration <= now:
                        raise FetchError(
                            Failure(
                                OperationError.AUTHENTICATION_FAILED,
                                f"The SAS token of ingestion source '{source.id}' has expired.",
                            )
                        )
                    separator = "&" if "?" in url else "?"
                    target = f"{url}{separator}{source.sas_token}"
        try:
            response = client.get(target)
        except httpx.HTTPError as exc:
            raise FetchError(
                Failure(OperationError.CONNECTION_FAILED, f"Cannot read '{url}': {exc}")
            ) from exc
        if response.status_code == 404:
            raise FetchError(Failure(OperationError.RESOURCE_NOT_FOUND, f"'{url}' was not found."))
        if response.status_code in (401, 403):
            raise FetchError(
                Failure(OperationError.RESOURCE_FORBIDDEN, f"Access to '{url}' is forbidden.")
            )
        if response.status_code >= 400:
            raise FetchError(
                Failure(
                    OperationError.CONNECTION_FAILED,
                    f"Reading '{url}' failed with HTTP {response.status_code}.",
                )
            )
        try:
            return response.json()
        except ValueError as exc:
            raise FetchError(
                Failure(OperationError.INVALID_CATALOG, f"'{url}' is not valid JSON.")
            ) from exc

    return fetch


def run_json(emu: GeoCatalogEmulator, run: RunRecord) -> dict[str, Any]:
    op = emu.operations.get(run.operation_id)
    operation: dict[str, Any] = {"id": run.operation_id}
    if op is not None:
        data = op.to_json()
        info = op.additional_information or {}
        operation = {
            "id": data["id"],
            "status": data["status"],
            "statusHistory": data["statusHistory"],
            "creationTime": data["creationTime"],
        }
        for name in ("startTime", "finishTime"):
            if name in data:
                operation[name] = data[name]
        # Integers here; strings in the operation's additionalInformation (live captures).
        for wire, key in (
            ("totalItems", "TotalItems"),
            ("totalPendingItems", "TotalPendingItems"),
            ("totalSuccessfulItems", "TotalSuccessfulItems"),
            ("totalFailedItems", "TotalFailedItems"),
        ):
            operation[wire] = int(info.get(key, "0"))
    body: dict[str, Any] = {"id": run.id, "creationTime": format_ticks(run.creation_time)}
    if run.source_catalog_url is not None:
        body["sourceCatalogUrl"] = run.source_catalog_url
    body["skipExistingItems"] = run.skip_existing_items
    body["keepOriginalAssets"] = run.keep_original_assets
    body["operation"] = operation
    return body


def _validate_guid(value: str, name: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError as exc:
        raise bad_request(f"'{name}' must be a GUID, got '{value}'.", "InvalidParameter") from exc


def _ingestion(ctx: RequestContext) -> IngestionRecord:
    collection_id = ctx.path("collectionId")
    ingestion_id = ctx.path("ingestionId")
    _validate_guid(ingestion_id, "ingestionId")
    emu = ctx.emulator
    if collection_id not in emu.state.collections:
        raise collection_not_found(collection_id)
    record = emu.state.ingestions.get(ingestion_id)
    if record is None or record.collection_id != collection_id:
        raise not_found(f"Ingestion '{ingestion_id}' not found in collection '{collection_id}'.")
    return record


def _absolute_url(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise bad_request(f"'{name}' is required.", "InvalidParameter")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise bad_request(f"'{name}' must be an absolute http(s) URL.", "InvalidParameter")
    return value


def _check_definition(import_type: Any, catalog_url: Any, parquet_url: Any) -> None:
    if import_type not in IMPORT_TYPES:
        raise bad_request(f"'importType' must be one of {list(IMPORT_TYPES)}.", "InvalidParameter")
    if import_type == "StaticCatalog":
        _absolute_url(catalog_url, "sourceCatalogUrl")
    else:
        _absolute_url(parquet_url, "stacGeoparquetUrl")


def _bool(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise bad_request(f"'{name}' must be true or false.", "InvalidParameter")
    return value


async def create_ingestion(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id = ctx.path("collectionId")
    body = await ctx.json_object()
    _check_definition(
        body.get("importType"), body.get("sourceCatalogUrl"), body.get("stacGeoparquetUrl")
    )
    display_name = body.get("displayName")
    if display_name is not None and not isinstance(display_name, str):
        raise bad_request("'displayName' must be a string.", "InvalidParameter")
    skip = _bool(body, "skipExistingItems", False)
    keep = _bool(body, "keepOriginalAssets", False)
    with emu.lock:
        if collection_id not in emu.state.collections:
            raise collection_not_found(collection_id)
        record = IngestionRecord(
            id=emu.new_id(),
            collection_id=collection_id,
            creation_time=emu.now(),
            import_type=body["importType"],
            display_name=display_name,
            source_catalog_url=body.get("sourceCatalogUrl"),
            stac_geoparquet_url=body.get("stacGeoparquetUrl"),
            skip_existing_items=skip,
            keep_original_assets=keep,
        )
        emu.state.ingestions[record.id] = record
        location = ctx.url(f"/inma/collections/{collection_id}/ingestions/{record.id}")
        return json_response(record.to_json(), 201, headers={"Location": location})


async def list_ingestions(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id = ctx.path("collectionId")
    with emu.lock:
        if collection_id not in emu.state.collections:
            raise collection_not_found(collection_id)
        values = [
            record.to_json()
            for record in sorted(
                emu.state.ingestions.values(), key=lambda r: r.creation_time, reverse=True
            )
            if record.collection_id == collection_id
        ]
    return json_response(paged(ctx, f"/inma/collections/{collection_id}/ingestions", values))


async def get_ingestion(ctx: RequestContext) -> Response:
    with ctx.emulator.lock:
        return json_response(_ingestion(ctx).to_json())


async def update_ingestion(ctx: RequestContext) -> Response:
    patch = await ctx.json_object()
    with ctx.emulator.lock:
        record = _ingestion(ctx)
        import_type = patch.get("importType", record.import_type)
        catalog_url = patch.get("sourceCatalogUrl", record.source_catalog_url)
        parquet_url = patch.get("stacGeoparquetUrl", record.stac_geoparquet_url)
        _check_definition(import_type, catalog_url, parquet_url)
        display_name = patch.get("displayName", record.display_name)
        if display_name is not None and not isinstance(display_name, str):
            raise bad_request("'displayName' must be a string.", "InvalidParameter")
        record.import_type = import_type
        record.source_catalog_url = catalog_url
        record.stac_geoparquet_url = parquet_url
        record.display_name = display_name
        record.skip_existing_items = _bool(patch, "skipExistingItems", record.skip_existing_items)
        record.keep_original_assets = _bool(
            patch, "keepOriginalAssets", record.keep_original_assets
        )
        return json_response(record.to_json())


async def delete_ingestion(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    with emu.lock:
        record = _ingestion(ctx)
        record.status = "Deleting"

        def work(op: Operation, when: float) -> Outcome:
            busy = [
                run.id
                for run in record.runs.values()
                if (run_op := emu.operations.get(run.operation_id)) is not None
                and not run_op.status.terminal
            ]
            if busy:
                record.status = "Ready"
                return Outcome.failed(
                    OperationError.INGESTION_IN_PROGRESS,
                    f"Ingestion '{record.id}' has runs in progress or queued: {', '.join(busy)}.",
                )
            emu.state.ingestions.pop(record.id, None)
            return Outcome.ok()

        op = emu.submit(
            "DeleteIngestion",
            record.collection_id,
            work,
            reports_times=False,
            additional_information={"IngestionId": record.id},
        )
        return accepted(ctx, op.to_json())


def _run_work(
    emu: GeoCatalogEmulator,
    record: IngestionRecord,
    run: RunRecord,
    read: CatalogRead,
    base_url: str,
) -> Callable[[Operation, float], Outcome]:
    def work(op: Operation, when: float) -> Outcome:
        collection_id = record.collection_id
        if read.fatal is not None:
            op.additional_information = counters(0)
            return Outcome.failed(read.fatal.code, read.fatal.message)
        collection = emu.state.collections.get(collection_id)
        total = len(read.items) + len(read.failures)
        if collection is None:
            op.additional_information = counters(total, failed=total)
            return Outcome.failed(
                OperationError.COLLECTION_DOES_NOT_EXIST,
                f"Collection '{collection_id}' does not exist.",
            )
        failures = list(read.failures)
        succeeded = 0
        for document_url, original in read.items:
            item = copy.deepcopy(original)
            # A static catalog's items belong to the target collection, whatever they say.
            item["collection"] = collection_id
            resolve_relative_hrefs(item, document_url)
            label = str(item.get("id", document_url))
            failure = add_item(
                emu, collection, item, base_url, when, skip_existing=run.skip_existing_items
            )
            if failure is not None:
                failures.append((label, failure))
            else:
                succeeded += 1
        op.additional_information = counters(total, succeeded, len(failures))
        return batch_outcome(failures, total)

    return work


def _start_read(
    emu: GeoCatalogEmulator, record: IngestionRecord, read: CatalogRead, op_holder: list[Operation]
) -> None:
    def target() -> None:
        try:
            if record.import_type != "StaticCatalog" or record.source_catalog_url is None:
                read.fatal = Failure(
                    OperationError.GENERIC,
                    "StacGeoparquet ingestion is not supported by the GeoCatalog emulator.",
                )
                return
            with httpx.Client(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=True) as client:
                crawl(record.source_catalog_url, http_fetcher(emu, client), read)
            total = len(read.items) + len(read.failures)
            with emu.lock:
                op = op_holder[0] if op_holder else None
                if op is not None and not op.status.terminal and read.fatal is None:
                    op.additional_information = counters(total)
        finally:
            read.done.set()

    threading.Thread(target=target, name=f"bulk-read:{record.id}", daemon=True).start()


async def create_run(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    with emu.lock:
        record = _ingestion(ctx)
        if record.status != "Ready":
            raise ApiError(409, "Conflict", f"Ingestion '{record.id}' is being deleted.")
        read = CatalogRead()
        run = RunRecord(
            id=emu.new_id(),
            creation_time=emu.now(),
            source_catalog_url=record.source_catalog_url,
            skip_existing_items=record.skip_existing_items,
            keep_original_assets=record.keep_original_assets,
            operation_id="",
        )
        holder: list[Operation] = []
        op = emu.submit(
            "IngestionStaticCatalog",
            record.collection_id,
            _run_work(emu, record, run, read, ctx.base_url),
            reports_times=True,
            additional_information=counters(0),
            ready=read.done.is_set,
        )
        holder.append(op)
        run.operation_id = op.id
        run.creation_time = op.creation_time
        record.runs[run.id] = run
        _start_read(emu, record, read, holder)
        location = ctx.url(
            f"/inma/collections/{record.collection_id}/ingestions/{record.id}/runs/{run.id}"
        )
        return json_response(run_json(emu, run), 201, headers={"Location": location})


async def get_run(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    with emu.lock:
        record = _ingestion(ctx)
        run_id = ctx.path("runId")
        _validate_guid(run_id, "runId")
        run = record.runs.get(run_id)
        if run is None:
            raise not_found(f"Run '{run_id}' not found in ingestion '{record.id}'.")
        return json_response(run_json(emu, run))


async def list_runs(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    with emu.lock:
        record = _ingestion(ctx)
        values = [
            run_json(emu, run)
            for run in sorted(record.runs.values(), key=lambda r: r.creation_time, reverse=True)
        ]
        path = f"/inma/collections/{record.collection_id}/ingestions/{record.id}/runs"
    return json_response(paged(ctx, path, values))


def routes() -> list[RouteSpec]:
    base = "/inma/collections/{collectionId}/ingestions"
    return [
        RouteSpec(base, ("GET",), list_ingestions),
        RouteSpec(base, ("POST",), create_ingestion),
        RouteSpec(f"{base}/{{ingestionId}}", ("GET",), get_ingestion),
        RouteSpec(f"{base}/{{ingestionId}}", ("PATCH",), update_ingestion),
        RouteSpec(f"{base}/{{ingestionId}}", ("DELETE",), delete_ingestion),
        RouteSpec(f"{base}/{{ingestionId}}/runs", ("GET",), list_runs),
        RouteSpec(f"{base}/{{ingestionId}}/runs", ("POST",), create_run),
        RouteSpec(f"{base}/{{ingestionId}}/runs/{{runId}}", ("GET",), get_run),
    ]
