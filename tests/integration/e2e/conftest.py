"""The whole service end to end on the local stack: Azurite, the GeoCatalog and Planetary Computer
emulators and the local Functions host running the real `function_app`, driven over real HTTP.

One stack serves every test of this package (`scope="package"`: the app's settings and runtime
are process-wide, so it must be gone before other packages start hosts of their own). Each test
gets a fresh target collection and the emulators' switches back as they were; after each test
the host is drained, so no test inherits another's messages.

Settings are the committed example's with fast timings: short emulator operations, status checks
1 s apart (queue delays are whole seconds), failed messages retried at once (host.json overridden
by `AzureFunctionsJobHost__...` app settings, as in Azure) and a source page size of 5, so that
every source of more than five items is planned over several plan messages.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableServiceClient

from local.bare_collection import create_bare_collection
from local.emulator.geocatalog import GeoCatalogConfig
from local.emulator.geocatalog.emulator import RunningEmulator as GeoCatalogEmulator
from local.emulator.planetary_computer import PlanetaryComputerConfig
from local.emulator.planetary_computer.app import RunningEmulator as PlanetaryComputerEmulator
from local.host import LocalHost
from local.stack import LocalStack, StackConfig
from shared.geocatalog.client import GeoCatalogClient
from shared.queues import IngestQueues
from shared.settings import CredentialMode, GeoCatalogSettings, QueueNames, StorageSettings

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[3] / "local" / "fixtures"
PC_ITEMS = FIXTURES / "planetary-computer" / "items"

TERMINAL_JOB_STATES = frozenset({"succeeded", "partially_succeeded", "failed", "canceled"})
TERMINAL_ITEM_STATES = frozenset(
    {"succeeded", "failed", "skipped", "invalid", "deadLettered", "canceled"}
)
OPEN_ITEM_STATES = ("pending", "submitting", "submitted")
ITEM_STATES = (
    "pending",
    "submitting",
    "submitted",
    "succeeded",
    "failed",
    "skipped",
    "invalid",
    "deadLettered",
    "canceled",
)
# Generous: a wait that runs out is a failure with the job's last state, never a timing claim.
JOB_TIMEOUT = 120.0

MAX_ITEMS_CEILING = 1000
INLINE_MAX_BYTES = 256 * 1024
PAGE_SIZE = 5
MAX_DEQUEUE_COUNT = 5

# The Planetary Computer emulator's demo search (its README): 8 Sentinel-2 L2A items.
DEMO_SEARCH: dict[str, Any] = {
    "collections": ["sentinel-2-l2a"],
    "bbox": [8.0, 79.5, 16.0, 80.2],
    "datetime": "2024-05-10/2024-05-20",
}
SENTINEL_CONTAINER = "https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2"
NAIP_CONTAINER = "https://naipeuwest.blob.core.windows.net/naip"
ITEMS_ROUTE = "/stac/collections/{collectionId}/items"
ITEM_ROUTE = "/stac/collections/{collectionId}/items/{itemId}"


def naip_items(count: int) -> list[dict[str, Any]]:
    """Real Planetary Computer NAIP items (a recorded search page, then its second page)."""
    items: list[dict[str, Any]] = []
    for name in ("naip.search-post.page1.10-items.json", "naip.search-post.page2.10-items.json"):
        items += json.loads((PC_ITEMS / name).read_text())["features"]
    if count > len(items):
        raise ValueError(f"only {len(items)} recorded NAIP items")
    return copy.deepcopy(items[:count])


@dataclass
class E2E:
    stack: LocalStack
    http: httpx.Client

    # ---- the parts ------------------------------------------------------------------------

    @property
    def host(self) -> LocalHost:
        assert self.stack.host is not None
        return self.stack.host

    @property
    def geocatalog(self) -> GeoCatalogEmulator:
        assert self.stack.geocatalog is not None
        return self.stack.geocatalog

    @property
    def pc(self) -> PlanetaryComputerEmulator:
        assert self.stack.planetary_computer is not None
        return self.stack.planetary_computer

    @property
    def api(self) -> str:
        return f"{self.stack.base_url}/api"

    def queues(self) -> IngestQueues:
        """The service's queues, to deliver a copy of a message as the host would."""
        assert self.stack.azurite is not None
        storage = StorageSettings(connection_string=self.stack.azurite.connection_string)
        return IngestQueues(storage, QueueNames())

    def geocatalog_client(self) -> GeoCatalogClient:
        """The service's own client, for test set-up straight against the GeoCatalog."""
        return GeoCatalogClient(
            GeoCatalogSettings(url=self.geocatalog.base_url, credential=CredentialMode.NONE)
        )

    # ---- the HTTP API ---------------------------------------------------------------------

    def post_ingest(self, body: Any) -> httpx.Response:
        return self.http.post(f"{self.api}/ingest", json=body)

    def submit(self, body: dict[str, Any]) -> str:
        """POST /api/ingest; the job id of the 202."""
        response = self.post_ingest(body)
        assert response.status_code == 202, response.text
        accepted = response.json()
        assert response.headers["Location"] == accepted["statusUrl"]
        assert accepted["statusUrl"].endswith(f"/api/jobs/{accepted['jobId']}")
        job_id: str = accepted["jobId"]
        return job_id

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.http.get(f"{self.api}/jobs/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait_for_job(self, job_id: str, timeout: float = JOB_TIMEOUT) -> dict[str, Any]:
        """Poll GET /api/jobs/{id} until the job is in a terminal state and completed.

        Every answer on the way must keep the contract of a terminal state: nothing in flight.
        (The state is derived from the counts at once; `completedAt` is written by the step that
        settled the last item a moment later, hence the wait for both.)
        """
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["state"] in TERMINAL_JOB_STATES:
                in_flight = {s: job["counts"][s] for s in OPEN_ITEM_STATES if job["counts"][s]}
                assert not in_flight, f"job {job_id} is {job['state']} with {in_flight} open"
                if job["completedAt"] is not None:
                    return job
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"job {job_id} still {job['state']} after {timeout:.0f} s: {job['counts']}"
                )
            time.sleep(0.1)

    def wait_for(self, what: str, predicate: Any, timeout: float = JOB_TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not reached within {timeout:.0f} s")
            time.sleep(0.1)

    def items(
        self, job_id: str, *, state: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Every item record of the job, following nextCursor through GET .../items."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(10_000):
            params: dict[str, Any] = {}
            if state is not None:
                params["state"] = state
            if limit is not None:
                params["limit"] = limit
            if cursor is not None:
                params["cursor"] = cursor
            response = self.http.get(f"{self.api}/jobs/{job_id}/items", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert page["jobId"] == job_id
            if limit is not None:
                assert len(page["items"]) <= limit
            found += page["items"]
            cursor = page["nextCursor"]
            if cursor is None:
                return found
        raise AssertionError("GET .../items kept answering a nextCursor")

    def assert_every_item_accounted(self, job_id: str) -> tuple[dict[str, Any], list[dict]]:
        """Every item of the job is in exactly one terminal state, ids are unique, and the
        counts of GET /api/jobs/{id} are the rows per state (read through the paged listing)."""
        job = self.job(job_id)
        items = self.items(job_id, limit=7)
        ids = [item["itemId"] for item in items]
        assert len(ids) == len(set(ids)), f"duplicate item rows: {Counter(ids).most_common(3)}"
        open_items = [i for i in items if i["state"] not in TERMINAL_ITEM_STATES]
        assert not open_items, f"items not in a terminal state: {open_items[:5]}"
        rows = Counter(item["state"] for item in items)
        counts = job["counts"]
        assert counts["total"] == len(items)
        assert {s: counts[s] for s in ITEM_STATES} == {s: rows.get(s, 0) for s in ITEM_STATES}
        assert job["state"] in TERMINAL_JOB_STATES
        assert job["completedAt"] is not None
        # Each state listing holds exactly that state's rows.
        for state, count in rows.items():
            listed = self.items(job_id, state=state)
            assert {i["itemId"] for i in listed} == {
                i["itemId"] for i in items if i["state"] == state
            }
            assert len(listed) == count
        return job, items

    # ---- the GeoCatalog emulator ----------------------------------------------------------

    def geocatalog_calls(self) -> Counter[str]:
        """Calls the GeoCatalog emulator answered, by `METHOD route status` (and `METHOD route`)."""
        calls: Counter[str] = Counter()
        for route, statuses in self.geocatalog.stats()["routes"].items():
            for status, count in statuses.items():
                calls[f"{route} {status}"] += count
                calls[route] += count
        return calls

    def operations(self, collection_id: str) -> Counter[str]:
        """The emulator's item operations on a collection, by `Type Status`."""
        emulator = self.geocatalog.emulator
        emulator.advance()
        with emulator.lock:
            return Counter(
                f"{op.type} {op.status}"
                for op in emulator.operations.all()
                if op.collection_id == collection_id and op.type in ("AddItem", "UpdateItem")
            )

    def catalog_items(self, collection_id: str) -> dict[str, dict[str, Any]]:
        emulator = self.geocatalog.emulator
        emulator.advance()
        with emulator.lock:
            record = emulator.state.collections.get(collection_id)
            return copy.deepcopy(record.items) if record is not None else {}

    def create_collection(self, collection_id: str) -> None:
        """A bare target collection, straight in the GeoCatalog (set-up, not under test: the
        service's own bootstrap is tested by createCollection and POST /api/collections)."""
        client = self.geocatalog_client()
        try:
            done = create_bare_collection(
                client,
                collection_id,
                f"end-to-end test collection {collection_id}",
                timeout=JOB_TIMEOUT,
                poll_interval=0.05,
            )
        finally:
            client.close()
        assert done.succeeded, done

    # ---- the host ---------------------------------------------------------------------------

    def mark(self) -> tuple[int, int]:
        """Where the host's invocation and queue-event logs stand now."""
        return len(self.host.invocations), len(self.host.queue_events)

    def poisoned_since(self, mark: tuple[int, int]) -> list[Any]:
        """Messages the host gave up on since `mark` (moved to a poison queue, or parked)."""
        return [
            e
            for e in self.host.queue_events[mark[1] :]
            if e.action in ("poisoned", "left-invisible")
        ]

    def failed_invocations_since(self, mark: tuple[int, int]) -> list[Any]:
        return [i for i in self.host.invocations[mark[0] :] if i.done and i.error is not None]

    # ---- the job table ------------------------------------------------------------------------

    def job_rows(self) -> int:
        """Job rows in the service's job table (to prove a refusal created nothing)."""
        return sum(1 for _ in self._jobs_table("RowKey eq 'job'"))

    def active_jobs(self) -> set[str]:
        return {row["RowKey"] for row in self._jobs_table("PartitionKey eq '~active'")}

    def _jobs_table(self, query: str) -> list[Any]:
        assert self.stack.azurite is not None
        tables = TableServiceClient.from_connection_string(self.stack.azurite.connection_string)
        try:
            return list(
                tables.get_table_client("ingestjobs").query_entities(
                    query, select=["PartitionKey", "RowKey"]
                )
            )
        except ResourceNotFoundError:
            return []  # the service has not made its table yet: no job either


# No seed: re-applying a seed to the running emulator (as the restore below would) restarts its
# id sequence, and new operations and sources would reuse the ids of earlier ones.
GEOCATALOG_CONFIG = GeoCatalogConfig(operation_duration_seconds=(0.05, 0.3))
PC_SWITCHES: dict[str, Any] = {
    "latency_seconds": 0.0,
    "rate_limit_per_second": None,
    "sas_lifetime": timedelta(minutes=45),
    "sas_expired": False,
}
SETTINGS_OVERRIDES = {
    "INGEST_STATUS_INITIAL_DELAY_SECONDS": "1",
    "INGEST_STATUS_MAX_DELAY_SECONDS": "1",
    "INGEST_SOURCE_PAGE_SIZE": str(PAGE_SIZE),
    "INGEST_MAX_ITEMS": str(MAX_ITEMS_CEILING),
    "INGEST_INLINE_MAX_BYTES": str(INLINE_MAX_BYTES),
    # host.json keeps its values (maxDequeueCount 5) but for the wait before a failed message
    # is retried (0, the host's default) and the longest wait between polls of an idle queue.
    "AzureFunctionsJobHost__extensions__queues__visibilityTimeout": "00:00:00",
    "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.1",
}


@pytest.fixture(scope="package")
def e2e() -> Iterator[E2E]:
    stack = LocalStack(
        StackConfig(
            geocatalog=GEOCATALOG_CONFIG,
            planetary_computer=PlanetaryComputerConfig(),
            settings_overrides=SETTINGS_OVERRIDES,
        )
    ).start()
    try:
        assert stack.host is not None
        queues = stack.host.config.queues if stack.host.config else None
        assert queues is not None
        assert (queues.visibility_timeout, queues.max_dequeue_count) == (0.0, MAX_DEQUEUE_COUNT)
        with httpx.Client(timeout=60) as http:
            yield E2E(stack, http)
    finally:
        stack.stop()


@pytest.fixture(autouse=True)
def _restore_emulators(e2e: E2E) -> Iterator[None]:
    """Each test starts with the emulators as configured above and ends with a quiet host."""
    yield
    e2e.geocatalog.emulator.faults.clear()
    switches = GEOCATALOG_CONFIG.to_dict()
    del switches["seed"]
    e2e.geocatalog.configure(**switches)
    e2e.pc.set_switches(**PC_SWITCHES)
    e2e.host.drain(timeout=JOB_TIMEOUT)


@pytest.fixture
def collection_id() -> str:
    """A target collection id no other test uses."""
    return f"e2e-{uuid.uuid4().hex[:12]}"
