"""What a source is: the four source specs of an ingest request, as typed, validated models.

`stac-search` (a STAC API item search), `static-catalog` (a catalog.json walked over HTTP), `items`
(inline items) and `item-urls` (item documents by URL). These are both the request's `source` member
(validated by pydantic with the rules below, refusals naming the field) and what the source readers
read from; they live here, below the HTTP request layer, so that readers do not import it.

`stac-search` takes the STAC API item-search body (core, query, filter, sort): what pystac-client's
`ItemSearch(...).get_parameters()` returns can be pasted as it is. `fields` is refused: it strips
the members (assets, geometry, properties) an item needs to be ingested.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any, ClassVar, Final, Literal, TypeVar

import cql2
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    TypeAdapter,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from shared.contract import (
    MAX_ELEMENT_ERRORS,
    ApiModel,
    element_errors,
    fail,
    refuse_non_finite,
    settings_of,
)
from shared.json_values import MAX_JSON_DEPTH
from shared.outbound.policy import FetchPolicy
from shared.outbound.urls import display_url, redact_url
from shared.stac_values import GEOMETRY_TYPES, bbox_problem, parse_rfc3339

MAX_URL_LENGTH: Final = 2048
# pystac-client's and the STAC API's ceiling of a page size.
MAX_SEARCH_LIMIT: Final = 10_000
# A member of a stac-search source larger than this (as compact JSON) is shown in the job record
# by its size only (`omitted`): a 3,000-vertex AOI polygon is ~100 KB, and the job row is one Table
# entity (64 KiB per property). The full request is kept in the request blob that planning reads.
RECORD_MEMBER_MAX_CHARS: Final = 2000
# The whole record, well within the 32K characters of a Table string property.
RECORD_MAX_CHARS: Final = 30_000
CQL2_JSON: Final = "cql2-json"
CQL2_TEXT: Final = "cql2-text"
CRS84: Final = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
REF: Final = "x-component"
# Placeholders the OpenAPI document replaces with the configured limits.
CEILING: Final = "$maxItemsCeiling"
INLINE_MAX_BYTES: Final = "{inlineMaxBytes}"

_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # used with fullmatch()
_OPEN_ENDS: Final = ("", "..")
_T = TypeVar("_T")

# -- the rules, one per kind of member -----------------------------------------------------------


def _url(value: object, info: ValidationInfo) -> str:
    if value is None:
        raise fail("is required")
    if not isinstance(value, str) or not value:
        raise fail("must be a URL string")
    problem = url_detail(value, info)
    if problem is not None:
        raise fail(problem)
    return value


def url_detail(value: str, info: ValidationInfo) -> str | None:
    if len(value) > MAX_URL_LENGTH:
        return f"must be at most {MAX_URL_LENGTH} characters"
    settings = settings_of(info)
    return FetchPolicy.from_settings(settings).problem(value) if settings is not None else None


def _max_items(value: object, info: ValidationInfo) -> int | None:
    if value is None:
        return None
    if isinstance(value, str | bool):
        raise fail(
            f"must be a JSON number, not {'a string' if isinstance(value, str) else 'a boolean'}"
        )
    if not isinstance(value, int) or value < 1:
        raise fail("must be a positive whole number")
    settings = settings_of(info)
    if settings is not None and value > settings.pipeline.max_items_ceiling:
        raise fail(
            f"must be at most {settings.pipeline.max_items_ceiling} (the configured ceiling)"
        )
    return value


def _count(elements: list[Any] | tuple[Any, ...], noun: str, info: ValidationInfo) -> None:
    problem = count_problem(elements, noun, info)
    if problem is not None:
        raise fail(problem)


def count_problem(
    elements: list[Any] | tuple[Any, ...], noun: str, info: ValidationInfo
) -> str | None:
    if not elements:
        return "must not be empty"
    settings = settings_of(info)
    if settings is not None and len(elements) > settings.pipeline.max_items_ceiling:
        ceiling = settings.pipeline.max_items_ceiling
        return f"must hold at most {ceiling} {noun} (the configured ceiling)"
    return None


def _strings(value: object, what: str, info: ValidationInfo) -> tuple[str, ...] | None:
    """A non-empty array of non-blank strings (duplicates dropped), or None when not given."""
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not value:
        raise fail(f"must be a non-empty array of {what}")
    _count(value, what, info)
    bad = [(i, "must be a non-empty string") for i, v in enumerate(value) if not _text(v)]
    if bad:
        raise fail(bad[0][1], errors=element_errors(bad, what))
    return tuple(dict.fromkeys(value))


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _collections(value: object, info: ValidationInfo) -> tuple[str, ...] | None:
    if isinstance(value, str):
        raise fail("must be an array of collection ids (leave it out to search every collection)")
    return _strings(value, "collection ids", info)


def _ids(value: object, info: ValidationInfo) -> tuple[str, ...] | None:
    if isinstance(value, str):
        raise fail("must be an array of item ids")
    return _strings(value, "item ids", info)


def _bbox(value: object) -> tuple[float, ...] | None:
    if value is None:
        return None
    problem = bbox_problem(value)
    if problem is not None or not isinstance(value, list | tuple):
        raise fail(problem or "must be an array")
    return tuple(float(v) for v in value)


def _datetime(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise fail("must be a string")
    normalised, problem = normalise_datetime(value)
    if problem is not None or normalised is None:
        raise fail(problem or "is not a STAC datetime")
    return normalised


def _query(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise fail("must be an object (STAC API query extension)")
    refuse_non_finite(value)
    return value


def _intersects(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    if not isinstance(value, dict) or not isinstance(kind, str) or kind not in GEOMETRY_TYPES:
        raise fail("must be a GeoJSON geometry object (Point, Polygon, MultiPolygon, ...)")
    member = "geometries" if value["type"] == "GeometryCollection" else "coordinates"
    if not isinstance(value.get(member), list):
        raise fail(f'must be a GeoJSON geometry: a {value["type"]} has a "{member}" array')
    refuse_non_finite(value)
    return value


def _filter(value: object) -> dict[str, Any] | str | None:
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            raise fail("must not be empty")
        too_deep = _cql2_text_bound(value)
        if too_deep is not None:
            raise fail(too_deep)
        try:
            cql2.parse_text(value)
        except (ValueError, cql2.ParseError) as exc:
            raise fail(f"is not valid CQL2 text: {_first_line(exc)}") from None
        return value
    if not (isinstance(value, dict) and isinstance(value.get("op"), str)):
        raise fail('must be a CQL2-JSON expression (an object with an "op") or CQL2 text')
    refuse_non_finite(value)
    try:
        cql2.parse_json(json.dumps(value))
    except (ValueError, cql2.ParseError) as exc:
        raise fail(f"is not a valid CQL2-JSON expression: {_first_line(exc)}") from None
    return value


# cql2's text parser recurses once per nesting level and per boolean operator, without a limit:
# a few thousand of either overflow the C stack and kill the worker process (no exception to
# catch). Bounds far above any real filter, checked before it parses.
_CQL2_MAX_DEPTH = MAX_JSON_DEPTH
_CQL2_MAX_OPERATORS = 1000
_CQL2_OPERATOR = re.compile(r"\b(?:AND|OR|NOT)\b", re.IGNORECASE)


def _cql2_text_bound(text: str) -> str | None:
    depth = deepest = 0
    for char in text:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    if deepest > _CQL2_MAX_DEPTH:
        return f"nests parentheses deeper than {_CQL2_MAX_DEPTH} levels"
    if len(_CQL2_OPERATOR.findall(text)) > _CQL2_MAX_OPERATORS:
        return f"holds more than {_CQL2_MAX_OPERATORS} AND/OR/NOT operators"
    return None


def _first_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:300]


def _filter_lang(value: object) -> str | None:
    if value is None:
        return None
    if value not in (CQL2_JSON, CQL2_TEXT):
        raise fail(f"must be {CQL2_JSON} or {CQL2_TEXT}")
    return str(value)


def _filter_crs(value: object) -> str | None:
    # Only the default is taken, so the search need not send it (pystac-client has no way to).
    if value is None:
        return None
    if value != CRS84:
        raise fail(f"only {CRS84} (longitude, latitude in WGS 84) is supported")
    return CRS84


def _sortby(value: object) -> tuple[SortBy, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not value:
        raise fail('must be a non-empty array of {"field": ..., "direction": "asc" | "desc"}')
    bad: list[tuple[int, str]] = []
    keys: list[SortBy] = []
    for index, entry in enumerate(value):
        if isinstance(entry, SortBy):
            keys.append(entry)
        elif not isinstance(entry, dict) or not _text(entry.get("field")):
            bad.append((index, 'must be an object with a "field" string'))
        elif entry.get("direction", "asc") not in ("asc", "desc"):
            bad.append((index, 'direction must be "asc" or "desc"'))
        elif set(entry) - {"field", "direction"}:
            bad.append((index, "only field and direction are allowed"))
        else:
            keys.append(SortBy(field=entry["field"], direction=entry.get("direction", "asc")))
    if bad:
        raise fail(bad[0][1], errors=element_errors(bad, "sort keys"))
    return tuple(keys)


def _limit(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise fail("must be a positive whole number (a page size)")
    if value > MAX_SEARCH_LIMIT:
        raise fail(f"must be at most {MAX_SEARCH_LIMIT}")
    return value


def _inline_items(value: object, info: ValidationInfo) -> tuple[dict[str, Any], ...]:
    if isinstance(value, tuple):
        return value  # built in code from items already checked
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        elements, prefix = value.get("features"), ".features"
        if not isinstance(elements, list):
            raise fail("must be an array", errors=[(prefix, "must be an array of STAC Items")])
    elif isinstance(value, list):
        elements, prefix = value, ""
    else:
        raise fail(
            "is required: an array of STAC Items or a FeatureCollection object"
            if value is None
            else "must be an array of STAC Items or a FeatureCollection object"
        )
    problem = count_problem(elements, "items", info)
    if problem is not None:
        raise fail(problem, errors=[(prefix, problem)])
    bad = [
        (i, "must be a JSON object (a STAC Item)")
        for i, element in enumerate(elements)
        if not isinstance(element, dict)
    ]
    if bad:
        errors = [(prefix + sub if sub else prefix, d) for sub, d in element_errors(bad, "entries")]
        raise fail(bad[0][1], errors=errors)
    return tuple(elements)


def _item_urls(value: object, info: ValidationInfo) -> tuple[str, ...]:
    if isinstance(value, tuple):
        return value
    if not isinstance(value, list):
        raise fail("is required" if value is None else "must be an array of URLs")
    _count(value, "URLs", info)
    bad: list[tuple[int, str]] = []
    for index, url in enumerate(value):
        if not isinstance(url, str) or not url:
            bad.append((index, "must be a URL string"))
        elif (problem := url_detail(url, info)) is not None:
            bad.append((index, problem))
    if bad:
        raise fail(bad[0][1], errors=element_errors(bad, "URLs"))
    return tuple(value)


# -- JSON Schema of the members whose rules JSON Schema can say -----------------------------------

SOURCE_URL_SCHEMA: Final[dict[str, Any]] = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_URL_LENGTH,
    "description": (
        "Absolute https URL (plain http only when the service runs in local mode) on a host "
        "of the app setting SOURCE_ALLOWED_HOSTS, without credentials; anything else is "
        "refused with 400 naming the field."
    ),
}
_LONGITUDE: Final = {"type": "number", "minimum": -180, "maximum": 180}
_LATITUDE: Final = {"type": "number", "minimum": -90, "maximum": 90}
_ELEVATION: Final = {"type": "number"}
BBOX_SCHEMA: Final[dict[str, Any]] = {
    "description": (
        "STAC bbox: [west, south, east, north] or [west, south, minElevation, east, "
        "north, maxElevation]. West greater than east crosses the antimeridian; south "
        "greater than north, or a minimum elevation above the maximum, is refused (400)."
    ),
    "oneOf": [
        {
            "type": "array",
            "minItems": 4,
            "maxItems": 4,
            "prefixItems": [_LONGITUDE, _LATITUDE, _LONGITUDE, _LATITUDE],
        },
        {
            "type": "array",
            "minItems": 6,
            "maxItems": 6,
            "prefixItems": [_LONGITUDE, _LATITUDE, _ELEVATION, _LONGITUDE, _LATITUDE, _ELEVATION],
        },
    ],
}
# "Contains something other than ASCII white space": the service strips white space and refuses
# what is left empty (it strips more than ASCII, so the schema is the looser of the two).
NOT_BLANK: Final = "[^\\t\\n\\v\\f\\r ]"


def _ref(name: str) -> dict[str, Any]:
    # The OpenAPI document turns it into a `$ref` to its component (pydantic would try to
    # resolve a `$ref` among its own definitions).
    return {REF: name}


def _schema(schema: dict[str, Any]) -> WithJsonSchema:
    return WithJsonSchema(schema)


_MAX_ITEMS_SCHEMA: Final = {
    "anyOf": [
        {
            "type": "integer",
            "minimum": 1,
            "maximum": CEILING,
            "description": "Stop after this many items (at most the INGEST_MAX_ITEMS ceiling).",
        },
        {"type": "null"},
    ]
}
_STRINGS: Final = {
    "type": "array",
    "minItems": 1,
    "items": {"type": "string", "pattern": NOT_BLANK},
}

SourceUrl = Annotated[str, BeforeValidator(_url), _schema(_ref("SourceUrl"))]
MaxItems = Annotated[int | None, BeforeValidator(_max_items), _schema(_MAX_ITEMS_SCHEMA)]


class SortBy(ApiModel):
    """One sort key of the STAC API sort extension."""

    field: Annotated[str, Field(json_schema_extra={"pattern": NOT_BLANK})]
    direction: Literal["asc", "desc"] = "asc"


# -- the sources ---------------------------------------------------------------------------------


def _type_required(schema: dict[str, Any]) -> None:
    # `type` has a default in Python (the class says it), but on the wire it picks the source.
    schema["required"] = ["type", *schema.get("required", [])]


_SOURCE_CONFIG: Final = ConfigDict(json_schema_extra=_type_required)


class StacSearchSource(ApiModel):
    """A STAC API item search (core, query, filter and sort extensions), paged by the service."""

    model_config = _SOURCE_CONFIG

    type: Literal["stac-search"] = "stac-search"
    url: Annotated[
        str,
        BeforeValidator(_url),
        _schema({**_ref("SourceUrl"), "description": "The STAC API root (its /search is used)."}),
    ]
    collections: Annotated[
        tuple[str, ...] | None,
        BeforeValidator(_collections),
        _schema(
            {
                "anyOf": [_STRINGS, {"type": "null"}],
                "description": (
                    "Source collection ids to search (duplicates are ignored); every "
                    "collection of the API when left out."
                ),
            }
        ),
    ] = None
    ids: Annotated[
        tuple[str, ...] | None,
        BeforeValidator(_ids),
        _schema({"anyOf": [_STRINGS, {"type": "null"}], "description": "Only these item ids."}),
    ] = None
    bbox: Annotated[
        tuple[float, ...] | None,
        BeforeValidator(_bbox),
        _schema({"anyOf": [_ref("Bbox"), {"type": "null"}]}),
    ] = None
    intersects: Annotated[
        dict[str, Any] | None,
        BeforeValidator(_intersects),
        _schema(
            {
                "anyOf": [
                    {
                        "type": "object",
                        "required": ["type"],
                        "properties": {"type": {"enum": sorted(GEOMETRY_TYPES)}},
                    },
                    {"type": "null"},
                ],
                "description": "A GeoJSON geometry the items must intersect; not with `bbox`.",
            }
        ),
    ] = None
    datetime: Annotated[
        str | None,
        BeforeValidator(_datetime),
        _schema(
            {
                "type": ["string", "null"],
                "description": (
                    "STAC API datetime: an RFC 3339 date-time, a full date (the whole day), "
                    "or an interval 'start/end' with '..' or '' for one open end; the start "
                    "must not be after the end. Anything else is refused (400)."
                ),
                "examples": ["2024-05-10/2024-05-20"],
            }
        ),
    ] = None
    query: Annotated[
        dict[str, Any] | None,
        BeforeValidator(_query),
        _schema(
            {
                "type": ["object", "null"],
                "description": "STAC API query extension object, passed on unchanged.",
            }
        ),
    ] = None
    filter: Annotated[
        dict[str, Any] | str | None,
        BeforeValidator(_filter),
        _schema(
            {
                "anyOf": [
                    {
                        "type": "object",
                        "required": ["op"],
                        "properties": {"op": {"type": "string"}},
                    },
                    {"type": "string", "pattern": NOT_BLANK},
                    {"type": "null"},
                ],
                "description": (
                    "A CQL2 filter (STAC API filter extension): CQL2-JSON, or CQL2 text with "
                    "`filter-lang` cql2-text. Checked with the cql2 parser, passed on unchanged "
                    "(CQL2 text is converted to CQL2-JSON for an API that does not take it)."
                ),
            }
        ),
    ] = None
    filter_lang: Annotated[
        Literal["cql2-json", "cql2-text"] | None,
        BeforeValidator(_filter_lang),
        Field(alias="filter-lang"),
    ] = None
    filter_crs: Annotated[
        Literal["http://www.opengis.net/def/crs/OGC/1.3/CRS84"] | None,
        BeforeValidator(_filter_crs),
        Field(alias="filter-crs"),
    ] = None
    sortby: Annotated[
        tuple[SortBy, ...] | None,
        BeforeValidator(_sortby),
        _schema(
            {
                "anyOf": [
                    {"type": "array", "minItems": 1, "items": _ref("SortBy")},
                    {"type": "null"},
                ],
                "description": "STAC API sort extension; the API's own order when left out.",
            }
        ),
    ] = None
    limit: Annotated[
        int | None,
        BeforeValidator(_limit),
        _schema(
            {
                "anyOf": [
                    {"type": "integer", "minimum": 1, "maximum": MAX_SEARCH_LIMIT},
                    {"type": "null"},
                ],
                "description": (
                    "Page size hint: the service asks for pages of at most this many items "
                    "(and at most INGEST_SOURCE_PAGE_SIZE). Use `maxItems` to stop early."
                ),
            }
        ),
    ] = None
    max_items: Annotated[MaxItems, Field(alias="maxItems")] = None

    def to_dict(self) -> dict[str, Any]:
        """The full source in request-body form (SAS included): for the service's own storage."""
        return self.model_dump(mode="json", exclude_none=True)

    def to_record(self) -> dict[str, Any]:
        """What the job record shows: the URL without its SAS signature, each member that does
        not fit the record by its size in bytes (`omitted`)."""
        record = self.to_dict()
        record["url"] = redact_url(self.url)
        omitted: dict[str, int] = {}
        for key in list(record):
            if key in ("type", "url"):
                continue
            size = len(json.dumps(record[key], separators=(",", ":")))
            if size > RECORD_MEMBER_MAX_CHARS:
                omitted[key] = len(
                    json.dumps(record.pop(key), separators=(",", ":"), ensure_ascii=False).encode()
                )
        if omitted:
            record["omitted"] = omitted
        if len(json.dumps(record)) > RECORD_MAX_CHARS:
            # Only a URL whose query percent-encoding grew on redaction gets here.
            record["url"] = display_url(self.url)
        return record

    @model_validator(mode="after")
    def _members_agree(self) -> StacSearchSource:
        """Rules between members, each refusal naming the member at fault."""
        problems: list[tuple[str, str]] = []
        if self.bbox is not None and self.intersects is not None:
            problems.append((".intersects", "cannot be combined with bbox (STAC API item search)"))
        if self.filter_lang is not None and self.filter is None:
            problems.append((".filter-lang", "needs a filter"))
        elif self.filter_lang == CQL2_JSON and isinstance(self.filter, str):
            problems.append((".filter", "is CQL2 text, but filter-lang is cql2-json"))
        elif self.filter_lang == CQL2_TEXT and isinstance(self.filter, dict):
            problems.append((".filter", "is CQL2-JSON, but filter-lang is cql2-text"))
        if problems:
            raise fail(problems[0][1], errors=problems)
        return self


