"""Ingestion sources: a read SAS registered with the GeoCatalog for every asset container.

The GeoCatalog copies assets during ingestion and can only read a private container through a
`SasToken` ingestion source (one per container URL). This module finds, creates and renews them
the way the tutorial does by hand, but cached per process, safe against other instances doing the
same at the same time, and renewed in place (PUT) rather than deleted and recreated, so that no
ingestion ever runs in a window without a source.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlsplit

from shared.geocatalog.container_urls import container_key
from shared.geocatalog.errors import ConflictError, NotFoundError, UpstreamError
from shared.geocatalog.models import IngestionSource, IngestionSourceSummary, SasToken

logger = logging.getLogger(__name__)

SAS_TOKEN_KIND = "SasToken"  # noqa: S105 - the source kind name, not a secret


class SasProvider(Protocol):
    """Who can hand out a read SAS for a container; None when it does not serve that container."""

    def token_for(self, container_url: str) -> SasToken | None: ...


class SourceCatalog(Protocol):
    """The GeoCatalog calls this module needs (GeoCatalogClient provides them)."""

    def list_ingestion_sources(self) -> Sequence[IngestionSourceSummary]: ...

    def get_ingestion_source(self, source_id: str) -> IngestionSource: ...

    def create_ingestion_source(self, container_url: str, sas_token: str) -> IngestionSource: ...

    def replace_ingestion_source(
        self, source_id: str, container_url: str, sas_token: str
    ) -> IngestionSource: ...


class ContainerTokens(Protocol):
    def get_container_sas_token(self, account: str, container: str) -> SasToken: ...


class SourceStatus(StrEnum):
    EXISTING = "existing"
    CREATED = "created"
    RENEWED = "renewed"
    # No provider can issue a SAS for this container; items that need it will fail to ingest
    # unless the container is public or someone registers a source by hand.
    NO_PROVIDER = "no-sas-provider"
    # Dry runs say what they would do.
    WOULD_CREATE = "would-create"
    WOULD_RENEW = "would-renew"
    # The timer could not renew it (throttled, refused); it retries on its next run.
    RENEWAL_FAILED = "renewal-failed"


@dataclass(frozen=True)
class SourceOutcome:
    container_url: str
    status: SourceStatus
    source_id: str | None = None
    expires_at: datetime | None = None


def blob_container_parts(container_url: str) -> tuple[str, str] | None:
    """(account, container) of an Azure Blob container URL, None for anything else."""
    parts = urlsplit(container_url)
    host = parts.hostname or ""
    segments = [s for s in parts.path.split("/") if s]
    if parts.scheme == "https" and host.endswith(".blob.core.windows.net") and len(segments) == 1:
        return host.split(".", 1)[0], segments[0]
    return None


class PlanetaryComputerSasProvider:
    """Read tokens from the Planetary Computer's SAS API, for the containers it serves."""

    def __init__(self, planetary_computer: ContainerTokens) -> None:
        self._pc = planetary_computer

    def token_for(self, container_url: str) -> SasToken | None:
        parts = blob_container_parts(container_url)
        if parts is None:
            return None
        try:
            return self._pc.get_container_sas_token(*parts)
        except NotFoundError:
            return None


