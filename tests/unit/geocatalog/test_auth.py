"""Bearer tokens: cached until five minutes before expiry, one fetch at a time, per mode."""

from __future__ import annotations

import threading

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import AzureCliCredential, DefaultAzureCredential, ManagedIdentityCredential

from shared.geocatalog.auth import (
    PLACEHOLDER_TOKEN,
    CredentialTokenProvider,
    StaticTokenProvider,
    credential_for,
    token_provider_for,
)
from shared.geocatalog.errors import PermanentError
from shared.settings import GEOCATALOG_SCOPE, CredentialMode, GeoCatalogSettings


class FakeCredential:
    """Issues numbered tokens valid for `lifetime` seconds from the fake clock's time."""

    def __init__(self, clock: list[float], lifetime: float = 3600.0) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        self.calls.append(scopes)
        return AccessToken(f"token-{len(self.calls)}", int(self.clock[0] + self.lifetime))


def test_a_token_is_reused_until_five_minutes_before_it_expires() -> None:
    now = [1_000_000.0]
    credential = FakeCredential(now)
    provider = CredentialTokenProvider(credential, GEOCATALOG_SCOPE, clock=lambda: now[0])

    assert provider.token() == "token-1"
    now[0] += 3600 - 301  # 5 min + 1 s before expiry: still good
    assert provider.token() == "token-1"
    now[0] += 1  # exactly five minutes before expiry: refresh
    assert provider.token() == "token-2"
    assert credential.calls == [(GEOCATALOG_SCOPE,), (GEOCATALOG_SCOPE,)]


def test_invalidate_forces_a_new_token() -> None:
    now = [0.0]
    credential = FakeCredential(now)
    provider = CredentialTokenProvider(credential, "scope/.default", clock=lambda: now[0])
    assert provider.token() == "token-1"
    provider.invalidate()
    assert provider.token() == "token-2"


def test_concurrent_callers_share_one_fetch() -> None:
    now = [0.0]
    release = threading.Event()

    class SlowCredential(FakeCredential):
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            release.wait(5)
            return super().get_token(*scopes, **kwargs)

    credential = SlowCredential(now)
    provider = CredentialTokenProvider(credential, "s", clock=lambda: now[0])
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(provider.token())) for _ in range(8)]
    for t in threads:
        t.start()
    release.set()
    for t in threads:
        t.join(5)
    assert results == ["token-1"] * 8
    assert len(credential.calls) == 1


def test_a_credential_failure_is_permanent_and_does_not_echo_details() -> None:
    class Broken:
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            raise ClientAuthenticationError("AzureCliCredential: secret-ish details of the env")

    provider = CredentialTokenProvider(Broken(), GEOCATALOG_SCOPE)
    with pytest.raises(PermanentError) as caught:
        provider.token()
    assert caught.value.code == "CredentialUnavailable"
    assert "secret-ish" not in str(caught.value)
    assert GEOCATALOG_SCOPE in str(caught.value)


def test_mode_none_sends_the_placeholder() -> None:
    settings = GeoCatalogSettings(url="http://127.0.0.1:8700", credential=CredentialMode.NONE)
    provider = token_provider_for(settings)
    assert isinstance(provider, StaticTokenProvider)
    assert provider.token() == PLACEHOLDER_TOKEN


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        (CredentialMode.DEFAULT, DefaultAzureCredential),
        (CredentialMode.MANAGED_IDENTITY, ManagedIdentityCredential),
        (CredentialMode.AZURE_CLI, AzureCliCredential),
    ],
)
def test_each_mode_builds_its_azure_identity_credential(mode: CredentialMode, kind: type) -> None:
    settings = GeoCatalogSettings(
        url="https://gc.example", credential=mode, managed_identity_client_id="client-id"
    )
    # Building a credential contacts nothing; only get_token would.
    assert isinstance(credential_for(settings), kind)
    assert isinstance(token_provider_for(settings), CredentialTokenProvider)
