"""static-catalog: depth-first walk over HTTP, page by page, from serialised cursors."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from shared.settings import Settings
from shared.sources import (
    MAX_CURSOR_BYTES,
    ItemReadCode,
    SourceInvalid,
    SourcePage,
    SourceUnavailable,
    open_reader,
)
from shared.sources.base import SourceProblemCode, cursor_size
from shared.sources.http import RETRY_PAUSES
from shared.sources.specs import StaticCatalogSource
from shared.sources.static_catalog import MAX_CATALOGS_PER_PAGE, MAX_DEPTH
from tests.unit.sources.conftest import STATIC, Call, Reply, Web, json_reply, roundtrip

BASE = "https://acct.blob.core.windows.net/catalogs/naip-sea/"
NAIP = STATIC / "mpcpro-sample-naip-sea"
SAS = "sv=2024-05-04&se=2030-01-01T00%3A00%3A00Z&sr=c&sp=rl&sig=not-a-real-signature"


def walk(
    url: str,
    limit: int,
    session: requests.Session,
    settings: Settings,
    *,
    max_pages: int = 1000,
    pauses: list[float] | None = None,
) -> list[SourcePage]:
    """Every page of the source, each read by a fresh reader from the serialised cursor.

    Nothing sleeps: the waits between tries of a failing document are recorded in `pauses`."""
    pages: list[SourcePage] = []
    cursor: dict[str, Any] | None = None
    waits = pauses if pauses is not None else []
    for _ in range(max_pages):
        reader = open_reader(
            StaticCatalogSource(url=url), session=session, settings=settings, pause=waits.append
        )
        page = reader.read_page(roundtrip(cursor), limit)
        pages.append(page)
        if page.next_cursor is None:
            return pages
        assert cursor_size(page.next_cursor) <= MAX_CURSOR_BYTES
        cursor = page.next_cursor
    raise AssertionError("the walk did not end")


def catalog(*links: tuple[str, str], kind: str = "Catalog") -> dict[str, Any]:
    return {
        "type": kind,
        "id": "c",
        "stac_version": "1.0.0",
        "description": "d",
        "links": [{"rel": rel, "href": href} for rel, href in links],
    }


def item(item_id: str, **assets: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": item_id,
        "geometry": None,
        "properties": {"datetime": "2024-01-01T00:00:00Z"},
        "links": [{"rel": "root", "href": "../catalog.json"}],
        "assets": {key: {"href": href} for key, href in assets.items()},
    }


# --- the real NAIP sample catalog ---------------------------------------------------------


def test_naip_sample_page_by_page_every_item_once(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    web.serve_dir(BASE, NAIP)
    expected = sorted(p.name for p in NAIP.iterdir() if p.is_dir() and p.name.startswith("wa_"))
    assert len(expected) == 24

    pages = walk(f"{BASE}catalog.json?{SAS}", 5, session, settings)

    assert [len(p.items) for p in pages] == [5, 5, 5, 5, 4]
    ids = [raw.item["id"] for p in pages for raw in p.items]  # type: ignore[index]
    assert sorted(ids) == expected  # all 24, none twice
    catalog_order = [
        link["href"].split("/")[1]
        for link in json.loads((NAIP / "catalog.json").read_text())["links"]
        if link["rel"] == "item"
    ]
    assert ids == catalog_order  # document order
    for page in pages[:-1]:
        assert page.next_cursor is not None
        assert cursor_size(page.next_cursor) < 64
    # the index counts child and item links only (root and collection links are not walked)
    assert pages[0].next_cursor == {"stack": [["catalog.json", 5]]}


def test_naip_sample_broken_links_never_followed_and_sas_kept_out_of_results(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    web.serve_dir(BASE, NAIP)
    pages = walk(f"{BASE}catalog.json?{SAS}", 10, session, settings)

    fetched = [c.base for c in web.calls]
    # only the root (read again by each of the 3 pages) and the 24 items, each once: no
    # ./catalog.json next to an item, no collection link
    assert len(fetched) == 3 + 24
    assert len(set(fetched)) == 1 + 24
    assert fetched.count(f"{BASE}catalog.json") == 3
    assert all(u == f"{BASE}catalog.json" or u.count("/") == BASE.count("/") + 1 for u in fetched)
    assert not any(u.endswith("/naip/collection.json") for u in fetched)
    # every fetch on the catalog's host carried its SAS
    assert all(parse_qs(urlsplit(c.url).query).get("sig") for c in web.calls)
    # ... and nothing the planner keeps does
    for page in pages:
        assert "sig" not in json.dumps(page.next_cursor)
        for raw in page.items:
            assert raw.ok
            assert raw.url is not None
            assert raw.url.startswith(BASE)
            assert "?" not in raw.url
            assert "sig=" not in json.dumps(raw.item)


def test_fixed_limit_pages_read_at_most_limit_items(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    web.serve_dir(BASE, NAIP)
    pages = walk(f"{BASE}catalog.json", 24, session, settings)
    assert [len(p.items) for p in pages] == [24]
    assert pages[0].next_cursor is None  # known finished: no empty extra page


# --- relative hrefs, nesting, loops --------------------------------------------------------


@pytest.fixture
def nested(web: Web) -> str:
    root = "https://acct.blob.core.windows.net/stac/root/"
    docs: dict[str, Any] = {
        "catalog.json": catalog(
            ("root", "./catalog.json"),
            ("child", "./sub/collection.json"),
            ("item", "./loose/loose.json"),
            ("child", "../other/catalog.json"),
            ("parent", "../nowhere.json"),
        ),
        "sub/collection.json": catalog(
            ("parent", "../catalog.json"),
            ("item", "a1/a1.json"),
            ("child", "../catalog.json"),  # a loop back to the root
            ("child", "deeper/catalog.json"),
            ("item", "/stac/root/sub/a2.json"),
            kind="Collection",
        ),
        "sub/deeper/catalog.json": catalog(("item", "d1.json"), ("item", "d2.json")),
        "sub/a1/a1.json": item(
            "a1", data="./a1.tif", thumb="../../shared/thumb.png", abs="https://x.example/a.tif"
        ),
        "sub/a2.json": item("a2", data="a2.tif"),
        "sub/deeper/d1.json": item("d1", data="d1.tif"),
        "sub/deeper/d2.json": item("d2", data="d2.tif"),
        "loose/loose.json": item("loose", data="data/loose.tif"),
        "../other/catalog.json": catalog(("item", "o1.json"), ("item", "o2.json")),
        "../other/o1.json": item("o1", data="o1.tif"),
        "../other/o2.json": item("o2", data="o2.tif"),
    }

    def serve(_call: Call, rest: str) -> Reply:
        if rest in docs:
            return json_reply(docs[rest])
        return json_reply({"detail": "Not Found"}, 404)

    web.serve_prefix(root, serve)
    other = "https://acct.blob.core.windows.net/stac/other/"
    web.serve_prefix(other, lambda call, rest: serve(call, "../other/" + rest))
    return root


def test_nested_catalog_depth_first_with_relative_hrefs_resolved(
    web: Web, nested: str, session: requests.Session, settings: Settings
) -> None:
    pages = walk(f"{nested}catalog.json", 2, session, settings)
    items = [raw for p in pages for raw in p.items]
    assert [raw.item["id"] for raw in items] == ["a1", "d1", "d2", "a2", "loose", "o1", "o2"]  # type: ignore[index]
    by_id = {raw.item["id"]: raw for raw in items}  # type: ignore[index]

    a1 = by_id["a1"]
    assert a1.url == f"{nested}sub/a1/a1.json"
    assert a1.item["assets"] == {  # type: ignore[index]
        "data": {"href": f"{nested}sub/a1/a1.tif"},
        "thumb": {"href": f"{nested}shared/thumb.png"},
        "abs": {"href": "https://x.example/a.tif"},
    }
    assert a1.item["links"] == [{"rel": "root", "href": f"{nested}sub/catalog.json"}]  # type: ignore[index]
    assert by_id["loose"].item["assets"]["data"]["href"] == f"{nested}loose/data/loose.tif"  # type: ignore[index]
    assert by_id["o1"].url == "https://acct.blob.core.windows.net/stac/other/o1.json"

    fetched = {c.base for c in web.calls}
    assert f"{nested}../nowhere.json" not in fetched
    assert "https://acct.blob.core.windows.net/stac/nowhere.json" not in fetched
    # the loop back to the root was not walked twice
    assert sum(1 for p in pages for raw in p.items if raw.item["id"] == "loose") == 1  # type: ignore[index]


def test_cursor_frames_are_relative_to_the_frame_above(
    web: Web, nested: str, session: requests.Session, settings: Settings
) -> None:
    pages = walk(f"{nested}catalog.json", 1, session, settings)
    cursors = [p.next_cursor for p in pages if p.next_cursor]
    assert cursors[0] == {"stack": [["catalog.json", 1], ["sub/collection.json", 1]]}
    assert {
        "stack": [["catalog.json", 1], ["sub/collection.json", 3], ["deeper/catalog.json", 1]]
    } in cursors
    # a catalog outside the folder of the one above it is stored absolute
    assert {
        "stack": [
            ["catalog.json", 3],
            ["https://acct.blob.core.windows.net/stac/other/catalog.json", 1],
        ]
    } in cursors
    assert all(cursor_size(c) < 200 for c in cursors)


# --- broken entries ------------------------------------------------------------------------


ROOT = "https://acct.blob.core.windows.net/c/catalog.json"


def test_missing_or_broken_items_are_failed_entries_not_failures(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    web.route(
        "GET",
        ROOT,
        catalog(
            ("item", "gone.json"),
            ("item", "html.json"),
            ("item", "https://evil.example/i.json"),
            ("item", "ok.json"),
        ),
    )
    web.route(
        "GET", "https://acct.blob.core.windows.net/c/html.json", lambda _c: (200, {}, "<html>")
    )
    web.route("GET", "https://acct.blob.core.windows.net/c/ok.json", item("ok", data="x.tif"))

    (page,) = walk(ROOT, 10, session, settings)

    assert [(raw.error_code, raw.url) for raw in page.items] == [
        (ItemReadCode.NOT_FOUND, "https://acct.blob.core.windows.net/c/gone.json"),
        (ItemReadCode.NOT_JSON, "https://acct.blob.core.windows.net/c/html.json"),
        (ItemReadCode.URL_NOT_ALLOWED, "https://evil.example/i.json"),
        (None, "https://acct.blob.core.windows.net/c/ok.json"),
    ]
    assert all(raw.item is None for raw in page.items[:3])
    assert not [c for c in web.calls if "evil" in c.url]


def _reply(answer: Any) -> Any:
    if isinstance(answer, int):
        return lambda _call: json_reply({"detail": "no"}, answer)
    if isinstance(answer, str):
        return lambda _call: (200, {"Content-Type": "text/html"}, answer)
    return answer


@pytest.mark.parametrize(
    ("child", "answer", "message"),
    [
        ("sub.json", 404, "HTTP 404"),
        ("sub.json", 403, "HTTP 403"),
        ("sub.json", "<html>moved</html>", "not JSON"),
        ("sub.json", item("x", data="a.tif"), "not a STAC Catalog"),
        ("https://evil.example/sub.json", None, "not in the allowed"),
    ],
)
def test_broken_child_catalog_is_skipped_and_reported_and_its_siblings_read(
    web: Web, session: requests.Session, settings: Settings, child: str, answer: Any, message: str
) -> None:
    web.route(
        "GET",
        ROOT,
        catalog(("item", "a.json"), ("child", child), ("child", "good.json"), ("item", "b.json")),
    )
    if answer is not None:
        web.route("GET", "https://acct.blob.core.windows.net/c/sub.json", _reply(answer))
    web.route("GET", "https://acct.blob.core.windows.net/c/good.json", catalog(("item", "g.json")))
    for name in ("a", "b", "g"):
        web.route(
            "GET", f"https://acct.blob.core.windows.net/c/{name}.json", item(name, data="x.tif")
        )
    pauses: list[float] = []

    pages = walk(ROOT, 2, session, settings, pauses=pauses)

    ids = [raw.item["id"] for p in pages for raw in p.items]  # type: ignore[index]
    assert ids == ["a", "g", "b"]
    problems = [problem for p in pages for problem in p.problems]
    assert len(problems) == 1
    assert problems[0].code == SourceProblemCode.LINK_BROKEN
    assert problems[0].url == urljoin(ROOT, child)
    assert message in problems[0].message
    # The item already read on the page with the broken link is on that same page.
    assert [raw.item["id"] for raw in pages[0].items] == ["a", "g"]  # type: ignore[index]
    assert pages[0].problems == tuple(problems)
    assert pauses == []  # a refusal is not tried again
    assert not [c for c in web.calls if "evil" in c.url]


def test_child_catalog_that_keeps_failing_is_tried_three_times_then_reported(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    sub = "https://acct.blob.core.windows.net/c/sub.json?sv=secret"
    web.route("GET", ROOT, catalog(("child", sub), ("item", "a.json")))
    web.route("GET", sub.split("?")[0], lambda _call: json_reply({}, 503))
    web.route("GET", "https://acct.blob.core.windows.net/c/a.json", item("a", data="x.tif"))
    pauses: list[float] = []

    (page,) = walk(ROOT, 10, session, settings, pauses=pauses)

    assert [raw.item["id"] for raw in page.items] == ["a"]  # type: ignore[index]
    (problem,) = page.problems
    assert problem.code == SourceProblemCode.LINK_UNAVAILABLE
    assert problem.url == "https://acct.blob.core.windows.net/c/sub.json"
    assert "HTTP 503" in problem.message
    assert "3 tries" in problem.message
    assert "secret" not in repr(problem)
    assert len(web.calls_to("https://acct.blob.core.windows.net/c/sub.json")) == 3
    assert pauses == list(RETRY_PAUSES)


def test_child_catalog_that_fails_once_is_read_on_the_next_try(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    answers = iter([(503, {}, ""), json_reply(catalog(("item", "a.json")))])
    web.route("GET", ROOT, catalog(("child", "sub.json")))
    web.route("GET", "https://acct.blob.core.windows.net/c/sub.json", lambda _call: next(answers))
    web.route("GET", "https://acct.blob.core.windows.net/c/a.json", item("a", data="x.tif"))
    pauses: list[float] = []

    (page,) = walk(ROOT, 10, session, settings, pauses=pauses)

    assert [raw.item["id"] for raw in page.items] == ["a"]  # type: ignore[index]
    assert page.problems == ()
    assert pauses == [RETRY_PAUSES[0]]


def test_item_link_that_keeps_failing_is_one_unreadable_entry(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    web.route("GET", ROOT, catalog(("item", "down.json"), ("item", "a.json")))
    web.route(
        "GET",
        "https://acct.blob.core.windows.net/c/down.json",
        lambda _call: (_ for _ in ()).throw(requests.ConnectionError("refused")),
    )
    web.route("GET", "https://acct.blob.core.windows.net/c/a.json", item("a", data="x.tif"))

    (page,) = walk(ROOT, 10, session, settings)

    down, good = page.items
    assert down.error_code == ItemReadCode.UNREADABLE
    assert "ConnectionError" in (down.error_message or "")
    assert good.ok
    assert page.problems == ()


@pytest.mark.parametrize("status", [404, 403, 503])
def test_root_that_cannot_be_read_fails_the_source(
    web: Web, session: requests.Session, settings: Settings, status: int
) -> None:
    web.route("GET", ROOT, lambda _call: json_reply({}, status))
    error = SourceUnavailable if status >= 500 else SourceInvalid
    with pytest.raises(error, match=f"HTTP {status}"):
        walk(ROOT, 10, session, settings)


@pytest.mark.parametrize(
    "root", [item("x", data="a.tif"), {"type": "FeatureCollection", "features": []}, []]
)
def test_root_must_be_a_catalog(
    web: Web, session: requests.Session, settings: Settings, root: Any
) -> None:
    web.route("GET", ROOT, root)
    with pytest.raises(SourceInvalid, match="not a STAC Catalog"):
        walk(ROOT, 10, session, settings)


def test_pre_1_0_catalog_without_type_is_walked(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    old = catalog(("item", "ok.json"))
    del old["type"]
    web.route("GET", ROOT, old)
    web.route("GET", "https://acct.blob.core.windows.net/c/ok.json", item("ok", data="x.tif"))
    (page,) = walk(ROOT, 10, session, settings)
    assert [raw.item["id"] for raw in page.items] == ["ok"]  # type: ignore[index]


# --- size: wide, deep, and sparse catalogs -------------------------------------------------


def generated(web: Web, prefix: str, document: Any) -> None:
    web.serve_prefix(prefix, lambda call, rest: json_reply(document(rest)))


def test_cursor_stays_tiny_for_100000_items(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    prefix = "https://acct.blob.core.windows.net/wide/"
    root = catalog(*[("item", f"items/{n}.json") for n in range(100_000)])
    generated(
        web,
        prefix,
        lambda rest: (
            root if rest == "catalog.json" else item(rest.split("/")[-1][:-5], data="a.tif")
        ),
    )
    reader = open_reader(
        StaticCatalogSource(url=f"{prefix}catalog.json"), session=session, settings=settings
    )

    first = reader.read_page(None, 100)
    assert first.next_cursor == {"stack": [["catalog.json", 100]]}
    web.calls.clear()
    second = reader.read_page(roundtrip({"stack": [["catalog.json", 99_950]]}), 100)
    assert [raw.item["id"] for raw in second.items][:2] == ["99950", "99951"]  # type: ignore[index]
    assert len(second.items) == 50
    assert second.next_cursor is None
    assert len(web.calls) == 1 + 50  # the root once, then one request per item


def test_deep_catalog_walks_and_bounds_the_cursor(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    prefix = "https://acct.blob.core.windows.net/deep/"
    depth = MAX_DEPTH - 1

    def document(rest: str) -> Any:
        level = rest.count("/")
        if rest.endswith("item.json"):
            return item(f"item-{level}", data="a.tif")
        links = [("item", "item.json")]
        if level < depth - 1:
            links.append(("child", f"level-{level + 1}-with-a-longer-folder-name/catalog.json"))
        return catalog(*links)

    generated(web, prefix, document)
    pages = walk(f"{prefix}catalog.json", 1, session, settings)
    ids = [raw.item["id"] for p in pages for raw in p.items]  # type: ignore[index]
    assert ids == [f"item-{n}" for n in range(depth)]
    # 23 nested folders of 40-odd characters: the last item's URL alone is about 1 KB
    largest = max(cursor_size(p.next_cursor) for p in pages if p.next_cursor)
    assert largest < 1500


def test_too_deep_catalog_is_walked_to_the_bound_and_the_rest_reported(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    prefix = "https://acct.blob.core.windows.net/abyss/"
    generated(web, prefix, lambda rest: catalog(("child", f"d{rest.count('/')}/catalog.json")))
    pages = walk(f"{prefix}catalog.json", 5, session, settings)
    (problem,) = [problem for p in pages for problem in p.problems]
    assert problem.code == SourceProblemCode.LINK_BROKEN
    assert "deeper than" in problem.message


def test_many_empty_subcatalogs_bound_the_work_of_one_page(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    prefix = "https://acct.blob.core.windows.net/sparse/"
    root = catalog(
        *[("child", f"empty-{n}/catalog.json") for n in range(300)], ("item", "last.json")
    )

    def document(rest: str) -> Any:
        if rest == "catalog.json":
            return root
        if rest == "last.json":
            return item("last", data="a.tif")
        return catalog()

    generated(web, prefix, document)
    pages: list[SourcePage] = []
    cursor: dict[str, Any] | None = None
    while True:
        before = len(web.calls)
        page = open_reader(
            StaticCatalogSource(url=f"{prefix}catalog.json"), session=session, settings=settings
        ).read_page(roundtrip(cursor), 10)
        assert len(web.calls) - before <= MAX_CATALOGS_PER_PAGE + 2
        pages.append(page)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [raw.item["id"] for p in pages for raw in p.items] == ["last"]  # type: ignore[index]
    assert len(pages) > 1


@pytest.mark.parametrize(
    "cursor",
    [
        {},
        {"stack": "catalog.json"},
        {"stack": [["catalog.json"]]},
        {"stack": [["catalog.json", -1]]},
        {"offset": 3},
    ],
)
def test_foreign_cursor_is_a_value_error(
    web: Web, session: requests.Session, settings: Settings, cursor: dict[str, Any]
) -> None:
    reader = open_reader(StaticCatalogSource(url=ROOT), session=session, settings=settings)
    with pytest.raises(ValueError, match="cursor"):
        reader.read_page(cursor, 5)
    assert web.calls == []