class ChainedSasProvider:
    """The first provider that serves a container wins."""

    def __init__(self, *providers: SasProvider) -> None:
        self._providers = providers

    def token_for(self, container_url: str) -> SasToken | None:
        for provider in self._providers:
            token = provider.token_for(container_url)
            if token is not None:
                return token
        return None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class IngestionSourceManager:
    """Ensures a live `SasToken` source per container; one instance per worker process."""

    def __init__(
        self,
        catalog: SourceCatalog,
        provider: SasProvider,
        *,
        renew_before: timedelta,
        index_ttl: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._catalog = catalog
        self._provider = provider
        self._renew_before = renew_before
        self._index_ttl = index_ttl
        self._now = clock
        self._lock = threading.Lock()
        self._by_container: dict[str, IngestionSource] = {}
        self._by_id: dict[str, IngestionSource] = {}
        self._index_at: datetime | None = None
        # Serialises work on one container within this process (other processes may still race;
        # the GeoCatalog's 409 on a second source settles that).
        self._container_locks: dict[str, threading.Lock] = {}

    def ensure(
        self, container_url: str, *, force_renew: bool = False, dry_run: bool = False
    ) -> SourceOutcome:
        """A source for `container_url` that stays valid for at least `renew_before`."""
        with self._container_lock(container_url):
            source = self._lookup(container_url)
            if source is not None and not force_renew and not self._expiring(source):
                return self._outcome(container_url, SourceStatus.EXISTING, source)
            if dry_run:
                status = SourceStatus.WOULD_CREATE if source is None else SourceStatus.WOULD_RENEW
                if self._provider.token_for(container_url) is None:
                    status = SourceStatus.NO_PROVIDER if source is None else SourceStatus.EXISTING
                return self._outcome(container_url, status, source)
            token = self._provider.token_for(container_url)
            if token is None:
                if source is not None:
                    return self._outcome(container_url, SourceStatus.EXISTING, source)
                return SourceOutcome(container_url, SourceStatus.NO_PROVIDER)
            if source is not None:
                if not force_renew and source.expiration and token.expires_at <= source.expiration:
                    # The provider has nothing fresher: replacing would only churn.
                    return self._outcome(container_url, SourceStatus.EXISTING, source)
                return self._renew(container_url, source, token)
            return self._create(container_url, token)

    def refresh_expiring(self, *, within: timedelta | None = None) -> list[SourceOutcome]:
        """Renew every SAS source expiring within `within` (default renew_before) that a
        provider serves; for the maintenance timer."""
        margin = within or self._renew_before
        self._reload_index()
        outcomes = []
        for source in list(self._by_id.values()):
            if source.kind != SAS_TOKEN_KIND or source.container_url is None:
                continue
            if not source.expires_within(margin, now=self._now()):
                continue
            with self._container_lock(source.container_url):
                token = self._provider.token_for(source.container_url)
                if token is None:
                    logger.warning(
                        "ingestion source %s expires at %s and no SAS provider serves %s",
                        source.id,
                        source.expiration,
                        source.container_url,
                        extra={"sourceId": source.id},
                    )
                    outcomes.append(
                        self._outcome(source.container_url, SourceStatus.NO_PROVIDER, source)
                    )
                    continue
                try:
                    outcomes.append(self._renew(source.container_url, source, token))
                except UpstreamError as exc:
                    # One refused renewal must not leave the others to expire.
                    logger.warning(
                        "renewing ingestion source %s failed: %s",
                        source.id,
                        exc,
                        extra={"sourceId": source.id},
                    )
                    outcomes.append(
                        self._outcome(source.container_url, SourceStatus.RENEWAL_FAILED, source)
                    )
        return outcomes

    # ---- internals ----------------------------------------------------------------------------

    def _container_lock(self, container_url: str) -> threading.Lock:
        with self._lock:
            return self._container_locks.setdefault(container_key(container_url), threading.Lock())

    def _expiring(self, source: IngestionSource) -> bool:
        return source.expires_within(self._renew_before, now=self._now())

    def _lookup(self, container_url: str) -> IngestionSource | None:
        with self._lock:
            fresh = self._index_at is not None and self._now() - self._index_at < self._index_ttl
            cached = self._by_container.get(container_key(container_url))
        if cached is not None and fresh:
            return cached
        self._reload_index()
        with self._lock:
            return self._by_container.get(container_key(container_url))

    def _reload_index(self) -> None:
        """List sources and GET the ones not seen yet (the list carries no container URLs)."""
        summaries = self._catalog.list_ingestion_sources()
        ids = [s.id for s in summaries]
        with self._lock:
            known = dict(self._by_id)
        fetched: dict[str, IngestionSource] = {}
        for source_id in ids:
            if not source_id:
                continue
            if source_id in known:
                fetched[source_id] = known[source_id]
                continue
            try:
                fetched[source_id] = self._catalog.get_ingestion_source(source_id)
            except NotFoundError:
                continue
        with self._lock:
            self._by_id = fetched
            self._by_container = {
                container_key(s.container_url): s for s in fetched.values() if s.container_url
            }
            self._index_at = self._now()

    def _remember(self, source: IngestionSource) -> None:
        with self._lock:
            self._by_id[source.id] = source
            if source.container_url:
                self._by_container[container_key(source.container_url)] = source

    def _create(self, container_url: str, token: SasToken) -> SourceOutcome:
        try:
            source = self._catalog.create_ingestion_source(container_url, token.token)
        except ConflictError:
            # Another instance registered it a moment ago: adopt theirs, renewing if needed.
            self._reload_index()
            with self._lock:
                existing = self._by_container.get(container_key(container_url))
            if existing is None:
                raise
            if self._expiring(existing):
                return self._renew(container_url, existing, token)
            return self._outcome(container_url, SourceStatus.EXISTING, existing)
        source = _with_expiry(source, token)
        self._remember(source)
        logger.info(
            "created ingestion source %s for %s",
            source.id,
            container_url,
            extra={"sourceId": source.id, "containerUrl": container_url},
        )
        return self._outcome(container_url, SourceStatus.CREATED, source)

    def _renew(self, container_url: str, source: IngestionSource, token: SasToken) -> SourceOutcome:
        try:
            # Under the URL it was registered with (the same container, perhaps spelled otherwise).
            registered_url = source.container_url or container_url
            renewed = self._catalog.replace_ingestion_source(source.id, registered_url, token.token)
        except NotFoundError:
            # Deleted behind our back (someone cleaned up by hand): register it anew.
            with self._lock:
                self._by_id.pop(source.id, None)
                self._by_container.pop(container_key(container_url), None)
            return self._create(container_url, token)
        renewed = _with_expiry(renewed, token)
        self._remember(renewed)
        logger.info(
            "renewed ingestion source %s for %s until %s",
            renewed.id,
            container_url,
            renewed.expiration,
            extra={"sourceId": renewed.id, "containerUrl": container_url},
        )
        return self._outcome(container_url, SourceStatus.RENEWED, renewed)

    @staticmethod
    def _outcome(
        container_url: str, status: SourceStatus, source: IngestionSource | None
    ) -> SourceOutcome:
        if source is None:
            return SourceOutcome(container_url, status)
        return SourceOutcome(container_url, status, source.id, source.expiration)


def _with_expiry(source: IngestionSource, token: SasToken) -> IngestionSource:
    # The service parses the expiry from the token's `se`; fall back to the provider's word.
    if source.expiration is not None:
        return source
    return IngestionSource(
        id=source.id,
        kind=source.kind,
        container_url=source.container_url,
        expiration=token.expires_at,
        created=source.created,
        object_id=source.object_id,
    )


__all__ = [
    "ChainedSasProvider",
    "IngestionSourceManager",
    "PlanetaryComputerSasProvider",
    "SasProvider",
    "SourceOutcome",
    "SourceStatus",
    "blob_container_parts",
]
