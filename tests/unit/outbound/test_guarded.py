"""GuardedHttp over real HTTP: redirects bounded and checked hop by hop, errors neutral and clean."""

from __future__ import annotations

import json
import logging
import socket

import pytest
import requests

from shared import log_redaction
from shared.outbound import (
    MAX_REDIRECTS,
    FetchError,
    FetchInvalid,
    FetchNotAllowed,
    FetchPolicy,
    FetchRefused,
    FetchThrottled,
    FetchUnavailable,
    GuardedHttp,
)
from tests.unit.outbound.conftest import Web

SECRET = "placeholder-signature-never-shown"
SAS = f"sv=2024-05-04&sr=c&sp=rl&sig={SECRET}"


def chain(web: Web, hops: int) -> str:
    """/r0 redirects to /r1 … to /r{hops}, which answers a document; returns /r0's URL."""
    for n in range(hops):
        web.redirect(f"/r{n}", f"/r{n + 1}", status=(301, 302, 307, 308)[n % 4])
    web.answer(f"/r{hops}", 200, {"Content-Type": "application/json"}, b'{"ok": true}')
    return web.url("/r0")


def test_redirects_up_to_the_limit_are_followed(web: Web, http: GuardedHttp) -> None:
    fetched = http.fetch(chain(web, MAX_REDIRECTS), accept="application/json", max_bytes=100)
    assert json.loads(fetched.content) == {"ok": True}
    assert fetched.url == web.url(f"/r{MAX_REDIRECTS}")
    assert fetched.content_type == "application/json"
    assert len(web.requests) == MAX_REDIRECTS + 1


def test_one_redirect_more_than_the_limit_is_invalid_and_not_requested(
    web: Web, http: GuardedHttp
) -> None:
    with pytest.raises(FetchInvalid, match=f"more than {MAX_REDIRECTS} redirects") as caught:
        http.fetch(chain(web, MAX_REDIRECTS + 1), accept="*/*", max_bytes=100)
    assert type(caught.value) is FetchInvalid
    assert web.paths() == [f"/r{n}" for n in range(MAX_REDIRECTS + 1)]


def test_a_redirect_loop_ends(web: Web, http: GuardedHttp) -> None:
    web.redirect("/loop", "/loop")
    with pytest.raises(FetchInvalid, match="redirects"):
        http.send("GET", web.url("/loop"))
    assert len(web.requests) == MAX_REDIRECTS + 1


def test_the_limit_is_the_callers_to_lower(web: Web, session: requests.Session) -> None:
    http = GuardedHttp(session, FetchPolicy.of(["127.0.0.1"], allow_http=True), max_redirects=0)
    with pytest.raises(FetchInvalid, match="more than 0 redirects"):
        http.send("GET", chain(web, 1))
    assert web.paths() == ["/r0"]


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        # The same server under a name the allow-list does not hold.
        ("http://localhost:{port}/inside", "host localhost is not in the allowed source hosts"),
        ("http://user:pw@127.0.0.1:{port}/inside", "must not carry credentials"),
        ("ftp://127.0.0.1:{port}/inside", "must be an https URL"),
    ],
)
def test_every_hop_is_checked_before_it_is_requested(
    web: Web, http: GuardedHttp, location: str, problem: str
) -> None:
    web.redirect("/first", "/second")
    web.redirect("/second", location.format(port=web.port))
    with pytest.raises(FetchNotAllowed) as caught:
        http.fetch(web.url("/first"), accept="*/*", max_bytes=100)
    assert caught.value.problem == problem
    assert caught.value.redirected
    assert caught.value.url == location.format(port=web.port).replace("user:pw@", "")
    assert str(caught.value).startswith("redirected to ")
    assert "pw" not in str(caught.value)
    assert web.paths() == ["/first", "/second"]


def test_https_is_required_on_every_hop_outside_local_mode(session: requests.Session) -> None:
    http = GuardedHttp(session, FetchPolicy.of(["127.0.0.1"], allow_http=False))
    with pytest.raises(FetchNotAllowed, match="must use https") as caught:
        http.send("GET", "http://127.0.0.1:9/x")
    assert not caught.value.redirected


def test_a_url_off_the_list_is_never_requested(web: Web, session: requests.Session) -> None:
    http = GuardedHttp(session, FetchPolicy.of(["example.org"], allow_http=True))
    with pytest.raises(FetchNotAllowed, match=r"127\.0\.0\.1 is not in the allowed") as caught:
        http.send("GET", web.url("/x"))
    assert isinstance(caught.value, FetchInvalid)
    assert web.requests == []


def test_see_other_turns_post_into_get_and_307_keeps_the_post(web: Web, http: GuardedHttp) -> None:
    web.redirect("/search", "/result", status=303)
    web.redirect("/kept", "/search-again", status=307)
    web.answer("/result", 200, {}, b"{}")
    web.answer("/search-again", 200, {}, b"{}")
    assert http.send("POST", web.url("/search"), json_body={"a": 1}).status_code == 200
    assert http.send("POST", web.url("/kept"), json_body={"b": 2}).status_code == 200
    seen = [(r.method, r.path, r.body) for r in web.requests]
    assert seen == [
        ("POST", "/search", b'{"a": 1}'),
        ("GET", "/result", b""),
        ("POST", "/kept", b'{"b": 2}'),
        ("POST", "/search-again", b'{"b": 2}'),
    ]


