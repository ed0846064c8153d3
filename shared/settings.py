"""Service settings, read once from the environment (app settings in Azure, local.settings.json locally)."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, TypeVar
from urllib.parse import urlsplit

from shared.ratelimit import instance_share

DEFAULT_API_VERSION = "2026-04-15"
GEOCATALOG_SCOPE = "https://geocatalog.spatio.azure.com/.default"
PLANETARY_COMPUTER_URL = "https://planetarycomputer.microsoft.com"

# The Planetary Computer's APIs, and the public container its collection thumbnails live in.
DEFAULT_ALLOWED_HOSTS = (
    "planetarycomputer.microsoft.com",
    "ai4edatasetspublicassets.blob.core.windows.net",
)

_E = TypeVar("_E", bound=StrEnum)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it (never its value)."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"app setting {name} {problem}")
        self.name = name


class CredentialMode(StrEnum):
    """How the service gets GeoCatalog bearer tokens."""

    # DefaultAzureCredential: managed identity in Azure, `az login` on a workstation.
    DEFAULT = "default"
    MANAGED_IDENTITY = "managed-identity"
    AZURE_CLI = "azure-cli"
    # Only for the local emulator: requests carry a fixed placeholder token.
    NONE = "none"


@dataclass(frozen=True)
class GeoCatalogSettings:
    url: str
    api_version: str = DEFAULT_API_VERSION
    scope: str = GEOCATALOG_SCOPE
    credential: CredentialMode = CredentialMode.DEFAULT
    managed_identity_client_id: str | None = None
    timeout_seconds: float = 30.0
    # The GeoCatalog's budget is per subscription (50 calls/s) while each instance has its own
    # limiter, so an instance's share is the budget over the most instances that may run at once.
    subscription_calls_per_second: float = 50.0
    max_instances: int = 1
    # An explicit per-instance limit instead of the derived share.
    max_calls_per_second: float | None = None

    @property
    def calls_per_second_per_instance(self) -> float:
        """What one instance's limiter allows: the explicit limit, else its share of the budget."""
        if self.max_calls_per_second is not None:
            return self.max_calls_per_second
        return instance_share(self.subscription_calls_per_second, self.max_instances)


@dataclass(frozen=True)
class StorageSettings:
    """The Functions storage account (AzureWebJobsStorage): queues, job table, payload blobs.

    Either a connection string (Azurite, key-based accounts) or identity-based service URIs, the
    same `AzureWebJobsStorage__*` settings the Functions host itself reads.
    """

    connection_string: str | None = None
    queue_service_uri: str | None = None
    table_service_uri: str | None = None
    blob_service_uri: str | None = None
    client_id: str | None = None

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], prefix: str = "AzureWebJobsStorage"
    ) -> StorageSettings:
        reader = _Reader(env)
        connection = reader.optional(prefix)
        if connection is not None:
            return cls(connection_string=connection)
        account = reader.optional(f"{prefix}__accountName")
        uris = {
            kind: reader.optional(f"{prefix}__{kind}ServiceUri")
            or (f"https://{account}.{kind}.core.windows.net" if account else None)
            for kind in ("queue", "table", "blob")
        }
        if not all(uris.values()):
            raise SettingsError(
                prefix,
                "is required: a connection string, or identity-based "
                f"{prefix}__accountName / {prefix}__<queue|table|blob>ServiceUri",
            )
        return cls(
            queue_service_uri=uris["queue"],
            table_service_uri=uris["table"],
            blob_service_uri=uris["blob"],
            client_id=reader.optional(f"{prefix}__clientId"),
        )


# The app settings naming the pipeline's queues (plan, items, status), bound by the triggers.
QUEUE_SETTINGS: Final = ("INGEST_PLAN_QUEUE", "INGEST_ITEMS_QUEUE", "INGEST_STATUS_QUEUE")


@dataclass(frozen=True)
class QueueNames:
    """The names infra/main.bicep and local.settings.example.json set (code-built Settings use
    them too); from the environment each is required."""

    plan: str = "ingest-plan"
    items: str = "ingest-items"
    status: str = "ingest-status"


@dataclass(frozen=True)
class PipelineSettings:
    max_items_ceiling: int = 100_000
    inline_payload_max_bytes: int = 4 * 1024 * 1024
    # Two full batches per plan message: fewer, fuller messages (the STAC API serves up to 1,000).
    source_page_size: int = 198
    # Items per batch: the GeoCatalog takes about a hundred items per FeatureCollection.
    batch_size: int = 99
    # A batch also closes at this many bytes of item JSON: the GeoCatalog publishes no size
    # limit for a post (it refuses one with PostItemCollectionSizeExceeded, and the batch is
    # split), so this keeps a post, and what a refused one costs, modest.
    batch_max_bytes: int = 2 * 1024 * 1024
    status_initial_delay_seconds: float = 5.0
    status_max_delay_seconds: float = 120.0
    max_status_checks: int = 200
    max_post_attempts: int = 4
    throttle_max_delay_seconds: float = 300.0
    # The tutorial renews a source within 15 minutes of expiry; Planetary Computer tokens live
    # about an hour, so a larger margin would renew on nearly every call.
    sas_renew_before_minutes: int = 15


