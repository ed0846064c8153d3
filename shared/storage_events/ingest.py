"""BlobCreated / BlobDeleted on a watched container: read the blob, register its items in the
route's rolling job, and let the pipeline post them like any other job's.

Every outcome is recorded: items (good or bad) as rows of the rolling job, the blob's newest
version and where it went on its blob record. Nothing here raises for a bad blob; only storage
or GeoCatalog outages raise, so that Event Grid redelivers the event (and, after its retries,
dead-letters it).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC
from typing import Any, Protocol
from urllib.parse import urlsplit

from shared.geocatalog.container_urls import container_key
from shared.geocatalog.errors import NotFoundError, OperationTimeoutError
from shared.geocatalog.models import COLLECTION_ID_RULE, Operation, is_valid_collection_id
from shared.item_prep import InvalidItem, PreparedItem, prepare_item, recorded_id_of
from shared.jobs.records import ItemError, JobRecord, NewItem
from shared.jobs.states import ItemState
from shared.jobs.store import JobExists
from shared.json_values import loads_json
from shared.outbound.urls import absolute_href
from shared.pipeline.deps import PipelineDeps
from shared.pipeline.dispatch import pending_item, register_and_dispatch
from shared.retry import wait_for_operation
from shared.storage_events.blob_access import BlobAccess, BlobContent, BlobTooLarge
from shared.storage_events.blob_events import IGNORED_APIS, BlobEvent, sequencer_key
from shared.storage_events.blob_state import BlobRecord, BlobStateStore
from shared.storage_events.container_sources import ContainerSources
from shared.storage_events.routes import COLLECTION_FROM_ITEM, BlobLocation, Route, parse_blob_url
from shared.storage_events.settings import StorageEventSettings

logger = logging.getLogger(__name__)

SOURCE_TYPE = "storage-events"


class BlobCode:
    """Why a blob's entry is `invalid` (or skipped), as recorded on its row."""

    NOT_JSON = "BlobNotJson"
    NOT_AN_ITEM = "BlobNotStacItem"
    TOO_LARGE = "BlobTooLarge"
    NO_COLLECTION = "ItemCollectionMissing"
    # The item's own `collection` is not a collection id the GeoCatalog can hold.
    BAD_COLLECTION = "ItemCollectionInvalid"
    OLDER_VERSION = "OlderBlobVersion"


class ItemDeleter(Protocol):
    def delete_item(self, collection_id: str, item_id: str) -> Operation: ...

    def get_operation(self, operation_id: str) -> Operation: ...


class DeleteFailed(RuntimeError):
    """A DeleteItem operation failed or did not finish: the event is delivered again."""


# How long a BlobDeleted waits for its DeleteItem operations before letting Event Grid redeliver.
DELETE_WAIT_SECONDS = 20.0
# Deleting an item that is not there (deleted by hand, or by an earlier delivery) is done.
_ALREADY_DELETED = "NoRecordsToDelete"


@dataclass(frozen=True)
class StorageEventDeps:
    settings: StorageEventSettings
    blobs: BlobAccess
    state: BlobStateStore
    ingestion_sources: ContainerSources
    catalog: ItemDeleter


@dataclass(frozen=True)
class StorageOutcome:
    # ignored | registered | duplicate | older | gone | deleted | delete-ignored
    action: str
    detail: str = ""
    job_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Entry:
    """One entry of a blob: a prepared item or the reason it is not one, and its target."""

    collection: str
    item: NewItem
    prepared: PreparedItem | None = None


