"""The `geocatalog` health probe: does the GeoCatalog answer an authenticated call, quickly."""

from __future__ import annotations

import responses

from shared.geocatalog import GeoCatalogClient
from shared.health import run_probes, service_probes
from shared.settings import CredentialMode, GeoCatalogSettings, Settings, StorageSettings

BASE = "http://127.0.0.1:8700"


def settings() -> Settings:
    return Settings(
        geocatalog=GeoCatalogSettings(url=BASE, credential=CredentialMode.NONE),
        storage=StorageSettings(connection_string="UseDevelopmentStorage=true"),
    )


def geocatalog_check(client: GeoCatalogClient) -> dict[str, object]:
    probes = service_probes(settings, geocatalog=lambda: client)
    report = run_probes({"geocatalog": probes["geocatalog"]})
    check: dict[str, object] = report.to_dict()["checks"]["geocatalog"]
    return check


@responses.activate
def test_the_probe_lists_collections_with_a_short_timeout() -> None:
    responses.get(f"{BASE}/stac/collections", json={"collections": [{"id": "a"}], "links": []})
    check = geocatalog_check(GeoCatalogClient(settings().geocatalog))
    assert check["ok"] is True
    assert check["detail"] == "GeoCatalog answers: 1 collection(s) on the first page"
    assert responses.calls[0].request.req_kwargs["timeout"] == 5.0


@responses.activate
def test_a_refusing_geocatalog_is_reported_with_its_status() -> None:
    responses.get(
        f"{BASE}/stac/collections",
        status=403,
        json={"error": {"code": "Forbidden", "message": "no role assignment"}},
    )
    check = geocatalog_check(GeoCatalogClient(settings().geocatalog))
    assert check["ok"] is False
    assert str(check["detail"]).startswith("PermanentError: GeoCatalog: GET /stac/collections")
    assert "HTTP 403" in str(check["detail"])


def test_an_unreachable_geocatalog_is_reported() -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    client = GeoCatalogClient(
        GeoCatalogSettings(url="http://127.0.0.1:9", credential=CredentialMode.NONE)
    )
    check = geocatalog_check(client)
    assert check["ok"] is False
    assert "TransientError" in str(check["detail"])


def test_the_deployed_probe_set_includes_the_geocatalog() -> None:
    assert set(service_probes(settings)) == {"configuration", "storage", "geocatalog"}