@dataclass(frozen=True)
class Settings:
    geocatalog: GeoCatalogSettings
    storage: StorageSettings
    planetary_computer_url: str = PLANETARY_COMPUTER_URL
    # Hosts the service may fetch templates and sources from, on behalf of callers.
    allowed_source_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    # Plain http is accepted only in local mode (the emulators); production talks https only.
    local_mode: bool = False
    queues: QueueNames = field(default_factory=QueueNames)
    jobs_table: str = "ingestjobs"
    payload_container: str = "ingest-payloads"
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        reader = _Reader(e)
        geocatalog = GeoCatalogSettings(
            url=reader.url("GEOCATALOG_URL"),
            api_version=reader.text("GEOCATALOG_API_VERSION", DEFAULT_API_VERSION),
            scope=reader.text("GEOCATALOG_SCOPE", GEOCATALOG_SCOPE),
            credential=reader.choice(
                "GEOCATALOG_CREDENTIAL", CredentialMode, CredentialMode.DEFAULT
            ),
            managed_identity_client_id=reader.optional("AZURE_CLIENT_ID"),
            timeout_seconds=reader.number("GEOCATALOG_TIMEOUT_SECONDS", 30.0, minimum=1.0),
            subscription_calls_per_second=reader.number(
                "GEOCATALOG_SUBSCRIPTION_CALLS_PER_SECOND", 50.0, minimum=1.0
            ),
            max_instances=reader.integer("GEOCATALOG_MAX_INSTANCES", 1, minimum=1),
            max_calls_per_second=reader.optional_number(
                "GEOCATALOG_MAX_CALLS_PER_SECOND", minimum=0.01
            ),
        )
        defaults = PipelineSettings()
        pipeline = PipelineSettings(
            max_items_ceiling=reader.integer(
                "INGEST_MAX_ITEMS", defaults.max_items_ceiling, minimum=1
            ),
            inline_payload_max_bytes=reader.integer(
                "INGEST_INLINE_MAX_BYTES", defaults.inline_payload_max_bytes, minimum=1024
            ),
            source_page_size=reader.integer(
                "INGEST_SOURCE_PAGE_SIZE", defaults.source_page_size, minimum=1
            ),
            batch_size=reader.integer(
                "INGEST_BATCH_SIZE", defaults.batch_size, minimum=1, maximum=99
            ),
            batch_max_bytes=reader.integer(
                "INGEST_BATCH_MAX_BYTES",
                defaults.batch_max_bytes,
                minimum=64 * 1024,
                maximum=3 * 1024 * 1024,
            ),
            status_initial_delay_seconds=reader.number(
                "INGEST_STATUS_INITIAL_DELAY_SECONDS", defaults.status_initial_delay_seconds
            ),
            status_max_delay_seconds=reader.number(
                "INGEST_STATUS_MAX_DELAY_SECONDS", defaults.status_max_delay_seconds, minimum=1.0
            ),
            max_status_checks=reader.integer(
                "INGEST_MAX_STATUS_CHECKS", defaults.max_status_checks, minimum=1
            ),
            max_post_attempts=reader.integer(
                "INGEST_MAX_POST_ATTEMPTS", defaults.max_post_attempts, minimum=1
            ),
            throttle_max_delay_seconds=reader.number(
                "INGEST_THROTTLE_MAX_DELAY_SECONDS", defaults.throttle_max_delay_seconds
            ),
            sas_renew_before_minutes=reader.integer(
                "SAS_RENEW_BEFORE_MINUTES", defaults.sas_renew_before_minutes, minimum=1
            ),
        )
        hosts = reader.text("SOURCE_ALLOWED_HOSTS", ",".join(DEFAULT_ALLOWED_HOSTS))
        return cls(
            geocatalog=geocatalog,
            storage=StorageSettings.from_env(e),
            planetary_computer_url=reader.url("PLANETARY_COMPUTER_URL", PLANETARY_COMPUTER_URL),
            allowed_source_hosts=tuple(h.strip().lower() for h in hosts.split(",") if h.strip()),
            local_mode=reader.flag("LOCAL_MODE", default=False),
            # Required, with no default: the queue triggers bind these names
            # (`%INGEST_PLAN_QUEUE%`), which the Functions host cannot resolve when the setting is
            # missing; a default here would send messages to a queue that no function reads.
            queues=QueueNames(
                plan=reader.required(QUEUE_SETTINGS[0]),
                items=reader.required(QUEUE_SETTINGS[1]),
                status=reader.required(QUEUE_SETTINGS[2]),
            ),
            jobs_table=reader.text("INGEST_JOBS_TABLE", "ingestjobs"),
            payload_container=reader.text("INGEST_PAYLOAD_CONTAINER", "ingest-payloads"),
            pipeline=pipeline,
        )


class _Reader:
    """Typed access to string settings; errors name the setting, never echo its value."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def optional(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def required(self, name: str) -> str:
        value = self.optional(name)
        if value is None:
            raise SettingsError(name, "is required but not set")
        return value

    def text(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def url(self, name: str, default: str | None = None) -> str:
        value = self.optional(name) or default
        if value is None:
            raise SettingsError(name, "is required but not set")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(name, "must be an absolute http(s) URL")
        return value.rstrip("/")

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        value = self.optional_number(name, minimum=minimum)
        return default if value is None else value

    def optional_number(self, name: str, *, minimum: float = 0.0) -> float | None:
        raw = self.optional(name)
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(name, "must be a number") from None
        if value < minimum:
            raise SettingsError(name, f"must be at least {minimum:g}")
        return value

    def integer(
        self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None
    ) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(name, "must be a whole number") from None
        if value < minimum:
            raise SettingsError(name, f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise SettingsError(name, f"must be at most {maximum}")
        return value

    def flag(self, name: str, *, default: bool) -> bool:
        raw = self.optional(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(name, "must be true or false")

    def choice(self, name: str, enum: type[_E], default: _E) -> _E:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            return enum(raw.lower())
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            raise SettingsError(name, f"must be one of: {allowed}") from None


@functools.cache
def current_settings() -> Settings:
    """The process's settings, read from the environment on first use (a failure is not cached)."""
    return Settings.from_env()
