"""Long-lived objects of one Functions worker process, built once on first use and reused.

Handlers in functions/ take what they need from `runtime()`; tests build a `Runtime` from their own
Settings (or pass fakes straight to the service functions) instead of patching module globals.
Building them creates no storage and changes no log level: the process's start-up effects are in
`shared.startup`. The process holds two caches, its
settings (`shared.settings.current_settings`) and its `Runtime`; `reset()` forgets both.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from functools import cached_property

import requests

from shared.collections.ensure import ensure_collection
from shared.collections.template_fetch import UrlPolicy
from shared.geocatalog.client import GeoCatalogClient
from shared.geocatalog.ingestion_sources import (
    ChainedSasProvider,
    IngestionSourceManager,
    PlanetaryComputerSasProvider,
)
from shared.jobs.listing import JobIndex
from shared.jobs.store import JobStore
from shared.outbound.session import new_session
from shared.payloads import PayloadStore
from shared.pipeline.deps import PipelineDeps
from shared.planetary_computer import PlanetaryComputer
from shared.queues import IngestQueues
from shared.ratelimit import AdaptiveRateLimiter
from shared.settings import Settings, SettingsError, current_settings
from shared.storage import blob_container, table_client
from shared.storage_events.blob_access import BlobAccess, RouteSasProvider
from shared.storage_events.blob_state import BlobStateStore
from shared.storage_events.container_sources import ContainerSources
from shared.storage_events.ingest import StorageEventDeps
from shared.storage_events.settings import StorageEventSettings


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def geocatalog(self) -> GeoCatalogClient:
        """The GeoCatalog client; its rate limiter is shared by every function of this instance."""
        geocatalog = self.settings.geocatalog
        limiter = AdaptiveRateLimiter(geocatalog.calls_per_second_per_instance)
        return GeoCatalogClient(geocatalog, limiter=limiter)

    @cached_property
    def planetary_computer(self) -> PlanetaryComputer:
        return PlanetaryComputer(
            self.settings.planetary_computer_url, timeout=self.settings.geocatalog.timeout_seconds
        )

    @cached_property
    def source_session(self) -> requests.Session:
        """HTTP session for reading sources (STAC APIs, catalogs, item URLs)."""
        return new_session()

    @cached_property
    def ingestion_sources(self) -> IngestionSourceManager:
        """Ingestion sources, cached per process; SAS tokens signed by the app for the watched
        containers (storage routes), else from the Planetary Computer."""
        return IngestionSourceManager(
            self.geocatalog,
            ChainedSasProvider(
                RouteSasProvider(
                    self.storage_event_settings.routes,
                    self.blob_access,
                    hours=self.storage_event_settings.sas_hours,
                ),
                PlanetaryComputerSasProvider(self.planetary_computer),
            ),
            renew_before=timedelta(minutes=self.settings.pipeline.sas_renew_before_minutes),
        )

    @cached_property
    def storage_event_settings(self) -> StorageEventSettings:
        """A malformed STORAGE_ROUTES must not stop HTTP jobs: it is logged and reported by
        GET /api/health, and storage events are ignored until it is fixed."""
        try:
            return StorageEventSettings.from_env()
        except SettingsError as exc:
            logging.getLogger(__name__).error("storage events are off: %s", exc)
            return StorageEventSettings()

    @cached_property
    def blob_access(self) -> BlobAccess:
        """Reads watched blobs and signs their containers' SAS, as the app's identity."""
        events = self.storage_event_settings
        return BlobAccess(connection_string=events.connection_string, client_id=events.client_id)

    @cached_property
    def storage_events(self) -> StorageEventDeps:
        """What the storage-event path needs besides the pipeline."""
        events = self.storage_event_settings
        pipeline = self.pipeline
        table = table_client(self.settings.storage, self.settings.jobs_table)
        return StorageEventDeps(
            settings=events,
            blobs=self.blob_access,
            state=BlobStateStore(table),
            ingestion_sources=ContainerSources(
                pipeline.ingestion_sources,
                self.geocatalog,
                geocatalog_identity_object_id=events.geocatalog_identity_object_id,
            ),
            catalog=self.geocatalog,
        )

    @cached_property
    def pipeline(self) -> PipelineDeps:
        """Everything the ingest pipeline steps need. The storage it uses exists beforehand (the
        Bicep creates it in Azure, `shared.startup.prepare_storage` locally)."""
        settings = self.settings
        return PipelineDeps(
            settings=settings,
            store=JobStore(table_client(settings.storage, settings.jobs_table)),
            queues=IngestQueues(settings.storage, settings.queues),
            payloads=PayloadStore(blob_container(settings.storage, settings.payload_container)),
            catalog=self.geocatalog,
            ingestion_sources=self.ingestion_sources,
            http=self.source_session,
            ensure_collection=self.ensure_collection,
        )

    @cached_property
    def job_index(self) -> JobIndex:
        """Every job, newest first (GET /api/jobs)."""
        pipeline = self.pipeline
        table = table_client(self.settings.storage, self.settings.jobs_table)
        return JobIndex(table, pipeline.store)

    def ensure_collection(self, collection_id: str, template_url: str) -> None:
        """createCollection of a job, with this process's clients (shared.collections.ensure)."""
        ensure_collection(
            collection_id,
            template_url,
            geocatalog=self.geocatalog,
            planetary_computer=self.planetary_computer,
            policy=UrlPolicy.from_settings(self.settings),
        )


_lock = threading.Lock()
_runtime: Runtime | None = None


def runtime() -> Runtime:
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = Runtime(current_settings())
        return _runtime


def reset() -> None:
    """Forget the process's settings and runtime together (tests that change settings, and a
    local stack started again in the same process)."""
    global _runtime
    with _lock:
        _runtime = None
        current_settings.cache_clear()


__all__ = ["Runtime", "reset", "runtime"]
