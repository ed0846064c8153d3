"""The pipeline steps on real Azurite (job table, payload blobs) with scripted remote services.

`Driver` delivers recorded messages to the steps the way the Functions host would: a step that
raises is redelivered with a growing dequeue count, and after maxDequeueCount the message goes
to the dead-letter step. Delays are recorded, not waited for.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from local.azurite import Azurite
from shared.geocatalog.ingestion_sources import IngestionSourceManager
from shared.jobs.records import ItemRecord, JobView
from shared.jobs.store import JobStore
from shared.messages import BatchMessage, Message, PlanMessage, StatusMessage
from shared.payloads import PayloadStore
from shared.pipeline.dead_letter import record_dead_letter
from shared.pipeline.deps import PipelineDeps
from shared.pipeline.plan import plan_page
from shared.pipeline.post import post_batch
from shared.pipeline.status import check_status
from shared.settings import GeoCatalogSettings, PipelineSettings, Settings, StorageSettings
from tests.fakes import NOW, FakeItemCatalog, FakeSasProvider, FakeSourceCatalog, RecordingQueue

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "items"
MAX_DEQUEUE = 5


def pc_items(count: int) -> list[dict[str, Any]]:
    """Real Planetary Computer NAIP items (search page fixture)."""
    page = json.loads((FIXTURES / "naip.search-post.page1.10-items.json").read_text())
    items: list[dict[str, Any]] = page["features"][:count]
    return items


@dataclass
class Driver:
    deps: PipelineDeps
    queue: RecordingQueue
    delivered: list[tuple[str, int]] = field(default_factory=list)
    delays: list[tuple[str, float]] = field(default_factory=list)

    def run(self, max_rounds: int = 500) -> None:
        for _ in range(max_rounds):
            batch = self.queue.take()
            if not batch:
                return
            for message, delay in batch:
                self.delays.append((message.kind, delay))
                self.deliver(message)
        raise AssertionError("the pipeline did not go quiet")

    def deliver(self, message: Message) -> None:
        message_id = uuid.uuid4().hex
        for dequeue in range(1, MAX_DEQUEUE + 1):
            self.delivered.append((message.kind, dequeue))
            try:
                self._dispatch(message, message_id)
                return
            except Exception:  # noqa: BLE001 - the host's view: any exception is a failure
                if dequeue == MAX_DEQUEUE:
                    record_dead_letter(message.kind, message.to_json(), self.deps)  # type: ignore[arg-type]

    def _dispatch(self, message: Message, message_id: str) -> None:
        if isinstance(message, PlanMessage):
            plan_page(message, self.deps)
        elif isinstance(message, BatchMessage):
            post_batch(message, message_id=message_id, deps=self.deps)
        elif isinstance(message, StatusMessage):
            check_status(message, self.deps)


@dataclass
class Harness:
    deps: PipelineDeps
    queue: RecordingQueue
    catalog: FakeItemCatalog
    source_catalog: FakeSourceCatalog
    provider: FakeSasProvider
    driver: Driver
    ensured_collections: list[tuple[str, str]]

    def view(self, job_id: str) -> JobView:
        view = self.deps.store.view(job_id, error_limit=100)
        assert view is not None
        return view

    def assert_accounted(self, job_id: str) -> JobView:
        """Every item is in exactly one state, and the counts equal the item rows."""
        view = self.view(job_id)
        rows = self.deps.store.list_items(job_id, limit=1000).items
        by_state: dict[str, int] = {}
        for row in rows:
            by_state[row.state.value] = by_state.get(row.state.value, 0) + 1
        counted = {s.value: n for s, n in view.counts.items() if n}
        assert counted == by_state
        assert len(rows) == view.total
        return view

    def item(self, job_id: str, item_id: str) -> ItemRecord:
        """The one row of an item (tests that list an id twice read find_item instead)."""
        [row] = self.deps.store.find_item(job_id, item_id)
        return row


@pytest.fixture
def harness(azurite: Azurite, unique_name: str) -> Iterator[Harness]:
    tables = TableServiceClient.from_connection_string(azurite.connection_string)
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string)
    store = JobStore(tables.get_table_client(unique_name), backoff=lambda _: None)
    store.ensure_table()
    payloads = PayloadStore(blobs.get_container_client(unique_name))
    payloads.ensure()
    settings = Settings(
        geocatalog=GeoCatalogSettings(url="http://127.0.0.1:9"),
        storage=StorageSettings(connection_string=azurite.connection_string),
        allowed_source_hosts=("127.0.0.1", "localhost"),
        local_mode=True,
        pipeline=PipelineSettings(source_page_size=4, max_post_attempts=3),
    )
    queue = RecordingQueue()
    catalog = FakeItemCatalog(collections={"naip-test"})
    source_catalog = FakeSourceCatalog()
    provider = FakeSasProvider()
    sources = IngestionSourceManager(
        source_catalog, provider, renew_before=timedelta(minutes=15), clock=lambda: NOW
    )
    ensured: list[tuple[str, str]] = []

    def ensure_collection(collection_id: str, template_url: str) -> None:
        ensured.append((collection_id, template_url))
        catalog.collections.add(collection_id)

    deps = PipelineDeps(
        settings=settings,
        store=store,
        queues=queue,
        payloads=payloads,
        catalog=catalog,
        ingestion_sources=sources,
        http=requests.Session(),
        ensure_collection=ensure_collection,
        clock=lambda: NOW,
        rng=random.Random(7),
    )
    yield Harness(deps, queue, catalog, source_catalog, provider, Driver(deps, queue), ensured)
    tables.delete_table(unique_name)
    blobs.delete_container(unique_name)
