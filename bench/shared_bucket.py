"""What a GeoCatalog limiter shared through storage would cost: a token bucket in one table row.

The alternative to each instance taking its share of the subscription's budget
(`shared.ratelimit.instance_share`) is one bucket for every instance, in the Functions storage
account. Here `--instances` threads, each with its own TableClient as separate instances would have,
take tokens from one row on Azurite at `--rate` calls/s: read the row, refill it by the time since
its last update, and take a token with an ETag-conditional replace (a lost race reads again). Prints
what one GeoCatalog call would cost in storage requests, lost races and waiting; asserts nothing.

    python -m bench.shared_bucket [--instances 1 4 16] [--rate 40] [--seconds 8]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass, field

from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError
from azure.data.tables import TableClient, TableServiceClient, UpdateMode

from bench._common import RequestCounter, latency_row, print_table

PARTITION, ROW = "limiter", "geocatalog"


@dataclass
class Tally:
    granted: int = 0
    races: int = 0
    waits: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _take(table: TableClient, rate: float, burst: float, tally: Tally) -> None:
    """Block until the shared bucket gives this caller a token."""
    started = time.perf_counter()
    while True:
        row = table.get_entity(PARTITION, ROW)
        now = time.time()
        tokens = min(burst, float(row["tokens"]) + (now - float(row["updated"])) * rate)
        if tokens < 1.0:
            time.sleep((1.0 - tokens) / rate)
            continue
        try:
            table.update_entity(
                {"PartitionKey": PARTITION, "RowKey": ROW, "tokens": tokens - 1.0, "updated": now},
                mode=UpdateMode.REPLACE,
                etag=row.metadata["etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        except ResourceModifiedError:
            with tally.lock:
                tally.races += 1
            continue
        with tally.lock:
            tally.granted += 1
            tally.waits.append(time.perf_counter() - started)
        return


def run(connection: str, instances: int, rate: float, seconds: float) -> list[object]:
    burst = max(1.0, rate / 4)
    counter = RequestCounter()
    service = TableServiceClient.from_connection_string(connection)
    name = f"bucket{instances}x{int(rate)}"
    service.create_table_if_not_exists(name)
    setup = service.get_table_client(name)
    setup.upsert_entity(
        {"PartitionKey": PARTITION, "RowKey": ROW, "tokens": burst, "updated": time.time()}
    )
    tally = Tally()
    deadline = time.perf_counter() + seconds

    def instance() -> None:
        table = TableClient.from_connection_string(connection, name, raw_request_hook=counter)
        while time.perf_counter() < deadline:
            _take(table, rate, burst, tally)

    threads = [threading.Thread(target=instance, daemon=True) for _ in range(instances)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    granted = max(1, tally.granted)
    p50, p95, _ = latency_row(tally.waits or [0.0])
    return [
        instances,
        f"{tally.granted / seconds:.1f}",
        f"{counter.count / granted:.2f}",
        f"{tally.races / granted:.2f}",
        p50,
        p95,
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--rate", type=float, default=40.0, help="the bucket's calls/s (40)")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each run (8)")
    args = parser.parse_args(argv)
    from local.azurite import start_azurite

    rows = []
    with start_azurite() as azurite:
        for instances in args.instances:
            rows.append(run(azurite.connection_string, instances, args.rate, args.seconds))
    print(
        f"One token bucket of {args.rate:g} calls/s in one Azurite table row, shared by "
        f"instances that each call as fast as it lets them, {args.seconds:g} s per run"
    )
    print_table(
        [
            "instances",
            "calls granted/s",
            "storage requests/call",
            "lost ETag races/call",
            "wait p50 ms",
            "wait p95 ms",
        ],
        rows,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
