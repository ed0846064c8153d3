"""The SAS endpoints through the SDK, and reading managed storage with their tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.planetarycomputer import PlanetaryComputerProClient

from tests.conformance.conftest import HTTPS_OFF


def test_token_sign_and_revoke(client: PlanetaryComputerProClient, collection_id: str) -> None:
    client.stac.create_collection_asset(
        collection_id,
        body={
            "data": {"key": "thumbnail", "type": "image/png", "roles": ["thumbnail"], "title": "t"},
            "file": ("t.png", b"PNG!"),
        },
        **HTTPS_OFF,
    )
    href = client.stac.get_collection(collection_id, **HTTPS_OFF).assets["thumbnail"].href

    token = client.sas.get_token(collection_id, duration_in_minutes=60, **HTTPS_OFF)
    assert token.expires_on - datetime.now(UTC) < timedelta(minutes=61)
    assert token.expires_on - datetime.now(UTC) > timedelta(minutes=58)
    assert "sr=c" in token.token
    assert "sp=rl" in token.token
    assert httpx.get(f"{href}?{token.token}").content == b"PNG!"

    signed = client.sas.get_url(href=href, **HTTPS_OFF)
    assert signed.href.startswith(href + "?")
    assert signed.expires_on is not None
    assert httpx.get(signed.href).status_code == 200
    outside = client.sas.get_url(href="https://example.com/not-managed.tif", **HTTPS_OFF)
    assert outside.href == "https://example.com/not-managed.tif"

    assert client.sas.revoke_token(**HTTPS_OFF) is None
    revoked = httpx.get(signed.href)
    assert revoked.status_code == 403
    assert "<Code>AuthenticationFailed</Code>" in revoked.content.decode("utf-8-sig")
    fresh = client.sas.get_token(collection_id, **HTTPS_OFF)
    assert httpx.get(f"{href}?{fresh.token}").status_code == 200

    with pytest.raises(ResourceNotFoundError):
        client.sas.get_token("no-such-collection", **HTTPS_OFF)
