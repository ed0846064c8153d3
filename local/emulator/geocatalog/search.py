"""STAC API reads: landing page, conformance, item collection (GET) and search (GET/POST),
with filters, keyset paging through `token` (`next:<collection>:<item>` as pgstac), sorting,
fields, and `sign=true`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from local.emulator.geocatalog.errors import bad_request, collection_not_found
from local.emulator.geocatalog.filters import (
    SearchFilter,
    SortField,
    geometry_bbox,
    parse_bbox,
    parse_bbox_text,
    parse_datetime_interval,
    parse_sortby,
    sort_key,
)
from local.emulator.geocatalog.http import GEOJSON, RequestContext, RouteSpec, json_response
from local.emulator.geocatalog.ingest import present_item

SEARCH_DEFAULT_LIMIT = 250
SEARCH_MAX_LIMIT = 1000
ITEMS_DEFAULT_LIMIT = 10
ITEMS_MAX_LIMIT = 10_000

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#fields",
    "https://api.stacspec.org/v1.0.0/item-search#query",
    "https://api.stacspec.org/v1.0.0/item-search#sort",
]

# Fields the fields extension always keeps (STAC API fields extension defaults).
DEFAULT_FIELDS = (
    "id",
    "type",
    "geometry",
    "bbox",
    "links",
    "assets",
    "properties.datetime",
    "collection",
    "stac_version",
)


@dataclass(frozen=True)
class SearchRequest:
    search_filter: SearchFilter
    sortby: tuple[SortField, ...]
    limit: int
    token: str | None
    fields: tuple[tuple[str, ...], tuple[str, ...]] | None = None


def _limit(value: Any, default: int, maximum: int, *, clamp: bool) -> int:
    if value in (None, ""):
        return default
    try:
        limit = int(value)
    except (TypeError, ValueError) as exc:
        raise bad_request("'limit' must be an integer.", "InvalidParameter") from exc
    if limit < 1:
        raise bad_request("'limit' must be at least 1.", "InvalidParameter")
    if limit > maximum:
        if clamp:
            return maximum
        raise bad_request(f"'limit' must be at most {maximum}.", "InvalidParameter")
    return limit


def _string_list(value: Any, name: str) -> frozenset[str] | None:
    if value in (None, "", []):
        return None
    if isinstance(value, str):
        return frozenset(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    raise bad_request(f"'{name}' must be a list of strings.", "InvalidParameter")


def _fields(value: Any) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    if value in (None, "", [], {}):
        return None
    include: list[str] = []
    exclude: list[str] = []
    if isinstance(value, str):  # GET: "id,-properties.x,+assets"
        for part in value.split(","):
            text = part.strip()
            if text.startswith("-"):
                exclude.append(text[1:])
            elif text:
                include.append(text.lstrip("+"))
    else:
        entries = value if isinstance(value, list) else [value]
        for entry in entries:
            if not isinstance(entry, dict):
                raise bad_request("'fields' must hold include/exclude lists.", "InvalidParameter")
            include.extend(entry.get("include") or [])
            exclude.extend(entry.get("exclude") or [])
    return tuple(include), tuple(exclude)


def build_search(
    params: dict[str, Any], *, default_limit: int, maximum: int, clamp: bool
) -> SearchRequest:
    """Parse search parameters (POST body or decoded GET query) into a SearchRequest."""
    try:
        bbox_value = params.get("bbox")
        bbox = None
        if bbox_value not in (None, "", []):
            bbox = (
                parse_bbox_text(bbox_value)
                if isinstance(bbox_value, str)
                else parse_bbox(bbox_value)
            )
        intersects = params.get("intersects")
        if isinstance(intersects, str) and intersects:
            intersects = json.loads(intersects)
        if intersects not in (None, ""):
            if bbox is not None:
                raise ValueError("use either bbox or intersects, not both")
            if not isinstance(intersects, dict):
                raise ValueError("'intersects' must be a GeoJSON geometry")
            bbox = geometry_bbox(intersects)
            if bbox is None:
                raise ValueError("'intersects' must be a GeoJSON geometry")
        datetime_value = params.get("datetime")
        interval = parse_datetime_interval(datetime_value) if datetime_value else None
        query = params.get("query")
        if isinstance(query, str) and query:
            query = json.loads(query)
        if query not in (None, "") and not isinstance(query, dict):
            raise ValueError("'query' must be an object")
        cql2 = params.get("filter")
        lang = params.get("filter-lang") or params.get("filter_lang")
        if lang not in (None, "cql2-json", "cql-json"):
            raise ValueError(
                f"filter-lang '{lang}' is not supported by the emulator (use cql2-json)"
            )
        if isinstance(cql2, str) and cql2:
            try:
                cql2 = json.loads(cql2)
            except ValueError as exc:
                raise ValueError("CQL2 text filters are not supported by the emulator") from exc
        sortby = parse_sortby(params.get("sortby"))
    except ValueError as exc:
        raise bad_request(f"Invalid search parameters: {exc}", "InvalidParameter") from exc
    search_filter = SearchFilter(
        collections=_string_list(params.get("collections"), "collections"),
        ids=_string_list(params.get("ids"), "ids"),
        bbox=bbox,
        datetime=interval,
        query=query or None,
        cql2=cql2 if cql2 not in (None, "", {}) else None,
    )
    token = params.get("token")
    if token is not None and not isinstance(token, str):
        raise bad_request("'token' must be a string.", "InvalidParameter")
    return SearchRequest(
        search_filter,
        sortby,
        _limit(params.get("limit"), default_limit, maximum, clamp=clamp),
        token or None,
        _fields(params.get("fields")),
    )


def _select_fields(
    item: dict[str, Any], fields: tuple[tuple[str, ...], tuple[str, ...]]
) -> dict[str, Any]:
    include, exclude = fields
    if include:
        wanted = set(DEFAULT_FIELDS) | set(include)
        result: dict[str, Any] = {}
        for path in wanted:
            head, _, tail = path.partition(".")
            if head not in item:
                continue
            if tail and isinstance(item[head], dict):
                if tail in item[head]:
                    result.setdefault(head, {})[tail] = item[head][tail]
            else:
                result[head] = item[head]
    else:
        result = dict(item)
    for path in exclude:
        head, _, tail = path.partition(".")
        if tail and isinstance(result.get(head), dict):
            result[head] = {k: v for k, v in result[head].items() if k != tail}
        elif not tail:
            result.pop(head, None)
    return result


def execute(
    ctx: RequestContext, request: SearchRequest, collection_ids: list[str] | None
) -> tuple[list[dict[str, Any]], str | None, int]:
    """(page of presented items, next token, number matched) under the emulator's lock."""
    emu = ctx.emulator
    sign, minutes = ctx.sign_requested(), ctx.duration_minutes()
    with emu.lock:
        records = emu.state.collections
        targets = (
            [records[c] for c in collection_ids if c in records]
            if collection_ids
            else list(records.values())
        )
        search_filter = request.search_filter
        if search_filter.ids is not None:
            candidates = [r.items[i] for r in targets for i in search_filter.ids if i in r.items]
        else:
            candidates = [item for r in targets for item in r.items.values()]
        matched = [item for item in candidates if search_filter.matches(item)]
    try:
        matched.sort(key=sort_key(request.sortby))
    except TypeError as exc:
        raise bad_request(f"Cannot sort by {request.sortby}: {exc}", "InvalidParameter") from exc
    start = 0
    if request.token:
        kind, _, rest = request.token.partition(":")
        collection_id, _, item_id = rest.partition(":")
        if kind != "next" or not item_id:
            raise bad_request(f"Invalid paging token '{request.token}'.", "InvalidParameter")
        position = next(
            (
                index
                for index, item in enumerate(matched)
                if item.get("id") == item_id and item.get("collection") == collection_id
            ),
            None,
        )
        if position is None:
            raise bad_request(
                f"Paging token '{request.token}' no longer matches an item.", "InvalidParameter"
            )
        start = position + 1
    page = matched[start : start + request.limit]
    next_token = None
    if start + request.limit < len(matched) and page:
        last = page[-1]
        next_token = f"next:{last['collection']}:{last['id']}"
    cache: dict[str, str] = {}
    presented = [
        present_item(
            item,
            ctx.base_url,
            sign=sign,
            sign_item=lambda href: emu.sign_href(href, minutes, cache),
        )
        for item in page
    ]
    if request.fields is not None:
        presented = [_select_fields(item, request.fields) for item in presented]
    return presented, next_token, len(matched)


