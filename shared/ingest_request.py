"""The body of `POST /api/ingest`: parsed into frozen values, or refused naming every bad field.

Nothing here touches the network: this runs inside the HTTP request, which must answer at once.
Rules follow design.md (HTTP API), the STAC API item-search spec (bbox, datetime) and GeoCatalog's id
rules (geocatalog-api.md §11). A refusal is an `InvalidRequest` whose `errors` name each offending
field by its dotted path (`source.bbox`, `source.urls[3]`, `mode`), or a `PayloadTooLarge` for inline
items over the configured size.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, Final, TypeVar

from shared.geocatalog.models import COLLECTION_ID_RULE, is_valid_collection_id
from shared.item_prep import bbox_problem, parse_rfc3339
from shared.problems import FieldError, InvalidRequest, PayloadTooLarge
from shared.settings import Settings
from shared.sources.urls import redact_url, url_problem

DEFAULT_DROP_ASSETS: Final = ("rendered_preview", "preview", "tilejson")

MAX_URL_LENGTH: Final = 2048
# Per-element problems reported for one list; enough to fix a pattern, not a 10,000-entry wall.
MAX_ELEMENT_ERRORS: Final = 20

_TOP_FIELDS: Final = ("collection", "source", "createCollection", "mode", "dropAssets", "dryRun")
_SOURCE_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "stac-search": (
        "type",
        "url",
        "collections",
        "bbox",
        "datetime",
        "query",
        "filter",
        "maxItems",
    ),
    "static-catalog": ("type", "url", "maxItems"),
    "items": ("type", "items"),
    "item-urls": ("type", "urls"),
}
_CREATE_COLLECTION_FIELDS: Final = ("templateUrl",)
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # used with fullmatch()
_OPEN_ENDS: Final = ("", "..")

_T = TypeVar("_T")


class IngestMode(StrEnum):
    # POST; an item that already exists is counted as skipped.
    CREATE = "create"
    # PUT, falling back to POST when the item does not exist yet.
    UPSERT = "upsert"


@dataclass(frozen=True)
class CreateCollection:
    template_url: str

    def to_record(self) -> dict[str, Any]:
        return {"templateUrl": redact_url(self.template_url)}

    def to_dict(self) -> dict[str, Any]:
        return {"templateUrl": self.template_url}


@dataclass(frozen=True)
class StacSearchSource:
    type: ClassVar[str] = "stac-search"
    url: str
    collections: tuple[str, ...]
    bbox: tuple[float, ...] | None = None
    # Validated RFC 3339 instant or interval (`..` for an open end); full dates are expanded.
    datetime: str | None = None
    query: dict[str, Any] | None = None
    # CQL2-JSON.
    filter: dict[str, Any] | None = None
    max_items: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The full source in request-body form (SAS included): for the service's own storage."""
        body: dict[str, Any] = {
            "type": self.type,
            "url": self.url,
            "collections": list(self.collections),
        }
        optional = {
            "bbox": list(self.bbox) if self.bbox is not None else None,
            "datetime": self.datetime,
            "query": self.query,
            "filter": self.filter,
            "maxItems": self.max_items,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return body

    def to_record(self) -> dict[str, Any]:
        record = self.to_dict()
        record["url"] = redact_url(self.url)
        return record


@dataclass(frozen=True)
class StaticCatalogSource:
    type: ClassVar[str] = "static-catalog"
    url: str
    max_items: int | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "url": self.url}
        if self.max_items is not None:
            body["maxItems"] = self.max_items
        return body

    def to_record(self) -> dict[str, Any]:
        return {**self.to_dict(), "url": redact_url(self.url)}


@dataclass(frozen=True)
class InlineItemsSource:
    type: ClassVar[str] = "items"
    # As sent (FeatureCollection features unwrapped); validated per item by item preparation.
    items: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "items": list(self.items)}

    def to_record(self) -> dict[str, Any]:
        return {"type": self.type, "count": len(self.items)}


