"""The emulator object: configuration, clock, randomness, state, operations, and the helpers
the route modules share. One instance per emulated GeoCatalog."""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from local.emulator.geocatalog.budget import Budget
from local.emulator.geocatalog.clock import Clock, system_clock
from local.emulator.geocatalog.config import GeoCatalogConfig
from local.emulator.geocatalog.errors import OperationError
from local.emulator.geocatalog.faults import Faults
from local.emulator.geocatalog.managed_storage import parse_managed_href
from local.emulator.geocatalog.operations import Operation, OperationBook, Outcome, Work
from local.emulator.geocatalog.sas import SasSigner, new_signer
from local.emulator.geocatalog.stats import Stats
from local.emulator.geocatalog.store import CatalogState

if TYPE_CHECKING:
    from local.server import ThreadedServer

ITEM_OPERATION_TYPES = frozenset({"AddItem", "UpdateItem", "DeleteItem", "IngestionStaticCatalog"})


class GeoCatalogEmulator:
    """State and behaviour of one emulated GeoCatalog; thread-safe through `lock`."""

    def __init__(self, config: GeoCatalogConfig | None = None, *, clock: Clock | None = None):
        self._config = config or GeoCatalogConfig()
        self.clock: Clock = clock or system_clock
        self.lock = threading.RLock()
        self.budget = Budget()
        self.faults = Faults()
        self.stats = Stats()
        self._init_state()

    def _init_state(self) -> None:
        config = self._config
        self.rng = random.Random(config.seed)
        self.state = CatalogState()
        self.operations = OperationBook(cancel_delay=lambda: self._config.cancel_delay_seconds)
        self.operations.failure_injector = self._inject_transient_failure
        seed_bytes = str(config.seed).encode() if config.seed is not None else uuid.uuid4().bytes
        self.signer: SasSigner = new_signer(config.sas_secret, config.storage_account, seed_bytes)
        self.managed_identities = [
            {
                "objectId": self.new_id(),
                "resourceId": (
                    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
                    "geocatalog-emulator/providers/Microsoft.ManagedIdentity/"
                    "userAssignedIdentities/geocatalog-emulator-identity"
                ),
            }
        ]

    # -- configuration ---------------------------------------------------------------------

    @property
    def config(self) -> GeoCatalogConfig:
        return self._config

    def update_config(self, changes: dict[str, Any]) -> GeoCatalogConfig:
        with self.lock:
            updated = self._config.updated(changes)
            if "seed" in changes and updated.seed is not None:
                self.rng.seed(updated.seed)
            self._config = updated
            return updated

    def reset(self, config: GeoCatalogConfig | None = None) -> None:
        """Forget all state, stats and scripted faults (and optionally replace the config)."""
        with self.lock:
            if config is not None:
                self._config = config
            self._init_state()
            self.budget.clear()
            self.faults.clear()
            self.stats.clear()

    # -- time and randomness ---------------------------------------------------------------

    def now(self) -> float:
        return self.clock()

    def new_id(self) -> str:
        if self._config.seed is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex8(self) -> str:
        return f"{self.rng.getrandbits(32):08x}"

    def advance(self) -> None:
        with self.lock:
            self.operations.advance(self.now())

    # -- operations ------------------------------------------------------------------------

    def submit(
        self,
        op_type: str,
        collection_id: str | None,
        work: Work | None,
        *,
        reports_times: bool,
        additional_information: dict[str, str] | None = None,
        ready: Any = None,
    ) -> Operation:
        """Create an operation in Pending; it runs and finishes by the configured durations."""
        with self.lock:
            now = self.now()
            low, high = self._config.operation_duration_seconds
            total = self.rng.uniform(low, high)
            queued = total * self.rng.uniform(0.2, 0.5)
            op = Operation(
                id=self.new_id(),
                type=op_type,
                collection_id=collection_id,
                creation_time=now,
                start_at=now + queued,
                finish_at=now + total,
                reports_times=reports_times,
                work=work,
                ready=ready,
                additional_information=additional_information,
            )
            return self.operations.add(op)

    def _inject_transient_failure(self, op: Operation) -> Outcome | None:
        rate = self._config.transient_operation_failure_rate
        if rate <= 0 or self.rng.random() >= rate:
            return None
        info = op.additional_information
        if info is not None and "TotalItems" in info:
            info.update(
                TotalPendingItems="0", TotalSuccessfulItems="0", TotalFailedItems=info["TotalItems"]
            )
        return Outcome.failed(
            OperationError.INTERMITTENT,
            "An intermittent internal error occurred while processing the operation. "
            "Retry the operation.",
        )

    # -- managed storage -------------------------------------------------------------------

    def managed_location(self, href: str) -> tuple[str, str] | None:
        return parse_managed_href(self._config, href)

    def sas_token(self, container: str, minutes: int | None) -> tuple[str, float]:
        """A read/list token for `container` and its expiry."""
        now = self.now()
        lifetime = 60.0 * (minutes if minutes is not None else self._config.sas_default_minutes)
        expiry = now + lifetime
        with self.lock:
            return self.signer.issue(container, now, expiry), expiry

    def sign_href(self, href: str, minutes: int | None, cache: dict[str, str] | None = None) -> str:
        """Append a managed-storage SAS to `href`; other hrefs are returned unchanged."""
        location = self.managed_location(href)
        if location is None:
            return href
        container = location[0]
        token = cache.get(container) if cache is not None else None
        if token is None:
            token, _ = self.sas_token(container, minutes)
            if cache is not None:
                cache[container] = token
        base = href.split("?", 1)[0]
        return f"{base}?{token}"


@dataclass
class RunningEmulator:
    """A GeoCatalog emulator served over HTTP on loopback from a background thread."""

    server: ThreadedServer
    emulator: GeoCatalogEmulator
    app: Any

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def configure(self, **changes: Any) -> GeoCatalogConfig:
        """Change switches of the running emulator (GeoCatalogConfig fields)."""
        return self.emulator.update_config(changes)

    def stats(self) -> dict[str, Any]:
        """Calls by route, method and status (as GET /_emulator/stats, without state)."""
        return self.emulator.stats.snapshot()

    def fault(self, **spec: Any) -> None:
        """Script a burst of faults (as POST /_emulator/faults)."""
        self.emulator.faults.script(spec)

    def reset(self) -> None:
        self.emulator.reset()

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_geocatalog_emulator(
    config: GeoCatalogConfig | None = None, port: int = 0, host: str = "127.0.0.1"
) -> RunningEmulator:
    from local.emulator.geocatalog.app import create_app
    from local.server import ThreadedServer

    app = create_app(config)
    server = ThreadedServer(app, host=host, port=port).start()
    return RunningEmulator(server=server, emulator=app.state.emulator, app=app)
