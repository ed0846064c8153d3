"""`static-catalog` source: a depth-first walk of a static STAC catalog over HTTP.

Only `child` and `item` links are followed, each resolved against the document that holds it; `root`
and `parent` are never followed (the NAIP sample published for Planetary Computer Pro has items whose
root/parent point at a `./catalog.json` that does not exist).

The cursor is the walk's stack: for each open catalog, where it is and the index of the next of its
`child`/`item` links to look at, e.g. `{"stack": [["catalog.json", 5], ["2023/catalog.json", 12]]}`.
It grows with the depth of the catalog, never with its width, so it stays small for 100,000 items.
Each `read_page` re-reads the catalogs on the stack (small documents) and then reads up to `limit`
items. A frame's location is stored relative to the frame above it (the root's relative to its own
folder) when it lies below it, else absolute. The root URL's query string (a container SAS) is not
stored: it is added again to every fetch on the root's host that has no query of its own; a link
that carries its own query keeps it, since nothing else can fetch it.

A broken link sinks nothing but itself. A child catalog that answers 404, 403, a body that is not
JSON or not a catalog, or keeps failing (5xx, connection) through a few tries, is skipped with its
sub-catalogs and reported in the page's `problems`; an item link that cannot be read is a failed
entry (the planner records it as an invalid item). Only the root catalog failing fails the source.
"""

from __future__ import annotations

import logging
from typing import Any, Final
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

from shared.outbound.urls import display_url, join_url, redact_url
from shared.sources.base import (
    MAX_CURSOR_BYTES,
    Cursor,
    RawItem,
    SourcePage,
    SourceProblem,
    SourceProblemCode,
    cursor_size,
)
from shared.sources.errors import CursorInvalid, SourceInvalid, SourceUnavailable
from shared.sources.http import SourceHttp
from shared.sources.item_fetch import read_item_url
from shared.sources.specs import StaticCatalogSource

logger = logging.getLogger(__name__)

# Real catalogs nest a handful of levels (root / collection / year / month); deeper means a loop
# the stack check cannot see (e.g. URLs that differ only in a query string) or a broken catalog.
MAX_DEPTH: Final = 24
# Catalog documents one `read_page` may open beyond those on the stack: a run of empty
# sub-catalogs must not turn one plan message into thousands of requests.
MAX_CATALOGS_PER_PAGE: Final = 64
_CATALOG_TYPES: Final = frozenset({"Catalog", "Collection"})
_FOLLOWED: Final = frozenset({"child", "item"})

_Frame = tuple[str, int]


