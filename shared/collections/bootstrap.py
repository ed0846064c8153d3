"""Create a collection from a template, or bring it up to date: the tutorial's steps 1, 2 and 7.

`bootstrap_collection` gathers everything from outside (template, thumbnail, Planetary Computer
mosaic info) BEFORE it touches the GeoCatalog, so bad input never leaves anything half-created.
Against the GeoCatalog it compares before it writes: the collection, its thumbnail, each render
option, each mosaic and the tile settings are created when missing, replaced when different and
left alone when equal, and the result says which. Nothing it did not put there is deleted.
The request it takes is already valid (the HTTP edge parses it: `shared.collection_request`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, TypeVar

from shared.collections.errors import CollectionError, CollectionNotCreated
from shared.collections.render_config import (
    RenderConfig,
    convert_mosaic_info,
    normalized_mosaic,
    normalized_render_option,
    normalized_tile_settings,
)
from shared.collections.results import CREATED, SKIPPED, UNCHANGED, UPDATED, BootstrapResult, Change
from shared.collections.template import (
    THUMBNAIL_KEY,
    creatable_collection,
    thumbnail_filename,
    thumbnail_media_type,
    thumbnail_of,
    validated_template,
)
from shared.collections.template_fetch import MAX_THUMBNAIL_BYTES, Fetched
from shared.geocatalog.errors import ConflictError, NotFoundError
from shared.geocatalog.models import Mosaic, Operation, RenderOption, TileSettings
from shared.outbound.urls import display_url
from shared.retry import call_with_retries, wait_for_operation

logger = logging.getLogger(__name__)

T = TypeVar("T")
# A render option or a mosaic: reconciled alike, by id, else by name.
Entry = TypeVar("Entry", RenderOption, Mosaic)

# The error code of an AddCollection operation whose id was taken while it was queued.
COLLECTION_ALREADY_EXISTS = "CollectionAlreadyExists"


# -- the request -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BootstrapRequest:
    collection_id: str
    template_url: str
    title: str | None = None


# -- what bootstrap needs from its collaborators --------------------------------------------------


class CollectionAdmin(Protocol):
    """The GeoCatalog client methods the bootstrap uses (GeoCatalogClient satisfies it)."""

    def get_collection(self, collection_id: str, *, sign: bool = False) -> dict[str, Any]: ...
    def create_collection(self, collection: Mapping[str, Any]) -> Operation: ...
    def replace_collection(
        self, collection_id: str, collection: Mapping[str, Any]
    ) -> dict[str, Any]: ...
    def get_operation(self, operation_id: str) -> Operation: ...
    def add_collection_asset(
        self,
        collection_id: str,
        *,
        key: str,
        data: bytes,
        filename: str,
        content_type: str,
        title: str,
        roles: list[str],
        description: str | None = None,
    ) -> dict[str, Any]: ...
    def replace_collection_asset(
        self,
        collection_id: str,
        *,
        key: str,
        data: bytes,
        filename: str,
        content_type: str,
        title: str,
        roles: list[str],
        description: str | None = None,
    ) -> dict[str, Any]: ...
    def get_collection_thumbnail(self, collection_id: str) -> bytes: ...
    def list_render_options(self, collection_id: str) -> list[dict[str, Any]]: ...
    # What it writes is typed (RenderOption, Mosaic, TileSettings: mypy checks their keys); what
    # it reads back is the service's JSON, compared after normalising.
    def create_render_option(self, collection_id: str, option: RenderOption) -> dict[str, Any]: ...
    def replace_render_option(
        self, collection_id: str, option_id: str, option: RenderOption
    ) -> dict[str, Any]: ...
    def list_mosaics(self, collection_id: str) -> list[dict[str, Any]]: ...
    def create_mosaic(self, collection_id: str, mosaic: Mosaic) -> dict[str, Any]: ...
    def replace_mosaic(
        self, collection_id: str, mosaic_id: str, mosaic: Mosaic
    ) -> dict[str, Any]: ...
    def get_tile_settings(self, collection_id: str) -> dict[str, Any]: ...
    def replace_tile_settings(
        self, collection_id: str, tile_settings: TileSettings
    ) -> dict[str, Any]: ...


class MosaicInfoSource(Protocol):
    """The Planetary Computer helper methods the bootstrap uses."""

    def collection_id_for(self, url: str) -> str | None: ...
    def get_mosaic_info(self, collection_id: str) -> dict[str, Any]: ...


class Fetcher(Protocol):
    """What the bootstrap fetches through (TemplateFetcher satisfies it)."""

    def fetch_json(self, url: str, *, field: str) -> Any: ...
    def fetch(self, url: str, *, field: str, max_bytes: int, accept: str) -> Fetched: ...


@dataclass(frozen=True)
class BootstrapOptions:
    # An HTTP request waits for AddCollection (1-14 s observed); bounded well under the
    # Functions HTTP limit (230 s).
    operation_timeout: float = 120.0
    poll_interval: float = 2.0
    # Retries of throttled / transient GeoCatalog calls within this synchronous request.
    call_attempts: int = 4
    call_max_elapsed: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


# -- the orchestration -------------------------------------------------------------------------


@dataclass
class _Plan:
    """Everything gathered from outside the GeoCatalog, before the first write."""

    collection: dict[str, Any]
    thumbnail: tuple[bytes, str, str, str] | None  # data, content type, filename, title
    render: RenderConfig
    warnings: list[str] = field(default_factory=list)


def bootstrap_collection(
    request: BootstrapRequest,
    *,
    geocatalog: CollectionAdmin,
    planetary_computer: MosaicInfoSource,
    fetcher: Fetcher,
    options: BootstrapOptions | None = None,
) -> BootstrapResult:
    """Create or update the collection; CollectionError for an unusable template, UpstreamError
    when the GeoCatalog or the Planetary Computer fails."""
    opts = options or BootstrapOptions()
    plan = _gather(request, planetary_computer, fetcher)
    run = _Run(request.collection_id, geocatalog, opts)
    created = run.collection(plan.collection)
    run.thumbnail(plan.thumbnail)
    run.render_options(plan.render.render_options)
    run.mosaics(plan.render.mosaics)
    run.tile_settings(plan.render.tile_settings)
    result = BootstrapResult(
        request.collection_id, created, tuple(run.changes), tuple(plan.warnings)
    )
    logger.info(
        "collection %s bootstrapped: %s created, %s updated, %s unchanged",
        request.collection_id,
        result.count(CREATED),
        result.count(UPDATED),
        result.count(UNCHANGED),
        extra={
            "collection_id": request.collection_id,
            "template_url": display_url(request.template_url),
        },
    )
    return result


def _gather(
    request: BootstrapRequest, planetary_computer: MosaicInfoSource, fetcher: Fetcher
) -> _Plan:
    template = validated_template(fetcher.fetch_json(request.template_url, field="templateUrl"))
    collection = creatable_collection(
        template,
        collection_id=request.collection_id,
        # The tutorial titles the copy with its id: two copies of one template stay apart.
        title=request.title or request.collection_id,
    )
    warnings: list[str] = []
    thumbnail = _fetch_thumbnail(template, fetcher, warnings)

    info: dict[str, Any] | None = None
    pc_collection = planetary_computer.collection_id_for(request.template_url)
    if pc_collection is None:
        warnings.append(
            "the template is not a Planetary Computer collection: no render options to copy"
        )
    else:
        try:
            info = planetary_computer.get_mosaic_info(pc_collection)
        except NotFoundError:
            warnings.append(f"the Planetary Computer has no mosaic info for {pc_collection}")
    render = convert_mosaic_info(info)
    warnings.extend(render.warnings)
    return _Plan(collection, thumbnail, render, warnings)


def _fetch_thumbnail(
    template: Mapping[str, Any], fetcher: Fetcher, warnings: list[str]
) -> tuple[bytes, str, str, str] | None:
    ref = thumbnail_of(template)
    if ref is None:
        warnings.append("the template has no thumbnail asset")
        return None
    try:
        fetched = fetcher.fetch(
            ref.href, field="thumbnail", max_bytes=MAX_THUMBNAIL_BYTES, accept="image/*"
        )
    except CollectionError as exc:
        # The collection is useful without its thumbnail; a rerun adds it once it can be fetched.
        warnings.append(f"thumbnail not copied: {exc.message}")
        return None
    media_type = thumbnail_media_type(ref, fetched.content_type)
    return fetched.content, media_type, thumbnail_filename(ref, media_type), ref.title


class _Run:
    """The GeoCatalog side of one bootstrap: compare, then create or replace what differs."""

    def __init__(self, collection_id: str, geocatalog: CollectionAdmin, opts: BootstrapOptions):
        self.cid = collection_id
        self.gc = geocatalog
        self.opts = opts
        self.changes: list[Change] = []
        self.current: dict[str, Any] = {}

    def _call(self, fn: Callable[[], T]) -> T:
        return call_with_retries(
            fn,
            attempts=self.opts.call_attempts,
            max_elapsed=self.opts.call_max_elapsed,
            sleep=self.opts.sleep,
            clock=self.opts.clock,
        )

    def _note(self, kind: str, ident: str, action: str) -> None:
        self.changes.append(Change(kind, ident, action))

    def collection(self, desired: dict[str, Any]) -> bool:
        try:
            existing = self._call(lambda: self.gc.get_collection(self.cid))
        except NotFoundError:
            existing = None
        if existing is None:
            try:
                operation = self._call(lambda: self.gc.create_collection(desired))
            except ConflictError:
                # Created by a concurrent request since our read: continue as an update.
                existing = self._call(lambda: self.gc.get_collection(self.cid))
            else:
                if self._await_created(operation):
                    self.current = self._call(lambda: self.gc.get_collection(self.cid))
                    self._note("collection", self.cid, CREATED)
                    return True
                # Another request's create of this id finished while ours was queued (GeoCatalog
                # accepts both and fails the second operation): continue as an update.
                existing = self._call(lambda: self.gc.get_collection(self.cid))
        differing = sorted(k for k in desired if k != "links" and existing.get(k) != desired[k])
        if differing:
            logger.info(
                "collection %s differs from its template in %s",
                self.cid,
                ", ".join(differing),
                extra={"collection_id": self.cid},
            )
            self.current = self._call(lambda: self.gc.replace_collection(self.cid, desired))
            self._note("collection", self.cid, UPDATED)
        else:
            self.current = existing
            self._note("collection", self.cid, UNCHANGED)
        return False

    def _await_created(self, operation: Operation) -> bool:
        """True once created; False when it failed because the collection exists by now."""
        if not operation.is_terminal:
            operation = wait_for_operation(
                self.gc,
                operation.id,
                timeout=self.opts.operation_timeout,
                poll_interval=self.opts.poll_interval,
                sleep=self.opts.sleep,
                clock=self.opts.clock,
            )
        if operation.succeeded:
            return True
        if operation.error_code == COLLECTION_ALREADY_EXISTS:
            return False
        raise CollectionNotCreated(
            f"GeoCatalog did not create collection {self.cid}: "
            f"{operation.error_message or operation.status}",
            operation_id=operation.id,
            code=operation.error_code,
        )

    def thumbnail(self, thumbnail: tuple[bytes, str, str, str] | None) -> None:
        if thumbnail is None:
            self._note("thumbnail", THUMBNAIL_KEY, SKIPPED)
            return
        data, content_type, filename, title = thumbnail
        assets = self.current.get("assets")
        if isinstance(assets, Mapping) and THUMBNAIL_KEY in assets:
            try:
                existing = self._call(lambda: self.gc.get_collection_thumbnail(self.cid))
            except NotFoundError:
                existing = None
            if existing == data:
                self._note("thumbnail", THUMBNAIL_KEY, UNCHANGED)
                return
            write, action = self.gc.replace_collection_asset, UPDATED
        else:
            write, action = self.gc.add_collection_asset, CREATED
        self._call(
            lambda: write(
                self.cid,
                key=THUMBNAIL_KEY,
                data=data,
                filename=filename,
                content_type=content_type,
                title=title,
                roles=["thumbnail"],
            )
        )
        self._note("thumbnail", THUMBNAIL_KEY, action)

    def _reconcile(
        self,
        kind: str,
        desired: tuple[Entry, ...],
        existing: list[dict[str, Any]],
        normalize: Callable[[Mapping[str, Any]], dict[str, Any]],
        create: Callable[[str, Entry], dict[str, Any]],
        replace: Callable[[str, str, Entry], dict[str, Any]],
    ) -> None:
        by_id = {str(e.get("id")): e for e in existing}
        wanted_ids = {d["id"] for d in desired}
        # An entry made by hand or by the tutorial under another id ("mos1") is the same entry
        # when its name matches; it is updated in place rather than duplicated.
        by_name = {str(e.get("name")): e for e in existing if str(e.get("id")) not in wanted_ids}
        for want in desired:
            have = by_id.get(want["id"]) or by_name.pop(want["name"], None)
            if have is None:
                try:
                    self._call(partial(create, self.cid, want))
                    self._note(kind, want["id"], CREATED)
                    continue
                except ConflictError:
                    # Exists although the listing did not show it (a concurrent bootstrap).
                    have = {"id": want["id"]}
            target = want.copy()
            target["id"] = str(have["id"])
            if normalize(have) == normalize(target):
                self._note(kind, target["id"], UNCHANGED)
            else:
                self._call(partial(replace, self.cid, target["id"], target))
                self._note(kind, target["id"], UPDATED)

    def render_options(self, desired: tuple[RenderOption, ...]) -> None:
        existing = self._call(lambda: self.gc.list_render_options(self.cid))
        self._reconcile(
            "render-option",
            desired,
            existing,
            normalized_render_option,
            self.gc.create_render_option,
            self.gc.replace_render_option,
        )

    def mosaics(self, desired: tuple[Mosaic, ...]) -> None:
        existing = self._call(lambda: self.gc.list_mosaics(self.cid))
        self._reconcile(
            "mosaic",
            desired,
            existing,
            normalized_mosaic,
            self.gc.create_mosaic,
            self.gc.replace_mosaic,
        )

    def tile_settings(self, desired: TileSettings) -> None:
        try:
            existing: dict[str, Any] | None = self._call(
                lambda: self.gc.get_tile_settings(self.cid)
            )
        except NotFoundError:
            existing = None
        if existing is not None and normalized_tile_settings(existing) == normalized_tile_settings(
            desired
        ):
            self._note("tile-settings", self.cid, UNCHANGED)
            return
        self._call(lambda: self.gc.replace_tile_settings(self.cid, desired))
        self._note("tile-settings", self.cid, UPDATED if existing else CREATED)


__all__ = [
    "BootstrapOptions",
    "BootstrapRequest",
    "CollectionAdmin",
    "Fetcher",
    "MosaicInfoSource",
    "bootstrap_collection",
]
