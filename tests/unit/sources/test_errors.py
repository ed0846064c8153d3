"""HTTP and network failures map onto SourceThrottled / SourceUnavailable / SourceInvalid."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests

from shared.settings import Settings
from shared.sources import SourceInvalid, SourceThrottled, SourceUnavailable, open_reader
from shared.sources import http as source_http
from shared.sources.http import SourceHttp
from shared.sources.specs import StacSearchSource, StaticCatalogSource
from tests.unit.sources.conftest import PC, Call, Reply, Web, json_reply, make_settings

CATALOG = "https://acct.blob.core.windows.net/cat/catalog.json"
SECRET = "placeholder-signature-not-real"
SIGNED = f"{CATALOG}?sv=2024-05-04&sp=rl&sig={SECRET}"


def read_catalog(session: requests.Session, settings: Settings, url: str = SIGNED) -> Any:
    source = StaticCatalogSource(url=url)
    # The root catalog is tried again on 5xx; nothing sleeps between the tries here.
    return open_reader(
        source, session=session, settings=settings, pause=lambda _seconds: None
    ).read_page(None, 10)


def reply(status: int, headers: dict[str, str] | None = None, body: str = "{}") -> Any:
    return lambda _call: (status, headers or {}, body)


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # in the past: now
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_429_is_throttled_with_retry_after(
    web: Web,
    session: requests.Session,
    settings: Settings,
    headers: dict[str, str],
    retry_after: float | None,
) -> None:
    web.route("GET", CATALOG, reply(429, headers, '{"detail":"Too Many Requests"}'))
    with pytest.raises(SourceThrottled) as caught:
        read_catalog(session, settings)
    assert caught.value.retry_after == retry_after
    assert SECRET not in str(caught.value)
    assert caught.value.url == CATALOG


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_5xx_and_408_are_unavailable(
    web: Web, session: requests.Session, settings: Settings, status: int
) -> None:
    web.route("GET", CATALOG, reply(status))
    with pytest.raises(SourceUnavailable) as caught:
        read_catalog(session, settings)
    assert str(status) in str(caught.value)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ConnectionError("connection reset"),
        requests.exceptions.ConnectTimeout("connect timeout"),
        requests.exceptions.ReadTimeout("read timeout"),
        requests.exceptions.ChunkedEncodingError("truncated"),
    ],
)
def test_network_failures_are_unavailable(
    web: Web, session: requests.Session, settings: Settings, failure: Exception
) -> None:
    def fail(_call: Call) -> Reply:
        raise failure

    web.route("GET", CATALOG, fail)
    with pytest.raises(SourceUnavailable) as caught:
        read_catalog(session, settings)
    assert SECRET not in str(caught.value)


def test_connection_refused_is_unavailable(session: requests.Session) -> None:
    # A real socket: bind a free loopback port, close it, and connect to nothing there.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings("127.0.0.1", local_mode=True)
    url = f"http://127.0.0.1:{port}/api/stac/v1"
    source = StacSearchSource(url=f"{url}?sig={SECRET}", collections=("x",))
    with pytest.raises(SourceUnavailable) as caught:
        open_reader(
            source, session=session, settings=settings, pause=lambda _seconds: None
        ).read_page(None, 5)
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_4xx_is_invalid_and_names_the_url_without_query(
    web: Web, session: requests.Session, settings: Settings, status: int
) -> None:
    web.route("GET", CATALOG, reply(status, body=f'{{"error": "signature {SECRET} rejected"}}'))
    with pytest.raises(SourceInvalid) as caught:
        read_catalog(session, settings)
    message = str(caught.value)
    assert CATALOG in message
    assert f"HTTP {status}" in message
    assert SECRET not in message
    assert "sig=" not in message


def test_not_json_is_invalid(web: Web, session: requests.Session, settings: Settings) -> None:
    web.route("GET", CATALOG, reply(200, {"Content-Type": "text/html"}, "<html>login</html>"))
    with pytest.raises(SourceInvalid, match="not JSON") as caught:
        read_catalog(session, settings)
    assert SECRET not in str(caught.value)


def test_search_404_is_invalid(web: Web, session: requests.Session, settings: Settings) -> None:
    with pytest.raises(SourceInvalid, match="HTTP 404"):
        open_reader(
            StacSearchSource(url=f"{PC}/nowhere", collections=("x",)),
            session=session,
            settings=settings,
        ).read_page(None, 5)


def test_redirect_off_the_allow_list_is_not_followed(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    web.route("GET", CATALOG, reply(302, {"Location": "https://evil.example/catalog.json"}))
    with pytest.raises(SourceInvalid, match=r"evil\.example"):
        read_catalog(session, settings)
    assert [c.base for c in web.calls] == [CATALOG]


def test_redirect_on_the_allow_list_is_followed(web: Web, session: requests.Session) -> None:
    moved = "https://acct2.blob.core.windows.net/cat/catalog.json"
    web.route("GET", CATALOG, reply(301, {"Location": moved}))
    web.route(
        "GET",
        moved,
        {"type": "Catalog", "id": "c", "stac_version": "1.0.0", "description": "d", "links": []},
    )
    page = read_catalog(session, make_settings(".blob.core.windows.net"))
    assert page.items == []
    assert [c.base for c in web.calls] == [CATALOG, moved]


def test_see_other_turns_post_into_get(
    web: Web, session: requests.Session, settings: Settings
) -> None:
    target = "https://planetarycomputer.microsoft.com/result"
    web.route("POST", f"{PC}/search", reply(303, {"Location": "/result"}))
    web.route("GET", target, lambda _call: json_reply({"ok": True}))
    http = SourceHttp(session, settings)
    assert http.request_json("POST", f"{PC}/search", json_body={"a": 1}) == {"ok": True}
    assert [(c.method, c.base) for c in web.calls] == [("POST", f"{PC}/search"), ("GET", target)]


def test_redirect_loop_is_invalid(web: Web, session: requests.Session, settings: Settings) -> None:
    web.route("GET", CATALOG, reply(302, {"Location": CATALOG}))
    with pytest.raises(SourceInvalid, match="redirects"):
        read_catalog(session, settings)


def test_url_outside_allow_list_is_never_fetched(web: Web, session: requests.Session) -> None:
    with pytest.raises(SourceInvalid, match="not in the allowed"):
        read_catalog(session, make_settings("planetarycomputer.microsoft.com"))
    assert web.calls == []


def test_a_document_over_the_bound_is_invalid_and_not_read_whole(
    web: Web, session: requests.Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source_http, "MAX_DOCUMENT_BYTES", 1000)
    big = '{"type": "Catalog", "pad": "' + "x" * 5000 + '"}'
    web.route("GET", CATALOG, reply(200, {"Content-Type": "application/json"}, big))
    with pytest.raises(SourceInvalid, match="larger than 1000 bytes") as caught:
        read_catalog(session, settings)
    assert SECRET not in str(caught.value)