class StaticCatalogReader:
    def __init__(self, source: StaticCatalogSource, http: SourceHttp) -> None:
        self._http = http
        parts = urlsplit(source.url)
        self._root = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        self._root_dir = urljoin(self._root, ".")
        self._origin = (parts.scheme.lower(), parts.netloc.lower())
        self._sas = parts.query

    def read_page(self, cursor: Cursor | None, limit: int) -> SourcePage:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        stack = self._decode(cursor) if cursor is not None else [(self._root, 0)]
        links: dict[str, list[tuple[str, str]]] = {}
        items: list[RawItem] = []
        problems: list[SourceProblem] = []
        opened = 0
        while stack and len(items) < limit and opened <= MAX_CATALOGS_PER_PAGE:
            url, index = stack[-1]
            if url not in links:
                opened += 1
                if len(stack) == 1:
                    links[url] = self._catalog_links(url)
                else:
                    found = self._child_links(url)
                    if isinstance(found, SourceProblem):
                        problems.append(found)
                        stack.pop()
                        continue
                    links[url] = found
            followed = links[url]
            if index >= len(followed):
                stack.pop()
                continue
            stack[-1] = (url, index + 1)
            rel, href = followed[index]
            joined = join_url(url, href)
            if joined is None:
                problems.append(_unparsable(href))
                continue
            target = urldefrag(joined).url
            if rel == "item":
                items.append(read_item_url(self._http, target, fetch_url=self._fetch_url(target)))
            elif any(frame_url == target for frame_url, _ in stack):
                logger.warning("static catalog child link loops back: %s", display_url(target))
            elif len(stack) >= MAX_DEPTH:
                shown = display_url(target)
                problems.append(
                    SourceProblem(
                        SourceProblemCode.LINK_BROKEN,
                        shown,
                        f"{shown}: not followed, the catalog is nested deeper than {MAX_DEPTH} "
                        "levels there",
                    )
                )
            else:
                stack.append((target, 0))
        # Drop finished catalogs we already know are finished, so the last page says so.
        while stack and stack[-1][0] in links and stack[-1][1] >= len(links[stack[-1][0]]):
            stack.pop()
        return SourcePage(
            items=items,
            next_cursor=self._encode(stack) if stack else None,
            problems=tuple(problems),
        )

    def _child_links(self, url: str) -> list[tuple[str, str]] | SourceProblem:
        """The links of a child catalog, or why it is skipped (throttling still raises)."""
        try:
            return self._catalog_links(url)
        except SourceInvalid as exc:
            code = SourceProblemCode.LINK_BROKEN
            message = str(exc)
        except SourceUnavailable as exc:
            code = SourceProblemCode.LINK_UNAVAILABLE
            message = str(exc)
        shown = display_url(url)
        logger.warning("static catalog child skipped (%s): %s", code, message)
        return SourceProblem(code, shown, f"{message}; its items were not read")

    def _catalog_links(self, url: str) -> list[tuple[str, str]]:
        """The `child` and `item` links of the catalog at `url`, as (rel, href), in document order."""
        document = self._http.request_json("GET", self._fetch_url(url), retrying=True)
        if not isinstance(document, dict) or not _is_catalog(document):
            raise SourceInvalid(
                f"{display_url(url)}: not a STAC Catalog or Collection", url=display_url(url)
            )
        raw_links = document.get("links")
        result: list[tuple[str, str]] = []
        for link in raw_links if isinstance(raw_links, list) else []:
            if (
                isinstance(link, dict)
                and link.get("rel") in _FOLLOWED
                and isinstance(link.get("href"), str)
                and link["href"]
            ):
                result.append((link["rel"], link["href"]))
        return result

    def _fetch_url(self, url: str) -> str:
        parts = urlsplit(url)
        if (
            self._sas
            and not parts.query
            and (parts.scheme.lower(), parts.netloc.lower()) == self._origin
        ):
            return urlunsplit((parts.scheme, parts.netloc, parts.path, self._sas, ""))
        return url

    def _encode(self, stack: list[_Frame]) -> Cursor:
        frames: list[list[Any]] = []
        base = self._root_dir
        for url, index in stack:
            frames.append([_relative_to(base, url), index])
            base = url
        cursor: Cursor = {"stack": frames}
        size = cursor_size(cursor)
        if size > MAX_CURSOR_BYTES:
            raise SourceInvalid(
                f"{display_url(self._root)}: catalog paths too long to resume from "
                f"({size} bytes, at most {MAX_CURSOR_BYTES})",
                url=display_url(self._root),
            )
        return cursor

    def _decode(self, cursor: Cursor) -> list[_Frame]:
        frames = cursor.get("stack")
        if not isinstance(frames, list):
            raise CursorInvalid("not a static-catalog cursor")
        stack: list[_Frame] = []
        base = self._root_dir
        for frame in frames:
            if not (
                isinstance(frame, list)
                and len(frame) == 2
                and isinstance(frame[0], str)
                and isinstance(frame[1], int)
                and not isinstance(frame[1], bool)
                and frame[1] >= 0
            ):
                raise CursorInvalid("not a static-catalog cursor")
            url = join_url(base, frame[0])
            if url is None:
                raise CursorInvalid("not a static-catalog cursor")
            stack.append((url, frame[1]))
            base = url
        return stack


def _relative_to(base: str, url: str) -> str:
    """`url` relative to the folder of `base` when it lies below it, else `url` itself.

    Each frame is stored relative to the frame above it, so a frame costs about the length of the
    link that led to it, however deep the catalog.
    """
    folder = urljoin(base, ".")
    if url.startswith(folder):
        suffix = url[len(folder) :]
        # Only when resolving it again gives back exactly `url` (no scheme-like first segment).
        if suffix and urljoin(base, suffix) == url:
            return suffix
    return url


def _is_catalog(document: dict[str, Any]) -> bool:
    kind = document.get("type")
    if kind in _CATALOG_TYPES:
        return True
    # STAC before 1.0 had no `type` on catalogs; an Item or ItemCollection is not a catalog.
    return kind is None and isinstance(document.get("stac_version"), str) and "links" in document


def _unparsable(href: str) -> SourceProblem:
    shown = redact_url(href)[:200]
    logger.warning("static catalog link is not a URL: %r", shown)
    return SourceProblem(
        SourceProblemCode.LINK_BROKEN, shown, f"{shown!r}: not a URL; not followed"
    )
