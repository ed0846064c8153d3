"""Job status at scale: how fast are JobStore.view() and GET /api/jobs/{id} on a large job?

The issue asks GET /api/jobs/{id} to answer "in well under a second for a 100,000-item job". This
builds a job in the real JobStore on Azurite, with the real store API only (so the counter shards
stay exact), then times the reads:

1. planner path: the first --planner-items items registered as pending, one thread, pages of 100,
   exactly as [ingest-plan] calls register_items (the registration rate of one planner);
2. transitions: --transitions of them moved pending -> submitting -> submitted -> succeeded or
   failed by --threads threads with the ItemUpdates the item and status steps use, each followed
   by settle() as the status step does;
3. bulk fill: the rest registered by --workers processes directly in a realistic final mix (60%
   succeeded, 8% failed with an error, 2% invalid, 5% skipped, 20% submitted, 5% pending) through
   register_items, 784 items per call: the same rows, counts and error rows that transitions
   would leave, without their per-item reads; view() is timed after each quarter;
4. the counts are checked against a full listing of the item rows;
5. reads on the full job: view(), its parts, list_items(state=...) first pages, and over HTTP
   GET /api/jobs/{id} and GET /api/jobs/{id}/items?state=failed through the local Functions host.

Prints figures; asserts nothing. Azurite is in memory on loopback: its milliseconds are not Azure's,
the requests per call are (each is a round trip of ~5-20 ms on Azure Table storage). Azurite finds
a row by scanning its partition (its only index is on PartitionKey), and a job is one partition,
so every request gets slower as the job grows and building the job is quadratic: 30,000 items
take about 3 minutes on 2 cores, 100,000 took 40 minutes. Hence the default of 30,000;
--items 100000 measures the issue's size.

    python -m bench.job_view_latency [--items 30000] [--planner-items 5000] [--transitions 500]
                                     [--calls 50] [--threads 4] [--workers 2] [--shards 16]
                                     [--no-http]
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import random
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from typing import Any

import httpx
from azure.data.tables import TableClient, TableServiceClient

from bench._common import (
    NAIP_PAGE,
    RequestCounter,
    cpu_seconds,
    fixture_features,
    latency_row,
    print_table,
    running,
)
from shared.item_prep import PreparedItem, prepare_item
from shared.jobs.records import ItemError, JobRecord, NewItem
from shared.jobs.states import ItemState
from shared.jobs.store import DEFAULT_SHARDS, ItemUpdate, JobStore

PAGE = 100  # the planner's default source page size (INGEST_SOURCE_PAGE_SIZE)
# The bulk fill registers 16 shards x 49 items per call: one full transaction per shard.
FILL_PAGE = DEFAULT_SHARDS * 49
TABLE = "ingestjobs"  # the app's default jobs table: the local host reads the same rows
COLLECTION = "naip-bench"
DROP_ASSETS = ("rendered_preview", "preview", "tilejson")
FAILURE_CODES = (
    ("IngestionResourceForbidden", "The ingestion source for the asset container was refused."),
    ("GenericHttpIngestionError", "Reading the asset failed with HTTP 404 after 3 attempts."),
    ("OperationTimedOut", "operation still Running after 200 checks"),
)


# ---- item rows --------------------------------------------------------------------------------


@cache
def _template() -> tuple[str, str]:
    """The prepared NAIP item JSON as the planner stores it in the row, and its id."""
    raw = fixture_features(NAIP_PAGE)[0]
    prepared = prepare_item(raw, collection=COLLECTION, drop_assets=DROP_ASSETS)
    if not isinstance(prepared, PreparedItem):
        raise RuntimeError(f"the NAIP fixture item is not valid: {prepared}")
    return json.dumps(prepared.item, separators=(",", ":")), prepared.item_id


def _item_id(index: int) -> str:
    return f"{_template()[1]}-{index:06d}"


def _containers() -> tuple[str, ...]:
    return ("https://naipeuwest.blob.core.windows.net/naip",)


def _pending(index: int) -> NewItem:
    text, base = _template()
    item_id = _item_id(index)
    return NewItem(
        item_id,
        ItemState.PENDING,
        payload=text.replace(base, item_id),
        containers=_containers(),
    )


def _final(index: int) -> NewItem:
    """The item in its place of the mix; error states carry an error (an error row is written)."""
    slot = index % 100
    item = _pending(index)
    if slot < 60:
        return replace(item, state=ItemState.SUCCEEDED)
    if slot < 68:
        code, message = FAILURE_CODES[index % len(FAILURE_CODES)]
        return replace(item, state=ItemState.FAILED, error=ItemError(code, message))
    if slot < 70:
        error = ItemError("InvalidStacItem", "properties.datetime is not RFC 3339")
        return replace(item, state=ItemState.INVALID, payload=None, error=error)
    if slot < 75:
        error = ItemError("ItemAlreadyExistsInCollection", "the item exists in the collection")
        return replace(item, state=ItemState.SKIPPED, error=error)
    if slot < 95:
        return replace(item, state=ItemState.SUBMITTED)
    return item


# ---- the store ----------------------------------------------------------------------------------


class Conflicts:
    """JobStore's backoff hook: counts lost ETag races, pauses as the store's default does."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def __call__(self, attempt: int) -> None:
        with self._lock:
            self.count += 1
        time.sleep(random.uniform(0, min(0.2, 0.005 * (2 ** min(attempt, 6)))))