@dataclass(frozen=True)
class ItemUrlsSource:
    type: ClassVar[str] = "item-urls"
    urls: tuple[str, ...]
    RECORD_SAMPLE: ClassVar[int] = 5

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "urls": list(self.urls)}

    def to_record(self) -> dict[str, Any]:
        # The list can hold max_items_ceiling URLs: a record shows how many and the first few.
        return {
            "type": self.type,
            "count": len(self.urls),
            "firstUrls": [redact_url(u) for u in self.urls[: self.RECORD_SAMPLE]],
        }


Source = StacSearchSource | StaticCatalogSource | InlineItemsSource | ItemUrlsSource
SOURCE_TYPES: Final = tuple(_SOURCE_FIELDS)


@dataclass(frozen=True)
class IngestRequest:
    collection: str
    source: Source
    create_collection: CreateCollection | None = None
    mode: IngestMode = IngestMode.CREATE
    drop_assets: tuple[str, ...] = DEFAULT_DROP_ASSETS
    dry_run: bool = False

    def to_record(self) -> dict[str, Any]:
        """JSON-able and safe to store and show: no inline items, no SAS signatures."""
        return {
            "collection": self.collection,
            "source": self.source.to_record(),
            "createCollection": self.create_collection.to_record()
            if self.create_collection
            else None,
            "mode": self.mode.value,
            "dropAssets": list(self.drop_assets),
            "dryRun": self.dry_run,
        }


def source_from_dict(body: Mapping[str, Any]) -> Source:
    """Rebuild a source from its `to_dict()` form (trusted storage: not validated again)."""
    kind = body["type"]
    if kind == StacSearchSource.type:
        bbox = body.get("bbox")
        return StacSearchSource(
            url=body["url"],
            collections=tuple(body["collections"]),
            bbox=tuple(bbox) if bbox is not None else None,
            datetime=body.get("datetime"),
            query=body.get("query"),
            filter=body.get("filter"),
            max_items=body.get("maxItems"),
        )
    if kind == StaticCatalogSource.type:
        return StaticCatalogSource(url=body["url"], max_items=body.get("maxItems"))
    if kind == InlineItemsSource.type:
        return InlineItemsSource(items=tuple(body.get("items", ())))
    if kind == ItemUrlsSource.type:
        return ItemUrlsSource(urls=tuple(body["urls"]))
    raise ValueError(f"unknown source type {kind!r}")


def parse_ingest_request(body: object, settings: Settings) -> IngestRequest:
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object", field="body")
    # Refused before anything else is looked at: whatever else is wrong, the caller must split it.
    _refuse_oversized_items(body, settings)
    errors = _Errors()
    errors.unknown_fields(body, _TOP_FIELDS, "")
    collection = _collection_id(body.get("collection"), errors)
    source = _source(body.get("source"), settings, errors)
    create_collection = _create_collection(body.get("createCollection"), settings, errors)
    mode = _mode(body.get("mode"), errors)
    drop_assets = _drop_assets(body.get("dropAssets"), errors)
    dry_run = _boolean(body.get("dryRun"), "dryRun", errors)
    errors.raise_if_any()
    if collection is None or source is None or mode is None or drop_assets is None:
        raise RuntimeError("a parsed field is missing although no error was recorded")
    return IngestRequest(
        collection=collection,
        source=source,
        create_collection=create_collection,
        mode=mode,
        drop_assets=drop_assets,
        dry_run=bool(dry_run),
    )


