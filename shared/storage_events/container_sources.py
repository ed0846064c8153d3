"""The ingestion source for a watched container: the GeoCatalog must read the assets beside the
items. With the GeoCatalog's managed identity configured it is a `BlobManagedIdentity` source
(nothing to renew); otherwise a `SasToken` source signed by the app (the IngestionSourceManager,
whose provider chain includes the routes' containers, creates and renews it like any other).
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from shared.geocatalog.container_urls import container_key
from shared.geocatalog.errors import ConflictError
from shared.geocatalog.ingestion_sources import IngestionSourceManager, SourceStatus
from shared.geocatalog.models import IngestionSource

logger = logging.getLogger(__name__)

MANAGED_IDENTITY_KIND = "BlobManagedIdentity"


class IdentitySourceCatalog(Protocol):
    def find_ingestion_source(self, container_url: str) -> IngestionSource | None: ...

    def create_managed_identity_source(
        self, container_url: str, object_id: str
    ) -> IngestionSource: ...


class ContainerSources:
    def __init__(
        self,
        manager: IngestionSourceManager,
        catalog: IdentitySourceCatalog,
        *,
        geocatalog_identity_object_id: str | None,
    ) -> None:
        self._manager = manager
        self._catalog = catalog
        self._object_id = geocatalog_identity_object_id
        self._lock = threading.Lock()
        self._known: set[str] = set()

    def ensure(self, container_url: str, *, watched: bool) -> str:
        """Make sure the GeoCatalog can read `container_url`; the status, as jobs record it.
        Containers outside the routes go through the manager as in any job."""
        if not watched or self._object_id is None:
            return self._manager.ensure(container_url).status.value
        with self._lock:
            if container_key(container_url) in self._known:
                return SourceStatus.EXISTING.value
        existing = self._catalog.find_ingestion_source(container_url)
        status = SourceStatus.EXISTING
        if existing is None:
            try:
                created = self._catalog.create_managed_identity_source(
                    container_url, self._object_id
                )
                status = SourceStatus.CREATED
                logger.info(
                    "created managed-identity ingestion source %s for %s",
                    created.id,
                    container_url,
                    extra={"sourceId": created.id, "containerUrl": container_url},
                )
            except ConflictError:
                pass  # another instance registered it a moment ago
        elif existing.kind != MANAGED_IDENTITY_KIND:
            # A SAS source registered earlier (before the identity was configured) still works
            # and is renewed by the timer; it is left alone rather than swapped under ingestions.
            logger.info("container %s keeps its %s source", container_url, existing.kind)
        with self._lock:
            self._known.add(container_key(container_url))
        return status.value