class StaticCatalogSource(ApiModel):
    """A static STAC catalog walked over HTTP from its catalog.json."""

    model_config = _SOURCE_CONFIG

    type: Literal["static-catalog"] = "static-catalog"
    url: Annotated[
        str,
        BeforeValidator(_url),
        _schema({**_ref("SourceUrl"), "description": "URL of the catalog.json."}),
    ]
    max_items: Annotated[MaxItems, Field(alias="maxItems")] = None

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def to_record(self) -> dict[str, Any]:
        return {**self.to_dict(), "url": redact_url(self.url)}


class InlineItemsSource(ApiModel):
    """Items sent with the request, as an array or a FeatureCollection."""

    model_config = _SOURCE_CONFIG

    type: Literal["items"] = "items"
    # As sent (FeatureCollection features unwrapped); validated per item by item preparation.
    items: Annotated[
        tuple[dict[str, Any], ...],
        BeforeValidator(_inline_items),
        _schema(
            {
                "description": (
                    "STAC Items, as an array or a FeatureCollection. At most "
                    f"{INLINE_MAX_BYTES} bytes as compact JSON "
                    "(INGEST_INLINE_MAX_BYTES; more is refused with 413 before anything else "
                    "is checked). Each item is validated when the job plans it: an invalid "
                    "one is recorded as `invalid` with the reason, not refused here."
                ),
                "oneOf": [
                    {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": CEILING,
                        "items": {"type": "object"},
                    },
                    {
                        "type": "object",
                        "required": ["type", "features"],
                        "properties": {
                            "type": {"const": "FeatureCollection"},
                            "features": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": CEILING,
                                "items": {"type": "object"},
                            },
                        },
                    },
                ],
            }
        ),
    ]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "items": list(self.items)}

    def to_record(self) -> dict[str, Any]:
        return {"type": self.type, "count": len(self.items)}


