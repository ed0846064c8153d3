"""Template fetching under the URL policy, and stripping a template into a creatable collection."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import responses

from shared.collection_template import (
    STORAGE_FIELDS,
    TemplateFetcher,
    ThumbnailRef,
    UnprocessableContent,
    UrlPolicy,
    creatable_collection,
    thumbnail_filename,
    thumbnail_media_type,
    thumbnail_of,
    validated_template,
)
from shared.problems import InvalidRequest, ServiceUnavailable, UpstreamRefused
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


# -- stripping -----------------------------------------------------------------------------------


def test_the_sentinel_template_loses_what_geocatalog_refuses_and_keeps_the_rest() -> None:
    template = sentinel()
    original = copy.deepcopy(template)
    collection = creatable_collection(template, collection_id="s2-copy", title="My copy")

    assert template == original  # the template is not modified
    assert collection["id"] == "s2-copy"
    assert collection["title"] == "My copy"
    assert "assets" not in collection
    for key in ("msft:storage_account", "msft:container", "msft:region"):
        assert key in template
        assert key not in collection
    assert collection["msft:short_description"] == template["msft:short_description"]
    for key in (
        "extent",
        "license",
        "description",
        "item_assets",
        "summaries",
        "providers",
        "keywords",
        "stac_extensions",
        "stac_version",
        "type",
    ):
        assert collection[key] == template[key]
    rels = {link["rel"] for link in collection["links"]}
    assert rels
    assert not rels & {"self", "root", "parent", "items"}
    assert {link["rel"] for link in template["links"]} >= rels


def test_server_managed_and_storage_fields_are_dropped() -> None:
    template = {
        "type": "Collection",
        "id": "x",
        "msft:_created": "2025",
        "msft:_updated": "2025",
        "msft:requires_account": True,
        "msft:group_id": "landsat",
        "links": [{"rel": "self", "href": "a"}, {"rel": "license", "href": "b"}, "junk"],
    }
    collection = creatable_collection(template, collection_id="y", title="y")
    assert set(collection) == {"type", "id", "title", "msft:group_id", "links"}
    assert collection["links"] == [{"rel": "license", "href": "b"}]
    assert {"msft:storage_account", "msft:container"} <= STORAGE_FIELDS


def test_validated_template_accepts_collections_only() -> None:
    assert validated_template(sentinel())["id"] == "sentinel-2-l2a"
    with pytest.raises(UnprocessableContent, match="STAC Catalog"):
        validated_template({"type": "Catalog", "id": "c", "description": "d", "links": []})
    with pytest.raises(UnprocessableContent, match="JSON object"):
        validated_template([1, 2])
    with pytest.raises(UnprocessableContent, match="without `extent`"):
        validated_template({"type": "Collection", "description": "d", "license": "x"})
    with pytest.raises(UnprocessableContent) as caught:
        validated_template({"type": "Feature"})
    assert caught.value.field == "templateUrl"
    assert caught.value.status == 422


def test_thumbnail_reference_and_content_type() -> None:
    ref = thumbnail_of(sentinel())
    assert ref == ThumbnailRef(
        href="https://ai4edatasetspublicassets.blob.core.windows.net/assets/pc_thumbnails/sentinel-2.png",
        media_type="image/png",
        title="Sentinel 2 L2A",
    )
    assert thumbnail_of({"assets": {}}) is None
    assert thumbnail_media_type(ref, "image/webp") == "image/webp"
    assert thumbnail_media_type(ref, "application/octet-stream") == "image/png"
    jpg = ThumbnailRef("https://x.org/a/thumb.jpg", "image/jpg", "t")
    assert thumbnail_media_type(jpg, None) == "image/jpeg"
    untyped = ThumbnailRef("https://x.org/a/thumb.gif", None, "t")
    assert thumbnail_media_type(untyped, "text/plain") == "image/gif"
    assert thumbnail_filename(ref, "image/png") == "sentinel-2.png"
    assert (
        thumbnail_filename(ThumbnailRef("https://x.org/", None, "t"), "image/png")
        == "thumbnail.png"
    )


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
    with pytest.raises(InvalidRequest) as caught:
        policy.check(url, field="templateUrl")
    assert words in caught.value.detail
    assert caught.value.field == "templateUrl"
    assert caught.value.status == 400


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
    with pytest.raises(InvalidRequest):
        production.check("http://127.0.0.1:8701/x", field="f")
    with pytest.raises(InvalidRequest, match="SOURCE_ALLOWED_HOSTS"):
        production.check("https://127.0.0.1:8701/x", field="f")


# -- fetching ------------------------------------------------------------------------------------


def test_fetch_json(fetcher: TemplateFetcher, rsps: responses.RequestsMock) -> None:
    rsps.get(TEMPLATE_URL, json=sentinel())
    assert fetcher.fetch_json(TEMPLATE_URL, field="templateUrl")["id"] == "sentinel-2-l2a"
    assert rsps.calls[0].request.headers["Accept"] == "application/json"


def test_non_json_is_unprocessable(fetcher: TemplateFetcher, rsps: responses.RequestsMock) -> None:
    rsps.get(TEMPLATE_URL, body="<html>hello</html>", content_type="text/html")
    with pytest.raises(UnprocessableContent, match="did not answer JSON"):
        fetcher.fetch_json(TEMPLATE_URL, field="templateUrl")


def test_a_missing_template_is_unprocessable(
    fetcher: TemplateFetcher, rsps: responses.RequestsMock
) -> None:
    rsps.get(TEMPLATE_URL, status=404, json={"detail": "not found"})
    with pytest.raises(UnprocessableContent) as caught:
        fetcher.fetch_json(TEMPLATE_URL, field="templateUrl")
    assert caught.value.extra["upstreamStatus"] == 404


def test_an_unreachable_template_is_a_bad_gateway(
    fetcher: TemplateFetcher, rsps: responses.RequestsMock
) -> None:
    rsps.get(TEMPLATE_URL, body=requests.ConnectionError("refused"))
    with pytest.raises(UpstreamRefused) as caught:
        fetcher.fetch_json(TEMPLATE_URL, field="templateUrl")
    assert caught.value.status == 502
    assert caught.value.field == "templateUrl"
    rsps.replace(responses.GET, TEMPLATE_URL, status=503, body="down")
    with pytest.raises(UpstreamRefused, match="503"):
        fetcher.fetch_json(TEMPLATE_URL, field="templateUrl")


def test_a_throttled_template_host_is_service_unavailable_with_its_delay(
    fetcher: TemplateFetcher, rsps: responses.RequestsMock
) -> None:
    rsps.get(
        TEMPLATE_URL, status=429, headers={"Retry-After": "1"}, json={"detail": "Too Many Requests"}
    )
    with pytest.raises(ServiceUnavailable) as caught:
        fetcher.fetch_json(TEMPLATE_URL, field="templateUrl")
    assert caught.value.extra["retryAfter"] == 1


def test_redirects_are_followed_only_to_allowed_hosts(
    fetcher: TemplateFetcher, rsps: responses.RequestsMock
) -> None:
    rsps.get(TEMPLATE_URL, status=302, headers={"Location": "/api/stac/v1/collections/s2"})
    rsps.get(f"{PC}/api/stac/v1/collections/s2", json={"id": "s2"})
    assert fetcher.fetch_json(TEMPLATE_URL, field="templateUrl") == {"id": "s2"}

    rsps.get(f"{PC}/moved", status=301, headers={"Location": "http://169.254.169.254/metadata"})
    with pytest.raises(InvalidRequest, match="must use https"):
        fetcher.fetch_json(f"{PC}/moved", field="templateUrl")
    rsps.get(f"{PC}/moved2", status=307, headers={"Location": "https://internal.corp/secret"})
    with pytest.raises(InvalidRequest, match=r"internal\.corp"):
        fetcher.fetch_json(f"{PC}/moved2", field="templateUrl")


def test_redirect_loops_end(fetcher: TemplateFetcher, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{PC}/loop", status=302, headers={"Location": f"{PC}/loop"})
    with pytest.raises(UnprocessableContent, match="redirects more than"):
        fetcher.fetch_json(f"{PC}/loop", field="templateUrl")


def test_oversized_bodies_are_refused(policy: UrlPolicy, rsps: responses.RequestsMock) -> None:
    rsps.get("https://assets.example.org/huge.png", body=b"x" * 2048)
    with TemplateFetcher(policy) as fetcher, pytest.raises(UnprocessableContent, match="larger"):
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
