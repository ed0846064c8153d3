"""Fetching a template and its thumbnail under the URL policy: every hop checked, bounded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import responses

from shared.collections.errors import FetchFailed, FetchThrottled, TemplateUnusable, UrlNotAllowed
from shared.collections.template_fetch import TemplateFetcher, UrlPolicy
from shared.outbound import MAX_REDIRECTS
from shared.settings import GeoCatalogSettings, Settings, StorageSettings

DATA = Path(__file__).parent / "data"
PC = "https://planetarycomputer.microsoft.com"
TEMPLATE_URL = f"{PC}/api/stac/v1/collections/sentinel-2-l2a"


def sentinel() -> dict:
    return json.loads((DATA / "sentinel-2-l2a.json").read_text())


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def policy() -> UrlPolicy:
    return UrlPolicy(frozenset({"planetarycomputer.microsoft.com", "assets.example.org"}))


@pytest.fixture
def fetcher(policy: UrlPolicy) -> Iterator[TemplateFetcher]:
    with TemplateFetcher(policy) as f:
        yield f


# -- the URL policy ------------------------------------------------------------------------------


def test_policy_accepts_allowed_https_hosts(policy: UrlPolicy) -> None:
    assert policy.check(TEMPLATE_URL, field="templateUrl") == TEMPLATE_URL
    assert policy.check("https://PlanetaryComputer.Microsoft.com/x", field="f")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://evil.example/collection.json", "is not in the allowed source hosts"),
        ("http://planetarycomputer.microsoft.com/x", "must use https"),
        ("ftp://planetarycomputer.microsoft.com/x", "must be an https URL"),
        ("planetarycomputer.microsoft.com/x", "must be an absolute URL"),
        ("https://user:pw@planetarycomputer.microsoft.com/x", "credentials"),
        ("https://[::1/x", "not a valid URL"),
        ("https://planetarycomputer.microsoft.com.evil.example/x", "not in the allowed"),
    ],
)
def test_policy_refuses(policy: UrlPolicy, url: str, words: str) -> None:
    with pytest.raises(UrlNotAllowed) as caught:
        policy.check(url, field="templateUrl")
    assert words in caught.value.message
    assert caught.value.field == "templateUrl"


def test_policy_from_settings_allows_http_only_in_local_mode() -> None:
    settings = Settings(
        geocatalog=GeoCatalogSettings(url="http://127.0.0.1:8700"),
        storage=StorageSettings(connection_string="UseDevelopmentStorage=true"),
        allowed_source_hosts=("127.0.0.1",),
        local_mode=True,
    )
    local = UrlPolicy.from_settings(settings)
    assert local.check("http://127.0.0.1:8701/api/stac/v1/collections/x", field="f")
    production = UrlPolicy.from_settings(
        Settings(geocatalog=settings.geocatalog, storage=settings.storage)
    )
    with pytest.raises(UrlNotAllowed):
        production.check("http://127.0.0.1:8701/x", field="f")
    with pytest.raises(UrlNotAllowed, match="SOURCE_ALLOWED_HOSTS"):
        production.check("https://127.0.0.1:8701/x", field="f")


# -- fetching ------------------------------------------------------------------------------------


def test_fetch_json(fetcher: TemplateFetcher, rsps: responses.RequestsMock) -> None:
    rsps.get(TEMPLATE_URL, json=sentinel())
    assert fetcher.fetch_json(TEMPLATE_URL, field="templateUrl")["id"] == "sentinel-2-l2a"
    assert rsps.calls[0].request.headers["Accept"] == "application/json"


def test_non_json_is_unprocessable(fetcher: TemplateFetcher, rsps: responses.RequestsMock) -> None:
    rsps.get(TEMPLATE_URL, body="<html>hello</html>", content_type="text/html")
    with pytest.raises(TemplateUnusable, match="did not answer JSON"):
        fetcher.fetch_json(TEMPLATE_URL, field="templateUrl")


def test_a_missing_template_is_unprocessable(
    fetcher: TemplateFetcher, rsps: responses.RequestsMock
) -> None:
    rsps.get(TEMPLATE_URL, status=404, json={"detail": "not found"})
    with pytest.raises(TemplateUnusable) as caught:
        fetcher.fetch_json(TEMPLATE_URL, field="templateUrl")
    assert caught.value.status == 404
    assert caught.value.host == "planetarycomputer.microsoft.com"


def test_an_unreachable_or_failing_template_host_is_a_failed_fetch(
    fetcher: TemplateFetcher, rsps: responses.RequestsMock
) -> None:
    rsps.get(TEMPLATE_URL, body=requests.ConnectionError("refused"))
    with pytest.raises(FetchFailed) as caught:
        fetcher.fetch_json(TEMPLATE_URL, field="templateUrl")
    assert caught.value.status is None
    assert caught.value.host == "planetarycomputer.microsoft.com"
    assert caught.value.field == "templateUrl"
    rsps.replace(responses.GET, TEMPLATE_URL, status=503, body="down")
    with pytest.raises(FetchFailed, match="503") as failed:
        fetcher.fetch_json(TEMPLATE_URL, field="templateUrl")
    assert failed.value.status == 503
    assert not isinstance(failed.value, FetchThrottled)


def test_a_throttled_template_host_says_its_delay(
    fetcher: TemplateFetcher, rsps: responses.RequestsMock
) -> None:
    rsps.get(
        TEMPLATE_URL, status=429, headers={"Retry-After": "1"}, json={"detail": "Too Many Requests"}
    )
    with pytest.raises(FetchThrottled) as caught:
        fetcher.fetch_json(TEMPLATE_URL, field="templateUrl")
    assert caught.value.retry_after == 1.0
    assert caught.value.status == 429


def test_redirects_are_followed_only_to_allowed_hosts(
    fetcher: TemplateFetcher, rsps: responses.RequestsMock
) -> None:
    rsps.get(TEMPLATE_URL, status=302, headers={"Location": "/api/stac/v1/collections/s2"})
    rsps.get(f"{PC}/api/stac/v1/collections/s2", json={"id": "s2"})
    assert fetcher.fetch_json(TEMPLATE_URL, field="templateUrl") == {"id": "s2"}

    rsps.get(f"{PC}/moved", status=301, headers={"Location": "http://169.254.169.254/metadata"})
    with pytest.raises(UrlNotAllowed, match="must use https"):
        fetcher.fetch_json(f"{PC}/moved", field="templateUrl")
    rsps.get(f"{PC}/moved2", status=307, headers={"Location": "https://internal.corp/secret"})
    with pytest.raises(UrlNotAllowed, match=r"internal\.corp"):
        fetcher.fetch_json(f"{PC}/moved2", field="templateUrl")


def test_redirect_loops_end(fetcher: TemplateFetcher, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{PC}/loop", status=302, headers={"Location": f"{PC}/loop"})
    with pytest.raises(TemplateUnusable, match=f"more than {MAX_REDIRECTS} redirects"):
        fetcher.fetch_json(f"{PC}/loop", field="templateUrl")
    # The outbound layer's limit: the first request and MAX_REDIRECTS hops.
    assert len(rsps.calls) == MAX_REDIRECTS + 1


def test_oversized_bodies_are_refused(policy: UrlPolicy, rsps: responses.RequestsMock) -> None:
    rsps.get("https://assets.example.org/huge.png", body=b"x" * 2048)
    with TemplateFetcher(policy) as fetcher, pytest.raises(TemplateUnusable, match="larger"):
        fetcher.fetch(
            "https://assets.example.org/huge.png",
            field="thumbnail",
            max_bytes=1024,
            accept="image/*",
        )


def test_fetch_bytes_reports_the_served_type(
    fetcher: TemplateFetcher, rsps: responses.RequestsMock
) -> None:
    rsps.get(
        "https://assets.example.org/t.png",
        body=b"\x89PNG",
        content_type="image/png; charset=binary",
    )
    fetched = fetcher.fetch(
        "https://assets.example.org/t.png", field="thumbnail", max_bytes=100, accept="image/*"
    )
    assert fetched.content == b"\x89PNG"
    assert fetched.content_type == "image/png"
