"""`items` (inline) and `item-urls` sources: offset cursors, one bad URL is one bad item."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from shared.settings import Settings
from shared.sources import ItemReadCode, SourceThrottled, open_reader
from shared.sources.http import HOST_GIVE_UPS_BEFORE_SINGLE_TRY, RETRY_PAUSES
from shared.sources.specs import InlineItemsSource, ItemUrlsSource
from tests.unit.sources.conftest import (
    ITEMS,
    PC,
    Web,
    json_reply,
    load_json,
    make_settings,
    roundtrip,
)

NAIP_URL = f"{PC}/collections/naip/items/pa_m_4108053_se_17_1_20150725_20151201"
S2_URL = (
    f"{PC}/collections/sentinel-2-l2a/items/S2B_MSIL2A_20220612T182919_R027_T24XWR_20220613T123251"
)


S2_FILE = "sentinel-2-l2a.S2B_MSIL2A_20220612T182919_R027_T24XWR_20220613T123251.json"


def inline(n: int) -> list[dict[str, Any]]:
    return [{"type": "Feature", "id": f"i{k}"} for k in range(n)]


def test_inline_items_paged_by_offset(session: requests.Session, settings: Settings) -> None:
    loads: list[int] = []
    items = inline(7)

    def load() -> list[dict[str, Any]]:
        loads.append(1)
        return items

    reader = open_reader(
        InlineItemsSource(items=()), session=session, settings=settings, inline_items=load
    )
    seen: list[Any] = []
    cursor: dict[str, Any] | None = None
    cursors = []
    while True:
        page = reader.read_page(roundtrip(cursor), 3)
        seen += [raw.item for raw in page.items]
        cursors.append(page.next_cursor)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == items
    assert cursors == [{"offset": 3}, {"offset": 6}, None]
    assert len(loads) == 1  # read back once per reader, not once per page


def test_inline_items_from_the_source_itself(session: requests.Session, settings: Settings) -> None:
    items = tuple(inline(2))
    page = open_reader(
        InlineItemsSource(items=items), session=session, settings=settings
    ).read_page(None, 5)
    assert [raw.item for raw in page.items] == list(items)
    assert page.next_cursor is None


@pytest.mark.parametrize(
    "cursor", [{}, {"offset": -1}, {"offset": 8}, {"offset": "2"}, {"offset": True}, {"stack": []}]
)
def test_inline_bad_cursor(
    session: requests.Session, settings: Settings, cursor: dict[str, Any]
) -> None:
    reader = open_reader(
        InlineItemsSource(items=tuple(inline(7))), session=session, settings=settings
    )
    with pytest.raises(ValueError, match="cursor"):
        reader.read_page(cursor, 3)


def test_item_urls_one_404_is_one_failed_entry(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    naip = load_json(ITEMS / "naip.pa_m_4108053_se_17_1_20150725_20151201.json")
    s2 = load_json(
        ITEMS / "sentinel-2-l2a.S2B_MSIL2A_20220612T182919_R027_T24XWR_20220613T123251.json"
    )
    web.route("GET", NAIP_URL, naip)
    web.route("GET", S2_URL, s2)
    gone = f"{PC}/collections/naip/items/does-not-exist"
    urls = (NAIP_URL, f"{gone}?sig=secret", S2_URL)

    reader = open_reader(ItemUrlsSource(urls=urls), session=session, settings=settings)
    first = reader.read_page(None, 2)
    second = reader.read_page(roundtrip(first.next_cursor), 2)

    assert first.next_cursor == {"offset": 2}
    assert second.next_cursor is None
    entries = first.items + second.items
    assert [raw.error_code for raw in entries] == [None, ItemReadCode.NOT_FOUND, None]
    assert entries[0].item == naip
    assert entries[0].url == NAIP_URL
    assert entries[1].url == gone  # shown without its query string
    assert entries[1].error_message is not None
    assert "HTTP 404" in entries[1].error_message
    assert "secret" not in entries[1].error_message
    assert entries[2].item == s2


def test_item_url_not_json_and_not_allowed(web: Web, session: requests.Session) -> None:
    web.route("GET", NAIP_URL, lambda _call: (200, {}, "not json"))
    # the allow-list changed since the request was accepted: checked again, nothing fetched
    settings = make_settings("planetarycomputer.microsoft.com")
    urls = (NAIP_URL, "https://acct.blob.core.windows.net/c/item.json")
    page = open_reader(ItemUrlsSource(urls=urls), session=session, settings=settings).read_page(
        None, 10
    )
    assert [raw.error_code for raw in page.items] == [
        ItemReadCode.NOT_JSON,
        ItemReadCode.URL_NOT_ALLOWED,
    ]
    assert [c.base for c in web.calls] == [NAIP_URL]


def test_item_url_relative_hrefs_made_absolute(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    url = "https://acct.blob.core.windows.net/c/items/x/x.json"
    web.route(
        "GET",
        url,
        {
            "type": "Feature",
            "id": "x",
            "assets": {"data": {"href": "./x.tif"}, "meta": {"href": "../meta/x.xml"}},
        },
    )
    (raw,) = (
        open_reader(ItemUrlsSource(urls=(url,)), session=session, settings=settings)
        .read_page(None, 1)
        .items
    )
    assert raw.item["assets"] == {  # type: ignore[index]
        "data": {"href": "https://acct.blob.core.windows.net/c/items/x/x.tif"},
        "meta": {"href": "https://acct.blob.core.windows.net/c/items/meta/x.xml"},
    }


def test_item_url_not_an_item_is_passed_on_for_validation(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    # Whether it is a STAC Item is item preparation's call (it records InvalidStacItem).
    web.route("GET", NAIP_URL, {"type": "Catalog"})
    (raw,) = (
        open_reader(ItemUrlsSource(urls=(NAIP_URL,)), session=session, settings=settings)
        .read_page(None, 1)
        .items
    )
    assert raw.ok
    assert raw.item == {"type": "Catalog"}


def test_item_url_throttled_fails_the_page_to_be_read_again_later(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    web.route("GET", NAIP_URL, lambda _call: (429, {"Retry-After": "2"}, ""))
    reader = open_reader(ItemUrlsSource(urls=(NAIP_URL,)), session=session, settings=settings)
    with pytest.raises(SourceThrottled) as caught:
        reader.read_page(None, 1)
    assert caught.value.retry_after == 2.0


def _down(status: int | None) -> Any:
    if status is None:
        return lambda _call: (_ for _ in ()).throw(requests.ConnectionError("refused"))
    return lambda _call: (status, {}, "")


@pytest.mark.parametrize(("status", "said"), [(503, "HTTP 503"), (None, "ConnectionError")])
def test_item_url_that_stays_down_costs_only_its_item_after_three_tries(
    web: Web, session: requests.Session, settings: Settings, status: int | None, said: str
) -> None:
    web.route("GET", NAIP_URL, _down(status))
    web.route("GET", S2_URL, load_json(ITEMS / S2_FILE))
    pauses: list[float] = []
    reader = open_reader(
        ItemUrlsSource(urls=(NAIP_URL, S2_URL)),
        session=session,
        settings=settings,
        pause=pauses.append,
    )

    page = reader.read_page(None, 10)

    down, good = page.items
    assert down.error_code == ItemReadCode.UNREADABLE
    assert down.url == NAIP_URL
    assert said in (down.error_message or "")
    assert "3 tries" in (down.error_message or "")
    assert good.ok
    assert len(web.calls_to(NAIP_URL)) == 3
    assert pauses == list(RETRY_PAUSES)
    assert page.problems == ()


def test_item_url_down_once_is_read_on_the_next_try(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    document = load_json(ITEMS / S2_FILE)
    answers = iter([(502, {}, ""), json_reply(document)])
    web.route("GET", S2_URL, lambda _call: next(answers))
    pauses: list[float] = []
    reader = open_reader(
        ItemUrlsSource(urls=(S2_URL,)), session=session, settings=settings, pause=pauses.append
    )
    (raw,) = reader.read_page(None, 1).items
    assert raw.ok
    assert pauses == [RETRY_PAUSES[0]]


def test_a_host_that_is_down_costs_one_try_per_url_after_a_few(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    urls = tuple(f"{PC}/collections/naip/items/dead-{n}" for n in range(6))
    for url in urls:
        web.route("GET", url, _down(503))
    reader = open_reader(
        ItemUrlsSource(urls=urls), session=session, settings=settings, pause=lambda _s: None
    )
    page = reader.read_page(None, 10)
    assert [raw.error_code for raw in page.items] == [ItemReadCode.UNREADABLE] * 6
    tries = [len(web.calls_to(url)) for url in urls]
    given_up = HOST_GIVE_UPS_BEFORE_SINGLE_TRY
    assert tries == [3] * given_up + [1] * (6 - given_up)
    assert "1 try" in (page.items[-1].error_message or "")
