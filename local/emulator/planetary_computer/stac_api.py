"""The PC STAC API (stac-fastapi + pgstac) over the recorded collections and items."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.emulator.planetary_computer.context import (
    STAC_PATH,
    RawJSONResponse,
    context_of,
    json_text,
    rewrite_links,
    rewrite_links_in_text,
)
from local.emulator.planetary_computer.data import PC_STAC_ROOT
from local.emulator.planetary_computer.public_assets import mirror_asset_hrefs
from local.emulator.planetary_computer.search import (
    SearchError,
    SearchPage,
    SearchParams,
    parse_post_body,
    parse_query_params,
    run_search,
)

GEOJSON = "application/geo+json"


def not_found(description: str) -> JSONResponse:
    # stac-fastapi's exception handler for NotFoundError.
    return JSONResponse({"code": "NotFoundError", "description": description}, status_code=404)


def search_error(error: SearchError) -> JSONResponse:
    return JSONResponse(
        {"code": error.code, "description": error.description}, status_code=error.status
    )


def _raw(text: str, *, media_type: str = "application/json") -> Response:
    return RawJSONResponse(text, media_type=media_type)


async def landing(request: Request) -> Response:
    ctx = context_of(request)
    served = {f"{PC_STAC_ROOT}/collections/{cid}" for cid in ctx.data.collections}
    document = dict(ctx.data.landing)
    # Only the collections the emulator has, so a client walking the children finds each one.
    document["links"] = [
        link
        for link in document["links"]
        if link.get("rel") != "child" or link.get("href") in served
    ]
    return _raw(json_text(rewrite_links(document, ctx.stac_root(request))))


async def conformance(request: Request) -> Response:
    ctx = context_of(request)
    return JSONResponse({"conformsTo": ctx.data.landing["conformsTo"]})


async def collections(request: Request) -> Response:
    ctx = context_of(request)
    document = {
        "collections": list(ctx.data.collections.values()),
        "links": ctx.data.collection_list_links,
    }
    return _raw(json_text(_mirrored(rewrite_links(document, ctx.stac_root(request)), request)))


def _mirrored(document: Any, request: Request) -> Any:
    ctx = context_of(request)
    if not ctx.config.mirror_public_assets:
        return document
    return mirror_asset_hrefs(document, ctx.base_url(request))


async def collection(request: Request) -> Response:
    ctx = context_of(request)
    collection_id = request.path_params["collection_id"]
    found = ctx.data.collections.get(collection_id)
    if found is None:
        return not_found(f"Collection {collection_id} does not exist.")
    return _raw(json_text(_mirrored(rewrite_links(found, ctx.stac_root(request)), request)))


async def queryables(request: Request) -> Response:
    ctx = context_of(request)
    collection_id = request.path_params["collection_id"]
    if collection_id not in ctx.data.collections:
        return not_found(f"Collection {collection_id} does not exist.")
    found = ctx.data.queryables.get(collection_id)
    if found is None:
        return not_found(f"No recorded queryables for collection {collection_id}.")
    return _raw(
        json_text(rewrite_links(found, ctx.stac_root(request))),
        media_type="application/schema+json",
    )


async def item(request: Request) -> Response:
    ctx = context_of(request)
    collection_id = request.path_params["collection_id"]
    item_id = request.path_params["item_id"]
    if collection_id not in ctx.data.collections:
        return not_found(f"Collection {collection_id} does not exist.")
    found = ctx.data.by_id.get((collection_id, item_id))
    if found is None:
        return not_found(f"Item {item_id} in Collection {collection_id} does not exist.")
    return _raw(rewrite_links_in_text(found.text, ctx.stac_root(request)), media_type=GEOJSON)


async def items(request: Request) -> Response:
    ctx = context_of(request)
    collection_id = request.path_params["collection_id"]
    if collection_id not in ctx.data.collections:
        return not_found(f"Collection {collection_id} does not exist.")
    query = _multi_params(request)
    # This route searches its own collection whatever `collections` says (the recorded landsat page
    # was requested with ?collections=landsat-c2-l2 and the next link keeps it).
    query["collections"] = [collection_id]
    try:
        params = parse_query_params(
            query, default_limit=ctx.config.items_default_limit, max_limit=ctx.config.max_limit
        )
        page = run_search(ctx.data, params)
    except SearchError as exc:
        return search_error(exc)
    own = f"{PC_STAC_ROOT}/collections/{collection_id}"
    links: list[dict[str, Any]] = [
        {"rel": "collection", "type": "application/json", "href": own},
        {"rel": "parent", "type": "application/json", "href": own},
        {"rel": "root", "type": "application/json", "href": f"{PC_STAC_ROOT}/"},
        {"rel": "self", "type": GEOJSON, "href": f"{own}/items"},
    ]
    links.extend(_get_paging_links(page, f"{own}/items", request.url.query))
    return _page_response(page, links, ctx.stac_root(request))


async def search_get(request: Request) -> Response:
    ctx = context_of(request)
    try:
        params = parse_query_params(
            _multi_params(request),
            default_limit=ctx.config.search_default_limit,
            max_limit=ctx.config.max_limit,
        )
        page = run_search(ctx.data, params)
    except SearchError as exc:
        return search_error(exc)
    links = _get_paging_links(page, f"{PC_STAC_ROOT}/search", request.url.query)
    links.extend(_search_tail_links())
    return _page_response(page, links, ctx.stac_root(request))


async def search_post(request: Request) -> Response:
    ctx = context_of(request)
    try:
        body = json.loads(await request.body() or b"{}")
    except json.JSONDecodeError:
        return search_error(SearchError("The search body is not valid JSON"))
    try:
        params: SearchParams = parse_post_body(
            body, default_limit=ctx.config.search_default_limit, max_limit=ctx.config.max_limit
        )
        page = run_search(ctx.data, params)
    except SearchError as exc:
        return search_error(exc)
    links: list[dict[str, Any]] = []
    # The recorded POST pages echo the request body with the token set, and no "merge".
    for rel, token in (("next", page.next_token), ("previous", page.prev_token)):
        if token is not None:
            links.append(
                {
                    "rel": rel,
                    "type": GEOJSON,
                    "method": "POST",
                    "href": f"{PC_STAC_ROOT}/search",
                    "body": {**body, "token": str(token)},
                }
            )
    links.extend(_search_tail_links())
    return _page_response(page, links, ctx.stac_root(request))


def _search_tail_links() -> list[dict[str, Any]]:
    return [
        {"rel": "root", "type": "application/json", "href": f"{PC_STAC_ROOT}/"},
        {"rel": "self", "type": "application/json", "href": f"{PC_STAC_ROOT}/search"},
    ]


def _get_paging_links(page: SearchPage, href: str, raw_query: str) -> list[dict[str, Any]]:
    """GET-style links: the request's own query string with `&token=next:...` (or prev) appended."""
    kept = "&".join(p for p in raw_query.split("&") if p and not p.startswith("token="))
    links = []
    for rel, token in (("next", page.next_token), ("previous", page.prev_token)):
        if token is not None:
            query = f"{kept}&token={token}" if kept else f"token={token}"
            links.append({"rel": rel, "type": GEOJSON, "method": "GET", "href": f"{href}?{query}"})
    return links


