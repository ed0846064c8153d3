"""Bearer tokens for the GeoCatalog, from azure-identity, cached until shortly before they expire."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from azure.core.credentials import TokenCredential
from azure.core.exceptions import ClientAuthenticationError

from shared.geocatalog.errors import PermanentError
from shared.settings import CredentialMode, GeoCatalogSettings

logger = logging.getLogger(__name__)

# Refresh this long before expiry, so a token never expires in flight (the tutorial's 5 minutes).
REFRESH_MARGIN_SECONDS = 300.0
# Only ever sent to the local emulator (credential mode `none`), which checks presence, not content.
PLACEHOLDER_TOKEN = "local-emulator-placeholder-token"  # noqa: S105 - not a secret


class TokenProvider(Protocol):
    def token(self) -> str:
        """A bearer token valid for at least a few more minutes."""
        ...

    def invalidate(self) -> None:
        """Forget the cached token (the service refused it)."""
        ...


class CredentialTokenProvider:
    """Tokens from an azure-identity credential; one fetch at a time, shared by all threads."""

    def __init__(
        self,
        credential: TokenCredential,
        scope: str,
        *,
        refresh_margin: float = REFRESH_MARGIN_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credential = credential
        self._scope = scope
        self._margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_on = 0.0

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_on - self._margin:
                try:
                    access = self._credential.get_token(self._scope)
                except ClientAuthenticationError as exc:
                    # The credential's message can be long and name environment details; the type
                    # and the scope are enough to act on (check identity / `az login`).
                    raise PermanentError(
                        f"no GeoCatalog token for scope {self._scope} ({type(exc).__name__})",
                        code="CredentialUnavailable",
                    ) from None
                self._token, self._expires_on = access.token, float(access.expires_on)
                logger.debug("GeoCatalog token acquired", extra={"expires_on": self._expires_on})
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None
            self._expires_on = 0.0


class StaticTokenProvider:
    """A fixed token: the placeholder the local emulator accepts."""

    def __init__(self, token: str = PLACEHOLDER_TOKEN) -> None:
        self._token = token

    def token(self) -> str:
        return self._token

    def invalidate(self) -> None:
        return None


def credential_for(settings: GeoCatalogSettings) -> TokenCredential:
    """The azure-identity credential for the configured mode (not for mode `none`)."""
    # Imported here: azure.identity pulls in msal and friends, which the emulator mode never needs.
    from azure.identity import AzureCliCredential, DefaultAzureCredential, ManagedIdentityCredential

    client_id = settings.managed_identity_client_id
    if settings.credential is CredentialMode.MANAGED_IDENTITY:
        return ManagedIdentityCredential(client_id=client_id)
    if settings.credential is CredentialMode.AZURE_CLI:
        return AzureCliCredential()
    if settings.credential is CredentialMode.DEFAULT:
        return DefaultAzureCredential(managed_identity_client_id=client_id)
    raise ValueError(f"credential mode {settings.credential} has no azure-identity credential")


def token_provider_for(settings: GeoCatalogSettings) -> TokenProvider:
    if settings.credential is CredentialMode.NONE:
        return StaticTokenProvider()
    return CredentialTokenProvider(credential_for(settings), settings.scope)


__all__ = [
    "PLACEHOLDER_TOKEN",
    "REFRESH_MARGIN_SECONDS",
    "CredentialTokenProvider",
    "StaticTokenProvider",
    "TokenProvider",
    "credential_for",
    "token_provider_for",
]
