"""Load the recorded Planetary Computer responses once and index them for the API."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local.emulator.planetary_computer.geometry import Shape, shape_from_bbox, shape_from_geojson
from local.emulator.planetary_computer.timeutil import parse_rfc3339

logger = logging.getLogger(__name__)

PC_STAC_ROOT = "https://planetarycomputer.microsoft.com/api/stac/v1"
BLOB_HOST_SUFFIX = ".blob.core.windows.net"

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class IndexedItem:
    collection: str
    id: str
    item: JsonDict
    # The recorded item as compact JSON: pages are built from these strings, not re-serialized.
    text: str
    start: datetime
    end: datetime
    shape: Shape | None

    @property
    def datetime(self) -> datetime:
        return self.start


@dataclass(frozen=True)
class FixtureData:
    landing: JsonDict
    collection_list_links: list[JsonDict]
    collections: dict[str, JsonDict]
    queryables: dict[str, JsonDict]
    # Per collection, ordered as pgstac orders a search without sortby: datetime desc, id desc.
    items: dict[str, list[IndexedItem]]
    by_id: dict[tuple[str, str], IndexedItem]
    # collection id -> mosaic_info as stored in its config file (snake_case or camelCase keys)
    mosaic_info_sources: dict[str, JsonDict]
    # (storage account, container) pairs the SAS API hands out tokens for
    containers: frozenset[tuple[str, str]]
    static_catalogs_dir: Path


def load_fixtures(fixtures_dir: Path) -> FixtureData:
    pc_dir = fixtures_dir / "planetary-computer"
    landing = _read_json(pc_dir / "stac-api-root.json")
    collections: dict[str, JsonDict] = {}
    queryables: dict[str, JsonDict] = {}
    for path in sorted((pc_dir / "collections").glob("*.json")):
        if path.name.endswith(".queryables.json"):
            queryables[path.name.removesuffix(".queryables.json")] = _read_json(path)
        else:
            collection = _read_json(path)
            collections[collection["id"]] = collection

    by_id: dict[tuple[str, str], IndexedItem] = {}
    for path in sorted((pc_dir / "items").glob("*.json")):
        for raw in _features_of(_read_json(path)):
            indexed = _index_item(raw)
            key = (indexed.collection, indexed.id)
            if key in by_id:
                if by_id[key].item != raw:
                    logger.warning("item %s recorded twice with different content; first kept", key)
                continue
            by_id[key] = indexed
    items: dict[str, list[IndexedItem]] = {cid: [] for cid in collections}
    for indexed in by_id.values():
        if indexed.collection not in collections:
            logger.warning("item %s has no recorded collection; not served", indexed.id)
            continue
        items[indexed.collection].append(indexed)
    for members in items.values():
        members.sort(key=lambda i: i.id, reverse=True)
        members.sort(key=lambda i: i.start, reverse=True)

    static_dir = fixtures_dir / "static-catalog"
    return FixtureData(
        landing=landing,
        collection_list_links=_collection_list_links(),
        collections=collections,
        queryables=queryables,
        items=items,
        by_id={k: v for k, v in by_id.items() if k[0] in collections},
        mosaic_info_sources=_mosaic_info_sources(pc_dir / "render"),
        containers=frozenset(_containers(collections, by_id.values(), static_dir)),
        static_catalogs_dir=static_dir,
    )


def _read_json(path: Path) -> Any:
    with path.open("rb") as handle:
        return json.load(handle)


def _features_of(document: Any) -> list[JsonDict]:
    if isinstance(document, list):
        return document
    if document.get("type") == "FeatureCollection":
        features: list[JsonDict] = document["features"]
        return features
    return [document]


def _index_item(raw: JsonDict) -> IndexedItem:
    properties = raw.get("properties") or {}
    instant = properties.get("datetime")
    start = parse_rfc3339(instant or properties["start_datetime"])
    end = parse_rfc3339(instant or properties["end_datetime"])
    shape: Shape | None = None
    if raw.get("geometry"):
        shape = shape_from_geojson(raw["geometry"])
    elif raw.get("bbox"):
        shape = shape_from_bbox(raw["bbox"])
    return IndexedItem(
        collection=raw["collection"],
        id=raw["id"],
        item=raw,
        text=json.dumps(raw, separators=(",", ":")),
        start=start,
        end=end,
        shape=shape,
    )


def _collection_list_links() -> list[JsonDict]:
    # As in the recorded GET /collections response (collections-list.json in the shared fixtures).
    return [
        {"rel": "root", "type": "application/json", "href": f"{PC_STAC_ROOT}/"},
        {"rel": "parent", "type": "application/json", "href": f"{PC_STAC_ROOT}/"},
        {"rel": "self", "type": "application/json", "href": f"{PC_STAC_ROOT}/collections"},
    ]


def _mosaic_info_sources(render_dir: Path) -> dict[str, JsonDict]:
    """pctasks configs (current) win over the older pc-apis test config for the same collection."""
    sources: dict[str, JsonDict] = {}
    legacy = render_dir / "pc-apis.collection_config.json"
    if legacy.exists():
        for collection_id, config in _read_json(legacy).items():
            if config.get("mosaic_info"):
                sources[collection_id] = config["mosaic_info"]
    for path in sorted(render_dir.glob("pctasks.*.config.json")):
        collection_id = path.name.removeprefix("pctasks.").removesuffix(".config.json")
        config = _read_json(path)
        if config.get("mosaic_info"):
            sources[collection_id] = config["mosaic_info"]
    return sources


def blob_container_of(href: str) -> tuple[str, str] | None:
    """(account, container) of an Azure Blob URL, None for anything else."""
    parts = urlsplit(href)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host.endswith(BLOB_HOST_SUFFIX):
        return None
    container = parts.path.lstrip("/").split("/", 1)[0]
    if not container:
        return None
    return host.removesuffix(BLOB_HOST_SUFFIX), container


def _containers(
    collections: dict[str, JsonDict], items: Any, static_dir: Path
) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for collection in collections.values():
        account, container = (
            collection.get("msft:storage_account"),
            collection.get("msft:container"),
        )
        if account and container:
            found.add((account, container))
    hrefs: list[str] = []
    for indexed in items:
        hrefs.extend(a.get("href", "") for a in (indexed.item.get("assets") or {}).values())
    for path in static_dir.rglob("*.json"):
        document = _read_json(path)
        if isinstance(document, dict) and document.get("type") == "Feature":
            hrefs.extend(a.get("href", "") for a in (document.get("assets") or {}).values())
    for href in hrefs:
        pair = blob_container_of(href)
        if pair:
            found.add(pair)
    return found
