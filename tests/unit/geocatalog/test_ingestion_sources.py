from __future__ import annotations

from datetime import timedelta

import pytest

from shared.geocatalog.errors import ConflictError, NotFoundError, ThrottledError
from shared.geocatalog.ingestion_sources import (
    ChainedSasProvider,
    IngestionSourceManager,
    PlanetaryComputerSasProvider,
    SourceStatus,
    blob_container_parts,
)
from shared.geocatalog.models import IngestionSource, SasToken
from tests.fakes import NOW, FakeSasProvider, FakeSourceCatalog

S2 = "https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2"


def manager(catalog: FakeSourceCatalog, provider: FakeSasProvider) -> IngestionSourceManager:
    return IngestionSourceManager(
        catalog, provider, renew_before=timedelta(minutes=15), clock=lambda: NOW
    )


def test_creates_a_missing_source_then_serves_it_from_cache() -> None:
    catalog, provider = FakeSourceCatalog(), FakeSasProvider()
    m = manager(catalog, provider)
    first = m.ensure(S2)
    assert first.status is SourceStatus.CREATED
    assert first.expires_at == NOW + timedelta(minutes=45)
    calls = len(catalog.calls)
    assert m.ensure(S2).status is SourceStatus.EXISTING
    assert len(catalog.calls) == calls
    assert provider.calls == 1


def test_reuses_a_valid_source_registered_by_someone_else() -> None:
    catalog = FakeSourceCatalog()
    existing = catalog.add(S2, NOW + timedelta(hours=3))
    outcome = manager(catalog, FakeSasProvider()).ensure(S2)
    assert (outcome.status, outcome.source_id) == (SourceStatus.EXISTING, existing.id)
    assert "create" not in catalog.calls


def test_renews_an_expiring_source_in_place() -> None:
    catalog = FakeSourceCatalog()
    existing = catalog.add(S2, NOW + timedelta(minutes=5))
    outcome = manager(catalog, FakeSasProvider()).ensure(S2)
    assert (outcome.status, outcome.source_id) == (SourceStatus.RENEWED, existing.id)
    assert catalog.sources[existing.id].expiration == NOW + timedelta(minutes=45)
    assert len(catalog.sources) == 1


def test_no_provider_creates_nothing_and_says_so() -> None:
    catalog = FakeSourceCatalog()
    outcome = manager(catalog, FakeSasProvider(lifetime=None)).ensure(S2)
    assert outcome.status is SourceStatus.NO_PROVIDER
    assert catalog.sources == {}


def test_an_expiring_source_without_provider_is_kept_as_it_is() -> None:
    catalog = FakeSourceCatalog()
    existing = catalog.add(S2, NOW + timedelta(minutes=5))
    outcome = manager(catalog, FakeSasProvider(lifetime=None)).ensure(S2)
    assert (outcome.status, outcome.source_id) == (SourceStatus.EXISTING, existing.id)


def test_a_provider_with_nothing_fresher_causes_no_churn() -> None:
    catalog = FakeSourceCatalog()
    catalog.add(S2, NOW + timedelta(minutes=10))
    outcome = manager(catalog, FakeSasProvider(lifetime=timedelta(minutes=10))).ensure(S2)
    assert outcome.status is SourceStatus.EXISTING
    assert not any(c.startswith("replace") for c in catalog.calls)


def test_force_renew_replaces_even_a_valid_source() -> None:
    catalog = FakeSourceCatalog()
    existing = catalog.add(S2, NOW + timedelta(hours=3))
    outcome = manager(catalog, FakeSasProvider()).ensure(S2, force_renew=True)
    assert (outcome.status, outcome.source_id) == (SourceStatus.RENEWED, existing.id)


def test_losing_a_creation_race_adopts_the_winner() -> None:
    class RacingCatalog(FakeSourceCatalog):
        winner: IngestionSource | None = None

        def create_ingestion_source(self, container_url: str, sas_token: str) -> IngestionSource:
            # Another instance registers the container between our lookup and our create.
            self.winner = self.add(container_url, NOW + timedelta(hours=2))
            return super().create_ingestion_source(container_url, sas_token)

    catalog = RacingCatalog()
    outcome = manager(catalog, FakeSasProvider()).ensure(S2)
    assert catalog.winner is not None
    assert (outcome.status, outcome.source_id) == (SourceStatus.EXISTING, catalog.winner.id)
    assert len(catalog.sources) == 1


def test_a_source_deleted_behind_our_back_is_registered_again() -> None:
    catalog = FakeSourceCatalog()
    existing = catalog.add(S2, NOW + timedelta(minutes=1))
    m = manager(catalog, FakeSasProvider())
    m.ensure("https://other.blob.core.windows.net/c")
    del catalog.sources[existing.id]
    outcome = m.ensure(S2)
    assert outcome.status is SourceStatus.CREATED
    assert outcome.source_id != existing.id


def test_dry_run_reports_without_writing() -> None:
    catalog = FakeSourceCatalog()
    catalog.add(S2, NOW + timedelta(minutes=1))
    m = manager(catalog, FakeSasProvider())
    assert m.ensure(S2, dry_run=True).status is SourceStatus.WOULD_RENEW
    assert m.ensure("https://x.blob.core.windows.net/y", dry_run=True).status is (
        SourceStatus.WOULD_CREATE
    )
    assert not any(c == "create" or c.startswith("replace") for c in catalog.calls)


