"""Item sources: what a job reads its items from (the specs) and how (the readers).

A source spec (`shared.sources.specs`: `stac-search`, `static-catalog`, `items`, `item-urls`) is
the validated request member; `open_reader(spec, ...)` gives the `SourceReader` for it, whose
`read_page(cursor, limit)` returns a `SourcePage` of `RawItem`s and the cursor of the next page
(small enough for a queue message). Readers fetch through `SourceHttp` only.
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
    RawItem,
    SourcePage,
    SourceReader,
)
from shared.sources.errors import SourceError, SourceInvalid, SourceThrottled, SourceUnavailable
from shared.sources.http import SourceHttp
from shared.sources.lists import InlineItemsReader, ItemUrlsReader
from shared.sources.specs import (
    InlineItemsSource,
    ItemUrlsSource,
    SourceSpec,
    StacSearchSource,
    StaticCatalogSource,
)
from shared.sources.stac_search import StacSearchReader
from shared.sources.static_catalog import StaticCatalogReader


def open_reader(
    source: SourceSpec,
    *,
    session: requests.Session,
    settings: Settings,
    inline_items: Callable[[], Sequence[object]] | None = None,
    pause: Callable[[float], None] = time.sleep,
) -> SourceReader:
    """The reader for `source`; no request is made until the first `read_page`.

    `inline_items` supplies the items of an `items` source (they are stored apart from the job);
    without it the items carried by the source object itself are used. `pause` waits between
    the tries of a document whose server failed (tests pass one that does not sleep).
    """
    http = SourceHttp(session, settings, pause=pause)
    if isinstance(source, StacSearchSource):
        return StacSearchReader(source, http, session)
    if isinstance(source, StaticCatalogSource):
        return StaticCatalogReader(source, http)
    if isinstance(source, InlineItemsSource):
        items = source.items
        return InlineItemsReader(inline_items if inline_items is not None else (lambda: items))
    if isinstance(source, ItemUrlsSource):
        return ItemUrlsReader(source.urls, http)
    raise TypeError(f"unknown source type {type(source).__name__}")


__all__ = [
    "MAX_CURSOR_BYTES",
    "Cursor",
    "ItemReadCode",
    "RawItem",
    "SourceError",
    "SourceInvalid",
    "SourcePage",
    "SourceReader",
    "SourceThrottled",
    "SourceUnavailable",
    "open_reader",
]
