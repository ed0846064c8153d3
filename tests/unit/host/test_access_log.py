"""uvicorn's access log, when anything enables it (pytest does), shows no keys or signatures."""

from __future__ import annotations

import logging

import pytest

from local.server import AccessLogRedaction, redact_access_log


def test_request_lines_lose_function_keys_and_signatures(caplog: pytest.LogCaptureFixture) -> None:
    redact_access_log()
    access = logging.getLogger("uvicorn.access")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        # uvicorn's own call: client, method, path with query, HTTP version, status.
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            "/api/jobs/abc/items?state=failed&code=the-function-key&cursor=x",
            "1.1",
            200,
        )
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            "/items/a.json?sv=2024-05-04&sig=not-a-real-signature&sp=rl",
            "1.1",
            200,
        )
    assert "the-function-key" not in caplog.text
    assert "not-a-real-signature" not in caplog.text
    assert "?state=failed&code=<redacted>&cursor=x" in caplog.text
    assert "?sv=2024-05-04&sig=<redacted>&sp=rl" in caplog.text


def test_installed_once() -> None:
    redact_access_log()
    redact_access_log()
    filters = logging.getLogger("uvicorn.access").filters
    assert sum(isinstance(f, AccessLogRedaction) for f in filters) == 1
