"""Re-ingesting existing items in upsert mode: GeoCatalog calls per item (target: at most 1.1).

The GeoCatalog has no batch replace, so an item that exists costs one PUT; everything else (the
search by ids of each batch, the posts of new items, the status checks that settle dozens of PUT
operations with listings instead of a GET each) must stay within a tenth of a call per item. On
the local stack with the GeoCatalog emulator set like the real service (50 calls/s, 80 ms per
call, operations 1-5 s), one `stac-search` job ingests N items in create mode, then a second job
re-ingests the same N items in upsert mode; both are checked to end with every item succeeded.
Prints figures; asserts nothing.

    python -m bench.upsert_reingest [--items 2000] [--timeout 1800]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import httpx

from bench._common import print_table, running
from bench._stac_api import GeneratedStacApi
from bench._stack import calls_spent, create_collection, wait_for_job
from bench.tutorial_vs_service import BUDGET, DROP_ASSETS, LATENCY_SECONDS, OPERATION_SECONDS
from local.emulator.geocatalog import GeoCatalogConfig
from local.stack import LocalStack, StackConfig

COLLECTION = "bench-upsert"
PUT_ROUTE = "PUT /stac/collections/{collectionId}/items/{itemId}"
LIST_ROUTE = "GET /inma/operations"
SEARCH_ROUTE = "POST /stac/search"


def _run(
    http: httpx.Client, stack: LocalStack, stac: GeneratedStacApi, mode: str, args: Any
) -> list[object]:
    geocatalog = running(stack.geocatalog, "the GeoCatalog emulator")
    before = geocatalog.stats()
    t0 = time.perf_counter()
    accepted = http.post(
        "/api/ingest",
        json={
            "collection": COLLECTION,
            "mode": mode,
            "source": {
                "type": "stac-search",
                "url": stac.url,
                "collections": ["sentinel-2-l2a"],
                "maxItems": args.items,
            },
            "dropAssets": DROP_ASSETS,
        },
    )
    if accepted.status_code != 202:
        raise RuntimeError(f"POST /api/ingest answered {accepted.status_code}: {accepted.text}")
    job, elapsed = wait_for_job(http, accepted.json()["statusUrl"], t0, args.timeout)
    after = geocatalog.stats()
    spent = calls_spent(after, before)
    routes = {
        route: sum(after["routes"].get(route, {}).values())
        - sum(before["routes"].get(route, {}).values())
        for route in (PUT_ROUTE, LIST_ROUTE, SEARCH_ROUTE)
    }
    counts = job.get("counts", {})
    exact = job.get("state") == "succeeded" and counts.get("succeeded") == args.items
    n = args.items
    return [
        mode,
        n,
        f"{elapsed:.1f}" if elapsed else "timeout",
        f"{n / elapsed:.1f}" if elapsed else "-",
        f"{spent['total'] / n:.3f}",
        spent["posts"],
        routes[PUT_ROUTE],
        routes[SEARCH_ROUTE],
        spent["operations"],
        routes[LIST_ROUTE],
        spent["throttled"],
        "exact" if exact else f"{job.get('state')} {counts}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=2000, help="items of each job (2000)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per job (1800)")
    args = parser.parse_args(argv)
    config = StackConfig(
        geocatalog=GeoCatalogConfig(
            seed=1,
            budget_per_second=BUDGET,
            latency_seconds=LATENCY_SECONDS,
            operation_duration_seconds=OPERATION_SECONDS,
        ),
        settings_overrides={"AzureWebJobs.maintenance.Disabled": "true"},
    )
    with (
        GeneratedStacApi(args.items) as stac,
        LocalStack(config) as stack,
        httpx.Client(base_url=stack.base_url, timeout=120) as http,
    ):
        create_collection(http, stack, COLLECTION)
        rows = [_run(http, stack, stac, mode, args) for mode in ("create", "upsert")]
    print(
        f"Create, then re-ingest in upsert mode: {args.items} Sentinel-2 L2A items from a "
        f"stac-search source; GeoCatalog emulator {BUDGET:g} calls/s, "
        f"{1000 * LATENCY_SECONDS:g} ms per call, operations "
        f"{OPERATION_SECONDS[0]:g}-{OPERATION_SECONDS[1]:g} s"
    )
    print_table(
        [
            "mode",
            "items",
            "seconds",
            "items/s",
            "calls/item",
            "POST items",
            "PUT item",
            "searches",
            "op GETs",
            "op listings",
            "429s",
            "counts",
        ],
        rows,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
