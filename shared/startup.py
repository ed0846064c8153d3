"""The app's start-up effects, in one place: storage is created, log levels are set and the
log-redaction filter is installed here, never as a side effect of first use.

- `start()` runs once per worker process, when the Functions worker (or the local host) imports
  `function_app`: it installs the log-redaction filter, sets the log levels the service relies on
  and checks the settings, logging a missing or malformed one by name. It never raises: the functions that do not need the bad
  setting keep working, and `GET /api/health` names it too.
- `prepare_storage(settings)` creates the pipeline's queues and their `-poison` queues, the job
  table and the payload container when they are missing. In Azure the Bicep creates them up
  front (infra/main.bicep); the local stack, the tests and the benchmarks call it before they
  start the host, and `python -m shared.startup [local.settings.json]` runs it by hand (before
  `python -m local.host` or `func start` against a fresh Azurite). It is idempotent.

Tests that change settings call `shared.runtime.reset()`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from shared import log_redaction
from shared.jobs.store import JobStore
from shared.payloads import PayloadStore
from shared.queues import IngestQueues
from shared.settings import Settings, SettingsError
from shared.storage import blob_container, table_client

logger = logging.getLogger(__name__)


def start() -> None:
    """The worker process's start-up: log levels, then a settings check (see the module)."""
    configure_logging()
    check_settings()


def configure_logging() -> None:
    """Process-wide log settings."""
    # urllib3 logs request lines with their query string, and a caller's URL may carry a SAS.
    log_redaction.install()
    # azure-core logs every request it sends at INFO (headers and queries redacted, but a line per
    # queue message and table write); the worker ships each record to Application Insights.
    logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)


def check_settings() -> Settings | None:
    """The settings as the environment holds them now, or None after logging what is wrong.

    Not cached: the process's settings are read (and cached) on first use by `runtime()`.
    """
    try:
        return Settings.from_env()
    except SettingsError as exc:
        logger.error("the app is misconfigured: %s", exc)
        return None


def prepare_storage(settings: Settings) -> None:
    """Create what the pipeline stores into when it is missing: queues (and `-poison` queues),
    the job table, the payload container."""
    JobStore(table_client(settings.storage, settings.jobs_table)).ensure_table()
    IngestQueues(settings.storage, settings.queues).ensure()
    PayloadStore(blob_container(settings.storage, settings.payload_container)).ensure()


def main(argv: Sequence[str] | None = None) -> int:
    """Create the app's storage from its settings: the environment, over a settings file's
    `Values` (as the Functions host merges them)."""
    parser = argparse.ArgumentParser(
        prog="python -m shared.startup",
        description="Create the pipeline's queues, job table and payload container if missing.",
    )
    parser.add_argument("settings", nargs="?", type=Path, help="a local.settings.json to read")
    args = parser.parse_args(argv)
    values: dict[str, str] = {}
    if args.settings is not None:
        values.update(json.loads(args.settings.read_text(encoding="utf-8")).get("Values", {}))
    values.update(os.environ)
    try:
        settings = Settings.from_env(values)
    except SettingsError as exc:
        print(f"cannot prepare storage: {exc}")
        return 2
    prepare_storage(settings)
    queues = settings.queues
    print(
        f"ready: queues {queues.plan}, {queues.items}, {queues.status} (and their -poison "
        f"queues), table {settings.jobs_table}, container {settings.payload_container}"
    )
    return 0


__all__ = ["check_settings", "configure_logging", "main", "prepare_storage", "start"]


if __name__ == "__main__":
    raise SystemExit(main())
