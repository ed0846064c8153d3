"""`items` (inline) and `item-urls` readers: a fixed list read in slices, cursor `{"offset": n}`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shared.sources.base import Cursor, RawItem, SourcePage
from shared.sources.errors import CursorInvalid
from shared.sources.http import SourceHttp
from shared.sources.item_fetch import read_item_url


class InlineItemsReader:
    """Items that came with the request; `load` returns them (the planner reads them back from
    wherever the HTTP function stored them), called once, on first use."""

    def __init__(self, load: Callable[[], Sequence[object]]) -> None:
        self._load = load
        self._items: Sequence[object] | None = None

    def read_page(self, cursor: Cursor | None, limit: int) -> SourcePage:
        if self._items is None:
            self._items = self._load()
        start, end = _slice(cursor, limit, len(self._items))
        return SourcePage(
            items=[RawItem(item=item) for item in self._items[start:end]],
            next_cursor=_next(end, len(self._items)),
        )


class ItemUrlsReader:
    """One item document per URL; a missing or broken one is a failed `RawItem`, not an error."""

    def __init__(self, urls: Sequence[str], http: SourceHttp) -> None:
        self._urls = urls
        self._http = http

    def read_page(self, cursor: Cursor | None, limit: int) -> SourcePage:
        start, end = _slice(cursor, limit, len(self._urls))
        return SourcePage(
            items=[read_item_url(self._http, url) for url in self._urls[start:end]],
            next_cursor=_next(end, len(self._urls)),
        )


def _slice(cursor: Cursor | None, limit: int, total: int) -> tuple[int, int]:
    if limit < 1:
        raise ValueError("limit must be at least 1")
    offset = 0 if cursor is None else cursor.get("offset")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= total:
        raise CursorInvalid("not an offset cursor for this source")
    return offset, min(total, offset + limit)


def _next(end: int, total: int) -> Cursor | None:
    return {"offset": end} if end < total else None