def _store(connection: str, shards: int) -> tuple[JobStore, RequestCounter, Conflicts]:
    counter = RequestCounter()
    conflicts = Conflicts()
    service = TableServiceClient.from_connection_string(connection, raw_request_hook=counter)
    table: TableClient = service.get_table_client(TABLE)
    return JobStore(table, shards=shards, backoff=conflicts), counter, conflicts


def _fill(
    connection: str, shards: int, job_id: str, start: int, stop: int
) -> tuple[int, int, int, float]:
    """Worker process: register items start..stop in their final states, a page at a time."""
    store, counter, conflicts = _store(connection, shards)
    began = time.perf_counter()
    registered = 0
    for page in range(start, stop, FILL_PAGE):
        items = [_final(i) for i in range(page, min(stop, page + FILL_PAGE))]
        registered += store.register_items(job_id, items).registered
    return registered, counter.count, conflicts.count, time.perf_counter() - began


def _split(start: int, stop: int, parts: int) -> list[tuple[int, int]]:
    """Whole fill pages of start..stop in `parts` contiguous ranges."""
    pages = list(range(start, stop, FILL_PAGE))
    size = -(-len(pages) // parts) if pages else 0
    ranges = []
    for n in range(parts):
        chunk = pages[n * size : (n + 1) * size]
        if chunk:
            ranges.append((chunk[0], min(stop, chunk[-1] + FILL_PAGE)))
    return ranges


def _timed(
    call: Callable[[], Any], times: int, counter: RequestCounter
) -> tuple[list[float], float]:
    """Seconds per call after two warm-up calls, and HTTP requests per call."""
    for _ in range(2):
        call()
    before = counter.count
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples, (counter.count - before) / times


# ---- where Azurite runs -------------------------------------------------------------------------


@contextmanager
def _storage(http: bool) -> Iterator[tuple[str, str | None, int]]:
    """(connection string, host base URL or None, Azurite pid)."""
    if http:
        from local.stack import LocalStack, StackConfig

        # The maintenance timer would sweep the job; it is not what is measured here.
        config = StackConfig(settings_overrides={"AzureWebJobs.maintenance.Disabled": "true"})
        with LocalStack(config) as stack:
            azurite = running(stack.azurite, "Azurite")
            yield azurite.connection_string, stack.base_url, azurite.process.pid
    else:
        from local.azurite import start_azurite

        with start_azurite() as azurite:
            yield azurite.connection_string, None, azurite.process.pid


# ---- the benchmark ------------------------------------------------------------------------------


def _transition_sample(
    store: JobStore, job_id: str, indexes: list[int], threads: int
) -> tuple[int, int]:
    """The item and status steps' transitions for each index; (transitions applied, failed)."""

    def walk(index: int) -> tuple[int, bool]:
        item_id = _item_id(index)
        hops = [
            (
                ItemState.SUBMITTING,
                {ItemState.PENDING},
                ItemUpdate(claim=uuid.uuid4().hex, add_attempt=True),
            ),
            (
                ItemState.SUBMITTED,
                {ItemState.SUBMITTING},
                ItemUpdate(operation_id=str(uuid.uuid4()), clear_claim=True),
            ),
        ]
        failed = index % 8 == 0
        if failed:
            code, message = FAILURE_CODES[0]
            error = ItemError(code, message)
            hops.append((ItemState.FAILED, {ItemState.SUBMITTED}, ItemUpdate(error=error)))
        else:
            hops.append((ItemState.SUCCEEDED, {ItemState.SUBMITTED}, ItemUpdate(clear_error=True)))
        applied = 0
        for to, allowed, update in hops:
            applied += store.transition(
                job_id, item_id, to=to, allowed_from=allowed, update=update
            ).applied
        store.settle(job_id)
        return applied, failed

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(walk, indexes))
    return sum(a for a, _ in results), sum(f for _, f in results)


