"""Search over the recorded items: filters, pgstac ordering and token paging."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from local.emulator.planetary_computer.data import FixtureData, IndexedItem
from local.emulator.planetary_computer.geometry import Shape, intersects
from local.emulator.planetary_computer.search import (
    SearchError,
    SearchParams,
    SortKey,
    Token,
    parse_datetime,
    parse_post_body,
    parse_query_params,
    run_search,
)
from tests.unit.emulator_pc.recordings import recorded, recorded_ids

S2 = ("sentinel-2-l2a",)
NAIP_BBOX = (-73.21, 43.99, -73.12, 44.05)


def search(data: FixtureData, **kwargs: object) -> list[IndexedItem]:
    params = SearchParams(**{"limit": 1000, **kwargs})  # type: ignore[arg-type]
    return run_search(data, params).features


def test_items_are_the_union_of_every_recording_deduplicated(data: FixtureData) -> None:
    assert {cid: len(items) for cid, items in data.items.items()} == {
        "io-lulc": 1,
        "landsat-c2-l2": 11,
        "naip": 21,
        "sentinel-2-l2a": 290,
    }
    assert len({(i.collection, i.id) for i in data.items["sentinel-2-l2a"]}) == 290


def test_default_order_is_datetime_then_id_both_descending(data: FixtureData) -> None:
    keys = [(i.start, i.id) for i in search(data, collections=S2)]
    assert keys == sorted(keys, reverse=True)
    assert len(keys) == 290


def test_recorded_naip_pages_are_reproduced_with_their_tokens(data: FixtureData) -> None:
    page1 = run_search(data, SearchParams(limit=10, collections=("naip",), bbox=NAIP_BBOX))
    assert [i.id for i in page1.features] == recorded_ids(
        "items", "naip.search-post.page1.10-items.json"
    )
    recorded_next = recorded("items", "naip.search-post.page1.10-items.json")["links"][0]
    assert str(page1.next_token) == recorded_next["body"]["token"]
    assert page1.prev_token is None

    page2 = run_search(
        data,
        SearchParams(limit=10, collections=("naip",), bbox=NAIP_BBOX, token=page1.next_token),
    )
    assert [i.id for i in page2.features] == recorded_ids(
        "items", "naip.search-post.page2.10-items.json"
    )
    recorded_links = {
        link["rel"]: link
        for link in recorded("items", "naip.search-post.page2.10-items.json")["links"]
    }
    assert str(page2.prev_token) == recorded_links["previous"]["body"]["token"]
    # Only these 20 items are recorded over Vermont, so the emulator's result ends here.
    assert page2.next_token is None


def test_recorded_datetime_search_returns_exactly_the_recorded_items(data: FixtureData) -> None:
    found = search(
        data, collections=S2, datetime=parse_datetime("2019-01-01T00:00:01Z/2019-01-01T00:00:10Z")
    )
    assert [i.id for i in found] == recorded_ids(
        "items", "sentinel-2-l2a.search-post.datetime-2019-01-01.33-items.json"
    )


def test_recorded_landsat_items_page_and_its_next_token(data: FixtureData) -> None:
    page = run_search(data, SearchParams(limit=10, collections=("landsat-c2-l2",)))
    document = recorded("items", "landsat-c2-l2.items-get.page1.10-items.json")
    assert [i.id for i in page.features] == [f["id"] for f in document["features"]]
    next_href = next(link["href"] for link in document["links"] if link["rel"] == "next")
    assert next_href.endswith(f"&token={page.next_token}")


def test_previous_token_leads_back_to_the_first_page(data: FixtureData) -> None:
    first = run_search(data, SearchParams(limit=100, collections=S2))
    second = run_search(data, SearchParams(limit=100, collections=S2, token=first.next_token))
    back = run_search(data, SearchParams(limit=100, collections=S2, token=second.prev_token))
    assert [i.id for i in back.features] == [i.id for i in first.features]
    assert back.prev_token is None


def test_paging_visits_every_item_once(data: FixtureData) -> None:
    seen: list[str] = []
    token: Token | None = None
    while True:
        page = run_search(data, SearchParams(limit=37, collections=S2, token=token))
        seen.extend(i.id for i in page.features)
        token = page.next_token
        if token is None:
            break
    assert seen == [i.id for i in data.items["sentinel-2-l2a"]]


def test_token_of_an_unknown_item_is_refused(data: FixtureData) -> None:
    with pytest.raises(SearchError) as caught:
        run_search(data, SearchParams(limit=10, token=Token("next", "naip", "no-such-item")))
    assert caught.value.code == "InvalidQueryParameter"


def test_bbox_tests_the_footprint_not_the_items_bbox(data: FixtureData) -> None:
    # A real Sentinel-2 footprint that does not fill its bbox: a corner of the bbox lies outside it.
    target = next(
        i
        for i in data.items["sentinel-2-l2a"]
        if i.item["geometry"]["type"] == "Polygon"
        and len(i.item["geometry"]["coordinates"][0]) > 5
        and _corner_outside_footprint(i) is not None
    )
    corner = _corner_outside_footprint(target)
    assert corner is not None
    x, y = corner
    tiny = 1e-4
    outside = search(
        data, collections=S2, ids=(target.id,), bbox=(x - tiny, y - tiny, x + tiny, y + tiny)
    )
    assert outside == []
    vx, vy = target.item["geometry"]["coordinates"][0][0]
    on_vertex = search(
        data, collections=S2, ids=(target.id,), bbox=(vx - tiny, vy - tiny, vx + tiny, vy + tiny)
    )
    assert [i.id for i in on_vertex] == [target.id]


def _corner_outside_footprint(indexed: IndexedItem) -> tuple[float, float] | None:
    west, south, east, north = indexed.item["bbox"]
    assert indexed.shape is not None
    for corner in ((west, south), (east, south), (east, north), (west, north)):
        probe = Shape(points=(corner,), segments=(), polygons=())
        if not intersects(indexed.shape, probe):
            return corner
    return None


def test_antimeridian_bbox_finds_items_on_the_far_side(data: FixtureData) -> None:
    found = search(data, collections=S2, bbox=(170.0, 50.0, -170.0, 60.0))
    assert found
    assert all(i.item["bbox"][2] > 170.0 for i in found)
    assert search(data, collections=S2, bbox=(-170.0, 50.0, 170.0, 60.0)) != found


@pytest.mark.parametrize(
    ("text", "expected_count"),
    [
        ("2019-01-01T00:00:01.024Z", 33),
        ("2019-01-01T00:00:01Z/2019-01-01T00:00:10Z", 33),
        ("../2019-12-31T23:59:59Z", 34),
        ("2024-04-01T00:00:00Z/..", 255),
        ("2024-04-01T00:00:00Z/", 255),
    ],
)
def test_datetime_instants_and_open_intervals(
    data: FixtureData, text: str, expected_count: int
) -> None:
    interval = parse_datetime(text)
    found = search(data, collections=S2, datetime=interval)
    assert len(found) == expected_count
    start, end = interval
    assert all(
        (start is None or i.start >= start) and (end is None or i.start <= end) for i in found
    )


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "2024-02-11T00:00:00Z/2024-02-04T00:00:00Z",
        "../..",
        "2024-02-04T00:00:00",
        "2024-02-04",
    ],
)
def test_bad_datetimes_are_refused(text: str) -> None:
    with pytest.raises(SearchError):
        parse_datetime(text)


def test_query_extension_filters_on_properties(data: FixtureData) -> None:
    found = search(
        data,
        collections=S2,
        query={"eo:cloud_cover": {"lt": 10}, "platform": {"eq": "Sentinel-2B"}},
    )
    expected = [
        i.id
        for i in data.items["sentinel-2-l2a"]
        if i.item["properties"]["eo:cloud_cover"] < 10
        and i.item["properties"]["platform"] == "Sentinel-2B"
    ]
    assert [i.id for i in found] == expected
    assert 0 < len(found) < 290


def test_cql2_json_filter_as_the_pc_mosaics_write_it(data: FixtureData) -> None:
    low_cloud_may_2024 = {
        "op": "and",
        "args": [
            {
                "op": "anyinteracts",
                "args": [
                    {"property": "datetime"},
                    {"interval": ["2024-05-01", "2024-05-31T23:59:59Z"]},
                ],
            },
            {"op": "<=", "args": [{"property": "eo:cloud_cover"}, 10]},
        ],
    }
    found = search(data, filter=low_cloud_may_2024)
    assert found
    for i in found:
        assert i.collection == "sentinel-2-l2a"
        assert i.item["properties"]["eo:cloud_cover"] <= 10
        assert i.start.year == 2024
        assert i.start.month == 5
    negated = search(data, collections=S2, filter={"op": "not", "args": [low_cloud_may_2024]})
    assert len(found) + len(negated) == 290


def test_cql2_text_means_the_same_as_its_cql2_json(data: FixtureData) -> None:
    """The landing page declares cql2-text: GET takes it by default, POST with filter-lang."""
    text = "eo:cloud_cover <= 10 AND s2:mgrs_tile = '31XDK'"
    as_json = {
        "op": "and",
        "args": [
            {"op": "<=", "args": [{"property": "eo:cloud_cover"}, 10]},
            {"op": "=", "args": [{"property": "s2:mgrs_tile"}, "31XDK"]},
        ],
    }
    limits = {"default_limit": 250, "max_limit": 1000}
    get = parse_query_params({"collections": ["sentinel-2-l2a"], "filter": [text]}, **limits)
    post = parse_post_body(
        {"collections": ["sentinel-2-l2a"], "filter": text, "filter-lang": "cql2-text"}, **limits
    )
    expected = [i.id for i in search(data, collections=S2, filter=as_json)]
    assert expected
    assert [i.id for i in run_search(data, get).features] == expected
    assert [i.id for i in run_search(data, post).features] == expected
    with pytest.raises(SearchError):
        parse_query_params({"filter": ["eo:cloud_cover <"], "filter-lang": ["cql2-text"]}, **limits)


def test_cql2_in_like_and_spatial(data: FixtureData) -> None:
    wanted = ("vt_m_4407364_sw_18_060_20211029", "pa_m_4108053_se_17_1_20150725_20151201")
    assert {
        i.id for i in search(data, filter={"op": "in", "args": [{"property": "id"}, list(wanted)]})
    } == set(wanted)
    like = search(data, filter={"op": "like", "args": [{"property": "id"}, "pa_m_%"]})
    assert [i.id for i in like] == ["pa_m_4108053_se_17_1_20150725_20151201"]
    spatial = search(
        data,
        filter={
            "op": "s_intersects",
            "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [-73.15, 44.03]}],
        },
    )
    assert spatial
    assert all(i.collection == "naip" for i in spatial)


def test_unsupported_cql2_operator_is_a_400_not_ignored() -> None:
    with pytest.raises(SearchError) as caught:
        parse_post_body(
            {
                "filter": {
                    "op": "t_before",
                    "args": [{"property": "datetime"}, {"timestamp": "2020-01-01T00:00:00Z"}],
                }
            },
            default_limit=250,
            max_limit=1000,
        )
    assert caught.value.status == 400


def test_intersects_with_a_point_inside_a_footprint(data: FixtureData) -> None:
    item = data.by_id[("naip", "pa_m_4108053_se_17_1_20150725_20151201")]
    west, south, east, north = item.item["bbox"]
    centre = {"type": "Point", "coordinates": [(west + east) / 2, (south + north) / 2]}
    assert [i.id for i in search(data, collections=("naip",), intersects=centre)] == [item.id]


def test_sortby_ascending_cloud_cover(data: FixtureData) -> None:
    found = search(data, collections=S2, sortby=(SortKey("properties.eo:cloud_cover", False),))
    covers = [i.item["properties"]["eo:cloud_cover"] for i in found]
    assert covers == sorted(covers)
    assert covers[0] < covers[-1]


def test_unknown_collection_gives_an_empty_result(data: FixtureData) -> None:
    assert search(data, collections=("no-such-collection",)) == []


def test_empty_lists_constrain_nothing() -> None:
    params = parse_post_body({"collections": [], "ids": []}, default_limit=250, max_limit=1000)
    assert (params.collections, params.ids) == (None, None)
    params = parse_query_params({"collections": [""]}, default_limit=250, max_limit=1000)
    assert params.collections is None


def test_get_and_post_parameters_mean_the_same() -> None:
    get = parse_query_params(
        {
            "collections": ["sentinel-2-l2a,naip"],
            "bbox": ["8.0,79.5,16.0,80.2"],
            "datetime": ["2024-05-10T00:00:00Z/2024-05-20T23:59:59Z"],
            "limit": ["7"],
            "sortby": ["-properties.datetime,+id"],
            "filter": ['{"op":"<=","args":[{"property":"eo:cloud_cover"},10]}'],
            "filter-lang": ["cql2-json"],
        },
        default_limit=250,
        max_limit=1000,
    )
    post = parse_post_body(
        {
            "collections": ["sentinel-2-l2a", "naip"],
            "bbox": [8.0, 79.5, 16.0, 80.2],
            "datetime": "2024-05-10T00:00:00Z/2024-05-20T23:59:59Z",
            "limit": 7,
            "sortby": [
                {"field": "properties.datetime", "direction": "desc"},
                {"field": "id", "direction": "asc"},
            ],
            "filter": {"op": "<=", "args": [{"property": "eo:cloud_cover"}, 10]},
        },
        default_limit=250,
        max_limit=1000,
    )
    assert get == post
    assert get.datetime == (
        datetime(2024, 5, 10, tzinfo=UTC),
        datetime(2024, 5, 20, 23, 59, 59, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("given", "expected"), [(None, 250), ("1", 1), ("1000", 1000), ("5000", 1000)]
)
def test_limit_defaults_and_is_cropped_to_the_maximum(given: str | None, expected: int) -> None:
    params = parse_query_params(
        {"limit": [given]} if given else {}, default_limit=250, max_limit=1000
    )
    assert params.limit == expected


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 0},
        {"limit": "many"},
        {"bbox": [1, 2, 3]},
        {"bbox": [0, 10, 1, 5]},
        {"bbox": [0, 0, 1, 1], "intersects": {"type": "Point", "coordinates": [0, 0]}},
        {"collections": "sentinel-2-l2a"},
        {"token": "later"},
        {"fields": {"include": ["id"]}},
        {"filter-lang": "cql2-text", "filter": "eo:cloud_cover <"},
        {"filter-lang": "cql2-text", "filter": {"op": "<", "args": [{"property": "a"}, 1]}},
        {"filter-lang": "ecql", "filter": "eo:cloud_cover < 10"},
        {"query": {"eo:cloud_cover": {"about": 10}}},
        {"intersects": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}},
    ],
)
def test_invalid_search_bodies_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(SearchError) as caught:
        parse_post_body(body, default_limit=250, max_limit=1000)
    assert caught.value.status == 400
