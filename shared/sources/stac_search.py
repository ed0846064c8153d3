"""`stac-search` source: a STAC API item search, one page per call, resumable from the next link.

pystac-client builds the search (it knows the API's search link, methods and parameter formats);
the page is then read through the source's HTTP choke point. The cursor is the page's `next` link, so
a later plan message resumes with exactly one request, never re-walking from page 1. Both Planetary
Computer styles work: GET (`href` carrying `token=next:...`) and POST (`body` carrying `token`).

To keep the cursor small whatever the search, a POST next link is stored as the difference between
its body and the search parameters (usually just `token`); resuming merges them back, which is what
STAC API's `merge: true` means and what a server that repeats the whole body means too.

The whole item-search body is sent as given (ids, intersects, query, filter, sortby); `limit` caps
the page size the service asks for. A CQL2-text filter is sent as text in a GET search of an API
that declares cql2-text conformance; a POST body (the filter extension's language for POST is
CQL2-JSON, and pystac-client sends the same) or an API without it gets the CQL2-JSON the cql2
library makes of the text.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import cql2
import pystac
import requests
from pystac_client import Client
from pystac_client.errors import ClientTypeError
from pystac_client.exceptions import APIError
from pystac_client.item_search import ItemSearch
from pystac_client.stac_api_io import StacApiIO
from pystac_client.warnings import DoesNotConformTo

from shared.outbound.urls import display_url
from shared.sources.base import MAX_CURSOR_BYTES, Cursor, RawItem, SourcePage, cursor_size
from shared.sources.errors import CursorInvalid, SourceError, SourceInvalid
from shared.sources.http import SourceHttp
from shared.sources.specs import StacSearchSource

logger = logging.getLogger(__name__)

# pystac-client refuses larger page sizes; the Planetary Computer caps pages at 1,000 anyway.
MAX_PAGE_LIMIT = 10_000
CQL2_TEXT_CONFORMANCE = "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text"


class _ChokePointStacIO(StacApiIO):
    """pystac-client I/O that sends everything through `SourceHttp` (allow-list, error mapping)
    instead of its own session, retries and header-logging."""

    def __init__(self, http: SourceHttp, session: requests.Session) -> None:
        super().__init__(max_retries=None)
        self.session = session
        self._http = http

    def read_text(self, source: Any, *args: Any, **kwargs: Any) -> str:
        if isinstance(source, pystac.Link):
            return super().read_text(source, *args, **kwargs)
        # Never the local-file fallback of the base class: every href is fetched, and checked.
        return self.request(str(source), *args, **kwargs)

    def request(
        self,
        href: str,
        method: str | None = None,
        headers: dict[str, str] | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> str:
        method = (method or "GET").upper()
        if method in ("POST", "PUT", "PATCH"):
            response = self._http.send(method, href, json_body=parameters)
        else:
            response = self._http.send(method, href, params=parameters)
        if not 200 <= response.status_code < 300:
            raise SourceInvalid(
                f"{method} {display_url(href)}: HTTP {response.status_code}",
                url=display_url(href),
            )
        try:
            return response.content.decode("utf-8")
        except UnicodeDecodeError:
            raise SourceInvalid(
                f"{display_url(href)}: the response is not UTF-8 JSON", url=display_url(href)
            ) from None


class StacSearchReader:
    def __init__(
        self, source: StacSearchSource, http: SourceHttp, session: requests.Session
    ) -> None:
        self._source = source
        self._http = http
        self._io = _ChokePointStacIO(http, session)
        self._origin = _origin(source.url)
        # Whether a CQL2-text filter is sent as text (a GET search of an API that takes it) or
        # converted to CQL2-JSON; only the first request needs to know (GET next links carry it).
        self._filter_as_text = False

    def read_page(self, cursor: Cursor | None, limit: int) -> SourcePage:
        if not 1 <= limit <= MAX_PAGE_LIMIT:
            raise ValueError(f"limit must be within 1..{MAX_PAGE_LIMIT}")
        if self._source.limit is not None:
            limit = min(limit, self._source.limit)
        if cursor is None:
            method, url, parameters = self._first_request(limit)
        else:
            method, url, parameters = self._resume_request(cursor, limit)
        if method == "POST":
            page = self._http.request_json("POST", url, json_body=parameters)
        else:
            page = self._http.request_json("GET", url, params=parameters)
        return self._page(page, method, url, parameters, limit)

    def _first_request(self, limit: int) -> tuple[str, str, dict[str, Any]]:
        source = self._source
        try:
            client = Client.open(source.url, stac_io=self._io)
            root = client.get_single_link("root")
            if root is not None and _same_resource(str(root.get_target_str()), source.url):
                # Otherwise pystac fetches the landing page a second time (at its `root` href,
                # usually the same URL with a trailing slash) just to resolve links.
                client.set_root(client)
            methods = {
                str(link.extra_fields.get("method") or "GET").upper()
                for link in client.get_links("search")
            }
            method = "POST" if not methods or "POST" in methods else "GET"
            self._filter_as_text = (
                method == "GET" and CQL2_TEXT_CONFORMANCE in client.get_conforms_to()
            )
            search = client.search(method=method, limit=limit, **self._search_arguments())
            url = search.url
            parameters = search.get_parameters()
        except SourceError:
            raise
        except (
            DoesNotConformTo,
            ClientTypeError,
            APIError,
            pystac.STACError,
            NotImplementedError,
            ValueError,
            KeyError,
            TypeError,
        ) as exc:
            # Not a STAC API landing page, or one without item search.
            raise SourceInvalid(
                f"{display_url(source.url)}: not a STAC API with item search ({type(exc).__name__})",
                url=display_url(source.url),
            ) from None
        self._check_same_origin(url, "search link")
        return method, url, _plain_json(parameters)

    def _resume_request(self, cursor: Cursor, limit: int) -> tuple[str, str, dict[str, Any]]:
        href, method, body = _decode_cursor(cursor)
        self._check_same_origin(href, "next link")
        if method == "POST":
            merged = {**self._parameters("POST", href, limit), **body, "limit": limit}
            return "POST", href, merged
        return "GET", _with_query_param(href, "limit", str(limit)), {}

    def _page(
        self, page: object, method: str, url: str, parameters: dict[str, Any], limit: int
    ) -> SourcePage:
        if not isinstance(page, dict) or not isinstance(page.get("features"), list):
            raise SourceInvalid(
                f"{display_url(url)}: the search answer is not a STAC ItemCollection",
                url=display_url(url),
            )
        features: list[Any] = page["features"]
        items = [RawItem(item=feature) for feature in features]
        if len(items) > limit:
            # Kept, not cut: the next link continues after the last item the server sent.
            logger.warning("source page larger than requested: %s > %s", len(items), limit)
        links = page.get("links")
        next_link = next(
            (
                link
                for link in (links if isinstance(links, list) else [])
                if isinstance(link, dict) and link.get("rel") == "next"
            ),
            None,
        )
        # An empty page ends the search even with a next link (pystac-client does the same): a
        # server that keeps answering empty pages must not keep the plan going forever.
        if next_link is None or not features:
            return SourcePage(items=items, next_cursor=None)
        cursor = self._cursor_from_link(next_link, method, url, parameters)
        return SourcePage(items=items, next_cursor=cursor)

    def _cursor_from_link(
        self, link: dict[str, Any], method: str, url: str, parameters: dict[str, Any]
    ) -> Cursor:
        href = link.get("href")
        if not isinstance(href, str) or not href:
            raise SourceInvalid(f"{display_url(url)}: next link without href", url=display_url(url))
        href = urljoin(url, href)
        self._check_same_origin(href, "next link")
        next_method = str(link.get("method") or "GET").upper()
        cursor: Cursor
        if next_method == "POST":
            body = link.get("body")
            if not isinstance(body, dict):
                raise SourceInvalid(
                    f"{display_url(url)}: POST next link without a body", url=display_url(url)
                )
            base = self._parameters("POST", href, None)
            difference = {
                key: value
                for key, value in _plain_json(body).items()
                if key != "limit" and base.get(key) != value
            }
            if (
                method == "POST"
                and href == url
                and difference.get("token") == parameters.get("token")
            ):
                raise SourceInvalid(
                    f"{display_url(url)}: the next link repeats the current page",
                    url=display_url(url),
                )
            cursor = {"href": href, "method": "POST", "body": difference}
        elif next_method == "GET":
            if method == "GET" and _with_query_param(href, "limit", "") == _with_query_param(
                url, "limit", ""
            ):
                raise SourceInvalid(
                    f"{display_url(url)}: the next link repeats the current page",
                    url=display_url(url),
                )
            cursor = {"href": href, "method": "GET"}
        else:
            raise SourceInvalid(
                f"{display_url(url)}: next link method {next_method} is not supported",
                url=display_url(url),
            )
        size = cursor_size(cursor)
        if size > MAX_CURSOR_BYTES:
            raise SourceInvalid(
                f"{display_url(href)}: the next link is too large to resume from "
                f"({size} bytes, at most {MAX_CURSOR_BYTES})",
                url=display_url(href),
            )
        return cursor

    def _search_arguments(self) -> dict[str, Any]:
        source = self._source
        arguments: dict[str, Any] = {
            "collections": list(source.collections) if source.collections else None,
            "ids": list(source.ids) if source.ids else None,
            "bbox": list(source.bbox) if source.bbox is not None else None,
            "intersects": source.intersects,
            "datetime": source.datetime,
            "query": source.query,
            "sortby": [key.model_dump() for key in source.sortby] if source.sortby else None,
        }
        search_filter = source.filter
        if isinstance(search_filter, str) and not self._filter_as_text:
            search_filter = dict(cql2.parse_text(search_filter).to_json())
        arguments["filter"] = search_filter
        # Always said: pystac-client would otherwise convert between the two (needing cql2 for
        # GET), and a POST body names its language.
        if search_filter is not None:
            arguments["filter_lang"] = (
                "cql2-text" if isinstance(search_filter, str) else "cql2-json"
            )
        return arguments

    def _parameters(self, method: str, url: str, limit: int | None) -> dict[str, Any]:
        """The search parameters pystac-client sends, computed offline (no request)."""
        search = ItemSearch(
            url,
            method=method,
            stac_io=self._io,
            client=None,
            limit=limit,
            **self._search_arguments(),
        )
        return _plain_json(search.get_parameters())

    def _check_same_origin(self, url: str, what: str) -> None:
        if _origin(url) != self._origin:
            raise SourceInvalid(
                f"{display_url(self._source.url)}: the {what} leaves the source host "
                f"({display_url(url)})",
                url=display_url(self._source.url),
            )


def _decode_cursor(cursor: Cursor) -> tuple[str, str, dict[str, Any]]:
    href, method, body = cursor.get("href"), cursor.get("method"), cursor.get("body", {})
    if not isinstance(href, str) or method not in ("GET", "POST") or not isinstance(body, dict):
        raise CursorInvalid("not a stac-search cursor")
    return href, method, body


def _same_resource(a: str, b: str) -> bool:
    return urlsplit(a)._replace(path=urlsplit(a).path.rstrip("/")) == urlsplit(b)._replace(
        path=urlsplit(b).path.rstrip("/")
    )


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _with_query_param(url: str, name: str, value: str) -> str:
    """`url` with query parameter `name` set to `value` (removed when `value` is empty)."""
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    if value:
        pairs.append((name, value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs), parts.fragment))


def _plain_json(value: dict[str, Any]) -> dict[str, Any]:
    # pystac-client uses tuples; comparing with a decoded next-link body needs plain JSON values.
    result: dict[str, Any] = json.loads(json.dumps(value))
    return result