def _feature_collection(
    features: list[dict[str, Any]], links: list[dict[str, Any]], limit: int, matched: int
) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": features,
        "links": links,
        "context": {"returned": len(features), "limit": limit, "matched": matched},
    }


def _query_params(ctx: RequestContext) -> dict[str, Any]:
    return {key: value for key, value in ctx.request.query_params.items() if key != "api-version"}


def _next_get_url(ctx: RequestContext, path: str, params: dict[str, Any], token: str) -> str:
    carried = {k: v for k, v in params.items() if k != "token"}
    return ctx.url(path, **carried, token=token)


async def search_post(ctx: RequestContext) -> Response:
    body = await ctx.json_object()
    request = build_search(
        body, default_limit=SEARCH_DEFAULT_LIMIT, maximum=SEARCH_MAX_LIMIT, clamp=True
    )
    collections = (
        sorted(request.search_filter.collections) if request.search_filter.collections else None
    )
    features, token, matched = execute(ctx, request, collections)
    query_carry = {k: v for k, v in _query_params(ctx).items() if k in ("sign", "duration")}
    links: list[dict[str, Any]] = []
    if token:
        links.append(
            {
                "rel": "next",
                "type": GEOJSON,
                "method": "POST",
                "href": ctx.url("/stac/search", **query_carry),
                "body": {**body, "token": token},
                "merge": False,
            }
        )
    links.append({"rel": "root", "type": "application/json", "href": f"{ctx.base_url}/stac/"})
    links.append({"rel": "self", "type": "application/json", "href": f"{ctx.base_url}/stac/search"})
    return json_response(
        _feature_collection(features, links, request.limit, matched), media_type=GEOJSON
    )


