"""GET /api/jobs at scale: what does a page of the job listing cost with many jobs?

Builds --jobs jobs (the job row and the index row, as create_job writes them) in the real
JobStore on Azurite, half of them running with --items pending items in batches of 99, the other
half empty and settled, then times JobIndex pages and counts the storage requests each sends (a
raw_request_hook on the table client): the index query, then per listed job its job row, and for a
running job one range query over its batch rows (a settled job's counts are kept on its index row
by the first listing that sees it; the first call of each row below pays that). Items are never
read.

Prints figures; asserts nothing. Azurite's milliseconds are not Azure's; the request counts are.

    python -m bench.job_listing [--jobs 300] [--items 200] [--calls 20]
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

from azure.data.tables import TableServiceClient

from bench._common import RequestCounter, latency_row, print_table
from local.azurite import start_azurite
from shared.jobs.listing import JobFilter, JobIndex
from shared.jobs.records import JobRecord, NewItem
from shared.jobs.states import ItemState, JobState
from shared.jobs.store import JobStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.job_listing", description=__doc__)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--items", type=int, default=200, help="items of every other job")
    parser.add_argument("--calls", type=int, default=20, help="timed calls per row")
    args = parser.parse_args(argv)
    azurite = start_azurite()
    try:
        service = TableServiceClient.from_connection_string(azurite.connection_string)
        name = "bench" + uuid.uuid4().hex[:12]
        writer = JobStore(service.get_table_client(name))
        writer.ensure_table()
        base = datetime(2026, 1, 1, tzinfo=UTC)
        began = time.perf_counter()
        for n in range(args.jobs):
            job = JobRecord(
                job_id=uuid.uuid4().hex,
                collection=f"collection-{n % 10}",
                mode="create",
                source={"type": "items", "count": args.items},
                drop_assets=(),
                dry_run=False,
                created_at=base + timedelta(minutes=n),
                updated_at=base + timedelta(minutes=n),
                planning_done=n % 7 != 0,
            )
            writer.create_job(job)
            if n % 2:
                items = [
                    NewItem(f"item-{i:05d}", ItemState.PENDING, payload=json.dumps({"i": i}))
                    for i in range(args.items)
                ]
                for start in range(0, len(items), 99):
                    writer.register_batch(job.job_id, f"p0-{start:05d}", items[start : start + 99])
            # As the pipeline does once nothing is in flight: the empty jobs settle.
            writer.settle(job.job_id)
        print(f"{args.jobs} jobs built in {time.perf_counter() - began:.1f} s")
        counter = RequestCounter()
        table = TableServiceClient.from_connection_string(
            azurite.connection_string, raw_request_hook=counter
        ).get_table_client(name)
        index = JobIndex(table, JobStore(table))
        rows = []
        for label, where, limit in (
            ("newest 20", None, 20),
            ("newest 100", None, 100),
            ("collection filter, 20", JobFilter(collection="collection-3"), 20),
            ("state=planning (1 in 7), 20", JobFilter(state=JobState.PLANNING), 20),
            (
                "since (last 50 jobs), 20",
                JobFilter(since=base + timedelta(minutes=args.jobs - 50)),
                20,
            ),
        ):
            samples = []
            before = counter.count
            listed = 0
            for _ in range(args.calls):
                began = time.perf_counter()
                listed = len(index.list_jobs(where, limit=limit).jobs)
                samples.append(time.perf_counter() - began)
            requests = (counter.count - before) / args.calls
            rows.append((label, listed, f"{requests:.0f}", *latency_row(samples)))
        print_table(("page", "jobs", "requests", "p50 ms", "p95 ms", "max ms"), rows)
        service.delete_table(name)
    finally:
        azurite.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
