"""stac-search paging on real Planetary Computer pages, resuming from serialised cursors."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import requests

from shared.settings import Settings
from shared.sources import MAX_CURSOR_BYTES, SourceInvalid, SourcePage, open_reader
from shared.sources.base import cursor_size
from shared.sources.specs import StacSearchSource
from tests.unit.sources.conftest import (
    ITEMS,
    PC,
    Call,
    Reply,
    Web,
    json_reply,
    load_json,
    roundtrip,
)

SEARCH = f"{PC}/search"
NAIP_BBOX = (-73.21, 43.99, -73.12, 44.05)


def landing(*, methods: tuple[str, ...] = ("GET", "POST")) -> dict[str, Any]:
    root: dict[str, Any] = load_json(ITEMS / "stac-api-root.json")
    root["links"] = [
        link
        for link in root["links"]
        if link["rel"] != "search" or link.get("method", "GET") in methods
    ]
    return root


def read(
    source: StacSearchSource,
    cursor: dict[str, Any] | None,
    limit: int,
    session: requests.Session,
    settings: Settings,
) -> SourcePage:
    # A fresh reader per page, as each plan message opens the source anew.
    return open_reader(source, session=session, settings=settings).read_page(
        roundtrip(cursor), limit
    )


def ids(page: SourcePage) -> list[str]:
    return [raw.item["id"] for raw in page.items]  # type: ignore[index]


# --- POST next links (naip, recorded pages 1 and 2) ----------------------------------------


@pytest.fixture
def naip_search(web: Web) -> dict[str, Any]:
    page1 = load_json(ITEMS / "naip.search-post.page1.10-items.json")
    page2 = load_json(ITEMS / "naip.search-post.page2.10-items.json")
    last = {
        "type": "FeatureCollection",
        "features": [load_json(ITEMS / "naip.pa_m_4108053_se_17_1_20150725_20151201.json")],
        "links": [],
    }
    token1 = next(link for link in page1["links"] if link["rel"] == "next")["body"]["token"]
    token2 = next(link for link in page2["links"] if link["rel"] == "next")["body"]["token"]
    pages = {None: page1, token1: page2, token2: last}

    def search(call: Call) -> Reply:
        body = call.body or {}
        if body.get("collections") != ["naip"] or body.get("bbox") != list(NAIP_BBOX):
            return json_reply({"code": "RequestValidationError"}, 400)
        if body.get("token") not in pages:
            return json_reply({"code": "InvalidToken"}, 400)
        return json_reply(pages[body.get("token")])

    web.route_api_root(PC, landing())
    web.route("POST", SEARCH, search)
    return {"page1": page1, "page2": page2, "last": last, "token1": token1, "token2": token2}


def test_post_next_links_resume_with_one_request_each(
    web: Web, naip_search: dict[str, Any], session: requests.Session, settings: Settings
) -> None:
    source = StacSearchSource(url=PC, collections=("naip",), bbox=NAIP_BBOX)

    first = read(source, None, 10, session, settings)
    assert [c.method for c in web.calls] == ["GET", "POST"]  # landing page, then the search
    assert web.calls[1].body == {"limit": 10, "bbox": list(NAIP_BBOX), "collections": ["naip"]}
    assert ids(first) == [f["id"] for f in naip_search["page1"]["features"]]
    # the cursor is the next link, reduced to what differs from the search itself
    assert first.next_cursor == {
        "href": SEARCH,
        "method": "POST",
        "body": {"token": naip_search["token1"]},
    }

    web.calls.clear()
    second = read(source, first.next_cursor, 10, session, settings)
    assert len(web.calls) == 1
    # exactly the body pystac-client sent for page 2 when the page was recorded
    assert web.calls[0].body == {
        "limit": 10,
        "bbox": list(NAIP_BBOX),
        "collections": ["naip"],
        "token": "next:naip:vt_m_4307307_nw_18_060_20211029",
    }
    assert ids(second) == [f["id"] for f in naip_search["page2"]["features"]]

    web.calls.clear()
    third = read(source, second.next_cursor, 10, session, settings)
    assert len(web.calls) == 1
    assert ids(third) == [naip_search["last"]["features"][0]["id"]]
    assert third.next_cursor is None

    all_ids = ids(first) + ids(second) + ids(third)
    assert len(all_ids) == len(set(all_ids)) == 21
    for page in (first, second):
        assert page.next_cursor is not None
        assert cursor_size(page.next_cursor) < 200


def test_resume_asks_for_the_new_limit(
    web: Web, naip_search: dict[str, Any], session: requests.Session, settings: Settings
) -> None:
    source = StacSearchSource(url=PC, collections=("naip",), bbox=NAIP_BBOX)
    first = read(source, None, 10, session, settings)
    web.calls.clear()
    # e.g. maxItems leaves 4 to plan
    read(source, first.next_cursor, 4, session, settings)
    assert web.calls[0].body["limit"] == 4


def test_items_are_raw_items_without_url(
    web: Web, naip_search: dict[str, Any], session: requests.Session, settings: Settings
) -> None:
    source = StacSearchSource(url=PC, collections=("naip",), bbox=NAIP_BBOX)
    page = read(source, None, 10, session, settings)
    assert all(raw.ok and raw.url is None for raw in page.items)
    assert page.items[0].item == naip_search["page1"]["features"][0]


# --- GET next links (sentinel-2-l2a items page with token=next:...) ----------------------


def test_get_next_links_resume_with_one_request_each(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    page1 = load_json(ITEMS / "sentinel-2-l2a.items-get.limit1.json")
    next_href = next(link for link in page1["links"] if link["rel"] == "next")["href"]
    assert "token=next:" in next_href
    item2 = load_json(
        ITEMS / "sentinel-2-l2a.S2B_MSIL2A_20220612T182919_R027_T24XWR_20220613T123251.json"
    )

    def items(call: Call) -> Reply:
        if call.query.get("token") != [next_href.split("token=")[1]]:
            return json_reply({"code": "InvalidToken"}, 400)
        return json_reply({"type": "FeatureCollection", "features": [item2], "links": []})

    # the API advertises GET search only, so pystac-client searches with GET
    web.route_api_root(PC, landing(methods=("GET",)))
    web.route("GET", SEARCH, lambda _call: json_reply(page1))
    web.route("GET", f"{PC}/collections/sentinel-2-l2a/items", items)
    source = StacSearchSource(url=PC, collections=("sentinel-2-l2a",))

    first = read(source, None, 1, session, settings)
    assert [(c.method, c.base) for c in web.calls] == [("GET", PC), ("GET", SEARCH)]
    assert web.calls[1].query == {"collections": ["sentinel-2-l2a"], "limit": ["1"]}
    assert ids(first) == [page1["features"][0]["id"]]
    assert first.next_cursor == {"href": next_href, "method": "GET"}

    web.calls.clear()
    second = read(source, first.next_cursor, 3, session, settings)
    assert len(web.calls) == 1
    assert web.calls[0].query["limit"] == ["3"]  # replaced, not repeated
    assert web.calls[0].query["token"] == [next_href.split("token=")[1]]
    assert ids(second) == [item2["id"]]
    assert second.next_cursor is None


def test_post_search_answered_with_get_next_link(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    page1 = load_json(ITEMS / "io-lulc.items-get.limit1.json")
    web.route_api_root(PC, landing())
    web.route("POST", SEARCH, lambda _call: json_reply(page1))
    source = StacSearchSource(url=PC, collections=("io-lulc",))
    page = read(source, None, 1, session, settings)
    assert page.next_cursor == {
        "href": f"{PC}/collections/io-lulc/items?limit=1&token=next:io-lulc:60W-2020",
        "method": "GET",
    }


# --- the cursor stays small ----------------------------------------------------------------


def big_filter() -> dict[str, Any]:
    # a CQL2-JSON filter of about 30 KB: far more than a cursor may hold
    tiles = [f"T{n:05d}" for n in range(3000)]
    return {"op": "in", "args": [{"property": "s2:mgrs_tile"}, tiles]}


def test_next_link_repeating_a_large_search_gives_a_small_cursor(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    features = load_json(ITEMS / "naip.search-post.page1.10-items.json")["features"]

    def search(call: Call) -> Reply:
        body = dict(call.body)
        if body.get("filter") != big_filter() or body.get("filter-lang") != "cql2-json":
            return json_reply({"code": "RequestValidationError"}, 400)
        if "token" in body:
            return json_reply({"type": "FeatureCollection", "features": features[5:], "links": []})
        # PC style: the next link's body repeats the whole request, plus the token
        next_link = {
            "rel": "next",
            "method": "POST",
            "href": SEARCH,
            "body": {**body, "token": "next:naip:x"},
        }
        return json_reply(
            {"type": "FeatureCollection", "features": features[:5], "links": [next_link]}
        )

    web.route_api_root(PC, landing())
    web.route("POST", SEARCH, search)
    source = StacSearchSource(
        url=PC, collections=("naip",), filter=big_filter(), datetime="2021-01-01T00:00:00Z/.."
    )

    first = read(source, None, 5, session, settings)
    assert len(json.dumps(web.calls[1].body)) > 30_000
    assert first.next_cursor == {"href": SEARCH, "method": "POST", "body": {"token": "next:naip:x"}}

    web.calls.clear()
    second = read(source, first.next_cursor, 5, session, settings)
    assert web.calls[0].body["filter"] == big_filter()  # the search is whole again
    assert web.calls[0].body["token"] == "next:naip:x"
    assert len(second.items) == 5


def test_oversized_next_link_is_refused(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    features = load_json(ITEMS / "naip.search-post.page1.10-items.json")["features"]
    next_link = {
        "rel": "next",
        "method": "POST",
        "href": SEARCH,
        "body": {"token": "next:naip:" + "x" * MAX_CURSOR_BYTES},
    }
    web.route_api_root(PC, landing())
    web.route(
        "POST",
        SEARCH,
        lambda _c: json_reply(
            {"type": "FeatureCollection", "features": features, "links": [next_link]}
        ),
    )
    with pytest.raises(SourceInvalid, match="too large"):
        read(StacSearchSource(url=PC, collections=("naip",)), None, 10, session, settings)


# --- links that leave the source, loops, empty and broken pages ----------------------------


def single_page_search(web: Web, page: Any) -> None:
    web.route_api_root(PC, landing())
    web.route("POST", SEARCH, lambda _call: json_reply(page))


def with_next(link: dict[str, Any]) -> dict[str, Any]:
    page: dict[str, Any] = copy.deepcopy(load_json(ITEMS / "naip.search-post.page1.10-items.json"))
    page["links"] = [lk for lk in page["links"] if lk["rel"] != "next"] + [link]
    return page


def test_next_link_to_another_host_is_refused(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    evil = "https://evil.example/api/stac/v1/search"
    single_page_search(web, with_next({"rel": "next", "method": "GET", "href": f"{evil}?token=x"}))
    with pytest.raises(SourceInvalid, match="leaves the source host"):
        read(StacSearchSource(url=PC, collections=("naip",)), None, 10, session, settings)
    assert not [c for c in web.calls if "evil" in c.url]


def test_tampered_cursor_to_another_host_is_refused_before_any_request(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    # even a host on the allow-list: the next link must stay on the source's own host
    cursor = {"href": "https://acct.blob.core.windows.net/c/search", "method": "POST", "body": {}}
    with pytest.raises(SourceInvalid, match="leaves the source host"):
        read(StacSearchSource(url=PC, collections=("naip",)), cursor, 10, session, settings)
    assert web.calls == []


def test_search_link_to_another_host_is_refused(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    root = landing()
    for link in root["links"]:
        if link["rel"] == "search":
            link["href"] = "https://elsewhere.example/search"
    web.route_api_root(PC, root)
    with pytest.raises(SourceInvalid, match="leaves the source host"):
        read(StacSearchSource(url=PC, collections=("naip",)), None, 10, session, settings)
    assert not [c for c in web.calls if "elsewhere" in c.url]


def test_next_link_repeating_the_current_page_is_refused(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    page = with_next(
        {"rel": "next", "method": "POST", "href": SEARCH, "body": {"token": "next:naip:same"}}
    )
    single_page_search(web, page)
    source = StacSearchSource(url=PC, collections=("naip",))
    first = read(source, None, 10, session, settings)
    with pytest.raises(SourceInvalid, match="repeats"):
        read(source, first.next_cursor, 10, session, settings)


def test_empty_page_ends_the_search_even_with_a_next_link(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    page = {
        "type": "FeatureCollection",
        "features": [],
        "links": [{"rel": "next", "method": "POST", "href": SEARCH, "body": {"token": "t"}}],
    }
    single_page_search(web, page)
    result = read(StacSearchSource(url=PC, collections=("naip",)), None, 10, session, settings)
    assert result == SourcePage(items=[], next_cursor=None)


@pytest.mark.parametrize(
    "answer",
    [
        [],
        {"type": "FeatureCollection"},
        {"type": "FeatureCollection", "features": {"a": 1}},
        "features",
    ],
)
def test_search_answer_not_an_item_collection(
    web: Web, session: requests.Session, settings: Settings, answer: Any
) -> None:
    single_page_search(web, answer)
    with pytest.raises(SourceInvalid, match="not a STAC ItemCollection"):
        read(StacSearchSource(url=PC, collections=("naip",)), None, 10, session, settings)


@pytest.mark.parametrize(
    "root",
    [
        {"hello": "world"},
        # an Item is not an API landing page
        load_json(ITEMS / "naip.pa_m_4108053_se_17_1_20150725_20151201.json"),
        # a catalog without item-search conformance
        {
            "type": "Catalog",
            "id": "x",
            "description": "x",
            "stac_version": "1.0.0",
            "links": [],
            "conformsTo": [],
        },
    ],
)
def test_not_a_stac_api(web: Web, session: requests.Session, settings: Settings, root: Any) -> None:
    web.route_api_root(PC, root)
    with pytest.raises(SourceInvalid) as caught:
        read(StacSearchSource(url=PC, collections=("naip",)), None, 10, session, settings)
    assert PC in str(caught.value)


def test_landing_page_not_json(web: Web, session: requests.Session, settings: Settings) -> None:
    web.route_api_root(PC, lambda _call: (200, {"Content-Type": "text/html"}, "<html>hello</html>"))
    with pytest.raises(SourceInvalid):
        read(StacSearchSource(url=PC, collections=("naip",)), None, 10, session, settings)


@pytest.mark.parametrize(
    "cursor",
    [
        {},
        {"href": 3, "method": "GET"},
        {"href": SEARCH, "method": "PUT"},
        {"href": SEARCH, "method": "POST", "body": []},
    ],
)
def test_foreign_cursor_is_a_value_error(
    web: Web, session: requests.Session, settings: Settings, cursor: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="cursor"):
        read(StacSearchSource(url=PC, collections=("naip",)), cursor, 10, session, settings)
    assert web.calls == []


# --- the whole item-search body ------------------------------------------------------------

CQL2_TEXT = "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text"


@pytest.fixture
def two_page_search(web: Web) -> list[Call]:
    """A search that answers two pages (a POST next link carrying only the token)."""
    page1 = load_json(ITEMS / "naip.search-post.page1.10-items.json")
    page2 = {"type": "FeatureCollection", "features": page1["features"][:1], "links": []}

    def search(call: Call) -> Reply:
        body = call.body or {}
        if body.get("token"):
            return json_reply(page2)
        page = copy.deepcopy(page1)
        for link in page["links"]:
            if link["rel"] == "next":
                link["body"] = {**body, "token": "next:naip:x"}
        return json_reply(page)

    web.route("POST", SEARCH, search)
    return web.calls


def test_every_search_member_is_sent_on_every_page(
    web: Web, two_page_search: list[Call], session: requests.Session, settings: Settings
) -> None:
    web.route_api_root(PC, landing())
    polygon = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    source = StacSearchSource(
        url=PC,
        ids=("a", "b"),
        intersects=polygon,
        query={"eo:cloud_cover": {"lt": 10}},
        filter={"op": "=", "args": [{"property": "naip:state"}, "vt"]},
        sortby=({"field": "properties.datetime", "direction": "asc"},),  # type: ignore[arg-type]
        limit=7,
    )
    first = read(source, None, 100, session, settings)
    expected = {
        "limit": 7,  # the source's page-size hint caps the service's page size
        "ids": ["a", "b"],
        "intersects": polygon,
        "query": {"eo:cloud_cover": {"lt": 10}},
        "filter": {"op": "=", "args": [{"property": "naip:state"}, "vt"]},
        "filter-lang": "cql2-json",
        "sortby": [{"field": "properties.datetime", "direction": "asc"}],
    }
    assert web.calls[1].body == expected
    assert "collections" not in web.calls[1].body  # optional: every collection
    web.calls.clear()
    read(source, first.next_cursor, 3, session, settings)
    assert web.calls[0].body == {**expected, "limit": 3, "token": "next:naip:x"}


@pytest.mark.parametrize(
    ("methods", "takes_text", "sent_as_text"),
    [
        (("GET", "POST"), True, False),  # POST: CQL2-JSON, the filter extension's POST language
        (("GET",), True, True),
        (("GET",), False, False),
    ],
    ids=["post", "get-cql2-text-api", "get-cql2-json-only-api"],
)
def test_a_cql2_text_filter_is_sent_as_text_only_in_a_get_to_an_api_that_takes_it(
    web: Web,
    session: requests.Session,
    settings: Settings,
    methods: tuple[str, ...],
    takes_text: bool,
    sent_as_text: bool,
) -> None:
    root = landing(methods=methods)
    root["conformsTo"] = [c for c in root["conformsTo"] if takes_text or c != CQL2_TEXT]
    web.route_api_root(PC, root)
    page = {"type": "FeatureCollection", "features": [], "links": []}
    web.route("GET", SEARCH, page)
    web.route("POST", SEARCH, page)
    source = StacSearchSource(url=PC, collections=("naip",), filter="naip:state = 'vt'")
    read(source, None, 10, session, settings)
    as_json = {"op": "=", "args": [{"property": "naip:state"}, "vt"]}
    call = web.calls[1]
    assert call.method == methods[-1]
    if call.method == "POST":
        assert (call.body["filter"], call.body["filter-lang"]) == (as_json, "cql2-json")
    elif sent_as_text:
        assert call.query["filter"] == ["naip:state = 'vt'"]
        assert call.query["filter-lang"] == ["cql2-text"]
    else:
        assert json.loads(call.query["filter"][0]) == as_json
        assert call.query["filter-lang"] == ["cql2-json"]
