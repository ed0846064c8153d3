"""Settings of the storage-event path, read with the service's other settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from shared.settings import SettingsError
from shared.storage_events.routes import Routes, RoutesError, routes_from_env

DEFAULT_MAX_BLOB_BYTES = 16 * 1024 * 1024
DEFAULT_SAS_HOURS = 24


@dataclass(frozen=True)
class StorageEventSettings:
    routes: Routes = field(default_factory=Routes)
    # Local only (Azurite): read the watched account with this connection string's key and
    # sign its SAS with the key. In Azure it is unset and the app's identity does both.
    connection_string: str | None = None
    # The client id of the app's user-assigned identity (AZURE_CLIENT_ID), for blob reads.
    client_id: str | None = None
    # The GeoCatalog's user-assigned identity: containers get a BlobManagedIdentity source.
    geocatalog_identity_object_id: str | None = None
    max_blob_bytes: int = DEFAULT_MAX_BLOB_BYTES
    sas_hours: int = DEFAULT_SAS_HOURS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StorageEventSettings:
        e = os.environ if env is None else env
        try:
            routes = routes_from_env(e)
        except RoutesError as exc:
            raise SettingsError("STORAGE_ROUTES", f"is malformed: {exc}") from None
        connection = _optional(e, "STORAGE_EVENTS_CONNECTION_STRING")
        return cls(
            routes=_on_local_endpoint(routes, connection),
            connection_string=connection,
            client_id=_optional(e, "AZURE_CLIENT_ID"),
            geocatalog_identity_object_id=_optional(e, "GEOCATALOG_IDENTITY_OBJECT_ID"),
            max_blob_bytes=_integer(e, "STORAGE_EVENTS_MAX_BLOB_BYTES", DEFAULT_MAX_BLOB_BYTES),
            sas_hours=_integer(e, "STORAGE_EVENTS_SAS_HOURS", DEFAULT_SAS_HOURS, maximum=7 * 24),
        )


def _on_local_endpoint(routes: Routes, connection: str | None) -> Routes:
    """Routes naming the connection string's account (Azurite's `devstoreaccount1`) without an
    endpoint watch it at the connection's path-style blob endpoint."""
    if connection is None:
        return routes
    fields = dict(part.split("=", 1) for part in connection.split(";") if "=" in part)
    account, endpoint = fields.get("AccountName", "").lower(), fields.get("BlobEndpoint")
    if not account or not endpoint or not urlsplit(endpoint).path.strip("/"):
        return routes
    return Routes(
        tuple(
            replace(r, blob_endpoint=endpoint.rstrip("/"))
            if r.account == account and r.blob_endpoint is None
            else r
            for r in routes.routes
        )
    )


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _integer(env: Mapping[str, str], name: str, default: int, *, maximum: int | None = None) -> int:
    raw = _optional(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(name, "must be a whole number") from None
    if value < 1 or (maximum is not None and value > maximum):
        raise SettingsError(
            name, f"must be from 1 to {maximum}" if maximum else "must be at least 1"
        )
    return value
