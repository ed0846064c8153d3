"""Item sources: read a source page by page, with a small cursor a queue message can carry.

`open_source(source, ...)` gives an `ItemSource` for any source spec (`shared.sources.specs`);
`read_page(cursor, limit)` returns a `SourcePage` of `RawItem`s and the cursor of the next page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import requests

from shared.settings import Settings
from shared.sources.base import (
    MAX_CURSOR_BYTES,
    Cursor,
    ItemReadCode,
    ItemSource,
    RawItem,
    SourcePage,
)
from shared.sources.errors import SourceError, SourceInvalid, SourceThrottled, SourceUnavailable
from shared.sources.specs import (
    InlineItemsSource,
    ItemUrlsSource,
    SourceSpec,
    StacSearchSource,
    StaticCatalogSource,
)


def open_source(
    source: SourceSpec,
    *,
    session: requests.Session,
    settings: Settings,
    inline_items: Callable[[], Sequence[object]] | None = None,
    pause: Callable[[float], None] = time.sleep,
) -> ItemSource:
    """The reader for `source`; no request is made until the first `read_page`.

    `inline_items` supplies the items of an `items` source (they are stored apart from the job);
    without it the items carried by the source object itself are used. `pause` waits between
    the tries of a document whose server failed (tests pass one that does not sleep).
    """
    # The readers are imported on use: the HTTP function that validates requests (and imports
    # the specs above) should not pay for importing pystac-client.
    from shared.sources.http import SourceHttp
    from shared.sources.lists import InlineItemSource
    from shared.sources.lists import ItemUrlsSource as ItemUrlsReader

    http = SourceHttp(session, settings, pause=pause)
    if isinstance(source, StacSearchSource):
        from shared.sources.stac_search import StacSearchItemSource

        return StacSearchItemSource(source, http, session)
    if isinstance(source, StaticCatalogSource):
        from shared.sources.static_catalog import StaticCatalogItemSource

        return StaticCatalogItemSource(source, http)
    if isinstance(source, InlineItemsSource):
        items = source.items
        return InlineItemSource(inline_items if inline_items is not None else (lambda: items))
    if isinstance(source, ItemUrlsSource):
        return ItemUrlsReader(source.urls, http)
    raise TypeError(f"unknown source type {type(source).__name__}")


__all__ = [
    "MAX_CURSOR_BYTES",
    "Cursor",
    "ItemReadCode",
    "ItemSource",
    "RawItem",
    "SourceError",
    "SourceInvalid",
    "SourcePage",
    "SourceThrottled",
    "SourceUnavailable",
    "open_source",
]