def rolling_job_id(route: str, day: str, generation: int, collection: str) -> str:
    key = f"storage:{route}:{day}:{generation}:{collection}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def handle_blob_event(
    event: BlobEvent, pipeline: PipelineDeps, deps: StorageEventDeps
) -> StorageOutcome:
    routes = deps.settings.routes
    blob = parse_blob_url(event.url, routes.path_style_endpoints)
    if blob is None:
        return _ignored(event, "the URL is not a blob of a watched endpoint")
    route = routes.match(blob)
    if route is None:
        return _ignored(event, f"no route watches {blob.container_url}/{blob.name}")
    if event.api in IGNORED_APIS:
        return _ignored(event, f"api {event.api} announces a file before its content")
    moment = (event.event_time or pipeline.clock()).astimezone(UTC)
    # Without a sequencer (another producer), the event time orders the versions instead.
    sequencer = sequencer_key(event.sequencer or f"{int(moment.timestamp() * 1e6):x}")
    day = moment.date().isoformat()
    if not event.created:
        return _deleted(event, route, blob, sequencer, pipeline, deps)

    def next_record(previous: BlobRecord | None) -> BlobRecord:
        # A job records each item id once: a blob written again the same day goes to the day's
        # next generation of the route's job, so that every version is tracked.
        generation = previous.generation + 1 if previous and previous.day == day else 0
        return BlobRecord(route.name, blob.url, sequencer, day, generation, outcome="claimed")

    claim = deps.state.claim(
        route.name, blob.url, sequencer=sequencer, event_id=event.event_id, next_record=next_record
    )
    if claim.verdict == "older":
        return _older(event, route, blob, claim.record, pipeline)
    # "new", or "same" (a redelivery, perhaps of a delivery that stopped half-way): registering
    # again is a no-op for the rows already there and re-dispatches the pending ones.
    record = claim.record
    entries = _entries(event, route, blob, record, deps)
    if entries is None:
        deps.state.update(route.name, blob.url, sequencer, lambda r: replace(r, outcome="gone"))
        logger.info(
            "blob %s is gone (deleted since event %s); nothing to ingest",
            blob.url,
            event.event_id,
            extra={"eventId": event.event_id},
        )
        return StorageOutcome("gone")
    job_ids = _register(entries, route, blob, record, pipeline, deps)
    item_ids = tuple(e.item.item_id for e in entries if e.prepared is not None)
    collections = {e.item.item_id: e.collection for e in entries if e.prepared is not None}
    deps.state.update(
        route.name,
        blob.url,
        sequencer,
        lambda r: replace(
            r, job_ids=job_ids, item_ids=item_ids, collections=collections, outcome="registered"
        ),
    )
    action = "registered" if claim.verdict == "new" else "duplicate"
    logger.info(
        "blob %s (event %s): %s entries %s in job(s) %s",
        blob.url,
        event.event_id,
        len(entries),
        action,
        ", ".join(job_ids),
        extra={"eventId": event.event_id, "jobId": job_ids[0] if job_ids else None},
    )
    return StorageOutcome(action, job_ids=job_ids)


# ---- BlobCreated ----------------------------------------------------------------------------


def _entries(
    event: BlobEvent,
    route: Route,
    blob: BlobLocation,
    record: BlobRecord,
    deps: StorageEventDeps,
) -> list[_Entry] | None:
    """The blob's entries (None when the blob no longer exists)."""
    fallback = route.collection or COLLECTION_FROM_ITEM
    try:
        content = deps.blobs.read(blob, max_bytes=deps.settings.max_blob_bytes)
    except BlobTooLarge as exc:
        return [_blob_invalid(blob, fallback, BlobCode.TOO_LARGE, str(exc))]
    if content is None:
        return None
    raws = _raw_items(content, blob, fallback)
    if isinstance(raws, _Entry):
        return [raws]
    # item_prep names path-style endpoints by origin (the account is the path's first segment).
    endpoints = tuple(
        f"{p.scheme}://{p.netloc}"
        for p in (urlsplit(e) for e in deps.settings.routes.path_style_endpoints)
    )
    entries = []
    for index, raw in enumerate(raws):
        name = f"{blob.name}#{index}" if len(raws) > 1 else blob.name
        collection = route.collection or _own_collection(raw)
        if collection is None:
            entries.append(
                _blob_invalid(
                    blob,
                    COLLECTION_FROM_ITEM,
                    BlobCode.NO_COLLECTION,
                    "the route takes the item's own collection and the item names none",
                    item_id=recorded_id_of(raw) or name,
                )
            )
            continue
        if route.collection is None and not is_valid_collection_id(collection):
            entries.append(
                _blob_invalid(
                    blob,
                    COLLECTION_FROM_ITEM,
                    BlobCode.BAD_COLLECTION,
                    f"the item's collection {collection[:64]!r} {COLLECTION_ID_RULE}",
                    item_id=recorded_id_of(raw) or name,
                )
            )
            continue
        prepared = prepare_item(
            _resolved(raw, event.url),
            collection=collection,
            drop_assets=(),
            path_style_blob_endpoints=endpoints,
        )
        if isinstance(prepared, InvalidItem):
            error = ItemError(prepared.code, f"{prepared.message} (blob {blob.url})")
            entries.append(
                _Entry(
                    collection, NewItem(prepared.item_id or name, ItemState.INVALID, error=error)
                )
            )
            continue
        entries.append(_Entry(collection, pending_item(prepared), prepared))
    return entries


def _raw_items(content: BlobContent, blob: BlobLocation, collection: str) -> list[Any] | _Entry:
    try:
        value = loads_json(content.data)
    except ValueError:
        return _blob_invalid(blob, collection, BlobCode.NOT_JSON, "the blob is not JSON")
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        features = value.get("features")
        if not isinstance(features, list) or not features:
            return _blob_invalid(
                blob, collection, BlobCode.NOT_AN_ITEM, "the FeatureCollection has no features"
            )
        return features
    if isinstance(value, dict) and value.get("type") == "Feature":
        return [value]
    return _blob_invalid(
        blob,
        collection,
        BlobCode.NOT_AN_ITEM,
        "the blob is JSON but neither a STAC Item nor a FeatureCollection of items",
    )