def test_params_go_with_the_first_request_only(web: Web, http: GuardedHttp) -> None:
    web.redirect("/page", "/moved?token=next")
    web.answer("/moved", 200, {}, b"{}")
    http.send("GET", web.url("/page"), params={"limit": 10})
    assert [(r.path, r.query) for r in web.requests] == [
        ("/page", "limit=10"),
        ("/moved", "token=next"),
    ]


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [({"Retry-After": "7"}, 7.0), ({"Retry-After": "soon"}, None), ({}, None)],
)
def test_429_is_throttled_with_the_asked_delay(
    web: Web, http: GuardedHttp, headers: dict[str, str], retry_after: float | None
) -> None:
    web.answer("/busy", 429, {**headers, "Content-Length": "0"})
    with pytest.raises(FetchThrottled) as caught:
        http.send("GET", web.url("/busy"))
    assert caught.value.retry_after == retry_after
    assert caught.value.status == 429


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_5xx_and_408_are_unavailable(web: Web, http: GuardedHttp, status: int) -> None:
    web.answer("/down", status, {"Content-Length": "0"})
    with pytest.raises(FetchUnavailable, match=f"HTTP {status}") as caught:
        http.fetch(web.url("/down"), accept="*/*", max_bytes=10)
    assert caught.value.status == status
    assert caught.value.host == f"127.0.0.1:{web.port}"


def test_nothing_listening_is_unavailable(http: GuardedHttp) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchUnavailable, match="ConnectionError") as caught:
        http.send("GET", f"http://127.0.0.1:{port}/x?{SAS}")
    assert caught.value.status is None
    assert SECRET not in str(caught.value)


def test_send_returns_a_4xx_and_fetch_refuses_it(web: Web, http: GuardedHttp) -> None:
    web.answer("/gone", 404, {"Content-Length": "2"}, b"{}")
    assert http.send("GET", web.url("/gone")).status_code == 404
    with pytest.raises(FetchRefused, match="HTTP 404") as caught:
        http.fetch(web.url("/gone"), accept="*/*", max_bytes=10)
    assert caught.value.status == 404


def test_a_redirect_without_location_is_not_a_body(web: Web, http: GuardedHttp) -> None:
    web.answer("/nowhere", 302, {"Content-Length": "0"})
    with pytest.raises(FetchInvalid, match="HTTP 302") as caught:
        http.fetch(web.url("/nowhere"), accept="*/*", max_bytes=10)
    assert caught.value.status == 302


@pytest.mark.parametrize("declared", [True, False])
def test_a_body_over_the_bound_is_refused(web: Web, http: GuardedHttp, declared: bool) -> None:
    body = b"x" * 200_000
    headers = {"Content-Length": str(len(body))} if declared else {}
    web.answer("/big", 200, headers, body)
    web.answer("/exact", 200, {}, body[:1000])
    with pytest.raises(FetchInvalid, match="larger than 199999 bytes"):
        http.fetch(web.url("/big"), accept="*/*", max_bytes=len(body) - 1)
    assert http.fetch(web.url("/exact"), accept="*/*", max_bytes=1000).content == body[:1000]


def test_the_accept_header_and_content_type(web: Web, http: GuardedHttp) -> None:
    web.answer("/thumb.png", 200, {"Content-Type": "Image/PNG; charset=binary"}, b"\x89PNG")
    fetched = http.fetch(web.url("/thumb.png"), accept="image/*", max_bytes=10)
    assert fetched.content == b"\x89PNG"
    assert fetched.content_type == "image/png"
    assert [r.accept for r in web.requests] == ["image/*"]


def test_no_error_message_or_log_line_carries_a_signature(
    web: Web, http: GuardedHttp, caplog: pytest.LogCaptureFixture
) -> None:
    log_redaction.install()
    web.redirect("/signed", f"/hop?{SAS}")
    web.redirect("/hop", f"http://localhost:{web.port}/off-list?{SAS}")
    web.answer("/busy", 429, {"Retry-After": "1", "Content-Length": "0"})
    web.answer("/down", 503, {"Content-Length": "0"})
    web.answer("/gone", 404, {"Content-Length": "0"})
    web.answer("/big", 200, {}, b"x" * 100)
    errors: list[FetchError] = []
    with caplog.at_level(logging.DEBUG):
        for path in ("/signed", "/busy", "/down", "/gone", "/big"):
            with pytest.raises(FetchError) as caught:
                http.fetch(web.url(f"{path}?{SAS}"), accept="*/*", max_bytes=10)
            errors.append(caught.value)
    assert [type(e) for e in errors] == [
        FetchNotAllowed,
        FetchThrottled,
        FetchUnavailable,
        FetchRefused,
        FetchInvalid,
    ]
    # The requests were made with the signature (the server saw it) ...
    assert all(SECRET in r.query for r in web.requests)
    # ... and no message, url, chained exception or log record shows it.
    for error in errors:
        assert SECRET not in str(error)
        assert "sig=" not in str(error)
        assert SECRET not in error.url
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__
    assert any(r.name == "urllib3.connectionpool" for r in caplog.records)
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert SECRET not in logged


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # Hosts the allow-list matches but no request can be made to: requests' own check, and
        # urllib3's parser (whose error requests lets through unwrapped).
        ("https://*.example/x", "InvalidURL"),
        ("https://a..example/x", "LocationParseError"),
    ],
)
def test_a_request_that_cannot_be_sent_is_invalid(
    session: requests.Session, url: str, reason: str
) -> None:
    http = GuardedHttp(session, FetchPolicy.of(["*.example", ".example"]))
    with pytest.raises(FetchInvalid, match=reason):
        http.send("GET", url)
