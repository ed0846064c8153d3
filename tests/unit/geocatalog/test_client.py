"""The GeoCatalog client over mocked HTTP (`responses`): routes, statuses, the choke point's rules."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from responses import matchers

import shared.geocatalog.client as client_module
from shared.geocatalog import (
    ConflictError,
    GeoCatalogClient,
    InvalidRequestError,
    NotFoundError,
    OperationStatus,
    PermanentError,
    ThrottledError,
    TransientError,
)
from shared.settings import CredentialMode, GeoCatalogSettings, SettingsError

BASE = "https://gc.example.test"
API = "2026-04-15"
SAS = "sv=2024-05-04&st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sr=c&sp=rl&sig=SECRETSIG%3D"


class RecordingTokens:
    def __init__(self) -> None:
        self.issued = 0
        self.invalidated = 0

    def token(self) -> str:
        self.issued += 1
        return "tok-SECRET-BEARER"

    def invalidate(self) -> None:
        self.invalidated += 1


class RecordingLimiter:
    def __init__(self) -> None:
        self.events: list[tuple[str, float | None]] = []

    def acquire(self) -> None:
        self.events.append(("acquire", None))

    def on_success(self) -> None:
        self.events.append(("success", None))

    def on_throttled(self, retry_after: float | None = None) -> None:
        self.events.append(("throttled", retry_after))


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def tokens() -> RecordingTokens:
    return RecordingTokens()


@pytest.fixture
def limiter() -> RecordingLimiter:
    return RecordingLimiter()


@pytest.fixture
def client(tokens: RecordingTokens, limiter: RecordingLimiter) -> GeoCatalogClient:
    settings = GeoCatalogSettings(url=BASE + "/", api_version=API, timeout_seconds=12.5)
    return GeoCatalogClient(settings, token_provider=tokens, limiter=limiter)  # type: ignore[arg-type]


def api(**extra: str) -> Any:
    return matchers.query_param_matcher({"api-version": API, **extra})


def operation_body(
    op_id: str = "op-1", status: str = "Pending", kind: str = "AddItem"
) -> dict[str, Any]:
    return {
        "id": op_id,
        "status": status,
        "type": kind,
        "creationTime": "2025-03-04T10:00:00.1234567Z",
        "collectionId": "c1",
        "statusHistory": [{"status": status, "timestamp": "2025-03-04T10:00:00.1234567Z"}],
    }


def op_headers(op_id: str) -> dict[str, str]:
    url = f"{BASE}/inma/operations/{op_id}?api-version={API}"
    return {"operation-location": url, "Location": url}


# -- the choke point ---------------------------------------------------------------------------


def test_every_call_carries_api_version_bearer_token_and_timeout(
    client: GeoCatalogClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(f"{BASE}/stac/collections/c1", json={"id": "c1"}, match=[api()])
    assert client.get_collection("c1") == {"id": "c1"}
    sent = rsps.calls[0].request
    assert sent.headers["Authorization"] == "Bearer tok-SECRET-BEARER"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["x-ms-client-request-id"]
    assert sent.req_kwargs["timeout"] == 12.5


def test_the_limiter_is_acquired_before_and_told_after(
    client: GeoCatalogClient, rsps: responses.RequestsMock, limiter: RecordingLimiter
) -> None:
    rsps.get(f"{BASE}/stac/collections/c1", json={"id": "c1"})
    rsps.get(
        f"{BASE}/stac/collections/c2",
        status=429,
        headers={"Retry-After": "3"},
        json={"error": {"code": "TooManyRequests", "message": "slow down"}},
    )
    rsps.get(f"{BASE}/stac/collections/c3", status=500, json={"error": {"code": "InternalError"}})
    client.get_collection("c1")
    with pytest.raises(ThrottledError) as throttled:
        client.get_collection("c2")
    assert throttled.value.retry_after == 3.0
    with pytest.raises(TransientError):
        client.get_collection("c3")
    assert limiter.events == [
        ("acquire", None),
        ("success", None),
        ("acquire", None),
        ("throttled", 3.0),
        ("acquire", None),
    ]


def test_a_401_invalidates_the_cached_token_and_is_permanent(
    client: GeoCatalogClient, rsps: responses.RequestsMock, tokens: RecordingTokens
) -> None:
    rsps.get(f"{BASE}/stac/collections/c1", status=401, json={"error": {"code": "Unauthorized"}})
    with pytest.raises(PermanentError) as caught:
        client.get_collection("c1")
    assert caught.value.status == 401
    assert tokens.invalidated == 1


def test_connection_errors_and_timeouts_are_transient(
    client: GeoCatalogClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(f"{BASE}/stac/collections/a", body=requests.ConnectionError("refused"))
    rsps.get(f"{BASE}/stac/collections/b", body=requests.ReadTimeout("slow"))
    with pytest.raises(TransientError, match="failed to connect"):
        client.get_collection("a")
    with pytest.raises(TransientError, match="timed out"):
        client.get_collection("b")


def test_a_success_without_json_is_permanent(
    client: GeoCatalogClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(f"{BASE}/stac/collections/c1", body="<html>proxy login</html>", status=200)
    with pytest.raises(PermanentError, match="not JSON"):
        client.get_collection("c1")


def test_redirects_are_not_followed(client: GeoCatalogClient, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/stac/collections/c1", status=302, headers={"Location": "https://evil.test/x"})
    with pytest.raises(PermanentError, match="unexpected 302"):
        client.get_collection("c1")


def test_path_segments_are_escaped(client: GeoCatalogClient, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/stac/collections/a%2Fb%20c", json={"id": "a/b c"})
    assert client.get_collection("a/b c")["id"] == "a/b c"


def test_bearer_tokens_need_https() -> None:
    with pytest.raises(SettingsError, match="GEOCATALOG_URL"):
        GeoCatalogClient(GeoCatalogSettings(url="http://gc.example.test"))
    # The local emulator runs on plain http without a credential.
    GeoCatalogClient(
        GeoCatalogSettings(url="http://127.0.0.1:8700", credential=CredentialMode.NONE)
    )


def test_logs_name_method_path_and_status_but_never_tokens_or_sas(
    client: GeoCatalogClient, rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    href = f"https://acct.blob.core.windows.net/cont/a.tif?{SAS}"
    rsps.get(
        f"{BASE}/stac/collections/c1",
        json={"id": "c1", "assets": {"thumbnail": {"href": href}}},
        match=[api(sign="true")],
    )
    rsps.put(
        f"{BASE}/stac/collections/c1/items/i1",
        status=400,
        json={"error": {"code": "InvalidAssetHref", "message": f"cannot read {href}"}},
    )
    rsps.post(f"{BASE}/stac/search", body=requests.ConnectionError(f"failed: {BASE}/x?{SAS}"))
    caplog.set_level(logging.DEBUG)

    signed = client.get_collection("c1", sign=True)
    assert signed["assets"]["thumbnail"]["href"] == href
    with pytest.raises(InvalidRequestError) as refused:
        client.replace_item("c1", "i1", {"type": "Feature", "id": "i1"})
    with pytest.raises(TransientError) as failed:
        client.search({"collections": ["c1"]}, sign=True)

    assert "GET /stac/collections/c1 -> 200" in caplog.text
    assert "PUT /stac/collections/c1/items/i1 -> 400" in caplog.text
    every_field = caplog.text + "".join(str(vars(r)) for r in caplog.records)
    for secret in ("sig=", "SECRETSIG", "Bearer", "tok-SECRET-BEARER", "api-version="):
        assert secret not in every_field, secret
    for error in (refused.value, failed.value):
        assert "SECRETSIG" not in str(error)
        assert "Bearer" not in str(error)
    records = [
        r
        for r in caplog.records
        if getattr(r, "http_path", None) == "/stac/collections/c1/items/i1"
    ]
    assert records[0].collection_id == "c1"  # type: ignore[attr-defined]
    assert records[0].item_id == "i1"  # type: ignore[attr-defined]
    assert records[0].http_status == 400  # type: ignore[attr-defined]


# -- collections -------------------------------------------------------------------------------


def test_create_collection_returns_the_operation_of_the_202(
    client: GeoCatalogClient, rsps: responses.RequestsMock
) -> None:
    rsps.post(
        f"{BASE}/stac/collections",
        status=202,
        json=operation_body("op-c", kind="AddCollection"),
        headers=op_headers("op-c"),
        match=[api(), matchers.json_params_matcher({"id": "c1", "type": "Collection"})],
    )
    op = client.create_collection({"id": "c1", "type": "Collection"})
    assert op.id == "op-c"
    assert op.type == "AddCollection"
    assert op.status is OperationStatus.PENDING
    assert not op.is_terminal


def test_a_202_without_a_body_takes_the_id_from_operation_location(
    client: GeoCatalogClient, rsps: responses.RequestsMock
) -> None:
    rsps.delete(f"{BASE}/stac/collections/c1", status=202, headers=op_headers("op-d"))
    op = client.delete_collection("c1")
    assert op.id == "op-d"
    assert op.status is OperationStatus.PENDING


def test_a_202_without_any_operation_id_is_permanent(
    client: GeoCatalogClient, rsps: responses.RequestsMock
) -> None:
    rsps.post(f"{BASE}/stac/collections/c1/items", status=202, json={"status": "Pending"})
    with pytest.raises(PermanentError, match="operation id"):
        client.create_items("c1", {"type": "Feature", "id": "i"})


def test_a_synchronous_201_counts_as_a_finished_operation(
    client: GeoCatalogClient, rsps: responses.RequestsMock
) -> None:
    rsps.post(f"{BASE}/stac/collections", status=201, json={"id": "c1", "type": "Collection"})
    op = client.create_collection({"id": "c1"})
    assert op.succeeded


def test_get_collection_not_found(client: GeoCatalogClient, rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{BASE}/stac/collections/nope",
        status=404,
        json={
            "error": {
                "code": "ResourceNotFound",
                "message": "Collection 'nope' not found. Please verify the collection ID and try again.",
            }
        },
    )
    with pytest.raises(NotFoundError) as caught:
        client.get_collection("nope")
    assert caught.value.code == "ResourceNotFound"


def test_get_collection_signed(client: GeoCatalogClient, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/stac/collections/c1", json={"id": "c1"}, match=[api(sign="true")])
    client.get_collection("c1", sign=True)


def test_next_links_to_another_host_are_refused(
    client: GeoCatalogClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(
        f"{BASE}/inma/ingestion-sources",
        json={"value": [], "nextLink": "https://other.test/steal"},
    )
    with pytest.raises(PermanentError, match="another host"):
        client.list_ingestion_sources()


def test_replace_collection(client: GeoCatalogClient, rsps: responses.RequestsMock) -> None:
    rsps.put(
        f"{BASE}/stac/collections/c1",
        json={"id": "c1", "title": "T", "msft:_updated": "x"},
        match=[matchers.json_params_matcher({"id": "c1", "title": "T"})],
    )
    assert client.replace_collection("c1", {"id": "c1", "title": "T"})["title"] == "T"


# -- collection assets -------------------------------------------------------------------------


def test_add_collection_asset_posts_multipart_metadata_and_file(
    client: GeoCatalogClient, rsps: responses.RequestsMock
) -> None:
    rsps.post(
        f"{BASE}/stac/collections/c1/assets",
        status=201,
        json={"id": "c1", "assets": {"thumbnail": {"href": "https://x/thumb.png"}}},
    )
    result = client.add_collection_asset(
        "c1",
        key="thumbnail",
        data=b"\x89PNG-bytes",
        filename="thumb.png",
        content_type="image/png",
        title="Sentinel 2 L2A",
        roles=["thumbnail"],
    )
    assert "thumbnail" in result["assets"]
    request = rsps.calls[0].request
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    body = request.body if isinstance(request.body, bytes) else b""
    assert b'name="file"; filename="thumb.png"' in body
    assert b"\x89PNG-bytes" in body
    assert b"Content-Type: image/png" in body
    data_part = body.split(b'name="data"\r\n\r\n', 1)[1].split(b"\r\n--", 1)[0]
    assert json.loads(data_part) == {
        "key": "thumbnail",
        "type": "image/png",
        "roles": ["thumbnail"],
        "title": "Sentinel 2 L2A",
        "description": "Sentinel 2 L2A",
    }


def test_replace_collection_asset_and_read_the_thumbnail(
    client: GeoCatalogClient, rsps: responses.RequestsMock
) -> None:
    rsps.put(f"{BASE}/stac/collections/c1/assets/thumbnail", json={"id": "c1"})
    rsps.get(
        f"{BASE}/stac/collections/c1/thumbnail",
        body=b"\x89PNG",
        content_type="image/png",
    )
    client.replace_collection_asset(
        "c1",
        key="thumbnail",
        data=b"x",
        filename="t.png",
        content_type="image/png",
        title="t",
        roles=["thumbnail"],
        description="d",
    )
    assert client.get_collection_thumbnail("c1") == b"\x89PNG"
    assert rsps.calls[1].request.headers["Accept"] == "*/*"


# -- configuration -----------------------------------------------------------------------------


def test_render_option_and_mosaic_routes(
    client: GeoCatalogClient, rsps: responses.RequestsMock
) -> None:
    base = f"{BASE}/stac/collections/c1/configurations"
    option = {"id": "natural-color", "name": "Natural color", "minZoom": 9}
    mosaic = {"id": "most-recent", "name": "Most recent", "cql": []}
    rsps.get(f"{base}/render-options", json=[option])
    rsps.post(
        f"{base}/render-options",
        status=201,
        json=option,
        match=[matchers.json_params_matcher(option)],
    )
    rsps.put(f"{base}/render-options/natural-color", json=option)
    rsps.get(f"{base}/mosaics", json=[mosaic])
    rsps.post(f"{base}/mosaics", status=201, json=mosaic)
    rsps.put(f"{base}/mosaics/most-recent", json=mosaic)
    rsps.get(f"{base}/tile-settings", json={"minZoom": 12, "maxItemsPerTile": 35})
    rsps.put(
        f"{base}/tile-settings",
        json={"minZoom": 9, "maxItemsPerTile": 35},
        match=[matchers.json_params_matcher({"minZoom": 9, "maxItemsPerTile": 35})],
    )
    rsps.get(base, json={"tileSettings": {}, "mosaicInfo": {"mosaics": [], "renderOptions": []}})

    assert client.list_render_options("c1") == [option]
    assert client.create_render_option("c1", option) == option
    assert client.replace_render_option("c1", "natural-color", option) == option
    assert client.list_mosaics("c1") == [mosaic]
    assert client.create_mosaic("c1", mosaic) == mosaic
    assert client.replace_mosaic("c1", "most-recent", mosaic) == mosaic
    assert client.get_tile_settings("c1")["maxItemsPerTile"] == 35
    assert client.replace_tile_settings("c1", {"minZoom": 9, "maxItemsPerTile": 35})["minZoom"] == 9
    assert "mosaicInfo" in client.get_collection_configuration("c1")


def test_a_duplicate_render_option_is_a_conflict(
    client: GeoCatalogClient, rsps: responses.RequestsMock
) -> None:
    rsps.post(
        f"{BASE}/stac/collections/c1/configurations/render-options",
        status=409,
        json={"error": {"code": "Conflict", "message": "exists"}},
    )
    with pytest.raises(ConflictError):
        client.create_render_option("c1", {"id": "a", "name": "A"})


# -- items and search --------------------------------------------------------------------------


def test_item_writes_return_operations(
    client: GeoCatalogClient, rsps: responses.RequestsMock
) -> None:
    items = f"{BASE}/stac/collections/c1/items"
    rsps.post(items, status=202, json=operation_body("op-a"), headers=op_headers("op-a"))
    rsps.put(f"{items}/i1", status=202, json=operation_body("op-u", kind="UpdateItem"))
    rsps.delete(f"{items}/i1", status=202, json=operation_body("op-x", kind="DeleteItem"))
    assert client.create_items("c1", {"type": "FeatureCollection", "features": []}).id == "op-a"
    assert client.replace_item("c1", "i1", {"type": "Feature", "id": "i1"}).type == "UpdateItem"
    assert client.delete_item("c1", "i1").id == "op-x"


def test_iter_search_follows_post_and_get_next_links(
    client: GeoCatalogClient, rsps: responses.RequestsMock
) -> None:
    query = {"collections": ["c1"], "limit": 1}
    rsps.post(
        f"{BASE}/stac/search",
        json={
            "type": "FeatureCollection",
            "features": [{"id": "a"}],
            "links": [
                {
                    "rel": "next",
                    "href": f"{BASE}/stac/search",
                    "method": "POST",
                    "body": {"token": "t2"},
                }
            ],
        },
        match=[api(sign="true"), matchers.json_params_matcher(query)],
    )
    rsps.post(
        f"{BASE}/stac/search",
        json={
            "type": "FeatureCollection",
            "features": [{"id": "b"}],
            "links": [{"rel": "next", "href": f"{BASE}/stac/search?token=t3"}],
        },
        match=[api(sign="true"), matchers.json_params_matcher({**query, "token": "t2"})],
    )
    rsps.get(
        f"{BASE}/stac/search",
        json={"type": "FeatureCollection", "features": [{"id": "c"}], "links": []},
        match=[api(sign="true", token="t3")],
    )
    pages = list(client.iter_search(query, sign=True))
    assert [p["features"][0]["id"] for p in pages] == ["a", "b", "c"]


def test_iter_search_stops_at_max_pages_and_says_so(
    client: GeoCatalogClient, rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    rsps.post(
        f"{BASE}/stac/search",
        json={
            "features": [],
            "links": [
                {
                    "rel": "next",
                    "href": f"{BASE}/stac/search",
                    "method": "POST",
                    "body": {"token": "again"},
                }
            ],
        },
    )
    with caplog.at_level(logging.WARNING, logger="shared.geocatalog.client"):
        assert len(list(client.iter_search({}, max_pages=1))) == 1
    assert [r.getMessage() for r in caplog.records] == [
        "POST /stac/search: stopped after 1 pages although the service offers more "
        "(the rest is not read)"
    ]


def test_a_search_that_ends_before_the_bound_warns_of_nothing(
    client: GeoCatalogClient, rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    rsps.post(f"{BASE}/stac/search", json={"features": [], "links": []})
    with caplog.at_level(logging.WARNING, logger="shared.geocatalog.client"):
        assert len(list(client.iter_search({}, max_pages=1))) == 1
    assert caplog.records == []


@pytest.mark.parametrize("listing", ["ingestion sources", "operations"])
def test_listings_stop_at_the_page_bound_and_say_so(
    client: GeoCatalogClient,
    rsps: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    listing: str,
) -> None:
    monkeypatch.setattr(client_module, "MAX_PAGES", 3)
    path = "/inma/ingestion-sources" if listing == "ingestion sources" else "/inma/operations"
    # A service that always offers one more page.
    rsps.get(f"{BASE}{path}", json={"value": [], "nextLink": f"{BASE}{path}?$skip=1"})
    with caplog.at_level(logging.WARNING, logger="shared.geocatalog.client"):
        if listing == "ingestion sources":
            client.list_ingestion_sources()
        else:
            list(client.iter_operations())
    assert len(rsps.calls) == 3
    assert [r.getMessage() for r in caplog.records] == [
        f"GET {path}: stopped after 3 pages although the service offers more (the rest is not read)"
    ]


# -- operations --------------------------------------------------------------------------------


def test_list_operations_passes_filters_and_iter_follows_next_link(
    client: GeoCatalogClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(
        f"{BASE}/inma/operations",
        json={
            "value": [operation_body("op-1", "Succeeded")],
            "nextLink": f"{BASE}/inma/operations?$skip=1&$top=1&api-version={API}",
        },
        match=[api(collectionId="c1", status="Succeeded", **{"$top": "1"})],
    )
    rsps.get(
        f"{BASE}/inma/operations",
        json={"value": [operation_body("op-2", "Failed")]},
        match=[api(**{"$skip": "1", "$top": "1"})],
    )
    ops = list(client.iter_operations(collection_id="c1", status=OperationStatus.SUCCEEDED, top=1))
    assert [o.id for o in ops] == ["op-1", "op-2"]
    assert ops[1].status is OperationStatus.FAILED


def test_get_and_cancel_operation(client: GeoCatalogClient, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/inma/operations/op-1", json=operation_body("op-1", "Running"))
    rsps.delete(f"{BASE}/inma/operations/op-1", status=204)
    assert client.get_operation("op-1").status is OperationStatus.RUNNING
    assert client.cancel_operation("op-1") is None


# -- ingestion sources -------------------------------------------------------------------------


def source_body(source_id: str, container: str) -> dict[str, Any]:
    return {
        "id": source_id,
        "kind": "SasToken",
        "created": "2025-10-28T18:41:14.9763916Z",
        "connectionInfo": {"containerUrl": container, "expiration": "2099-12-31T23:59:59.0000000Z"},
    }


@pytest.mark.parametrize(
    "asked",
    [
        "https://Sentinel2L2A01.blob.core.windows.net/sentinel2-l2/",
        "https://sentinel2l2a01.blob.core.windows.net:443/sentinel2-l2",
        "https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2?sv=2021-06-08&sig=placeholder",
    ],
)
def test_find_ingestion_source_lists_then_reads_each(
    client: GeoCatalogClient, rsps: responses.RequestsMock, asked: str
) -> None:
    rsps.get(
        f"{BASE}/inma/ingestion-sources",
        json={
            "value": [{"id": "s1", "kind": "SasToken"}],
            "nextLink": f"{BASE}/inma/ingestion-sources?$skip=1",
        },
        match=[api()],
    )
    rsps.get(
        f"{BASE}/inma/ingestion-sources",
        json={"value": [{"id": "s2", "kind": "SasToken"}, {"id": "s3", "kind": "SasToken"}]},
        match=[api(**{"$skip": "1"})],
    )
    rsps.get(
        f"{BASE}/inma/ingestion-sources/s1",
        json=source_body("s1", "https://a.blob.core.windows.net/other"),
    )
    rsps.get(
        f"{BASE}/inma/ingestion-sources/s2",
        status=404,
        json={"error": {"code": "ResourceNotFound"}},
    )
    rsps.get(
        f"{BASE}/inma/ingestion-sources/s3",
        json=source_body("s3", "https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2"),
    )
    found = client.find_ingestion_source(asked)
    assert found is not None
    assert found.id == "s3"


def test_find_ingestion_source_none(client: GeoCatalogClient, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/inma/ingestion-sources", json={"value": []})
    assert client.find_ingestion_source("https://a.blob.core.windows.net/c") is None


def test_create_replace_delete_ingestion_source(
    client: GeoCatalogClient, rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    container = "https://acct.blob.core.windows.net/cont"
    rsps.post(f"{BASE}/inma/ingestion-sources", status=201, json=source_body("srv-id", container))
    rsps.put(
        f"{BASE}/inma/ingestion-sources/srv-id", status=200, json=source_body("srv-id", container)
    )
    rsps.delete(f"{BASE}/inma/ingestion-sources/srv-id", status=204)
    rsps.post(
        f"{BASE}/inma/ingestion-sources",
        status=409,
        json={
            "error": {
                "code": "Conflict",
                "message": f"Container url {container} already contains a SAS token ingestion source with id srv-id",
            }
        },
    )
    caplog.set_level(logging.DEBUG)

    created = client.create_ingestion_source(container + "/", "?" + SAS)
    assert created.id == "srv-id"  # the service's id, not ours
    sent = json.loads(rsps.calls[0].request.body)
    assert sent["kind"] == "SasToken"
    assert sent["connectionInfo"] == {"containerUrl": container, "sasToken": SAS}
    assert len(sent["id"]) == 36
    replaced = client.replace_ingestion_source("srv-id", container, SAS)
    assert json.loads(rsps.calls[1].request.body)["id"] == "srv-id"
    assert replaced.expiration is not None
    client.delete_ingestion_source("srv-id")
    with pytest.raises(ConflictError, match="already contains"):
        client.create_ingestion_source(container, SAS)
    assert "SECRETSIG" not in caplog.text


# -- bulk ingestion and SAS --------------------------------------------------------------------


def test_probe_uses_a_short_timeout(client: GeoCatalogClient, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/stac/collections", json={"collections": [{"id": "a"}, {"id": "b"}]})
    assert client.probe(timeout=2.0) == "2 collection(s) on the first page"
    assert rsps.calls[0].request.req_kwargs["timeout"] == 2.0