async def search_get(ctx: RequestContext) -> Response:
    params = _query_params(ctx)
    request = build_search(
        params, default_limit=SEARCH_DEFAULT_LIMIT, maximum=SEARCH_MAX_LIMIT, clamp=True
    )
    collections = (
        sorted(request.search_filter.collections) if request.search_filter.collections else None
    )
    features, token, matched = execute(ctx, request, collections)
    links: list[dict[str, Any]] = []
    if token:
        links.append(
            {
                "rel": "next",
                "type": GEOJSON,
                "method": "GET",
                "href": _next_get_url(ctx, "/stac/search", params, token),
            }
        )
    links.append({"rel": "root", "type": "application/json", "href": f"{ctx.base_url}/stac/"})
    links.append({"rel": "self", "type": "application/json", "href": f"{ctx.base_url}/stac/search"})
    return json_response(
        _feature_collection(features, links, request.limit, matched), media_type=GEOJSON
    )


async def item_collection(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    collection_id = ctx.path("collectionId")
    with emu.lock:
        if collection_id not in emu.state.collections:
            raise collection_not_found(collection_id)
    params = {
        k: v
        for k, v in _query_params(ctx).items()
        if k in ("limit", "bbox", "datetime", "token", "sign", "duration")
    }
    request = build_search(
        {k: v for k, v in params.items() if k not in ("sign", "duration")},
        default_limit=ITEMS_DEFAULT_LIMIT,
        maximum=ITEMS_MAX_LIMIT,
        clamp=False,
    )
    features, token, matched = execute(ctx, request, [collection_id])
    path = f"/stac/collections/{collection_id}/items"
    collection_url = f"{ctx.base_url}/stac/collections/{collection_id}"
    links: list[dict[str, Any]] = [
        {"rel": "collection", "type": "application/json", "href": collection_url},
        {"rel": "parent", "type": "application/json", "href": collection_url},
        {"rel": "root", "type": "application/json", "href": f"{ctx.base_url}/stac/"},
        {"rel": "self", "type": GEOJSON, "href": f"{ctx.base_url}{path}"},
    ]
    if token:
        links.append(
            {
                "rel": "next",
                "type": GEOJSON,
                "method": "GET",
                "href": _next_get_url(ctx, path, params, token),
            }
        )
    return json_response(
        _feature_collection(features, links, request.limit, matched), media_type=GEOJSON
    )


async def landing_page(ctx: RequestContext) -> Response:
    base = ctx.base_url
    with ctx.emulator.lock:
        children = [
            {"rel": "child", "type": "application/json", "href": f"{base}/stac/collections/{c}"}
            for c in ctx.emulator.state.collections
        ]
    return json_response(
        {
            "type": "Catalog",
            "id": "geocatalog",
            "title": "GeoCatalog (emulator)",
            "description": "Microsoft Planetary Computer Pro GeoCatalog STAC API (emulated)",
            "stac_version": "1.0.0",
            "conformsTo": CONFORMANCE,
            "links": [
                {"rel": "self", "type": "application/json", "href": f"{base}/stac/"},
                {"rel": "root", "type": "application/json", "href": f"{base}/stac/"},
                {"rel": "data", "type": "application/json", "href": f"{base}/stac/collections"},
                {
                    "rel": "conformance",
                    "type": "application/json",
                    "href": f"{base}/stac/conformance",
                },
                {"rel": "search", "type": GEOJSON, "method": "GET", "href": f"{base}/stac/search"},
                {"rel": "search", "type": GEOJSON, "method": "POST", "href": f"{base}/stac/search"},
                *children,
            ],
        }
    )


async def conformance(ctx: RequestContext) -> Response:
    return json_response({"conformsTo": CONFORMANCE})


def routes() -> list[RouteSpec]:
    return [
        RouteSpec("/stac", ("GET",), landing_page),
        RouteSpec("/stac/", ("GET",), landing_page),
        RouteSpec("/stac/conformance", ("GET",), conformance),
        RouteSpec("/stac/search", ("POST",), search_post),
        RouteSpec("/stac/search", ("GET",), search_get),
        RouteSpec("/stac/collections/{collectionId}/items", ("GET",), item_collection),
    ]