def _blob_invalid(
    blob: BlobLocation, collection: str, code: str, message: str, *, item_id: str | None = None
) -> _Entry:
    # A blob that yields no item is recorded under its own name, which says where it came from.
    error = ItemError(code, f"{message} (blob {blob.url})")
    return _Entry(collection, NewItem(item_id or blob.name, ItemState.INVALID, error=error))


def _own_collection(raw: object) -> str | None:
    value = raw.get("collection") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and value else None


def _resolved(raw: object, blob_url: str) -> object:
    """The item with relative asset hrefs made absolute against the blob's URL (the STAC
    convention for items stored beside their assets) and a `via` link to the blob it came from
    (STAC's relation for an item's source metadata); other fields untouched."""
    if not isinstance(raw, dict) or not isinstance(raw.get("assets"), dict):
        return raw
    base = blob_url.split("?", 1)[0]
    assets: dict[str, Any] = {}
    for key, asset in raw["assets"].items():
        href = asset.get("href") if isinstance(asset, dict) else None
        if isinstance(href, str) and href:
            asset = {**asset, "href": absolute_href(base, href)}
        assets[key] = asset
    resolved = {**raw, "assets": assets}
    links = raw.get("links")
    if links is None or isinstance(links, list):
        via = {"rel": "via", "href": base, "type": "application/json"}
        kept = [
            link
            for link in links or []
            if not (
                isinstance(link, dict) and link.get("rel") == "via" and link.get("href") == base
            )
        ]
        resolved["links"] = [*kept, via]
    return resolved


def _register(
    entries: list[_Entry],
    route: Route,
    blob: BlobLocation,
    record: BlobRecord,
    pipeline: PipelineDeps,
    deps: StorageEventDeps,
) -> tuple[str, ...]:
    by_collection: dict[str, list[_Entry]] = defaultdict(list)
    for entry in entries:
        by_collection[entry.collection].append(entry)
    job_ids = []
    for collection, group in sorted(by_collection.items()):
        job_id = rolling_job_id(route.name, record.day, record.generation, collection)
        job = _rolling_job(job_id, route, collection, record, pipeline)
        containers = sorted({c for e in group if e.prepared for c in e.prepared.containers})
        statuses = {
            c: deps.ingestion_sources.ensure(c, watched=_watched(c, deps)) for c in containers
        }
        items = [e.item for e in group]
        result = register_and_dispatch(
            job, _unit(f"blob:{blob.url}@{record.sequencer}"), items, pipeline
        )
        if statuses and any(c not in job.containers for c in statuses):
            pipeline.store.update_job(job_id, _with_containers(statuses))
        posting = result.registered > 0 and any(i.state is ItemState.PENDING for i in items)
        _keep_open(job, pipeline, posting=posting)
        job_ids.append(job_id)
    return tuple(job_ids)


def _with_containers(statuses: dict[str, str]) -> Callable[[JobRecord], JobRecord]:
    # What the first event did for a container is the informative fact, as in planning.
    return lambda j: replace(j, containers={**statuses, **j.containers})


def _watched(container_url: str, deps: StorageEventDeps) -> bool:
    key = container_key(container_url)
    return any(container_key(r.container_url) == key for r in deps.settings.routes.routes)


def _rolling_job(
    job_id: str, route: Route, collection: str, record: BlobRecord, pipeline: PipelineDeps
) -> JobRecord:
    now = pipeline.clock()
    job = JobRecord(
        job_id=job_id,
        collection=collection,
        mode=route.mode.value,
        source={
            "type": SOURCE_TYPE,
            **route.to_record(),
            "day": record.day,
            "generation": record.generation,
        },
        drop_assets=(),
        dry_run=False,
        created_at=now,
        updated_at=now,
        # Planning is continuous: nothing is left to plan between events, so the job settles
        # whenever its items in flight are done and opens again with the next event.
        planning_done=True,
    )
    try:
        pipeline.store.create_job(job)
    except JobExists:
        existing = pipeline.store.get_job(job_id)
        if existing is not None:
            return existing
    logger.info(
        "rolling job %s opened for route %s, %s (generation %s), collection %s",
        job_id,
        route.name,
        record.day,
        record.generation,
        collection,
        extra={"jobId": job_id, "collectionId": collection},
    )
    return job


def _unit(name: str) -> str:
    """A unit name for the batch keys: stable per delivery, short whatever the blob's name."""
    return "e" + hashlib.sha256(name.encode()).hexdigest()[:24]


