"""End-to-end ingestion on the local stack: items/s, GeoCatalog calls per item, 429s.

Each variant is a GeoCatalog budget and a client-side limit (the GEOCATALOG_MAX_CALLS_PER_SECOND
setting). For each, a fresh local stack is started (Azurite, the GeoCatalog emulator with that
budget, the Planetary Computer emulator, the local Functions host running the real function_app);
the target collection is created through POST /api/collections from the Planetary Computer's
sentinel-2-l2a template; then N real Sentinel-2 L2A items (the recorded 250-item search page; ids
suffixed past 250) go inline to POST /api/ingest, and the job is polled over HTTP until it is
terminal. The emulator's counters (what /_emulator/stats shows) are sampled during the job, so the
figures are what the ingestion spent, not the setup. Also counted: the storage requests the app's
own clients send (azure-core's requests transport; the host's queue polling is not included) and
the JobStore's lost ETag races (its back-off hook). Prints figures; asserts nothing.

    python -m bench.pipeline_throughput [--items 200] [--variants 50:40 50:80 15:12 15:24]
                                        [--operation-seconds 0.1 0.5] [--timeout 300]

A variant is BUDGET:LIMIT. 50:40 is production's pairing (50 calls/s per subscription, 40/s
client default), 50:80 a limit above the budget. One local host process on 2 cores does not reach
50 calls/s, so 15:12 and 15:24 keep the same ratios on a budget the machine can saturate.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench._common import cpu_seconds, print_table, running, sentinel2_items
from bench._stack import (
    ITEMS_ROUTE,
    calls_spent,
    create_collection,
    probes,
    route_calls,
    wait_for_job,
)
from local.emulator.geocatalog import GeoCatalogConfig
from local.stack import EXAMPLE_SETTINGS, LocalStack, StackConfig

COLLECTION = "bench-sentinel-2-l2a"


@dataclass
class Sampler:
    """Samples the emulator's counters every `interval` seconds while ingestion runs."""

    stack: LocalStack
    interval: float = 0.25
    samples: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self, t0: float) -> None:
        def loop() -> None:
            geocatalog = self.stack.geocatalog_api
            while True:
                self.samples.append((time.perf_counter() - t0, geocatalog.stats()))
                if self._stop.wait(self.interval):
                    return

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _peak_per_second(samples: list[tuple[float, dict[str, Any]]], key: str) -> float:
    """Most calls in any window of ~1 s between samples."""
    best = 0.0
    for i, (t_i, s_i) in enumerate(samples):
        for t_j, s_j in samples[i + 1 :]:
            if t_j - t_i >= 1.0:
                best = max(best, (s_j[key] - s_i[key]) / (t_j - t_i))
                break
    return best


def _served(stats: dict[str, Any]) -> dict[str, Any]:
    return {**stats, "served": stats["dataPlane"] - stats["throttled"]}


def run_variant(
    budget: float, limit: float, items: list[dict[str, Any]], args: argparse.Namespace
) -> tuple[list[object], dict[str, float]]:
    """The variant's table row, and per-item table requests by JobStore method."""
    body = {"collection": COLLECTION, "source": {"type": "items", "items": items}}
    size = len(json.dumps(items, separators=(",", ":")).encode())
    overrides = {
        "GEOCATALOG_MAX_CALLS_PER_SECOND": f"{limit:g}",
        # Not what is measured: the timer's SAS refresh and stalled-job sweep.
        "AzureWebJobs.maintenance.Disabled": "true",
        # Room for the inline items (the default cap is 4 MiB).
        "INGEST_INLINE_MAX_BYTES": str(max(4 * 1024 * 1024, 2 * size)),
    }
    low, high = args.operation_seconds
    config = StackConfig(
        geocatalog=GeoCatalogConfig(
            seed=1, budget_per_second=budget, operation_duration_seconds=(low, high)
        ),
        settings_overrides=overrides,
        geocatalog_process=True,
    )
    with (
        probes() as probe,
        LocalStack(config) as stack,
        httpx.Client(base_url=stack.base_url, timeout=120) as http,
    ):
        geocatalog = running(stack.geocatalog_process, "the GeoCatalog emulator process")
        host = running(stack.host, "the local host")
        azurite = running(stack.azurite, "Azurite")
        probe.watch(stack)
        create_collection(http, stack, COLLECTION)
        time.sleep(1.1)  # let the setup's calls leave the budget's one-second window
        before = geocatalog.stats()
        probe_before = probe.snapshot()
        runs_before = {
            name: len(host.invocations_of(name)) for name in ("ingest_items", "ingest_status")
        }
        sampler = Sampler(stack)
        cpu_before = (
            time.process_time(),
            cpu_seconds(azurite.process.pid),
            cpu_seconds(geocatalog.pid),
        )
        t0 = time.perf_counter()
        sampler.start(t0)
        accepted = http.post("/api/ingest", json=body)
        accept_ms = 1000 * (time.perf_counter() - t0)
        if accepted.status_code != 202:
            sampler.stop()
            raise RuntimeError(f"POST /api/ingest answered {accepted.status_code}: {accepted.text}")
        job, elapsed = wait_for_job(http, accepted.json()["statusUrl"], t0, args.timeout)
        sampler.stop()
        cpu = (
            time.process_time() - cpu_before[0],
            cpu_seconds(azurite.process.pid) - cpu_before[1],
            cpu_seconds(geocatalog.pid) - cpu_before[2],
        )
        after = geocatalog.stats()
        probe_after = probe.snapshot()
        spent = calls_spent(after, before)
        samples = [(t, _served(s)) for t, s in sampler.samples]
        all_posted = next(
            (
                t
                for t, s in samples
                if route_calls(s, ITEMS_ROUTE, "202") - route_calls(before, ITEMS_ROUTE, "202")
                >= len(items)
            ),
            None,
        )
        runs = {name: len(host.invocations_of(name)) - n for name, n in runs_before.items()}
    n = len(items)
    storage = probe_after[0] - probe_before[0]
    retries = probe_after[1] - probe_before[1]
    breakdown = {
        key.removeprefix("table "): count / n
        for key, count in storage.items()
        if key.startswith("table ")
    }
    breakdown.update({f"ETag retries in {key}": count / n for key, count in retries.items()})
    counts = job.get("counts", {})
    not_ok = {k: v for k, v in counts.items() if k not in ("total", "succeeded") and v}
    return [
        f"{budget:g}:{limit:g}",
        n,
        f"{accept_ms:.0f}",
        f"{all_posted:.1f}" if all_posted is not None else "-",
        f"{elapsed:.1f}" if elapsed is not None else f">{args.timeout:g} (timeout)",
        f"{n / elapsed:.1f}" if elapsed else "-",
        f"{spent['total'] / n:.2f}",
        f"{spent['posts_accepted']}+{spent['posts'] - spent['posts_accepted']}",
        f"{spent['operations']}",
        spent["sources"],
        spent["other"],
        spent["throttled"],
        f"{_peak_per_second(samples, 'dataPlane'):.0f}/{_peak_per_second(samples, 'served'):.0f}",
        f"{runs['ingest_items']}/{runs['ingest_status']}",
        f"{storage['table'] / n:.1f}/{storage['queue'] / n:.1f}/{storage['blob'] / n:.2f}",
        sum(retries.values()),
        f"{1000 * cpu[0] / n:.0f}/{1000 * cpu[1] / n:.0f}/{1000 * cpu[2] / n:.0f}",
        f"{job.get('state', '?')}"
        + (f" {json.dumps(not_ok, separators=(',', ':'))}" if not_ok else ""),
    ], breakdown


