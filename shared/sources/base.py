"""What every source reader yields: pages of raw items and a small resumable cursor."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final, Protocol

# A cursor travels inside a plan queue message (64 KiB after base64, shared with the job id and
# the rest of the message), so every source keeps it to a few KB whatever the size of the source.
MAX_CURSOR_BYTES: Final = 4096

Cursor = dict[str, Any]


class ItemReadCode:
    """`RawItem.error_code` values: the item could not be read, the source itself is fine."""

    NOT_FOUND = "ItemNotFound"
    UNREADABLE = "ItemUnreadable"
    NOT_JSON = "ItemNotJson"
    URL_NOT_ALLOWED = "ItemUrlNotAllowed"


@dataclass(frozen=True)
class RawItem:
    """One entry of a source page: the item JSON as read, or why that one item could not be read.

    `item` is the decoded JSON, not yet validated (`shared.item_prep.prepare_item` does that); it is
    None exactly when `error_code` is set. `url` is where the item was read from (query string
    removed), None for items that came inside a search page or the request.
    """

    item: object
    url: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @classmethod
    def failed(cls, url: str, code: str, message: str) -> RawItem:
        return cls(item=None, url=url, error_code=code, error_message=message)

    @property
    def ok(self) -> bool:
        return self.error_code is None


class SourceProblemCode:
    """`SourceProblem.code` values: a part of the source holding no single item was unreadable."""

    # Answered 404, 403 or another 4xx, not JSON, not a STAC catalog, or not allowed to fetch.
    LINK_BROKEN = "SourceLinkBroken"
    # 5xx, connection failure or timeout on every one of the bounded attempts.
    LINK_UNAVAILABLE = "SourceLinkUnavailable"


@dataclass(frozen=True)
class SourceProblem:
    """A part of the source that could not be read while the rest could (a static catalog's
    child link, say): the planner records it on the job, which then cannot fully succeed.

    `url` has no query string; `message` says what was answered.
    """

    code: str
    url: str
    message: str


@dataclass(frozen=True)
class SourcePage:
    """One page of a source: its entries in source order (an entry that could not be read is a
    failed `RawItem`, recorded as an invalid item), and the parts of the source skipped on the
    way because they could not be read (`problems`, recorded on the job)."""

    items: list[RawItem]
    # JSON-serialisable, at most MAX_CURSOR_BYTES; None when the source has nothing more.
    next_cursor: Cursor | None
    problems: tuple[SourceProblem, ...] = ()


class SourceReader(Protocol):
    def read_page(self, cursor: Cursor | None, limit: int) -> SourcePage:
        """Read the page that starts at `cursor` (None: the beginning), at most `limit` items.

        Raises `SourceThrottled`, `SourceUnavailable` or `SourceInvalid` (shared.sources.errors);
        raises ValueError for a cursor this source did not produce.
        """
        ...


def cursor_size(cursor: Cursor) -> int:
    return len(json.dumps(cursor, separators=(",", ":")).encode("utf-8"))