def normalise_datetime(value: str) -> tuple[str | None, str | None]:
    """(normalised value, None) for a valid STAC datetime parameter, else (None, problem).

    RFC 3339 instants and intervals `a/b` with an open end written `..` or left empty (not both).
    Full dates (`2024-02-04`, as in the Planetary Computer tutorial) are accepted and expanded to
    the whole day, as pystac-client does; the result is always strict RFC 3339.
    """
    if "/" not in value:
        if _DATE.fullmatch(value):
            start, problem = _instant(value, end=False)
            stop, _ = _instant(value, end=True)
            return (f"{start}/{stop}", None) if problem is None else (None, problem)
        instant, problem = _instant(value, end=False)
        return (instant, None) if problem is None else (None, problem)
    parts = value.split("/")
    if len(parts) != 2:
        return None, "an interval has exactly one '/'"
    first, second = parts
    if first in _OPEN_ENDS and second in _OPEN_ENDS:
        return None, "an interval cannot be open at both ends"
    start = stop = ".."
    if first not in _OPEN_ENDS:
        start_value, problem = _instant(first, end=False)
        if problem is not None:
            return None, f"interval start {problem}"
        start = _present(start_value)
    if second not in _OPEN_ENDS:
        stop_value, problem = _instant(second, end=True)
        if problem is not None:
            return None, f"interval end {problem}"
        stop = _present(stop_value)
    if (
        start != ".."
        and stop != ".."
        and _present(parse_rfc3339(start)) > _present(parse_rfc3339(stop))
    ):
        return None, "the interval start is after its end"
    return f"{start}/{stop}", None


def _instant(value: str, *, end: bool) -> tuple[str | None, str | None]:
    if _DATE.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            return None, "is not a valid date"
        return (f"{value}T23:59:59.999999Z" if end else f"{value}T00:00:00Z"), None
    if parse_rfc3339(value) is None:
        return None, "must be an RFC 3339 date-time such as 2024-02-04T00:00:00Z"
    return value.upper(), None


def _present(value: _T | None) -> _T:
    if value is None:
        raise RuntimeError("a parsed field is missing although no error was recorded")
    return value


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str, detail: str) -> None:
        self.items.append(FieldError(field, detail))

    def unknown_fields(self, body: Mapping[str, Any], allowed: Sequence[str], prefix: str) -> None:
        for key in body:
            if key in allowed:
                continue
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            detail = "unknown field" + (f"; did you mean {hint[0]!r}?" if hint else "")
            self.add(f"{prefix}{key}", f"{detail} (allowed: {', '.join(allowed)})")

    def raise_if_any(self) -> None:
        if not self.items:
            return
        if len(self.items) == 1:
            detail = f"{self.items[0].field}: {self.items[0].detail}"
        else:
            fields = ", ".join(e.field for e in self.items)
            detail = f"{len(self.items)} problems in the request: {fields}"
        raise InvalidRequest(detail, errors=tuple(self.items))


