"""The SAS the app registers for a watched container: user-delegation with its identity (the
path used in Azure), keyed only with a local connection string; read + list, container scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from azure.storage.blob import BlobServiceClient, UserDelegationKey

from shared.storage_events.blob_access import BlobAccess, RouteSasProvider, account_key_of
from shared.storage_events.routes import parse_routes

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
ROUTES = parse_routes('[{"account": "stdrop", "container": "stac", "collection": "col"}]')
AZURITE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
)


class DelegatingService:
    """What Storage answers to Get User Delegation Key (the identity's call), recorded."""

    def __init__(self) -> None:
        self.requests: list[tuple[datetime, datetime]] = []

    def get_user_delegation_key(self, start: datetime, expiry: datetime) -> UserDelegationKey:
        self.requests.append((start, expiry))
        key = UserDelegationKey()
        key.signed_oid = "11111111-1111-1111-1111-111111111111"
        key.signed_tid = "22222222-2222-2222-2222-222222222222"
        key.signed_start = start.strftime("%Y-%m-%dT%H:%M:%SZ")
        key.signed_expiry = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
        key.signed_service = "b"
        key.signed_version = "2025-01-05"
        key.value = "ZGVsZWdhdGlvbi1rZXktYnl0ZXM="
        return key


class IdentityAccess(BlobAccess):
    def __init__(self, service: DelegatingService) -> None:
        super().__init__(credential=object(), clock=lambda: NOW)  # type: ignore[arg-type]
        self.stub = service

    def service(self, endpoint: str) -> Any:
        return self.stub


def test_with_the_identity_the_sas_is_a_user_delegation_sas() -> None:
    service = DelegatingService()
    access = IdentityAccess(service)
    assert access.uses_identity
    provider = RouteSasProvider(ROUTES, access, hours=24)
    token = provider.token_for("https://stdrop.blob.core.windows.net/stac/")
    assert token is not None
    query = parse_qs(token.token)
    assert query["sr"] == ["c"]
    assert query["sp"] == ["rl"]
    assert query["spr"] == ["https"]
    # The delegation key's fields are in the token: it is signed by the identity, not a key.
    assert query["skoid"] == ["11111111-1111-1111-1111-111111111111"]
    assert query["sktid"] == ["22222222-2222-2222-2222-222222222222"]
    assert token.expires_at == NOW + timedelta(hours=24)
    assert "st" in query  # the GeoCatalog wants a start time
    # A second token reuses the delegation key while it covers the new SAS.
    provider.token_for("https://stdrop.blob.core.windows.net/stac")
    assert len(service.requests) == 1
    start, expiry = service.requests[0]
    assert expiry - start <= timedelta(days=7)


def test_containers_outside_the_routes_get_no_token() -> None:
    provider = RouteSasProvider(ROUTES, IdentityAccess(DelegatingService()), hours=1)
    assert provider.token_for("https://stdrop.blob.core.windows.net/other") is None
    assert provider.token_for("https://naipeuwest.blob.core.windows.net/naip") is None


def test_a_local_connection_string_signs_with_the_account_key() -> None:
    assert account_key_of(AZURITE) is not None
    access = BlobAccess(connection_string=AZURITE, clock=lambda: NOW)
    assert not access.uses_identity
    token = access.container_sas(
        "http://127.0.0.1:10000/devstoreaccount1", "devstoreaccount1", "stac", 1
    )
    query = parse_qs(token.token)
    assert query["sr"] == ["c"]
    assert query["sp"] == ["rl"]
    assert "skoid" not in query
    assert isinstance(access.service("http://127.0.0.1:10000/devstoreaccount1"), BlobServiceClient)