def _page_response(page: SearchPage, links: list[dict[str, Any]], stac_root: str) -> Response:
    text = (
        '{"type":"FeatureCollection","features":['
        + ",".join(i.text for i in page.features)
        + '],"links":'
        + json_text(links)
        + "}"
    )
    return _raw(rewrite_links_in_text(text, stac_root), media_type=GEOJSON)


def _multi_params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def routes() -> list[Route]:
    return [
        Route(STAC_PATH, landing, methods=["GET"]),
        Route(f"{STAC_PATH}/", landing, methods=["GET"]),
        Route(f"{STAC_PATH}/conformance", conformance, methods=["GET"]),
        Route(f"{STAC_PATH}/collections", collections, methods=["GET"]),
        Route(f"{STAC_PATH}/collections/{{collection_id}}", collection, methods=["GET"]),
        Route(f"{STAC_PATH}/collections/{{collection_id}}/queryables", queryables, methods=["GET"]),
        Route(f"{STAC_PATH}/collections/{{collection_id}}/items", items, methods=["GET"]),
        Route(
            f"{STAC_PATH}/collections/{{collection_id}}/items/{{item_id}}", item, methods=["GET"]
        ),
        Route(f"{STAC_PATH}/search", search_get, methods=["GET"]),
        Route(f"{STAC_PATH}/search", search_post, methods=["POST"]),
    ]