def _scan_counts(store: JobStore, job_id: str) -> Counter[ItemState]:
    """Every item row of the job, listed page by page: the ground truth for the counts."""
    seen: Counter[ItemState] = Counter()
    continuation = None
    while True:
        page = store.list_items(job_id, limit=1000, continuation=continuation)
        seen.update(item.state for item in page.items)
        continuation = page.continuation
        if continuation is None:
            return seen


def _say(text: str) -> None:
    print(text, flush=True)


def _build_row(
    name: str, items: int, seconds: float, requests: int, azurite_cpu: float, retries: int
) -> list[object]:
    return [
        name,
        f"{items:,}",
        f"{seconds:.1f}",
        f"{items / seconds:.0f}" if seconds else "-",
        f"{requests / max(1, items):.2f}",
        f"{1000 * azurite_cpu / max(1, items):.2f}",
        retries,
    ]


def run(args: argparse.Namespace) -> None:
    total = args.items
    planner_items = min(args.planner_items, total)
    sample = min(args.transitions, planner_items)
    began = time.perf_counter()
    with _storage(not args.no_http) as (connection, base_url, azurite_pid):
        store, counter, conflicts = _store(connection, args.shards)
        store.ensure_table()
        job_id = uuid.uuid4().hex
        now = datetime.now(UTC)
        store.create_job(
            JobRecord(
                job_id=job_id,
                collection=COLLECTION,
                mode="create",
                source={
                    "type": "stac-search",
                    "url": "https://planetarycomputer.microsoft.com/api/stac/v1",
                    "collections": ["naip"],
                    "maxItems": total,
                },
                drop_assets=DROP_ASSETS,
                dry_run=False,
                created_at=now,
                updated_at=now,
            )
        )
        _say(
            f"Job store on Azurite (in memory, loopback): one job of {total:,} items, "
            f"{len(_template()[0]) / 1024:.1f} KB payload per pending row (the NAIP fixture item "
            f"as the planner stores it), {args.shards} counter shards"
        )
        build_rows: list[list[object]] = []
        scaling: list[list[object]] = []

        def measure(what: Callable[[], Any]) -> tuple[int, int, float, float]:
            requests, retries = counter.count, conflicts.count
            cpu, started = cpu_seconds(azurite_pid), time.perf_counter()
            what()
            return (
                counter.count - requests,
                conflicts.count - retries,
                cpu_seconds(azurite_pid) - cpu,
                time.perf_counter() - started,
            )

        def checkpoint() -> None:
            views, per_call = _timed(lambda: store.view(job_id), 20, counter)
            gets, _ = _timed(lambda: store.get_job(job_id), 20, counter)
            size = sum(store.counts(job_id).values())
            scaling.append(
                [f"{size:,}", *latency_row(views), f"{per_call:.0f}", latency_row(gets)[0]]
            )
            _say(f"  {size:,} items registered; view() p50 {latency_row(views)[0]} ms")

        # 1. planner path
        def plan() -> None:
            for page in range(0, planner_items, PAGE):
                items = [_pending(i) for i in range(page, min(planner_items, page + PAGE))]
                store.register_items(job_id, items)

        requests, retries, cpu, seconds = measure(plan)
        build_rows.append(
            _build_row(
                "register pending: planner path, 1 thread, pages of 100",
                planner_items,
                seconds,
                requests,
                cpu,
                retries,
            )
        )
        _say(f"  planner path: {planner_items:,} items in {seconds:.1f} s")

        # 2. transitions
        stride = max(1, planner_items // max(1, sample))
        indexes = list(range(0, planner_items, stride))[:sample]
        hops: list[int] = []

        def walk() -> None:
            hops.append(_transition_sample(store, job_id, indexes, args.threads)[0])

        requests, retries, cpu, seconds = measure(walk)
        build_rows.append(
            _build_row(
                f"3 transitions + settle() per item (pending>submitting>submitted>final), "
                f"{args.threads} threads; {hops[0] / seconds:.0f} transitions/s",
                len(indexes),
                seconds,
                requests,
                cpu,
                retries,
            )
        )
        _say(f"  transitions: {len(indexes):,} items walked in {seconds:.1f} s")
        checkpoint()

        # 3. bulk fill in quarters, view() timed after each
        bounds = [planner_items + (total - planner_items) * q // 4 for q in range(5)]
        filled = fill_requests = fill_retries = 0
        fill_seconds = 0.0
        cpu_before = cpu_seconds(azurite_pid)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=args.workers, mp_context=context) as pool:
            # Start the workers (imports, fixture) before the clock runs.
            list(pool.map(_fill, [connection] * args.workers, [args.shards] * args.workers, [job_id] * args.workers, [0] * args.workers, [0] * args.workers))  # fmt: skip
            for lo, hi in itertools.pairwise(bounds):
                if hi <= lo:
                    continue
                ranges = _split(lo, hi, args.workers)
                started = time.perf_counter()
                results = list(
                    pool.map(
                        _fill,
                        [connection] * len(ranges),
                        [args.shards] * len(ranges),
                        [job_id] * len(ranges),
                        [a for a, _ in ranges],
                        [b for _, b in ranges],
                    )
                )
                fill_seconds += time.perf_counter() - started
                filled += sum(r[0] for r in results)
                fill_requests += sum(r[1] for r in results)
                fill_retries += sum(r[2] for r in results)
                checkpoint()
        if filled:
            build_rows.append(
                _build_row(
                    f"register in final states: {args.workers} processes, "
                    f"{FILL_PAGE} per call (49 per shard)",
                    filled,
                    fill_seconds,
                    fill_requests,
                    cpu_seconds(azurite_pid) - cpu_before,
                    fill_retries,
                )
            )
        store.update_job(
            job_id,
            lambda j: replace(j, planning_done=True, planned_pages=-(-total // PAGE)),
        )

        # 4. counts against rows
        started = time.perf_counter()
        before = counter.count
        rows = _scan_counts(store, job_id)
        scan_seconds = time.perf_counter() - started
        scan_requests = counter.count - before
        counts = store.counts(job_id)
        exact = all(counts[s] == rows.get(s, 0) for s in ItemState)

        # 5. reads on the full job
        reads: list[tuple[str, Callable[[], Any]]] = [
            ("JobStore.view()", lambda: store.view(job_id)),
            ("  get_job(): 1 point read", lambda: store.get_job(job_id)),
            (f"  counts(): {args.shards} shard rows, 1 key range", lambda: store.counts(job_id)),
            ("  first_errors(10): 1 key range", lambda: store.first_errors(job_id)),
        ]
        for state in (ItemState.FAILED, ItemState.PENDING, ItemState.DEAD_LETTERED):
            share = counts[state] / max(1, total)
            reads.append(
                (
                    f"list_items(state={state.value}), first 100 ({share:.1%} of rows)",
                    lambda state=state: store.list_items(job_id, state=state, limit=100),
                )
            )
        read_rows = []
        for name, call in reads:
            samples, per_call = _timed(call, args.calls, counter)
            read_rows.append([name, len(samples), *latency_row(samples), f"{per_call:.0f}"])
        if base_url is not None:
            with httpx.Client(base_url=base_url, timeout=60) as client:
                for name, path in (
                    ("GET /api/jobs/{unknown id}: 404, the host's own cost", f"/api/jobs/{uuid.uuid4().hex}"),
                    ("GET /api/jobs/{id}", f"/api/jobs/{job_id}"),
                    ("GET /api/jobs/{id}/items?state=failed", f"/api/jobs/{job_id}/items?state=failed"),
                ):  # fmt: skip
                    statuses: Counter[int] = Counter()

                    def get(path: str = path, statuses: Counter[int] = statuses) -> None:
                        statuses[client.get(path).status_code] += 1

                    samples, _ = _timed(get, args.calls, counter)
                    shown = ",".join(f"{n}x{code}" for code, n in sorted(statuses.items()))
                    read_rows.append([f"{name} [{shown}]", len(samples), *latency_row(samples), "-"])  # fmt: skip

    _say("\nBuilding the job")
    print_table(
        ["phase", "items", "seconds", "items/s", "requests/item", "Azurite CPU ms/item", "ETag retries"],
        build_rows,
    )  # fmt: skip
    _say("\nCounts (counter shards) against a full listing of the item rows")
    print_table(
        ["state", "shards", "rows"],
        [[s.value, f"{counts[s]:,}", f"{rows.get(s, 0):,}"] for s in ItemState if counts[s] or rows.get(s)]
        + [["total", f"{sum(counts.values()):,}", f"{sum(rows.values()):,}"]],
    )  # fmt: skip
    _say(
        f"counts exact: {'yes' if exact else 'NO'}; the full listing took {scan_seconds:.1f} s "
        f"in {scan_requests} requests (list_items, 1000 per page)"
    )
    _say("\nJobStore.view() as the job grew (20 calls each after 2 warm-ups)")
    print_table(
        ["items in job", "p50 ms", "p95 ms", "max ms", "requests/call", "get_job() p50 ms"],
        scaling,
    )
    _say(f"\nReads on the {total:,}-item job ({args.calls} calls each after 2 warm-ups)")
    print_table(["read", "calls", "p50 ms", "p95 ms", "max ms", "requests/call"], read_rows)
    _say(f"\nwhole run: {time.perf_counter() - began:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--items",
        type=int,
        default=30_000,
        help="items in the job (30000: the most that takes a few minutes on Azurite)",
    )
    parser.add_argument(
        "--planner-items",
        type=int,
        default=5_000,
        help="of which registered pending through the planner path (5000)",
    )
    parser.add_argument(
        "--transitions", type=int, default=500, help="of those, walked to a final state (500)"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads for transitions (4)")
    parser.add_argument("--workers", type=int, default=2, help="processes for the bulk fill (2)")
    parser.add_argument("--calls", type=int, default=50, help="timed calls per read (50)")
    parser.add_argument(
        "--shards",
        type=int,
        default=DEFAULT_SHARDS,
        help=f"counter shards of the JobStore ({DEFAULT_SHARDS}, the app's value)",
    )
    parser.add_argument(
        "--no-http", action="store_true", help="Azurite only, no local host (skips the HTTP rows)"
    )
    args = parser.parse_args(argv)
    if args.items < 1 or args.calls < 1 or args.workers < 1 or args.threads < 1:
        parser.error("--items, --calls, --workers and --threads must be positive")
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
