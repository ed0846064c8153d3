"""The in-memory records of one GeoCatalog: collections and their items and configuration,
ingestion sources, bulk ingestion definitions and runs. Guarded by the emulator's lock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from local.emulator.geocatalog.clock import format_ticks


@dataclass
class CollectionRecord:
    id: str
    doc: dict[str, Any]  # the client's metadata, without assets and service-made links
    container: str  # managed-storage container `<id>-<8hex>`
    created: float
    updated: float
    base_url: str
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    item_blobs: dict[str, list[str]] = field(default_factory=dict)  # item id -> blob keys
    render_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    mosaics: dict[str, dict[str, Any]] = field(default_factory=dict)
    tile_settings: dict[str, Any] = field(default_factory=dict)
    partition_scheme: str = "none"
    queryables: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class SourceRecord:
    id: str
    kind: str  # "SasToken" | "BlobManagedIdentity"
    created: float
    container_url: str
    sas_token: str | None = None
    expiration: float | None = None
    object_id: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "created": format_ticks(self.created)}

    def to_json(self) -> dict[str, Any]:
        # sasToken is write-only: never echoed.
        info: dict[str, Any] = {"containerUrl": self.container_url}
        if self.kind == "SasToken":
            if self.expiration is not None:
                info["expiration"] = format_ticks(self.expiration)
        else:
            info["objectId"] = self.object_id
        return {**self.summary(), "connectionInfo": info}


@dataclass
class RunRecord:
    id: str
    creation_time: float
    source_catalog_url: str | None
    skip_existing_items: bool
    keep_original_assets: bool
    operation_id: str


@dataclass
class IngestionRecord:
    id: str
    collection_id: str
    creation_time: float
    import_type: str
    display_name: str | None
    source_catalog_url: str | None
    stac_geoparquet_url: str | None
    skip_existing_items: bool
    keep_original_assets: bool
    status: str = "Ready"
    runs: dict[str, RunRecord] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "creationTime": format_ticks(self.creation_time),
            "importType": self.import_type,
        }
        if self.display_name is not None:
            body["displayName"] = self.display_name
        if self.source_catalog_url is not None:
            body["sourceCatalogUrl"] = self.source_catalog_url
        if self.stac_geoparquet_url is not None:
            body["stacGeoparquetUrl"] = self.stac_geoparquet_url
        body["skipExistingItems"] = self.skip_existing_items
        body["keepOriginalAssets"] = self.keep_original_assets
        body["status"] = self.status
        return body


@dataclass
class ManagedBlob:
    content_type: str
    data: bytes | None = None  # None: synthesised on read (item assets are never really copied)
    item_id: str | None = None


@dataclass
class CatalogState:
    collections: dict[str, CollectionRecord] = field(default_factory=dict)
    # AddCollection operations by collection id (for the synchronous 409 mode)
    collections_being_created: dict[str, Any] = field(default_factory=dict)
    containers: dict[str, str] = field(default_factory=dict)  # container -> collection id
    sources: dict[str, SourceRecord] = field(default_factory=dict)
    ingestions: dict[str, IngestionRecord] = field(default_factory=dict)
    blobs: dict[str, ManagedBlob] = field(default_factory=dict)  # "<container>/<path>"

    def source_for_container(self, container_url: str) -> SourceRecord | None:
        wanted = normalise_container_url(container_url)
        for source in self.sources.values():
            if normalise_container_url(source.container_url) == wanted:
                return source
        return None


def normalise_container_url(url: str) -> str:
    """Host names are case-insensitive, container names are lower-case by rule."""
    return url.rstrip("/").lower()
