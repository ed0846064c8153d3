"""Item preparation: validate one raw STAC item and turn it into what GeoCatalog is sent.

Every source yields raw items; the planner calls `prepare_item` on each before anything is posted, so
an item GeoCatalog would refuse (or could not read) is recorded as invalid with a reason instead of
costing a POST and an asynchronous operation. Preparation follows the Planetary Computer Pro
tutorial: set `collection` to the target, drop the non-static assets, and find the blob containers
the assets live in (each needs an ingestion source before the item can be ingested).

An item is refused here only for what the STAC 1.1 item schema (item.json, with the GeoJSON Feature
and Geometry schemas it builds on) or the GeoCatalog's documented rules require; each refusal names
its rule. Anything else (an empty `assets`, a start_datetime after end_datetime) is the GeoCatalog's
to judge: it is posted, and the operation's verdict is recorded.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import parse_qsl

from shared.jobs.keys import escape
from shared.json_values import non_finite_paths
from shared.outbound.urls import split_url
from shared.sources.base import RawItem
from shared.stac_values import GEOMETRY_TYPES, bbox_problem, parse_rfc3339

# GeoCatalog item ids: 1-64 characters, letters, digits, `-`, `_`, `.`
# (docs/reference/geocatalog-api.md §11).
ITEM_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# An item is recorded under its id: a property of its Table row, shown by the job view and the
# item listing, and part of keys wherever an id keys a row. An id the GeoCatalog refuses may be
# of any length, more than a Table property (32 K characters) or key (1 KiB) holds, so the id it
# is recorded under is bounded to this many characters once percent-escaped as in a key; a longer
# one is recorded as its first characters and a digest of the whole.
MAX_RECORDED_ID_CHARS: Final = 200
_RECORDED_ID_HEAD_CHARS: Final = 64

# The links GeoCatalog (stac-fastapi-pgstac underneath) infers from where the item is stored and
# generates itself on every read: a stored item comes back with exactly these four pointing at the
# GeoCatalog (see the StacItems_Get example). The source's copies point at the source catalog (or,
# in static catalogs like the NAIP sample, at a non-existent relative ./catalog.json), so sending
# them adds nothing the target keeps and can only mislead; they are removed.
INFERRED_LINK_RELS: Final = frozenset({"self", "root", "parent", "collection"})

# Public-cloud and sovereign-cloud blob endpoints; GeoCatalog ingestion sources are containers on
# these (`https://<account>.blob.core.windows.net/<container>`).
BLOB_HOST_SUFFIXES: Final = (
    ".blob.core.windows.net",
    ".blob.core.usgovcloudapi.net",
    ".blob.core.chinacloudapi.cn",
)
# Azurite serves blobs path-style (`http://127.0.0.1:10000/<account>/<container>/<blob>`). Only
# endpoints named here are read that way: any loopback URL with three path segments would otherwise
# look like a container (the Planetary Computer emulator's `/api/data/...` for one).
DEFAULT_PATH_STYLE_BLOB_ENDPOINTS: Final = ("http://127.0.0.1:10000", "http://localhost:10000")


class InvalidItemCode:
    """The `code` values of `InvalidItem`, recorded on the item row and shown to the user."""

    INVALID_STAC_ITEM = "InvalidStacItem"
    INVALID_ITEM_ID = "InvalidItemId"
    INVALID_GEOMETRY = "InvalidGeometry"
    INVALID_BBOX = "InvalidBbox"
    MISSING_DATETIME = "MissingDatetime"
    INVALID_DATETIME = "InvalidDatetime"
    INVALID_ASSET = "InvalidAsset"
    INVALID_ASSET_HREF = "InvalidAssetHref"
    # NaN, Infinity or -Infinity somewhere in the item: not JSON, so nothing can post it.
    INVALID_NUMBER = "InvalidNumber"


@dataclass(frozen=True)
class PreparedItem:
    item_id: str
    # A deep copy: the raw item is never modified.
    item: dict[str, Any]
    # Blob containers GeoCatalog must be able to read, as ingestion-source container URLs.
    containers: frozenset[str]
    # Size of `item` as compact UTF-8 JSON (the planner stores large items in a blob, not the message).
    item_size_bytes: int
    # The item's compact JSON, as it is posted.
    text: str = ""


@dataclass(frozen=True)
class InvalidItem:
    # The id it is recorded under (`recorded_item_id`): bounded, unlike the item's own.
    item_id: str | None
    code: str
    message: str


class _Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def prepare_item(
    raw: object,
    *,
    collection: str,
    drop_assets: Sequence[str],
    path_style_blob_endpoints: Sequence[str] = DEFAULT_PATH_STYLE_BLOB_ENDPOINTS,
) -> PreparedItem | InvalidItem:
    """Validate `raw` (a decoded item, or a source's `RawItem`) and prepare it for `collection`.

    Never raises for bad input: anything GeoCatalog would refuse comes back as an `InvalidItem`.
    """
    if isinstance(raw, RawItem):
        if raw.error_code is not None:
            return InvalidItem(None, raw.error_code, raw.error_message or raw.error_code)
        raw = raw.item
    item_id = recorded_id_of(raw)
    try:
        item = _validated(raw)
        # Only the top level, `assets` and `links` change: copy those, share the rest (a deep
        # copy of every item was half the planner's CPU).
        prepared = dict(item)
        prepared["collection"] = collection
        assets = prepared["assets"] = dict(item["assets"])
        # An item left with no asset is still a STAC item (`assets` may be empty, item.json).
        for key in drop_assets:
            assets.pop(key, None)
        # Checked after dropping: an API-link asset about to be removed cannot spoil the item.
        _check_assets(assets)
        if "links" in prepared:
            prepared["links"] = [
                link for link in prepared["links"] if link.get("rel") not in INFERRED_LINK_RELS
            ]
    except _Invalid as invalid:
        return InvalidItem(item_id, invalid.code, invalid.message)
    containers = frozenset(
        container
        for asset in prepared["assets"].values()
        if (container := blob_container_of(asset["href"], path_style_blob_endpoints)) is not None
    )
    text = json.dumps(prepared, separators=(",", ":"), ensure_ascii=False)
    return PreparedItem(
        item_id=prepared["id"],
        item=prepared,
        containers=containers,
        item_size_bytes=len(text.encode("utf-8")),
        text=text,
    )


def blob_container_of(
    href: str, path_style_blob_endpoints: Sequence[str] = DEFAULT_PATH_STYLE_BLOB_ENDPOINTS
) -> str | None:
    """The container URL an asset href needs an ingestion source for, or None.

    None for hrefs that carry their own SAS (GeoCatalog reads them as they are) and for hrefs that
    are not Azure blobs (public URLs need no source).
    """
    parts = split_url(href)
    if parts is None:
        return None
    if any(key.lower() == "sig" for key, _ in parse_qsl(parts.query, keep_blank_values=True)):
        return None
    host = (parts.hostname or "").lower()
    segments = parts.path.lstrip("/").split("/")
    if parts.scheme.lower() in ("http", "https") and host.endswith(BLOB_HOST_SUFFIXES):
        account = host.split(".", 1)[0]
        # A blob directly under the account lives in the implicit `$root` container.
        container = segments[0].lower() if len(segments) > 1 else "$root"
        return f"https://{account}{host[len(account) :]}/{container}"
    origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    if origin in {e.rstrip("/").lower() for e in path_style_blob_endpoints} and len(segments) > 2:
        return f"{origin}/{segments[0]}/{segments[1].lower()}"
    return None


def recorded_item_id(item_id: str) -> str:
    """The id an item is recorded under: `item_id` itself, or for an id too long to be part of a
    Table key once escaped, its first characters and a digest of the whole (distinct ids stay
    distinct; the same id is always recorded the same way)."""
    if len(escape(item_id)) <= MAX_RECORDED_ID_CHARS:
        return item_id
    head = ""
    for char in item_id:
        if len(escape(head + char)) > _RECORDED_ID_HEAD_CHARS:
            break
        head += char
    digest = hashlib.sha256(item_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{head}...sha256-{digest}"


def recorded_id_of(raw: object) -> str | None:
    """The id an item is recorded under (`recorded_item_id`), None if it has no string id."""
    if isinstance(raw, dict):
        value = raw.get("id")
        if isinstance(value, str):
            return recorded_item_id(value)
    return None


def _validated(raw: object) -> dict[str, Any]:
    """Check the STAC Item shape GeoCatalog needs; raise `_Invalid` with the first problem."""
    bad_item = InvalidItemCode.INVALID_STAC_ITEM
    # item.json: an object, a GeoJSON Feature (Feature.json: "type": "Feature"), with a string
    # stac_version, an id, a geometry, properties and an assets object (all required).
    if not isinstance(raw, dict):
        raise _Invalid(bad_item, "the item is not a JSON object")
    if raw.get("type") != "Feature":
        raise _Invalid(bad_item, 'the item\'s "type" must be "Feature"')
    if not isinstance(raw.get("stac_version"), str):
        raise _Invalid(bad_item, 'the item has no "stac_version" string')
    _check_id(raw.get("id"))
    if paths := non_finite_paths(raw, limit=1):
        raise _Invalid(
            InvalidItemCode.INVALID_NUMBER,
            f"{paths[0].lstrip('.')} is NaN or infinite, which JSON cannot hold",
        )
    _check_geometry(raw)
    _check_properties(raw.get("properties"))
    if not isinstance(raw.get("assets"), dict):
        raise _Invalid(bad_item, 'the item has no "assets" object')
    links = raw.get("links")
    # item.json requires `links`; a missing one is let through (the GeoCatalog makes an item's
    # links itself), but links that are there must be objects with string rel and href.
    if links is not None:
        if not isinstance(links, list):
            raise _Invalid(bad_item, '"links" must be an array')
        for index, link in enumerate(links):
            if not (
                isinstance(link, dict)
                and isinstance(link.get("href"), str)
                and isinstance(link.get("rel"), str)
            ):
                raise _Invalid(
                    bad_item, f"links[{index}] must be an object with string href and rel"
                )
    # item.json: stac_extensions is an array of strings (schema URIs).
    extensions = raw.get("stac_extensions")
    if extensions is not None and not (
        isinstance(extensions, list) and all(isinstance(e, str) for e in extensions)
    ):
        raise _Invalid(bad_item, '"stac_extensions" must be an array of strings')
    return raw


def _check_id(value: object) -> None:
    # item.json: a string id. The GeoCatalog's id rule (docs/reference/geocatalog-api.md §11):
    # 1-64 letters, digits, '-', '_', '.'; this also bounds every id that becomes part of a Table
    # key.
    if not isinstance(value, str):
        raise _Invalid(InvalidItemCode.INVALID_ITEM_ID, 'the item has no string "id"')
    if not ITEM_ID_PATTERN.fullmatch(value):
        size = f"{len(value)} characters" if len(value) != 1 else "1 character"
        raise _Invalid(
            InvalidItemCode.INVALID_ITEM_ID,
            "item ids must be 1-64 characters of letters, digits, '-', '_' and '.' "
            f"(this one: {size})",
        )
    if set(value) == {"."}:
        # The GeoCatalog addresses an item as /stac/collections/{c}/items/{id}
        # (docs/reference/geocatalog-api.md §4), and "." and ".." are dot-segments every client
        # removes from a path (RFC 3986 §5.2.4): an item with such an id could be posted but
        # never read, replaced or deleted.
        raise _Invalid(InvalidItemCode.INVALID_ITEM_ID, "an item id cannot consist only of dots")


def _check_geometry(raw: dict[str, Any]) -> None:
    # item.json: `geometry` is required, a GeoJSON geometry (Geometry.json: a known type with its
    # coordinates or geometries array) or null, and `bbox` is required when it is not null, an
    # RFC 7946 §5 box (`bbox_problem`).
    if "geometry" not in raw:
        raise _Invalid(
            InvalidItemCode.INVALID_GEOMETRY, 'the item has no "geometry" (null is allowed)'
        )
    geometry = raw["geometry"]
    bbox = raw.get("bbox")
    if geometry is None:
        if bbox is not None and (problem := bbox_problem(bbox)) is not None:
            raise _Invalid(InvalidItemCode.INVALID_BBOX, f'"bbox" {problem}')
        return
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
        raise _Invalid(
            InvalidItemCode.INVALID_GEOMETRY, '"geometry" must be a GeoJSON geometry object or null'
        )
    key = "geometries" if geometry["type"] == "GeometryCollection" else "coordinates"
    if not isinstance(geometry.get(key), list):
        raise _Invalid(InvalidItemCode.INVALID_GEOMETRY, f'the geometry has no "{key}" array')
    if bbox is None:
        raise _Invalid(
            InvalidItemCode.INVALID_BBOX, '"bbox" is required when "geometry" is not null'
        )
    if (problem := bbox_problem(bbox)) is not None:
        raise _Invalid(InvalidItemCode.INVALID_BBOX, f'"bbox" {problem}')


def _check_properties(properties: object) -> None:
    # item.json: `properties` is an object with `datetime`, a date-time (RFC 3339 §5.6,
    # datetime.json) or null, and null needs both start_datetime and end_datetime.
    if not isinstance(properties, dict):
        raise _Invalid(InvalidItemCode.INVALID_STAC_ITEM, 'the item has no "properties" object')
    if "datetime" not in properties:
        raise _Invalid(
            InvalidItemCode.MISSING_DATETIME, 'properties has no "datetime" (null is allowed)'
        )
    parsed: dict[str, datetime] = {}
    for name in ("datetime", "start_datetime", "end_datetime"):
        value = properties.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or (moment := parse_rfc3339(value)) is None:
            raise _Invalid(
                InvalidItemCode.INVALID_DATETIME, f"properties.{name} is not an RFC 3339 date-time"
            )
        parsed[name] = moment
    if "datetime" not in parsed and not ("start_datetime" in parsed and "end_datetime" in parsed):
        raise _Invalid(
            InvalidItemCode.MISSING_DATETIME,
            "a null datetime needs both start_datetime and end_datetime",
        )


def _check_assets(assets: dict[str, Any]) -> None:
    for key, asset in assets.items():
        # item.json: every asset is an object with a string href.
        if not isinstance(asset, dict) or not isinstance(asset.get("href"), str):
            raise _Invalid(InvalidItemCode.INVALID_ASSET, f"asset {key!r} has no string href")
        parts = split_url(asset["href"])
        if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            # GeoCatalog copies every asset into managed storage, so it must be able to read the
            # href: a public URL, one with its own SAS, or a blob of a registered ingestion source
            # (docs/reference/geocatalog-api.md §4; its error code InvalidAssetHref, §6).
            raise _Invalid(
                InvalidItemCode.INVALID_ASSET_HREF,
                f"asset {key!r} href is not an absolute http(s) URL",
            )
