"""STAC item search over the recorded items: parameters, filters, pgstac ordering and token paging.

Paging is keyset paging as pgstac does it: `next:<collection>:<item-id>` names the last item of the
page just served and the next page starts after it in sort order; `prev:` names the first item and
the previous page ends before it. The token item is looked up among all recorded items, so a token
keeps working when the client changes filters between pages, as with pgstac.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cmp_to_key
from typing import Any, Literal

import cql2

from local.emulator.planetary_computer.data import FixtureData, IndexedItem
from local.emulator.planetary_computer.filters import (
    FilterError,
    Predicate,
    cql2_predicate,
    item_value,
    query_predicate,
)
from local.emulator.planetary_computer.geometry import (
    GeometryError,
    Shape,
    intersects,
    shape_from_bbox,
    shape_from_geojson,
)
from local.emulator.planetary_computer.timeutil import parse_rfc3339


class SearchError(Exception):
    """A request the STAC API refuses; `code` and `description` as stac-fastapi writes them."""

    def __init__(
        self, description: str, *, code: str = "RequestValidationError", status: int = 400
    ):
        super().__init__(description)
        self.description = description
        self.code = code
        self.status = status


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool


DEFAULT_SORT: tuple[SortKey, ...] = (SortKey("datetime", True), SortKey("id", True))


@dataclass(frozen=True)
class Token:
    direction: Literal["next", "prev"]
    collection: str
    item_id: str

    def __str__(self) -> str:
        return f"{self.direction}:{self.collection}:{self.item_id}"


Interval = tuple[datetime | None, datetime | None]


@dataclass(frozen=True)
class SearchParams:
    limit: int
    collections: tuple[str, ...] | None = None
    ids: tuple[str, ...] | None = None
    bbox: tuple[float, ...] | None = None
    intersects: dict[str, Any] | None = None
    datetime: Interval | None = None
    token: Token | None = None
    query: dict[str, Any] | None = None
    filter: dict[str, Any] | None = None
    sortby: tuple[SortKey, ...] = DEFAULT_SORT


@dataclass(frozen=True)
class SearchPage:
    features: list[IndexedItem]
    next_token: Token | None
    prev_token: Token | None


# --- parsing -------------------------------------------------------------------------------------


def parse_datetime(text: str) -> Interval:
    """An instant, or a closed or half-open interval with `..` or an empty end."""
    if not isinstance(text, str) or not text.strip():
        raise SearchError("datetime must be a non-empty string")
    try:
        if "/" not in text:
            instant = _timestamp_param(text)
            return instant, instant
        start_text, end_text = text.split("/", 1)
        start = None if start_text in ("", "..") else _timestamp_param(start_text)
        end = None if end_text in ("", "..") else _timestamp_param(end_text)
    except ValueError as exc:
        raise SearchError(
            f"Invalid datetime {text!r}: {exc}", code="InvalidQueryParameter"
        ) from exc
    if start is None and end is None:
        raise SearchError(
            f"Invalid datetime {text!r}: both ends open", code="InvalidQueryParameter"
        )
    if start is not None and end is not None and start > end:
        raise SearchError(
            f"Invalid datetime {text!r}: start after end", code="InvalidQueryParameter"
        )
    return start, end


def _timestamp_param(text: str) -> datetime:
    # stac-fastapi validates the parameter as RFC 3339 date-times: a bare date is refused.
    if "T" not in text.upper():
        raise ValueError("a full RFC 3339 date-time is required")
    return parse_rfc3339(text)


def parse_token(text: str) -> Token:
    direction, _, rest = text.partition(":")
    collection, _, item_id = rest.partition(":")
    if direction not in ("next", "prev") or not collection or not item_id:
        raise SearchError(f"Invalid token {text!r}", code="InvalidQueryParameter")
    return Token(direction, collection, item_id)  # type: ignore[arg-type]


def parse_limit(value: Any, default: int, maximum: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool):
        raise SearchError("limit must be an integer")
    try:
        limit = int(value)
    except (TypeError, ValueError) as exc:
        raise SearchError(f"limit must be an integer, not {value!r}") from exc
    if limit < 1:
        raise SearchError("limit must be greater than or equal to 1")
    # pgstac crops, it does not refuse, a limit above the maximum.
    return min(limit, maximum)


def _parse_bbox(values: Sequence[Any]) -> tuple[float, ...]:
    try:
        bbox = tuple(float(v) for v in values)
    except (TypeError, ValueError) as exc:
        raise SearchError("bbox must be numbers") from exc
    try:
        shape_from_bbox(bbox)
    except GeometryError as exc:
        raise SearchError(f"Invalid bbox: {exc}") from exc
    return bbox


def _parse_sortby_text(text: str) -> tuple[SortKey, ...]:
    keys = []
    for part in text.split(","):
        field = part.strip()
        if not field:
            continue
        descending = field.startswith("-")
        keys.append(SortKey(field.lstrip("+-").strip(), descending))
    return tuple(keys) or DEFAULT_SORT


def _parse_sortby_list(value: Any) -> tuple[SortKey, ...]:
    if not isinstance(value, list):
        raise SearchError("sortby must be a list of {field, direction}")
    keys = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("field"), str):
            raise SearchError("sortby entries need a field")
        direction = str(entry.get("direction", "asc")).lower()
        if direction not in ("asc", "desc"):
            raise SearchError(f"sortby direction must be asc or desc, not {direction!r}")
        keys.append(SortKey(entry["field"], direction == "desc"))
    return tuple(keys) or DEFAULT_SORT


def _string_list(value: Any, name: str) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SearchError(f"{name} must be a list of strings")
    # An empty list constrains nothing, as stac-fastapi drops empty lists before searching.
    return tuple(value) or None


def _refuse_fields(fields: Any) -> None:
    if fields:
        raise SearchError(
            "The fields extension is not implemented by the Planetary Computer emulator",
            code="NotImplementedError",
        )


def parse_post_body(body: Any, *, default_limit: int, max_limit: int) -> SearchParams:
    if not isinstance(body, dict):
        raise SearchError("The search body must be a JSON object")
    _refuse_fields(body.get("fields"))
    if body.get("bbox") is not None and body.get("intersects") is not None:
        raise SearchError("Only one of bbox or intersects can be set")
    params = SearchParams(
        limit=parse_limit(body.get("limit"), default_limit, max_limit),
        collections=_string_list(body["collections"], "collections")
        if body.get("collections") is not None
        else None,
        ids=_string_list(body["ids"], "ids") if body.get("ids") is not None else None,
        bbox=_parse_bbox(body["bbox"]) if body.get("bbox") is not None else None,
        intersects=body.get("intersects"),
        datetime=parse_datetime(body["datetime"]) if body.get("datetime") is not None else None,
        token=parse_token(body["token"]) if body.get("token") else None,
        query=body.get("query"),
        filter=_post_filter(body.get("filter"), body.get("filter-lang")),
        sortby=_parse_sortby_list(body["sortby"]) if body.get("sortby") else DEFAULT_SORT,
    )
    _validate(params)
    return params


def parse_query_params(
    params: Mapping[str, Sequence[str]], *, default_limit: int, max_limit: int
) -> SearchParams:
    """GET parameters as a mapping of name to every value given (comma lists and repeats both work)."""

    def last(name: str) -> str | None:
        values = params.get(name)
        return values[-1] if values else None

    def comma_list(name: str) -> tuple[str, ...] | None:
        values = params.get(name)
        if not values:
            return None
        return tuple(v for value in values for v in value.split(",") if v) or None

    _refuse_fields(last("fields"))
    bbox_text = last("bbox")
    intersects_text = last("intersects")
    if bbox_text and intersects_text:
        raise SearchError("Only one of bbox or intersects can be set")
    filter_text = last("filter")
    filter_lang = last("filter-lang")
    parsed = SearchParams(
        limit=parse_limit(last("limit"), default_limit, max_limit),
        collections=comma_list("collections"),
        ids=comma_list("ids"),
        bbox=_parse_bbox(bbox_text.split(",")) if bbox_text else None,
        intersects=_json_param("intersects", intersects_text) if intersects_text else None,
        datetime=parse_datetime(dt) if (dt := last("datetime")) else None,
        token=parse_token(token) if (token := last("token")) else None,
        query=_json_param("query", query_text) if (query_text := last("query")) else None,
        filter=_get_filter(filter_text, filter_lang) if filter_text else None,
        sortby=_parse_sortby_text(sortby) if (sortby := last("sortby")) else DEFAULT_SORT,
    )
    _validate(parsed)
    return parsed


def _get_filter(text: str, lang: str | None) -> Any:
    # GET's default language is cql2-text (STAC API filter extension); a JSON object is taken
    # without filter-lang too, as stac-fastapi does.
    if lang == "cql2-json" or (lang is None and text.lstrip().startswith("{")):
        return _json_param("filter", text)
    if lang in (None, "cql2-text"):
        return _cql2_text(text)
    raise SearchError(f"Invalid filter-lang {lang!r}: cql2-json or cql2-text")


def _post_filter(value: Any, lang: Any) -> Any:
    """A POST filter: CQL2-JSON by default, CQL2 text with `filter-lang: cql2-text` (the landing
    page declares cql2-text conformance, not limited to GET)."""
    if value is None:
        return None
    if lang not in (None, "cql2-json", "cql2-text"):
        raise SearchError(f"Invalid filter-lang {lang!r}: cql2-json or cql2-text")
    if lang == "cql2-text":
        if not isinstance(value, str):
            raise SearchError("filter-lang cql2-text needs the filter as a string")
        return _cql2_text(value)
    return value


def _cql2_text(text: str) -> Any:
    """CQL2 text as the CQL2-JSON the predicates run on (stac-fastapi converts the same way)."""
    try:
        return cql2.parse_text(text).to_json()
    except (ValueError, cql2.ParseError) as exc:
        raise SearchError(f"Invalid cql2-text filter: {' '.join(str(exc).split())}") from exc


def _json_param(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SearchError(f"{name} is not valid JSON") from exc


def _validate(params: SearchParams) -> None:
    """Compile the predicates once here so that a bad filter is a 400 before any work."""
    _predicates(params)


# --- running -------------------------------------------------------------------------------------


def _predicates(params: SearchParams) -> list[Predicate]:
    predicates: list[Predicate] = []
    if params.ids is not None:
        wanted = set(params.ids)
        predicates.append(lambda i: i.id in wanted)
    if params.bbox is not None:
        predicates.append(_shape_predicate(shape_from_bbox(params.bbox)))
    if params.intersects is not None:
        try:
            shape = shape_from_geojson(params.intersects)
        except GeometryError as exc:
            raise SearchError(f"Invalid intersects geometry: {exc}") from exc
        predicates.append(_shape_predicate(shape))
    if params.datetime is not None:
        start, end = params.datetime
        predicates.append(
            lambda i: (start is None or i.end >= start) and (end is None or i.start <= end)
        )
    try:
        if params.query is not None:
            predicates.append(query_predicate(params.query))
        if params.filter is not None:
            predicates.append(cql2_predicate(params.filter))
    except FilterError as exc:
        raise SearchError(str(exc)) from exc
    return predicates


def _shape_predicate(shape: Shape) -> Predicate:
    return lambda i: i.shape is not None and intersects(i.shape, shape)


def comparator(sortby: Sequence[SortKey]) -> Callable[[IndexedItem, IndexedItem], int]:
    keys = list(sortby)
    if not any(k.field in ("id", "properties.id") for k in keys):
        # pgstac always breaks ties on id.
        keys.append(SortKey("id", keys[-1].descending if keys else True))

    def compare(a: IndexedItem, b: IndexedItem) -> int:
        for key in keys:
            result = _compare_values(item_value(a, key.field), item_value(b, key.field))
            if result:
                return -result if key.descending else result
        return 0

    return compare


def _compare_values(left: Any, right: Any) -> int:
    left_missing = left is None or not isinstance(left, int | float | str | datetime | bool)
    right_missing = right is None or not isinstance(right, int | float | str | datetime | bool)
    if left_missing or right_missing:
        # Nulls sort last in ascending order, as in PostgreSQL.
        return (left_missing > right_missing) - (left_missing < right_missing)
    try:
        return int(left > right) - int(left < right)
    except TypeError:
        return (type(left).__name__ > type(right).__name__) - (
            type(left).__name__ < type(right).__name__
        )


def run_search(data: FixtureData, params: SearchParams) -> SearchPage:
    collection_ids = params.collections if params.collections is not None else tuple(data.items)
    predicates = _predicates(params)
    matched = [
        indexed
        for cid in dict.fromkeys(collection_ids)
        for indexed in data.items.get(cid, ())
        if all(p(indexed) for p in predicates)
    ]
    compare = comparator(params.sortby)
    matched.sort(key=cmp_to_key(compare))

    if params.token is None:
        page = matched[: params.limit]
    else:
        anchor = data.by_id.get((params.token.collection, params.token.item_id))
        if anchor is None:
            raise SearchError(
                f"Invalid token {params.token}: no such item", code="InvalidQueryParameter"
            )
        if params.token.direction == "next":
            page = [i for i in matched if compare(i, anchor) > 0][: params.limit]
        else:
            page = [i for i in matched if compare(i, anchor) < 0][-params.limit :]

    next_token = prev_token = None
    if page:
        if any(compare(i, page[-1]) > 0 for i in matched):
            next_token = Token("next", page[-1].collection, page[-1].id)
        if any(compare(i, page[0]) < 0 for i in matched):
            prev_token = Token("prev", page[0].collection, page[0].id)
    return SearchPage(page, next_token, prev_token)