def _keep_open(job: JobRecord, pipeline: PipelineDeps, *, posting: bool) -> None:
    """A settled rolling job got new items: list it as active again (so the maintenance timer
    watches them). Unless this event registered items to post (the step that ends their batch
    settles the job, as for any job), settle it now: all invalid or skipped, or a redelivery.
    Settling counts every batch of the job, and a rolling job gains one per blob all day."""
    if job.completed_at is not None:
        pipeline.store.reopen(job.job_id)
    if not posting:
        pipeline.store.settle(job.job_id)


# ---- out of order, deleted ------------------------------------------------------------------


def _older(
    event: BlobEvent, route: Route, blob: BlobLocation, record: BlobRecord, pipeline: PipelineDeps
) -> StorageOutcome:
    """Recorded as a skipped entry of the job that holds the newer version, so that the job
    says why this event changed nothing."""
    job_ids = record.job_ids
    if job_ids:
        entry = NewItem(
            f"{blob.name}@{event.sequencer or event.event_id}",
            ItemState.SKIPPED,
            error=ItemError(
                BlobCode.OLDER_VERSION,
                f"an older version of {blob.url} arrived after a newer one was ingested; "
                "it was not read",
            ),
        )
        job = pipeline.store.get_job(job_ids[0])
        if job is not None:
            register_and_dispatch(
                job, _unit(f"older:{blob.url}@{event.event_id}"), [entry], pipeline
            )
            _keep_open(job, pipeline, posting=False)
    logger.info(
        "storage event %s: an older version of %s than the one recorded; skipped",
        event.event_id,
        blob.url,
        extra={"eventId": event.event_id},
    )
    return StorageOutcome("older", job_ids=job_ids[:1])


def _deleted(
    event: BlobEvent,
    route: Route,
    blob: BlobLocation,
    sequencer: str,
    pipeline: PipelineDeps,
    deps: StorageEventDeps,
) -> StorageOutcome:
    if not route.sync_deletes:
        return _ignored(event, f"route {route.name} does not sync deletes")
    previous = deps.state.get(route.name, blob.url)
    if previous is not None and sequencer < previous.sequencer:
        return _ignored(event, "the blob was written again after this delete")
    if previous is None or not previous.item_ids:
        return _ignored(event, "no item was ingested from this blob")
    known = previous

    def next_record(current: BlobRecord | None) -> BlobRecord:
        return replace(current or known, outcome="deleting")

    claim = deps.state.claim(
        route.name, blob.url, sequencer=sequencer, event_id=event.event_id, next_record=next_record
    )
    if claim.verdict == "older":
        return _ignored(event, "the blob was written again after this delete")
    record = claim.record
    started: list[tuple[str, Operation]] = []
    for item_id in record.item_ids:
        collection = record.collections.get(item_id) or route.collection
        if collection is None:
            continue
        try:
            started.append(
                (f"{collection}/{item_id}", deps.catalog.delete_item(collection, item_id))
            )
        except NotFoundError:
            continue  # already gone: deleted by hand, or by an earlier delivery
    deleted, failed = [], []
    # One budget for all of them, inside the 30 s Event Grid waits for an answer: past it, the
    # event is redelivered while this delivery still runs, and deletes are sent twice.
    deadline = time.monotonic() + DELETE_WAIT_SECONDS
    for name, operation in started:
        try:
            done = wait_for_operation(
                deps.catalog,
                operation.id,
                timeout=max(0.5, deadline - time.monotonic()),
                poll_interval=1.0,
            )
        except OperationTimeoutError:
            failed.append(f"{name}: operation {operation.id} still running")
            continue
        if done.succeeded or done.error_code == _ALREADY_DELETED:
            deleted.append(name)
        else:
            failed.append(f"{name}: {done.error_code or done.status.value}")
    if failed:
        deps.state.update(
            route.name, blob.url, sequencer, lambda r: replace(r, outcome="delete-failed")
        )
        logger.warning(
            "blob %s deleted (event %s), but deleting its items failed: %s; Event Grid "
            "redelivers the event",
            blob.url,
            event.event_id,
            "; ".join(failed),
            extra={"eventId": event.event_id},
        )
        raise DeleteFailed("; ".join(failed))
    deps.state.update(route.name, blob.url, sequencer, lambda r: replace(r, outcome="deleted"))
    logger.info(
        "blob %s deleted (event %s): items %s deleted",
        blob.url,
        event.event_id,
        ", ".join(deleted) or "none left",
        extra={"eventId": event.event_id},
    )
    return StorageOutcome("deleted", detail=", ".join(deleted))


def _ignored(event: BlobEvent, why: str) -> StorageOutcome:
    logger.info(
        "storage event %s ignored: %s", event.event_id, why, extra={"eventId": event.event_id}
    )
    return StorageOutcome("ignored", why)
