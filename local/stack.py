"""The whole service on one machine: Azurite, the GeoCatalog and Planetary Computer emulators, and
the local Functions host running the real `function_app`, wired to each other.

`python -m local.stack` (what `make up` runs) serves it in the foreground on the default ports
(host 7071, GeoCatalog 8700, Planetary Computer 8701, Azurite 10000-10002) until Ctrl+C. Tests and
the demo use `LocalStack` in-process, on free ports unless told otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType

from local.azurite import ACCOUNT_NAME, Azurite, start_azurite
from local.blob_events import BlobEventSource
from local.emulator.geocatalog import GeoCatalogConfig, start_geocatalog_emulator
from local.emulator.geocatalog.emulator import RunningEmulator as GeoCatalogEmulator
from local.emulator.geocatalog.process import GeoCatalogProcess
from local.emulator.planetary_computer import (
    PlanetaryComputerConfig,
    start_planetary_computer_emulator,
)
from local.emulator.planetary_computer.app import RunningEmulator as PlanetaryComputerEmulator
from local.host import LocalHost

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SETTINGS = REPO_ROOT / "local.settings.example.json"

logger = logging.getLogger(__name__)


@dataclass
class StackConfig:
    """Ports 0 pick free ones; None for `azurite_ports` picks three free ports."""

    host_port: int = 0
    geocatalog_port: int = 0
    planetary_computer_port: int = 0
    azurite_ports: tuple[int, int, int] | None = None
    geocatalog: GeoCatalogConfig = field(default_factory=GeoCatalogConfig)
    planetary_computer: PlanetaryComputerConfig = field(default_factory=PlanetaryComputerConfig)
    # App settings on top of the settings file (which defaults to the committed example, so
    # that tests never depend on a developer's local.settings.json).
    settings_path: Path = EXAMPLE_SETTINGS
    settings_overrides: dict[str, str] = field(default_factory=dict)
    strict_auth: bool = False
    # The local Event Grid for Azurite (local/blob_events.py): the schema its subscription
    # delivers, and a factor on Event Grid's retry schedule (tests shrink it).
    blob_events_schema: str = "EventGridSchema"
    blob_events_time_scale: float = 1.0
    # Which Azurite containers it watches (None: every routed container on Azurite's account).
    blob_events_containers: tuple[str, ...] | None = None
    # The GeoCatalog emulator in its own process (reached over HTTP only; its CPU not charged to
    # this process's GIL), as benchmarks want it; tests keep it in-process to reach its state.
    geocatalog_process: bool = False
    # Azurite keeps blobs in memory up to this; a batch's items stay in its blob, so a
    # 100,000-item job needs more than the default 256 MB (about 13 KB per Sentinel-2 item).
    azurite_extent_memory_mb: int = 256


@dataclass
class LocalStack:
    config: StackConfig = field(default_factory=StackConfig)
    azurite: Azurite | None = None
    geocatalog: GeoCatalogEmulator | None = None
    # Set instead of `geocatalog` when StackConfig.geocatalog_process is on.
    geocatalog_process: GeoCatalogProcess | None = None
    planetary_computer: PlanetaryComputerEmulator | None = None
    host: LocalHost | None = None
    blob_events: BlobEventSource | None = None

    @property
    def base_url(self) -> str:
        return self._host().base_url

    @property
    def geocatalog_api(self) -> GeoCatalogEmulator | GeoCatalogProcess:
        """The GeoCatalog emulator wherever it runs: its base_url, stats(), configure(), fault()."""
        running = self.geocatalog or self.geocatalog_process
        if running is None:
            raise RuntimeError("the stack is not started")
        return running

    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        cfg = self.config
        blob, queue, table = cfg.azurite_ports or (0, 0, 0)
        self.azurite = start_azurite(
            blob_port=blob or None,
            queue_port=queue or None,
            table_port=table or None,
            extent_memory_limit_mb=cfg.azurite_extent_memory_mb,
        )
        # Azurite's containers are blob storage to the GeoCatalog emulator (ingestion sources).
        blob_endpoint = f"http://{self.azurite.host}:{self.azurite.blob_port}/{ACCOUNT_NAME}"
        geocatalog_config = replace(
            cfg.geocatalog, blob_endpoints=(*cfg.geocatalog.blob_endpoints, blob_endpoint)
        )
        if cfg.geocatalog_process:
            self.geocatalog_process = GeoCatalogProcess(
                geocatalog_config, cfg.geocatalog_port
            ).start()
        else:
            self.geocatalog = start_geocatalog_emulator(geocatalog_config, port=cfg.geocatalog_port)
        self.planetary_computer = start_planetary_computer_emulator(
            cfg.planetary_computer, port=cfg.planetary_computer_port
        )
        # The app reads its settings once per process; a new stack means new settings.
        from shared import runtime, startup
        from shared.settings import Settings

        runtime.reset()
        overrides = {
            "AzureWebJobsStorage": self.azurite.connection_string,
            "STORAGE_EVENTS_CONNECTION_STRING": self.azurite.connection_string,
            "GEOCATALOG_URL": self.geocatalog_api.base_url,
            "PLANETARY_COMPUTER_URL": self.planetary_computer.base_url,
            **cfg.settings_overrides,
        }
        # What the Bicep creates in Azure: the queues, the job table, the payload container.
        startup.prepare_storage(
            Settings.from_env(_effective_settings(cfg.settings_path, overrides))
        )
        self.host = LocalHost(
            REPO_ROOT,
            app_module="function_app",
            settings_path=cfg.settings_path,
            settings_overrides=overrides,
            http_port=cfg.host_port,
            strict_auth=cfg.strict_auth,
        ).start()
        containers = (
            list(cfg.blob_events_containers)
            if cfg.blob_events_containers is not None
            else watched_containers(_effective_settings(cfg.settings_path, overrides))
        )
        if containers:
            self.blob_events = BlobEventSource(
                self.azurite.connection_string,
                containers,
                f"{self.host.base_url}/runtime/webhooks/eventgrid?functionName=ingest_events",
                schema=cfg.blob_events_schema,
                time_scale=cfg.blob_events_time_scale,
            ).start()

    def _host(self) -> LocalHost:
        if self.host is None:
            raise RuntimeError("the stack is not started")
        return self.host

    def stop(self) -> None:
        if self.blob_events is not None:
            self.blob_events.stop()
            self.blob_events = None
        if self.host is not None:
            self.host.stop()
            self.host = None
        for part in (self.planetary_computer, self.geocatalog, self.geocatalog_process):
            if part is not None:
                part.stop()
        self.planetary_computer = self.geocatalog = self.geocatalog_process = None
        if self.azurite is not None:
            self.azurite.stop()
            self.azurite = None
        from shared import runtime

        runtime.reset()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def describe(self) -> str:
        if not (self.azurite and self.planetary_computer and self.host):
            raise RuntimeError("the stack is not started")
        watched = ", ".join(self.blob_events.containers) if self.blob_events else "none"
        geocatalog = self.geocatalog_api
        return "\n".join(
            [
                f"Functions host      {self.host.base_url}/api  (function keys not enforced)",
                f"GeoCatalog emulator {geocatalog.base_url}  (stats: /_emulator/stats)",
                f"Planetary Computer  {self.planetary_computer.base_url}/api/stac/v1",
                f"Azurite             blob {self.azurite.blob_port}, queue "
                f"{self.azurite.queue_port}, table {self.azurite.table_port}",
                f"Blob events         Azurite containers watched: {watched} "
                "(BlobCreated/BlobDeleted to the Event Grid webhook)",
            ]
        )


def _effective_settings(path: Path, overrides: dict[str, str]) -> dict[str, str]:
    """The app settings the host will run with: as the host merges them, the environment before
    the settings file, the overrides before both."""
    values: dict[str, str] = {}
    if path.exists():
        values.update(json.loads(path.read_text()).get("Values", {}))
    values.update(os.environ)
    values.update(overrides)
    return values


def watched_containers(values: dict[str, str]) -> list[str]:
    """The Azurite containers the app's storage routes watch (those on Azurite's account)."""
    from shared.storage_events.settings import StorageEventSettings

    routes = StorageEventSettings.from_env(values).routes.routes
    return sorted({r.container for r in routes if r.account == ACCOUNT_NAME})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.stack",
        description="Run the whole service locally, in the foreground.",
    )
    parser.add_argument("--host-port", type=int, default=7071)
    parser.add_argument("--geocatalog-port", type=int, default=8700)
    parser.add_argument("--planetary-computer-port", type=int, default=8701)
    parser.add_argument(
        "--azurite-ports", type=int, nargs=3, default=(10000, 10001, 10002), metavar="PORT"
    )
    parser.add_argument("--strict-auth", action="store_true", help="check function keys")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # azure-core logs every storage request at INFO (each queue poll); host.json asks for
    # "Azure.Core": "Warning", which the real host applies to its own categories.
    logging.getLogger("azure").setLevel(logging.WARNING)
    # `make up` watches one Azurite container (local/blob_demo.py uploads to it), unless the
    # settings file brings routes of its own.
    settings_path = EXAMPLE_SETTINGS
    local_settings = REPO_ROOT / "local.settings.json"
    if local_settings.exists():
        settings_path = local_settings
    overrides: dict[str, str] = {}
    if "STORAGE_ROUTES" not in _effective_settings(settings_path, {}):
        from local.blob_demo import ROUTE

        overrides["STORAGE_ROUTES"] = json.dumps([ROUTE])
    stack = LocalStack(
        StackConfig(
            settings_path=settings_path,
            settings_overrides=overrides,
            host_port=args.host_port,
            geocatalog_port=args.geocatalog_port,
            planetary_computer_port=args.planetary_computer_port,
            azurite_ports=tuple(args.azurite_ports),
            strict_auth=args.strict_auth,
        )
    )
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    with stack:
        if stack.azurite is not None and stack.blob_events is not None:
            # The watched containers exist from the start, ready for uploads.
            from azure.core.exceptions import ResourceExistsError
            from azure.storage.blob import BlobServiceClient

            service = BlobServiceClient.from_connection_string(stack.azurite.connection_string)
            for container in stack.blob_events.containers:
                with contextlib.suppress(ResourceExistsError):
                    service.create_container(container)
        print(stack.describe(), flush=True)
        print("Upload an item blob: .venv/bin/python -m local.blob_demo [--delete]", flush=True)
        print("Ctrl+C stops everything.", flush=True)
        done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
