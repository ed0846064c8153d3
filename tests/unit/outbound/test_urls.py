"""URL helpers on text that is not trusted to be a URL: never an exception, never a secret."""

from __future__ import annotations

import pytest

from shared.outbound.urls import absolute_href, display_url, join_url, redact_url, split_url

NOT_URLS = ["http://[abc/x", "https://host:port/x", "http://h:99999/x", "//[::1/x"]


@pytest.mark.parametrize("text", NOT_URLS)
def test_what_urlsplit_refuses_is_none_not_an_exception(text: str) -> None:
    assert split_url(text) is None
    assert join_url("https://example.org/a/", text) is None
    assert join_url(text, "b.json") is None
    assert absolute_href("https://example.org/a/", text) == text
    assert display_url(text) == "<invalid URL>"


def test_relative_hrefs_are_resolved_and_absolute_ones_kept() -> None:
    base = "https://example.org/cat/item.json"
    assert absolute_href(base, "b04.tif") == "https://example.org/cat/b04.tif"
    assert absolute_href(base, "../x/y.tif") == "https://example.org/x/y.tif"
    assert absolute_href(base, "s3://bucket/k") == "s3://bucket/k"
    assert split_url("https://h:8443/p") is not None


def test_redact_url_drops_the_query_of_what_is_no_url() -> None:
    assert redact_url("http://[abc/x?sv=1&sig=SECRET") == "http://[abc/x"
    assert "SECRET" not in redact_url("https://a.blob.core.windows.net/c/b?sv=1&sig=SECRET")