def test_timer_refresh_renews_only_expiring_sas_sources_it_can_serve() -> None:
    catalog = FakeSourceCatalog()
    soon = catalog.add(S2, NOW + timedelta(minutes=10))
    later = catalog.add("https://b.blob.core.windows.net/c", NOW + timedelta(hours=5))
    outcomes = manager(catalog, FakeSasProvider()).refresh_expiring(within=timedelta(minutes=20))
    assert [(o.source_id, o.status) for o in outcomes] == [(soon.id, SourceStatus.RENEWED)]
    assert catalog.sources[later.id].expiration == NOW + timedelta(hours=5)


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        (S2, ("sentinel2l2a01", "sentinel2-l2")),
        ("https://acct.blob.core.windows.net/c/sub", None),
        ("http://acct.blob.core.windows.net/c", None),
        ("http://127.0.0.1:10000/devstoreaccount1/c", None),
        ("https://example.com/c", None),
    ],
)
def test_blob_container_parts(url: str, parts: tuple[str, str] | None) -> None:
    assert blob_container_parts(url) == parts


def test_planetary_computer_provider_asks_for_the_container_and_treats_404_as_not_served() -> None:
    asked: list[tuple[str, str]] = []

    class PC:
        def get_container_sas_token(self, account: str, container: str) -> SasToken:
            asked.append((account, container))
            if account != "sentinel2l2a01":
                raise NotFoundError("unknown account", status=404)
            return SasToken("se=x&sig=y", NOW)

    provider = ChainedSasProvider(PlanetaryComputerSasProvider(PC()))
    assert provider.token_for(S2) is not None
    assert provider.token_for("https://mine.blob.core.windows.net/data") is None
    assert provider.token_for("http://127.0.0.1:10000/devstoreaccount1/c") is None
    assert asked == [("sentinel2l2a01", "sentinel2-l2"), ("mine", "data")]


def test_timer_refresh_goes_on_past_a_refused_renewal() -> None:
    class RefusingCatalog(FakeSourceCatalog):
        def replace_ingestion_source(
            self, source_id: str, container_url: str, sas_token: str
        ) -> IngestionSource:
            if container_url == S2:
                raise ThrottledError("slow down", status=429)
            return super().replace_ingestion_source(source_id, container_url, sas_token)

    catalog = RefusingCatalog()
    refused = catalog.add(S2, NOW + timedelta(minutes=5))
    other = catalog.add("https://b.blob.core.windows.net/c", NOW + timedelta(minutes=5))
    outcomes = manager(catalog, FakeSasProvider()).refresh_expiring()
    statuses = {o.source_id: o.status for o in outcomes}
    assert statuses == {refused.id: SourceStatus.RENEWAL_FAILED, other.id: SourceStatus.RENEWED}
    assert catalog.sources[other.id].expiration == NOW + timedelta(minutes=45)


SPELLINGS_OF_S2 = [
    "HTTPS://Sentinel2L2A01.Blob.Core.Windows.Net/sentinel2-l2",
    S2 + "/",
    "https://sentinel2l2a01.blob.core.windows.net:443/sentinel2-l2",
    S2 + "?sv=2021-06-08&sr=c&sp=rl&sig=placeholder",
]


@pytest.mark.parametrize("registered", SPELLINGS_OF_S2)
def test_a_source_registered_under_another_spelling_of_the_url_is_found(registered: str) -> None:
    catalog = FakeSourceCatalog()
    existing = catalog.add(registered, NOW + timedelta(hours=3))
    m = manager(catalog, FakeSasProvider())
    outcome = m.ensure(S2)
    assert (outcome.status, outcome.source_id) == (SourceStatus.EXISTING, existing.id)
    assert "create" not in catalog.calls
    # ... and from the cache, whichever spelling asks.
    calls = len(catalog.calls)
    assert m.ensure(registered).source_id == existing.id
    assert len(catalog.calls) == calls


def test_an_expiring_source_is_renewed_under_the_url_it_was_registered_with() -> None:
    catalog = FakeSourceCatalog()
    registered = SPELLINGS_OF_S2[0]
    existing = catalog.add(registered, NOW + timedelta(minutes=5))
    outcome = manager(catalog, FakeSasProvider()).ensure(S2)
    assert (outcome.status, outcome.source_id) == (SourceStatus.RENEWED, existing.id)
    assert catalog.sources[existing.id].container_url == registered


class RacingCatalog(FakeSourceCatalog):
    """Another instance registers the container (spelled its own way) just before we do."""

    def create_ingestion_source(self, container_url: str, sas_token: str) -> IngestionSource:
        self.calls.append("create")
        self.winner = self.add(SPELLINGS_OF_S2[0], NOW + timedelta(hours=3))
        raise ConflictError("exists", status=409)


def test_a_conflict_adopts_the_winners_source_whatever_its_spelling() -> None:
    catalog = RacingCatalog()
    outcome = manager(catalog, FakeSasProvider()).ensure(S2)
    assert (outcome.status, outcome.source_id) == (SourceStatus.EXISTING, catalog.winner.id)
