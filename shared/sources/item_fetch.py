"""Reading one item document by URL (static catalogs, item-urls).

A URL that is missing, refused, not JSON, or whose server keeps failing (5xx, connection, timeout,
on every one of a few tries) spoils that one item, not the source: it comes back as a failed
`RawItem` for the planner to record as invalid. Throttling (429) still raises, so the page is
read again after the delay the source asked for.
"""

from __future__ import annotations

from typing import Any

from shared.outbound.urls import absolute_href, display_url
from shared.sources.base import ItemReadCode, RawItem
from shared.sources.errors import SourceInvalid, SourceUnavailable
from shared.sources.http import SourceHttp, decode_json


def read_item_url(http: SourceHttp, url: str, *, fetch_url: str | None = None) -> RawItem:
    """Read the item at `url` (fetching `fetch_url` when given, e.g. `url` plus a catalog's SAS).

    Relative asset and link hrefs are made absolute against `url`: GeoCatalog needs absolute hrefs
    and the item's own location is the only base that makes sense for them.
    """
    shown = display_url(url)
    problem = http.check(url)
    if problem is not None:
        return RawItem.failed(shown, ItemReadCode.URL_NOT_ALLOWED, f"{shown}: URL {problem}")
    try:
        response = http.get_retrying(fetch_url or url)
    except SourceInvalid as exc:
        # Only an item-level refusal here (a redirect off the allow-list, a malformed URL).
        return RawItem.failed(shown, ItemReadCode.UNREADABLE, str(exc))
    except SourceUnavailable as exc:
        return RawItem.failed(shown, ItemReadCode.UNREADABLE, str(exc))
    if response.status_code in (404, 410):
        return RawItem.failed(
            shown, ItemReadCode.NOT_FOUND, f"{shown}: HTTP {response.status_code}"
        )
    if not 200 <= response.status_code < 300:
        return RawItem.failed(
            shown, ItemReadCode.UNREADABLE, f"{shown}: HTTP {response.status_code}"
        )
    try:
        document = decode_json(response, url)
    except SourceInvalid as exc:
        return RawItem.failed(shown, ItemReadCode.NOT_JSON, str(exc))
    absolutise_hrefs(document, url)
    return RawItem(item=document, url=shown)


def absolutise_hrefs(item: object, base_url: str) -> None:
    """Resolve relative `assets.*.href` and `links[].href` of `item` in place against `base_url`."""
    if not isinstance(item, dict):
        return
    base = display_url(base_url)
    assets = item.get("assets")
    if isinstance(assets, dict):
        for asset in assets.values():
            _resolve(asset, base)
    links = item.get("links")
    if isinstance(links, list):
        for link in links:
            _resolve(link, base)


def _resolve(entry: Any, base: str) -> None:
    if isinstance(entry, dict):
        href = entry.get("href")
        if isinstance(href, str) and href:
            entry["href"] = absolute_href(base, href)