class ItemUrlsSource(ApiModel):
    """Item documents, one URL each."""

    model_config = _SOURCE_CONFIG

    type: Literal["item-urls"] = "item-urls"
    urls: Annotated[
        tuple[str, ...],
        BeforeValidator(_item_urls),
        _schema({"type": "array", "minItems": 1, "maxItems": CEILING, "items": _ref("SourceUrl")}),
    ]

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


SOURCE_MODELS: Final = (StacSearchSource, StaticCatalogSource, InlineItemsSource, ItemUrlsSource)
SOURCE_TYPES: Final = tuple(m.model_fields["type"].default for m in SOURCE_MODELS)
SourceSpec = StacSearchSource | StaticCatalogSource | InlineItemsSource | ItemUrlsSource
Source = Annotated[SourceSpec, Discriminator("type")]
_SOURCE_ADAPTER: Final = TypeAdapter[SourceSpec](Source)
# Members a source refuses with a reason rather than as unknown.
REFUSED_MEMBERS: Final = {
    "fields": (
        "is not supported: the fields extension strips the members (assets, geometry, "
        "properties) an item needs to be ingested; leave it out"
    ),
}


def source_model(kind: object) -> type[ApiModel] | None:
    return next((m for m in SOURCE_MODELS if m.model_fields["type"].default == kind), None)


def source_from_dict(body: dict[str, Any]) -> SourceSpec:
    """Rebuild a source from its `to_dict()` form (the service's own storage)."""
    return _SOURCE_ADAPTER.validate_python(body)


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


__all__ = [
    "MAX_ELEMENT_ERRORS",
    "MAX_URL_LENGTH",
    "InlineItemsSource",
    "ItemUrlsSource",
    "SortBy",
    "Source",
    "StacSearchSource",
    "StaticCatalogSource",
    "normalise_datetime",
    "source_from_dict",
]
