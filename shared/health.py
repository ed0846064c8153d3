"""Health report: is the configuration complete and does each dependency answer."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from azure.core.exceptions import ResourceNotFoundError

from shared.runtime import runtime
from shared.settings import Settings, SettingsError
from shared.storage import queue_client, table_client

# A probe returns a short human detail on success and raises on failure.
Probe = Callable[[], str]
# Seconds the GeoCatalog probe waits: a health check must answer quickly even when it cannot.
GEOCATALOG_PROBE_TIMEOUT = 5.0


class GeoCatalogProbe(Protocol):
    def probe(self, *, timeout: float = ...) -> str: ...


def _runtime_geocatalog() -> GeoCatalogProbe:
    # The process's client: its cached token and rate limiter, not a fresh credential per check.
    return runtime().geocatalog


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    duration_ms: float


@dataclass(frozen=True)
class HealthReport:
    checks: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "unhealthy",
            "checks": {
                c.name: {"ok": c.ok, "detail": c.detail, "durationMs": round(c.duration_ms, 1)}
                for c in self.checks
            },
        }


def run_probes(probes: Mapping[str, Probe]) -> HealthReport:
    results = []
    for name, probe in probes.items():
        started = time.perf_counter()
        try:
            detail, ok = probe(), True
        except Exception as exc:  # noqa: BLE001 - a failing probe is reported, not raised
            detail, ok = _describe(exc), False
        results.append(CheckResult(name, ok, detail, (time.perf_counter() - started) * 1000))
    return HealthReport(tuple(results))


def _describe(exc: Exception) -> str:
    # Only the type and the first line: storage errors can echo request URLs, never secrets,
    # but a one-line reason is all a health check needs.
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first_line}"[:300]


def service_probes(
    load_settings: Callable[[], Settings],
    *,
    geocatalog: Callable[[], GeoCatalogProbe] = _runtime_geocatalog,
) -> dict[str, Probe]:
    """The probes of the deployed service: configuration, the storage account, the GeoCatalog."""

    def configuration() -> str:
        settings = load_settings()
        return (
            f"GeoCatalog {settings.geocatalog.url} (api-version {settings.geocatalog.api_version})"
        )

    def storage() -> str:
        # Data-plane reads of the app's own queue and table: what the app's data roles allow
        # (service-properties calls may need more than Storage Queue/Table Data Contributor).
        settings = load_settings()
        notes = []
        try:
            depth = (
                queue_client(settings.storage, settings.queues.items)
                .get_queue_properties(timeout=5)
                .approximate_message_count
            )
            notes.append(f"queue {settings.queues.items}: {depth} waiting")
        except ResourceNotFoundError:
            notes.append(f"queue {settings.queues.items} not created yet")
        try:
            rows = table_client(settings.storage, settings.jobs_table).query_entities(
                "PartitionKey eq @pk", parameters={"pk": "~active"}, results_per_page=1, timeout=5
            )
            next(iter(rows.by_page()), None)
            notes.append(f"table {settings.jobs_table} answers")
        except ResourceNotFoundError:
            notes.append(f"table {settings.jobs_table} not created yet")
        return "; ".join(notes)

    def geocatalog_answers() -> str:
        load_settings()
        return "GeoCatalog answers: " + geocatalog().probe(timeout=GEOCATALOG_PROBE_TIMEOUT)

    return {"configuration": configuration, "storage": storage, "geocatalog": geocatalog_answers}


__all__ = [
    "GeoCatalogProbe",
    "HealthReport",
    "Probe",
    "SettingsError",
    "run_probes",
    "service_probes",
]