def _variant(text: str) -> tuple[float, float]:
    try:
        budget, limit = (float(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not BUDGET:LIMIT, e.g. 50:40") from None
    if budget < 0 or limit <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: budget >= 0 (0 = none), limit > 0")
    return budget, limit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=200, help="items to ingest (200)")
    parser.add_argument(
        "--variants",
        type=_variant,
        nargs="+",
        default=[(50.0, 40.0), (50.0, 80.0), (15.0, 12.0), (15.0, 24.0)],
        metavar="BUDGET:LIMIT",
        help="emulator budget and client limit, calls/s (50:40 50:80 15:12 15:24)",
    )
    parser.add_argument(
        "--operation-seconds",
        type=float,
        nargs=2,
        default=(0.1, 0.5),
        metavar=("LOW", "HIGH"),
        help="range of an operation's life in the emulator (0.1 0.5)",
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for each job (300)"
    )
    args = parser.parse_args(argv)
    if args.items < 1:
        parser.error("--items must be positive")
    items = sentinel2_items(args.items)
    local = json.loads(EXAMPLE_SETTINGS.read_text())["Values"]
    print(
        f"Ingestion through the local stack over HTTP: {args.items} Sentinel-2 L2A items inline, "
        f"operations take {args.operation_seconds[0]:g}-{args.operation_seconds[1]:g} s, status "
        f"checks after {local.get('INGEST_STATUS_INITIAL_DELAY_SECONDS', '5')} s growing to "
        f"{local.get('INGEST_STATUS_MAX_DELAY_SECONDS', '120')} s (local settings); one process "
        "runs the host, the Planetary Computer emulator and this client; the GeoCatalog emulator "
        "(reached over HTTP) and Azurite run in processes of their own",
        flush=True,
    )
    rows = []
    breakdowns = []
    for budget, limit in args.variants:
        row, breakdown = run_variant(budget, limit, items, args)
        rows.append(row)
        breakdowns.append(breakdown)
        print(f"  budget {budget:g}/s, limit {limit:g}/s: done", flush=True)
    print_table(
        [
            "budget:limit",
            "items",
            "accept ms",
            "all posted s",
            "terminal s",
            "items/s",
            "calls/item",
            "POST items ok+429",
            "op GETs",
            "source calls",
            "other",
            "429s",
            "peak calls/s all/ok",
            "items/status runs",
            "storage req/item tbl/q/blob",
            "ETag retries",
            "CPU ms/item app/Azurite/GeoCatalog",
            "job",
        ],
        rows,
    )
    print(
        "(times from sending POST /api/ingest; calls: data-plane calls the emulator counted "
        "during the job, 429s included; other: e.g. the collection check of POST /api/ingest; "
        "items/status runs: invocations of ingest_items / ingest_status; storage requests: sent "
        "by the app's clients, not the host's queue polling; CPU: this process (host, "
        "Planetary Computer emulator, client), Azurite, the GeoCatalog emulator's process)"
    )
    keys = sorted({k for b in breakdowns for k in b}, key=lambda k: (k.startswith("ETag"), k))
    print("\nTable requests per item by JobStore method (- : not from the JobStore)")
    print_table(
        ["JobStore method", *(f"{b:g}:{lim:g}" for b, lim in args.variants)],
        [[key, *(f"{b.get(key, 0):.2f}" for b in breakdowns)] for key in keys],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