def _refuse_oversized_items(body: Mapping[str, Any], settings: Settings) -> None:
    source = body.get("source")
    if not isinstance(source, dict) or source.get("type") != InlineItemsSource.type:
        return
    if "items" not in source:
        return
    limit = settings.pipeline.inline_payload_max_bytes
    try:
        size = len(
            json.dumps(source["items"], separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        )
    except (TypeError, ValueError):
        return
    if size > limit:
        raise PayloadTooLarge(
            f"source.items is {size} bytes as JSON; at most {limit} bytes may be sent inline "
            "(use a static catalog or item URLs for more)",
            field="source.items",
            extra={"maxBytes": limit, "sizeBytes": size},
        )


def _collection_id(value: object, errors: _Errors) -> str | None:
    if value is None:
        errors.add("collection", "is required")
    elif not isinstance(value, str):
        errors.add("collection", "must be a string")
    elif not is_valid_collection_id(value):
        errors.add("collection", COLLECTION_ID_RULE)
    else:
        return value
    return None


def _source(value: object, settings: Settings, errors: _Errors) -> Source | None:
    if value is None:
        errors.add("source", "is required")
        return None
    if not isinstance(value, dict):
        errors.add("source", "must be an object")
        return None
    kind = value.get("type")
    allowed = ", ".join(SOURCE_TYPES)
    if kind is None:
        errors.add("source.type", f"is required: one of {allowed}")
        return None
    if not isinstance(kind, str) or kind not in _SOURCE_FIELDS:
        errors.add("source.type", f"unknown source type {kind!r}; allowed: {allowed}")
        return None
    before = len(errors.items)
    errors.unknown_fields(value, _SOURCE_FIELDS[kind], "source.")
    source: Source | None
    if kind == StacSearchSource.type:
        source = _stac_search(value, settings, errors)
    elif kind == StaticCatalogSource.type:
        url = _url(value.get("url"), "source.url", settings, errors)
        max_items = _max_items(value.get("maxItems"), settings, errors)
        source = StaticCatalogSource(url=url, max_items=max_items) if url is not None else None
    elif kind == InlineItemsSource.type:
        source = _inline_items(value.get("items"), settings, errors)
    else:
        source = _item_urls(value.get("urls"), settings, errors)
    return source if len(errors.items) == before else None


def _stac_search(
    value: Mapping[str, Any], settings: Settings, errors: _Errors
) -> StacSearchSource | None:
    url = _url(value.get("url"), "source.url", settings, errors)
    collections = _collections(value.get("collections"), errors)
    bbox: tuple[float, ...] | None = None
    raw_bbox = value.get("bbox")
    if raw_bbox is not None:
        problem = bbox_problem(raw_bbox)
        if problem is None:
            bbox = tuple(float(v) for v in raw_bbox)
        else:
            errors.add("source.bbox", problem)
    datetime_value: str | None = None
    raw_datetime = value.get("datetime")
    if raw_datetime is not None:
        if not isinstance(raw_datetime, str):
            errors.add("source.datetime", "must be a string")
        else:
            datetime_value, problem = normalise_datetime(raw_datetime)
            if problem is not None:
                errors.add("source.datetime", problem)
    query = value.get("query")
    if query is not None and not isinstance(query, dict):
        errors.add("source.query", "must be an object (STAC API query extension)")
    search_filter = value.get("filter")
    if search_filter is not None and not (
        isinstance(search_filter, dict) and isinstance(search_filter.get("op"), str)
    ):
        errors.add("source.filter", 'must be a CQL2-JSON expression: an object with an "op"')
    max_items = _max_items(value.get("maxItems"), settings, errors)
    if url is None or collections is None:
        return None
    return StacSearchSource(
        url=url,
        collections=collections,
        bbox=bbox,
        datetime=datetime_value,
        query=query if isinstance(query, dict) else None,
        filter=search_filter if isinstance(search_filter, dict) else None,
        max_items=max_items,
    )


def _collections(value: object, errors: _Errors) -> tuple[str, ...] | None:
    if value is None:
        errors.add("source.collections", "is required: the source collection ids to search")
        return None
    if not isinstance(value, list) or not value:
        errors.add("source.collections", "must be a non-empty array of collection ids")
        return None
    bad = [i for i, c in enumerate(value) if not isinstance(c, str) or not c.strip()]
    for index in bad[:MAX_ELEMENT_ERRORS]:
        errors.add(f"source.collections[{index}]", "must be a non-empty string")
    if bad:
        return None
    return tuple(dict.fromkeys(value))


def _url(value: object, field: str, settings: Settings, errors: _Errors) -> str | None:
    if value is None:
        errors.add(field, "is required")
    elif not isinstance(value, str) or not value:
        errors.add(field, "must be a URL string")
    elif len(value) > MAX_URL_LENGTH:
        errors.add(field, f"must be at most {MAX_URL_LENGTH} characters")
    elif (problem := url_problem(value, settings)) is not None:
        errors.add(field, problem)
    else:
        return value
    return None


def _max_items(value: object, settings: Settings, errors: _Errors) -> int | None:
    if value is None:
        return None
    ceiling = settings.pipeline.max_items_ceiling
    if isinstance(value, str | bool):
        kind = "a string" if isinstance(value, str) else "a boolean"
        errors.add("source.maxItems", f"must be a JSON number, not {kind}")
    elif not isinstance(value, int) or value < 1:
        errors.add("source.maxItems", "must be a positive whole number")
    elif value > ceiling:
        errors.add("source.maxItems", f"must be at most {ceiling} (the configured ceiling)")
    else:
        return value
    return None


def _inline_items(value: object, settings: Settings, errors: _Errors) -> InlineItemsSource | None:
    field = "source.items"
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        elements, prefix = value.get("features"), "source.items.features"
        if not isinstance(elements, list):
            errors.add(f"{field}.features", "must be an array of STAC Items")
            return None
    elif isinstance(value, list):
        elements, prefix = value, field
    else:
        errors.add(
            field,
            "is required: an array of STAC Items or a FeatureCollection object"
            if value is None
            else "must be an array of STAC Items or a FeatureCollection object",
        )
        return None
    if not _count_ok(elements, prefix, "items", settings, errors):
        return None
    bad = [i for i, item in enumerate(elements) if not isinstance(item, dict)]
    _element_errors(bad, prefix, "must be a JSON object (a STAC Item)", errors)
    if bad:
        return None
    return InlineItemsSource(items=tuple(elements))


def _item_urls(value: object, settings: Settings, errors: _Errors) -> ItemUrlsSource | None:
    field = "source.urls"
    if not isinstance(value, list):
        errors.add(field, "is required" if value is None else "must be an array of URLs")
        return None
    if not _count_ok(value, field, "URLs", settings, errors):
        return None
    problems: list[tuple[int, str]] = []
    for index, url in enumerate(value):
        scratch = _Errors()
        _url(url, "", settings, scratch)
        if scratch.items:
            problems.append((index, scratch.items[0].detail))
    for index, detail in problems[:MAX_ELEMENT_ERRORS]:
        errors.add(f"{field}[{index}]", detail)
    if len(problems) > MAX_ELEMENT_ERRORS:
        errors.add(field, f"{len(problems) - MAX_ELEMENT_ERRORS} more URLs are invalid")
    if problems:
        return None
    return ItemUrlsSource(urls=tuple(value))


def _count_ok(
    elements: list[Any], field: str, noun: str, settings: Settings, errors: _Errors
) -> bool:
    ceiling = settings.pipeline.max_items_ceiling
    if not elements:
        errors.add(field, "must not be empty")
        return False
    if len(elements) > ceiling:
        errors.add(field, f"must hold at most {ceiling} {noun} (the configured ceiling)")
        return False
    return True


def _element_errors(bad: list[int], prefix: str, detail: str, errors: _Errors) -> None:
    for index in bad[:MAX_ELEMENT_ERRORS]:
        errors.add(f"{prefix}[{index}]", detail)
    if len(bad) > MAX_ELEMENT_ERRORS:
        errors.add(prefix, f"{len(bad) - MAX_ELEMENT_ERRORS} more entries are invalid")


def _create_collection(
    value: object, settings: Settings, errors: _Errors
) -> CreateCollection | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add("createCollection", 'must be an object {"templateUrl": ...}')
        return None
    errors.unknown_fields(value, _CREATE_COLLECTION_FIELDS, "createCollection.")
    url = _url(value.get("templateUrl"), "createCollection.templateUrl", settings, errors)
    return CreateCollection(template_url=url) if url is not None else None


def _mode(value: object, errors: _Errors) -> IngestMode | None:
    if value is None:
        return IngestMode.CREATE
    if isinstance(value, str) and value in {m.value for m in IngestMode}:
        return IngestMode(value)
    errors.add("mode", f"must be one of: {', '.join(m.value for m in IngestMode)}")
    return None


def _drop_assets(value: object, errors: _Errors) -> tuple[str, ...] | None:
    if value is None:
        return DEFAULT_DROP_ASSETS
    if not isinstance(value, list):
        errors.add("dropAssets", "must be an array of asset keys")
        return None
    bad = [i for i, key in enumerate(value) if not isinstance(key, str) or not key]
    _element_errors(bad, "dropAssets", "must be a non-empty string", errors)
    if bad:
        return None
    return tuple(dict.fromkeys(value))


def _boolean(value: object, field: str, errors: _Errors) -> bool | None:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    errors.add(field, "must be true or false")
    return None
