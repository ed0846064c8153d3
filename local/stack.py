"""The whole service on one machine: Azurite, the GeoCatalog and Planetary Computer emulators, and
the local Functions host running the real `function_app`, wired to each other.

`python -m local.stack` (what `make up` runs) serves it in the foreground on the default ports
(host 7071, GeoCatalog 8700, Planetary Computer 8701, Azurite 10000-10002) until Ctrl+C. Tests and
the demo use `LocalStack` in-process, on free ports unless told otherwise.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from local.azurite import Azurite, start_azurite
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
        if cfg.geocatalog_process:
            self.geocatalog_process = GeoCatalogProcess(cfg.geocatalog, cfg.geocatalog_port).start()
        else:
            self.geocatalog = start_geocatalog_emulator(cfg.geocatalog, port=cfg.geocatalog_port)
        self.planetary_computer = start_planetary_computer_emulator(
            cfg.planetary_computer, port=cfg.planetary_computer_port
        )
        # The app reads its settings once per process; a new stack means new settings.
        from shared.runtime import reset_runtime

        reset_runtime()
        overrides = {
            "AzureWebJobsStorage": self.azurite.connection_string,
            "GEOCATALOG_URL": self.geocatalog_api.base_url,
            "PLANETARY_COMPUTER_URL": self.planetary_computer.base_url,
            **cfg.settings_overrides,
        }
        self.host = LocalHost(
            REPO_ROOT,
            app_module="function_app",
            settings_path=cfg.settings_path,
            settings_overrides=overrides,
            http_port=cfg.host_port,
            strict_auth=cfg.strict_auth,
        ).start()

    def _host(self) -> LocalHost:
        if self.host is None:
            raise RuntimeError("the stack is not started")
        return self.host

    def stop(self) -> None:
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
        from shared.runtime import reset_runtime

        reset_runtime()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def describe(self) -> str:
        if not (self.azurite and self.planetary_computer and self.host):
            raise RuntimeError("the stack is not started")
        geocatalog = self.geocatalog_api
        return "\n".join(
            [
                f"Functions host      {self.host.base_url}/api  (function keys not enforced)",
                f"GeoCatalog emulator {geocatalog.base_url}  (stats: /_emulator/stats)",
                f"Planetary Computer  {self.planetary_computer.base_url}/api/stac/v1",
                f"Azurite             blob {self.azurite.blob_port}, queue "
                f"{self.azurite.queue_port}, table {self.azurite.table_port}",
            ]
        )


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
    stack = LocalStack(
        StackConfig(
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
        print(stack.describe(), flush=True)
        print("Ctrl+C stops everything.", flush=True)
        done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
