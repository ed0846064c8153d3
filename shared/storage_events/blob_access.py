"""Reading watched blobs and signing read SAS for their containers, as the app itself.

In Azure both use the app's managed identity: reads need Storage Blob Data Reader on the watched
account, and the SAS is a user-delegation SAS (the identity asks Storage for a delegation key and
signs with it; no account key exists anywhere). Azurite issues delegation keys only in its OAuth
mode over HTTPS, so on the local stack a connection string's account key reads and signs instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import DefaultAzureCredential
from azure.storage.blob import (
    BlobServiceClient,
    ContainerSasPermissions,
    UserDelegationKey,
    generate_container_sas,
)

from shared.geocatalog.container_urls import container_key
from shared.geocatalog.models import SasToken
from shared.storage_events.routes import BlobLocation, Routes

# Storage accepts a SAS whose start is a little in the future of its own clock; start earlier.
_CLOCK_SKEW = timedelta(minutes=5)
# A delegation key outlives the SAS signed with it; renew it when less than this remains.
_KEY_MARGIN = timedelta(hours=1)


class BlobTooLarge(Exception):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the blob is {size} bytes; the limit is {limit}")
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class BlobContent:
    data: bytes
    etag: str | None
    last_modified: datetime | None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def account_key_of(connection_string: str) -> tuple[str, str] | None:
    """(account name, key) of a key-based connection string."""
    fields = dict(part.split("=", 1) for part in connection_string.split(";") if "=" in part)
    name, key = fields.get("AccountName"), fields.get("AccountKey")
    return (name, key) if name and key else None


class BlobAccess:
    """Blob clients per account endpoint, with the app's identity or (locally) an account key."""

    def __init__(
        self,
        *,
        connection_string: str | None = None,
        client_id: str | None = None,
        credential: TokenCredential | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._key = account_key_of(connection_string) if connection_string else None
        self._client_id = client_id
        self._credential = credential
        self._clock = clock
        self._lock = threading.Lock()
        self._services: dict[str, BlobServiceClient] = {}
        self._delegation_keys: dict[str, UserDelegationKey] = {}

    @property
    def uses_identity(self) -> bool:
        return self._key is None

    def _token_credential(self) -> TokenCredential:
        with self._lock:
            if self._credential is None:
                self._credential = DefaultAzureCredential(
                    managed_identity_client_id=self._client_id
                )
            return self._credential

    def service(self, endpoint: str) -> BlobServiceClient:
        with self._lock:
            existing = self._services.get(endpoint)
        if existing is not None:
            return existing
        credential: Any
        if self._key is not None:
            credential = {"account_name": self._key[0], "account_key": self._key[1]}
        else:
            credential = self._token_credential()
        client = BlobServiceClient(account_url=endpoint, credential=credential)
        with self._lock:
            return self._services.setdefault(endpoint, client)

    def read(self, blob: BlobLocation, *, max_bytes: int) -> BlobContent | None:
        """The blob's bytes (None when it is gone); BlobTooLarge past `max_bytes`, read no
        further than one byte beyond the limit."""
        client = self.service(blob.endpoint).get_blob_client(blob.container, blob.name)
        try:
            downloader = client.download_blob(offset=0, length=max_bytes + 1, max_concurrency=1)
            data = downloader.readall()
        except ResourceNotFoundError:
            return None
        except HttpResponseError as exc:
            # An empty blob has no byte 0: the ranged read is refused as unsatisfiable.
            if exc.status_code == 416:
                return BlobContent(b"", None, None)
            raise
        size = downloader.size
        props = downloader.properties
        total = getattr(props, "size", None) or size
        if len(data) > max_bytes or (total is not None and total > max_bytes):
            raise BlobTooLarge(max(total or 0, len(data)), max_bytes)
        return BlobContent(data, props.etag, props.last_modified)

    def container_sas(self, endpoint: str, account: str, container: str, hours: int) -> SasToken:
        """A read + list SAS for one container: user-delegation with the identity, else keyed."""
        now = self._clock()
        start, expiry = now - _CLOCK_SKEW, now + timedelta(hours=hours)
        permission = ContainerSasPermissions(read=True, list=True)
        if self._key is not None:
            token = generate_container_sas(
                account,
                container,
                account_key=self._key[1],
                permission=permission,
                start=start,
                expiry=expiry,
                protocol=None,
            )
        else:
            key = self._delegation_key(endpoint, start, expiry)
            token = generate_container_sas(
                account,
                container,
                user_delegation_key=key,
                permission=permission,
                start=start,
                expiry=expiry,
                protocol="https",
            )
        return SasToken(token, expiry)

    def _delegation_key(
        self, endpoint: str, start: datetime, expiry: datetime
    ) -> UserDelegationKey:
        with self._lock:
            cached = self._delegation_keys.get(endpoint)
        if cached is not None and _parse_time(cached.signed_expiry) >= expiry:
            return cached
        # Keys live at most 7 days; ask for one that covers this SAS and a few more after it.
        key_expiry = min(expiry + _KEY_MARGIN * 6, start + timedelta(days=7))
        key = self.service(endpoint).get_user_delegation_key(start, key_expiry)
        with self._lock:
            self._delegation_keys[endpoint] = key
        return key


def _parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.min.replace(tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class RouteSasProvider:
    """A SasProvider for the containers of the routes (where items and their assets land)."""

    def __init__(self, routes: Routes, access: BlobAccess, *, hours: int) -> None:
        self._containers = {container_key(r.container_url): r for r in routes.routes}
        self._access = access
        self._hours = hours

    def serves(self, container_url: str) -> bool:
        return container_key(container_url) in self._containers

    def token_for(self, container_url: str) -> SasToken | None:
        route = self._containers.get(container_key(container_url))
        if route is None:
            return None
        return self._access.container_sas(
            route.endpoint, route.account, route.container, self._hours
        )


__all__ = ["BlobAccess", "BlobContent", "BlobTooLarge", "RouteSasProvider", "account_key_of"]
