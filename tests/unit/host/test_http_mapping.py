"""Request and response mapping between HTTP and the worker's HttpRequest/HttpResponse."""

from __future__ import annotations

import azure.functions as func
import pytest

from local.host.http_server import build_http_request, to_response


def test_request_has_lowercase_headers_joined_query_and_route_params() -> None:
    req = build_http_request(
        "POST",
        "http://127.0.0.1:7071/api/jobs/7?x=1&x=2",
        [("Content-Type", "application/json"), ("X-A", "1"), ("x-a", "2")],
        "x=1&x=2&empty=",
        {"job_id": "7"},
        b'{"k": "v"}',
    )
    assert isinstance(req, func.HttpRequest)
    assert req.headers["x-a"] == "1, 2"
    assert dict(req.params) == {"x": "1,2", "empty": ""}
    assert req.route_params == {"job_id": "7"}
    assert req.get_json() == {"k": "v"}
    assert req.url.endswith("/api/jobs/7?x=1&x=2")


def test_response_status_headers_mimetype_and_charset() -> None:
    resp = to_response(
        func.HttpResponse(
            "héllo", status_code=201, headers={"X-Id": "1"}, mimetype="text/html", charset="utf-8"
        )
    )
    headers = dict(resp.raw_headers)
    assert resp.status_code == 201
    assert headers[b"x-id"] == b"1"
    assert headers[b"content-type"] == b"text/html; charset=utf-8"
    assert resp.body == "héllo".encode()
    assert headers[b"content-length"] == str(len(resp.body)).encode()


def test_json_mimetype_gets_no_charset_and_explicit_content_type_wins() -> None:
    resp = to_response(func.HttpResponse("{}", mimetype="application/json"))
    assert dict(resp.raw_headers)[b"content-type"] == b"application/json"
    problem = to_response(
        func.HttpResponse(
            "{}", status_code=400, headers={"Content-Type": "application/problem+json"}
        )
    )
    assert dict(problem.raw_headers)[b"content-type"] == b"application/problem+json"


def test_cookies_become_separate_set_cookie_headers() -> None:
    value = func.HttpResponse("x")
    value.headers.add("Set-Cookie", "a=1; Path=/")
    value.headers.add("Set-Cookie", "b=2")
    cookies = [v for k, v in to_response(value).raw_headers if k == b"set-cookie"]
    assert sorted(cookies) == [b"a=1; Path=/", b"b=2"]


def test_none_is_204_and_str_is_text() -> None:
    assert to_response(None).status_code == 204
    text = to_response("ok")
    assert text.status_code == 200
    assert dict(text.raw_headers)[b"content-type"] == b"text/plain; charset=utf-8"
    with pytest.raises(TypeError, match="HttpResponse or str"):
        to_response({"not": "allowed"})
