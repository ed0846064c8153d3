"""With the GeoCatalog's managed identity configured, a watched container gets a
BlobManagedIdentity source (against the GeoCatalog emulator over HTTP), once, and the SAS path
leaves it alone; without it, the app's SAS source is created and the container reads with it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from local.emulator.geocatalog import GeoCatalogConfig, start_geocatalog_emulator
from local.emulator.geocatalog.emulator import RunningEmulator
from shared.geocatalog.client import GeoCatalogClient
from shared.geocatalog.ingestion_sources import IngestionSourceManager, SourceStatus
from shared.settings import CredentialMode, GeoCatalogSettings
from shared.storage_events.container_sources import MANAGED_IDENTITY_KIND, ContainerSources

pytestmark = pytest.mark.integration

CONTAINER = "https://stdrop.blob.core.windows.net/stac"


class NoSas:
    calls = 0

    def token_for(self, container_url: str) -> None:
        self.calls += 1


@pytest.fixture
def geocatalog() -> Iterator[RunningEmulator]:
    emulator = start_geocatalog_emulator(GeoCatalogConfig(budget_per_second=0), port=0)
    try:
        yield emulator
    finally:
        emulator.stop()


def test_a_watched_container_gets_a_managed_identity_source_once(
    geocatalog: RunningEmulator,
) -> None:
    object_id = geocatalog.emulator.managed_identities[0]["objectId"]
    client = GeoCatalogClient(
        GeoCatalogSettings(url=geocatalog.base_url, credential=CredentialMode.NONE)
    )
    sas = NoSas()
    manager = IngestionSourceManager(client, sas, renew_before=timedelta(minutes=15))
    sources = ContainerSources(manager, client, geocatalog_identity_object_id=object_id)
    try:
        assert sources.ensure(CONTAINER, watched=True) == SourceStatus.CREATED.value
        # Another instance (no cache) finds it; this one answers from its cache.
        other = ContainerSources(manager, client, geocatalog_identity_object_id=object_id)
        assert other.ensure(CONTAINER, watched=True) == SourceStatus.EXISTING.value
        assert sources.ensure(CONTAINER, watched=True) == SourceStatus.EXISTING.value
        # Spelled otherwise (host case, default port, trailing slash), it is the same container.
        third = ContainerSources(manager, client, geocatalog_identity_object_id=object_id)
        spelled = "https://STDROP.blob.core.windows.net:443/stac/"
        assert third.ensure(spelled, watched=True) == SourceStatus.EXISTING.value
        # The posting path's check finds the identity source and asks for no SAS.
        assert manager.ensure(CONTAINER).status is SourceStatus.EXISTING
        assert sas.calls == 0
    finally:
        client.close()
    with geocatalog.emulator.lock:
        found = list(geocatalog.emulator.state.sources.values())
    assert [(s.kind, s.container_url, s.object_id) for s in found] == [
        (MANAGED_IDENTITY_KIND, CONTAINER, object_id)
    ]


def test_an_unknown_identity_is_refused_by_the_geocatalog(geocatalog: RunningEmulator) -> None:
    client = GeoCatalogClient(
        GeoCatalogSettings(url=geocatalog.base_url, credential=CredentialMode.NONE)
    )
    manager = IngestionSourceManager(client, NoSas(), renew_before=timedelta(minutes=15))
    sources = ContainerSources(
        manager, client, geocatalog_identity_object_id="00000000-0000-0000-0000-00000000dead"
    )
    try:
        with pytest.raises(Exception, match="ManagedIdentityInfoNotFound"):
            sources.ensure(CONTAINER, watched=True)
    finally:
        client.close()
