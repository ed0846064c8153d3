"""Job status at scale: how fast are JobStore.view() and GET /api/jobs/{id} on a large job?

The issue asks GET /api/jobs/{id} to stay under a second for a 100,000-item job with exact counts.
This builds a job in the real JobStore on Azurite, with the real store API only (so the batch
rows' counts stay exact), then times the reads. Items live in one row per batch (in a
partition of its own, `<job>.<batch>`): the batch row counts its items per state and holds the
items; the job's counts are the sum of its batch rows.

1. planner path: the first --planner-items items registered pending, one page of 198 items (two
   batches of 99, keyed as the planner keys them) at a time, the page's batches side by side, as
   `register_and_dispatch` writes them (the registration rate of one planner; no blobs, no queue);
2. batch walks: --walks of those batches taken through the post and status steps' changes, each
   one `change_batch` (one ETag-guarded write): claim (pending -> submitting), posted
   (submitted, with an operation id, claim cleared), settled (7 of 8 items succeeded, 1 failed with
   the GeoCatalog's code), then settle() as the status step does; --threads threads;
3. bulk fill: the rest registered by --workers processes of --threads threads each, one
   register_batch per 99 items, directly in a realistic final mix (60% succeeded, 8% failed with an
   error, 2% invalid, 5% skipped, 20% submitted, 5% pending): the same rows and counts the walks
   would leave, without their reads; view() is timed after each quarter;
4. the counts (sum of batch rows) are checked against a full listing of the items;
5. reads on the full job: view(), its parts, list_items(state=...) first pages, find_item(), and
   over HTTP GET /api/jobs/{id} and GET /api/jobs/{id}/items?state=failed through the local
   Functions host.

Prints figures, the build time included (the old one-partition layout took 40 minutes to build a
100,000-item job in Azurite, which scans a partition on every request); asserts nothing. Azurite is
in memory on loopback: its milliseconds are not Azure's, the requests per call are (each is a round
trip of ~5-20 ms on Azure Table storage).

    python -m bench.job_view_latency [--items 100000] [--planner-items 4950] [--walks 10]
                                     [--calls 50] [--threads 4] [--workers 2] [--no-http]
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
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
from typing import Any

import httpx
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.data.tables import TableClient, TableServiceClient

from bench._common import RequestCounter, cpu_seconds, latency_row, print_table, running
from shared.jobs import keys
from shared.jobs.records import BatchRecord, ItemError, JobRecord, NewItem
from shared.jobs.states import ItemState
from shared.jobs.store import MAX_BATCH_ITEMS, BatchChange, ItemUpdate, JobStore

BATCH = MAX_BATCH_ITEMS  # the app's default INGEST_BATCH_SIZE: 99 items and the batch row
PAGE_BATCHES = 2  # the planner's default page (INGEST_SOURCE_PAGE_SIZE 198) is two batches
TABLE = "ingestjobs"  # the app's default jobs table: the local host reads the same rows
COLLECTION = "sentinel-2-bench"
CONTAINERS = ("https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2",)
FAILURE_CODES = (
    ("IngestionResourceForbidden", "The ingestion source for the asset container was refused."),
    ("GenericHttpIngestionError", "Reading the asset failed with HTTP 404 after 3 attempts."),
    ("OperationTimedOut", "operation still Running after 200 checks"),
)


# ---- items and batches ------------------------------------------------------------------------


def _item_id(index: int) -> str:
    return f"S2B_MSIL2A_20240101T000000_R000_T00AAA_{index:06d}"


def _batch_key(batch: int) -> str:
    """The key the planner gives the batch: page `batch // 2`, its `batch % 2`-th batch."""
    return keys.batch_key(f"p{batch // PAGE_BATCHES:08d}", batch % PAGE_BATCHES)


def _batch_items(batch: int, total: int) -> range:
    return range(batch * BATCH, min(total, (batch + 1) * BATCH))


def _pending(index: int) -> NewItem:
    # The payload lives in the batch's blob, not in the rows: the store does not take it.
    return NewItem(_item_id(index), ItemState.PENDING, containers=CONTAINERS)


def _final(index: int) -> NewItem:
    """The item in its place of the mix; error states carry an error."""
    slot = index % 100
    item = _pending(index)
    if slot < 60:
        return replace(item, state=ItemState.SUCCEEDED)
    if slot < 68:
        code, message = FAILURE_CODES[index % len(FAILURE_CODES)]
        return replace(item, state=ItemState.FAILED, error=ItemError(code, message))
    if slot < 70:
        error = ItemError("InvalidStacItem", "properties.datetime is not RFC 3339")
        return replace(item, state=ItemState.INVALID, error=error)
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
        time.sleep(min(0.2, 0.005 * (2 ** min(attempt, 6))) / 2)


def _store(connection: str) -> tuple[JobStore, RequestCounter, Conflicts]:
    counter = RequestCounter()
    conflicts = Conflicts()
    service = TableServiceClient.from_connection_string(connection, raw_request_hook=counter)
    table: TableClient = service.get_table_client(TABLE)
    return JobStore(table, backoff=conflicts), counter, conflicts


def _fill(
    connection: str, job_id: str, batches: list[int], total: int, threads: int
) -> tuple[int, int, int, int]:
    """Worker process: register the batches in their final states, `threads` at a time.
    (registered, requests, ETag retries, connection retries)."""
    store, counter, conflicts = _store(connection)
    resets = 0
    lock = threading.Lock()

    def one(batch: int) -> int:
        nonlocal resets
        items = [_final(i) for i in _batch_items(batch, total)]
        for attempt in range(5):
            try:
                new = store.register_batch(job_id, _batch_key(batch), items)
            except (ServiceRequestError, ServiceResponseError):
                # An insert is a POST, which azure-core does not retry once sent; a batch
                # lands whole or not at all, so registering again is safe (False: it landed).
                with lock:
                    resets += 1
                if attempt == 4:
                    raise
                time.sleep(0.5)
                continue
            return len(items) if new or attempt else 0
        return 0

    with ThreadPoolExecutor(max_workers=threads) as pool:
        registered = sum(pool.map(one, batches))
    return registered, counter.count, conflicts.count, resets


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


def _walk(store: JobStore, job_id: str, batches: list[int], threads: int) -> int:
    """The post and status steps' changes for each batch: claim, posted, settled; then settle().
    Returns the writes applied."""

    def claim(batch: BatchRecord) -> BatchChange | None:
        pending = [i for i in batch.items if i.state is ItemState.PENDING]
        if not pending:
            return None
        moves = {i.index: (ItemState.SUBMITTING, ItemUpdate()) for i in pending}
        return BatchChange(items=moves, claim=uuid.uuid4().hex)

    def posted(batch: BatchRecord) -> BatchChange | None:
        operation = str(uuid.uuid4())
        update = ItemUpdate(operation_id=operation, add_attempt=True)
        moves = {
            i.index: (ItemState.SUBMITTED, update)
            for i in batch.items
            if i.state is ItemState.SUBMITTING
        }
        return BatchChange(items=moves, clear_claim=True) if moves else None

    def settled(batch: BatchRecord) -> BatchChange | None:
        code, message = FAILURE_CODES[1]
        moves: dict[int, tuple[ItemState, ItemUpdate]] = {}
        for item in batch.items:
            if item.state is not ItemState.SUBMITTED:
                continue
            if item.index % 8 == 0:
                moves[item.index] = (ItemState.FAILED, ItemUpdate(error=ItemError(code, message)))
            else:
                moves[item.index] = (ItemState.SUCCEEDED, ItemUpdate(clear_error=True))
        return BatchChange(items=moves, touch=True) if moves else None

    def walk(batch: int) -> int:
        applied = 0
        for decide in (claim, posted, settled):
            applied += store.change_batch(job_id, _batch_key(batch), decide).applied
        store.settle(job_id)
        return applied

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return sum(pool.map(walk, batches))


def _scan_counts(store: JobStore, job_id: str) -> Counter[ItemState]:
    """Every item of the job, listed page by page: the ground truth for the counts."""
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
        f"{requests / max(1, items):.3f}",
        f"{1000 * azurite_cpu / max(1, items):.2f}",
        retries,
    ]


def run(args: argparse.Namespace) -> None:
    total = args.items
    batches = -(-total // BATCH)
    planner_batches = min(batches, -(-min(args.planner_items, total) // BATCH))
    planner_items = min(total, planner_batches * BATCH)
    walked = list(range(min(args.walks, planner_batches)))
    began = time.perf_counter()
    with _storage(not args.no_http) as (connection, base_url, azurite_pid):
        store, counter, conflicts = _store(connection)
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
                    "collections": ["sentinel-2-l2a"],
                    "maxItems": total,
                },
                drop_assets=("rendered_preview", "preview", "tilejson"),
                dry_run=False,
                created_at=now,
                updated_at=now,
            )
        )
        _say(
            f"Job store on Azurite (in memory, loopback): one job of {total:,} items in "
            f"{batches:,} batches of {BATCH} (one partition each: a batch row holding its items)"
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

        build_began = time.perf_counter()

        # 1. planner path
        def plan() -> None:
            with ThreadPoolExecutor(max_workers=PAGE_BATCHES) as pool:
                for first in range(0, planner_batches, PAGE_BATCHES):
                    page = range(first, min(planner_batches, first + PAGE_BATCHES))

                    def one(batch: int) -> bool:
                        items = [_pending(i) for i in _batch_items(batch, total)]
                        return store.register_batch(job_id, _batch_key(batch), items)

                    list(pool.map(one, page))

        requests, retries, cpu, seconds = measure(plan)
        build_rows.append(
            _build_row(
                f"register pending: planner path, pages of {PAGE_BATCHES * BATCH} "
                f"({PAGE_BATCHES} batches side by side)",
                planner_items,
                seconds,
                requests,
                cpu,
                retries,
            )
        )
        _say(f"  planner path: {planner_items:,} items in {seconds:.1f} s")

        # 2. batch walks
        applied: list[int] = []

        def walk() -> None:
            applied.append(_walk(store, job_id, walked, args.threads))

        requests, retries, cpu, seconds = measure(walk)
        walked_items = sum(len(_batch_items(b, total)) for b in walked)
        if walked:
            build_rows.append(
                _build_row(
                    f"walk {len(walked)} batches: claim, posted, settled (3 change_batch) + "
                    f"settle(), {args.threads} threads; {applied[0] / seconds:.0f} writes/s",
                    walked_items,
                    seconds,
                    requests,
                    cpu,
                    retries,
                )
            )
            _say(f"  walks: {len(walked)} batches ({walked_items} items) in {seconds:.1f} s")
        checkpoint()

        # 3. bulk fill in quarters, view() timed after each
        bounds = [planner_batches + (batches - planner_batches) * q // 4 for q in range(5)]
        filled = fill_requests = fill_retries = fill_resets = 0
        fill_seconds = 0.0
        cpu_before = cpu_seconds(azurite_pid)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=args.workers, mp_context=context) as pool:
            # Start the workers (imports) before the clock runs.
            list(pool.map(_fill, [connection] * args.workers, [job_id] * args.workers, [[]] * args.workers, [total] * args.workers, [1] * args.workers))  # fmt: skip
            for lo, hi in itertools.pairwise(bounds):
                if hi <= lo:
                    continue
                # Interleaved, so that every worker writes next to the others as a scale-out
                # of posters would.
                shares = [list(range(lo + w, hi, args.workers)) for w in range(args.workers)]
                started = time.perf_counter()
                results = list(
                    pool.map(
                        _fill,
                        [connection] * args.workers,
                        [job_id] * args.workers,
                        shares,
                        [total] * args.workers,
                        [args.threads] * args.workers,
                    )
                )
                fill_seconds += time.perf_counter() - started
                filled += sum(r[0] for r in results)
                fill_requests += sum(r[1] for r in results)
                fill_retries += sum(r[2] for r in results)
                fill_resets += sum(r[3] for r in results)
                checkpoint()
        if filled:
            build_rows.append(
                _build_row(
                    f"register in final states: {args.workers} processes x {args.threads} "
                    f"threads, one register_batch per {BATCH} items"
                    + (f" ({fill_resets} connection resets, retried)" if fill_resets else ""),
                    filled,
                    fill_seconds,
                    fill_requests,
                    cpu_seconds(azurite_pid) - cpu_before,
                    fill_retries,
                )
            )
        store.update_job(
            job_id,
            lambda j: replace(j, planning_done=True, planned_pages=-(-batches // PAGE_BATCHES)),
        )
        build_seconds = time.perf_counter() - build_began

        # 4. counts against rows
        started = time.perf_counter()
        before = counter.count
        rows = _scan_counts(store, job_id)
        scan_seconds = time.perf_counter() - started
        scan_requests = counter.count - before
        counts = store.counts(job_id)
        exact = all(counts[s] == rows.get(s, 0) for s in ItemState)

        # 5. reads on the full job
        somewhere = _item_id(total // 2)
        reads: list[tuple[str, Callable[[], Any]]] = [
            ("JobStore.view()", lambda: store.view(job_id)),
            ("  get_job(): 1 point read", lambda: store.get_job(job_id)),
            (f"  counts(): {batches:,} batch rows, 1 key range", lambda: store.counts(job_id)),
            (
                "  first_errors(10): the first batches with errors",
                lambda: store.first_errors(job_id),
            ),
            (
                "find_item(id): 1 key range of batch rows, scanned",
                lambda: store.find_item(job_id, somewhere),
            ),
        ]
        for state in (ItemState.FAILED, ItemState.PENDING, ItemState.DEAD_LETTERED):
            share = counts[state] / max(1, total)
            reads.append(
                (
                    f"list_items(state={state.value}), first 100 ({share:.1%} of rows)",
                    lambda state=state: store.list_items(job_id, state=state, limit=100),  # type: ignore[misc]
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

    _say(f"\nBuilding the job: {build_seconds:.0f} s for {total:,} items in all")
    print_table(
        ["phase", "items", "seconds", "items/s", "requests/item", "Azurite CPU ms/item", "ETag retries"],
        build_rows,
    )  # fmt: skip
    _say("\nCounts (sum of the batch rows) against a full listing of the items")
    print_table(
        ["state", "batch rows", "items listed"],
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
        "--items", type=int, default=100_000, help="items in the job (100000, the issue's size)"
    )
    parser.add_argument(
        "--planner-items",
        type=int,
        default=50 * BATCH,
        help=f"of which registered pending through the planner path ({50 * BATCH})",
    )
    parser.add_argument(
        "--walks", type=int, default=10, help="of those batches, walked to final states (10)"
    )
    parser.add_argument(
        "--threads", type=int, default=4, help="threads for the walks and per fill process (4)"
    )
    parser.add_argument("--workers", type=int, default=2, help="processes for the bulk fill (2)")
    parser.add_argument("--calls", type=int, default=50, help="timed calls per read (50)")
    parser.add_argument(
        "--no-http", action="store_true", help="Azurite only, no local host (skips the HTTP rows)"
    )
    args = parser.parse_args(argv)
    if min(args.items, args.calls, args.workers, args.threads) < 1 or args.walks < 0:
        parser.error("--items, --calls, --workers and --threads must be positive")
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
