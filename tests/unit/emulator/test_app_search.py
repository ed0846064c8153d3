"""Search (POST and GET) and item collections: filters, paging, sorting, fields, signing."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api, make_item

# The tutorial's area of interest (southern Iceland) and week.
AOI = [-22.455626, 63.834083, -22.395201, 63.880750]


@pytest.fixture
def loaded(api: Api) -> Api:
    api.create_collection("search-a")
    api.create_collection("search-b")
    features = [
        make_item(
            f"a-{day:02d}",
            "search-a",
            when=f"2024-02-{day:02d}T12:00:00Z",
            **{"eo:cloud_cover": day},
        )
        for day in range(1, 13)
    ]
    features.append(make_item("far-away", "search-a", bbox=(10, 10, 11, 11)))
    api.finished(
        api.post(
            "/stac/collections/search-a/items",
            json={"type": "FeatureCollection", "features": features},
        )
    )
    api.finished(api.post("/stac/collections/search-b/items", json=make_item("b-1", "search-b")))
    return api


def ids(body: dict[str, Any]) -> list[str]:
    return [feature["id"] for feature in body["features"]]


def test_post_search_filters_like_the_tutorial(loaded: Api) -> None:
    body = loaded.post(
        "/stac/search",
        json={"collections": ["search-a"], "bbox": AOI, "datetime": "2024-02-04/2024-02-11"},
    ).json()
    assert body["type"] == "FeatureCollection"
    assert ids(body) == [f"a-{day:02d}" for day in range(11, 3, -1)]  # newest first
    assert body["context"] == {"returned": 8, "limit": 250, "matched": 8}


def test_post_search_pages_with_a_body_token(loaded: Api) -> None:
    request = {"collections": ["search-a"], "bbox": AOI, "limit": 5}
    seen: list[str] = []
    page = loaded.post("/stac/search", json=request, params={"sign": "true"}).json()
    pages = 1
    while True:
        seen.extend(ids(page))
        nxt = [link for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        link = nxt[0]
        assert link["method"] == "POST"
        assert link["body"]["limit"] == 5
        assert link["body"]["token"].startswith("next:search-a:")
        assert "sign=true" in link["href"]
        page = loaded.client.post(link["href"], json=link["body"], headers=loaded.headers).json()
        pages += 1
    assert pages == 3
    assert seen == [f"a-{day:02d}" for day in range(12, 0, -1)]


def test_get_search_pages_with_next_links(loaded: Api) -> None:
    page = loaded.get(
        "/stac/search", params={"collections": "search-a,search-b", "limit": "10", "sortby": "+id"}
    ).json()
    assert ids(page)[:2] == ["a-01", "a-02"]
    nxt = next(link for link in page["links"] if link["rel"] == "next")
    assert nxt["method"] == "GET"
    assert "api-version=2026-04-15" in nxt["href"]
    rest = loaded.client.get(nxt["href"], headers=loaded.headers).json()
    assert ids(rest) == ["a-11", "a-12", "b-1", "far-away"]
    assert not [link for link in rest["links"] if link["rel"] == "next"]


def test_ids_intersects_query_and_filter(loaded: Api) -> None:
    assert ids(loaded.post("/stac/search", json={"ids": ["b-1", "a-03", "nope"]}).json()) == [
        "b-1",
        "a-03",
    ]
    point = {"type": "Point", "coordinates": [10.5, 10.5]}
    assert ids(loaded.post("/stac/search", json={"intersects": point}).json()) == ["far-away"]
    cloudy = loaded.post(
        "/stac/search", json={"collections": ["search-a"], "query": {"eo:cloud_cover": {"gte": 11}}}
    ).json()
    assert ids(cloudy) == ["a-12", "a-11"]
    cql = {"op": "<=", "args": [{"property": "eo:cloud_cover"}, 2]}
    assert ids(
        loaded.post("/stac/search", json={"filter": cql, "filter-lang": "cql2-json"}).json()
    ) == ["a-02", "a-01"]
    assert (
        loaded.post(
            "/stac/search", json={"filter": "eo:cloud_cover < 2", "filter-lang": "cql2-text"}
        ).status_code
        == 400
    )


def test_instant_and_open_intervals(loaded: Api) -> None:
    exact = loaded.post("/stac/search", json={"datetime": "2024-02-03T12:00:00Z"}).json()
    assert ids(exact) == ["a-03"]
    after = loaded.post(
        "/stac/search", json={"collections": ["search-a"], "datetime": "2024-02-11T00:00:00Z/.."}
    ).json()
    assert ids(after) == ["a-12", "a-11"]
    before = loaded.get(
        "/stac/search", params={"collections": "search-a", "datetime": "../2024-02-01T23:00:00Z"}
    ).json()
    assert ids(before) == ["a-01"]


def test_invalid_parameters_are_400(loaded: Api) -> None:
    for body in (
        {"bbox": [1, 2, 3]},
        {"datetime": "tomorrow"},
        {"limit": 0},
        {"sortby": [{"field": "id", "direction": "sideways"}]},
        {"token": "next:search-a:missing"},
    ):
        response = loaded.post("/stac/search", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "InvalidParameter"


def test_fields_extension(loaded: Api) -> None:
    body = loaded.post(
        "/stac/search",
        json={
            "ids": ["a-01"],
            "fields": {"include": ["properties.eo:cloud_cover"], "exclude": ["links"]},
        },
    ).json()
    feature = body["features"][0]
    assert feature["properties"] == {"datetime": "2024-02-01T12:00:00Z", "eo:cloud_cover": 1}
    assert "links" not in feature


def test_item_collection_paging_and_filters(loaded: Api) -> None:
    page = loaded.get("/stac/collections/search-a/items", params={"limit": 4}).json()
    assert len(page["features"]) == 4
    rels = [link["rel"] for link in page["links"]]
    assert rels == ["collection", "parent", "root", "self", "next"]
    nxt = page["links"][-1]["href"]
    assert "limit=4" in nxt
    assert "token=next%3Asearch-a%3A" not in nxt
    assert "token=next:search-a:" in nxt
    second = loaded.client.get(nxt, headers=loaded.headers).json()
    assert len(second["features"]) == 4
    assert not set(ids(page)) & set(ids(second))
    filtered = loaded.get(
        "/stac/collections/search-a/items",
        params={
            "bbox": ",".join(str(v) for v in AOI),
            "datetime": "2024-02-10T00:00:00Z/2024-02-11T23:59:59Z",
        },
    ).json()
    assert ids(filtered) == ["a-11", "a-10"]
    default = loaded.get("/stac/collections/search-a/items").json()
    assert len(default["features"]) == 10  # spec default limit
    assert loaded.get("/stac/collections/missing-9/items").status_code == 404
    assert (
        loaded.get("/stac/collections/search-a/items", params={"limit": 10001}).status_code == 400
    )


def test_sign_true_appends_a_readable_sas(loaded: Api) -> None:
    plain = loaded.post("/stac/search", json={"ids": ["b-1"]}).json()["features"][0]["assets"][
        "data"
    ]["href"]
    assert "?" not in plain
    signed = loaded.post("/stac/search", json={"ids": ["b-1"]}, params={"sign": "true"}).json()
    href = signed["features"][0]["assets"]["data"]["href"]
    assert href.startswith(plain + "?")
    assert "sr=c" in href
    assert "sp=rl" in href
    assert "sig=" in href
    blob = loaded.client.get(href)
    assert blob.status_code == 200
    assert blob.content.startswith(b"II*\x00")  # a small but valid TIFF
    denied = loaded.client.get(plain)
    assert denied.status_code == 403
    assert b"<Code>NoAuthenticationInformation</Code>" in denied.content
    # duration is in minutes: after it, the href stops working.
    short = loaded.get(
        "/stac/collections/search-b/items/b-1", params={"sign": "true", "duration": 1}
    ).json()
    short_href = short["assets"]["data"]["href"]
    loaded.clock.advance(61)
    expired = loaded.client.get(short_href)
    assert expired.status_code == 403
    assert b"<Code>AuthenticationFailed</Code>" in expired.content


def test_landing_page_and_conformance(api: Api) -> None:
    landing = api.get("/stac").json()
    assert landing["type"] == "Catalog"
    assert {link["rel"] for link in landing["links"]} >= {
        "self",
        "root",
        "data",
        "conformance",
        "search",
    }
    assert (
        "https://api.stacspec.org/v1.0.0/item-search"
        in api.get("/stac/conformance").json()["conformsTo"]
    )
