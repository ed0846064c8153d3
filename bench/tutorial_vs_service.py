"""The tutorial's ingestion loop against the service, on one GeoCatalog emulator set like the real one.

In one run, one local stack (Azurite, the GeoCatalog emulator at 50 calls/s with 80 ms per call and
operations taking 1-5 s, the Planetary Computer emulator, the local Functions host running the real
function_app) serves the runs below. The GeoCatalog emulator and the bench STAC API run in processes
of their own (`StackConfig(geocatalog_process=True)`, `bench._stac_api.StacApiProcess`), reached over
HTTP as the real services are, so that their CPU is not charged to the app's interpreter (one GIL on a
2-core machine); the host, the app and the Planetary Computer emulator share this process.

1. **The tutorial's loop** ("use the API to ingest and visualize data"): an ingestion source for the
   Sentinel-2 container from a Planetary Computer SAS token, then POST each item (its
   `rendered_preview`, `preview` and `tilejson` assets removed), then GET every operation, every 5 s,
   until none is Pending or Running. Plain `requests` calls, one after the other, as in the notebook.
2. **The service**, for each size, into its own collection: one `POST /api/ingest` with a
   `stac-search` source (`bench._stac_api`: the recorded Sentinel-2 L2A items, ids made unique), the
   same assets dropped, then `GET /api/jobs/{id}` until the job is terminal.

Every collection is created beforehand with `POST /api/collections`; the figures count from the first
POST of an item (the loop) or from `POST /api/ingest` (the service) to the end. Only public entry
points are used: the host's HTTP API, the GeoCatalog's data plane and `/_emulator/stats`, and the
storage requests the app's clients send (counted on azure-core's transport, by Azurite port), so
the benchmark measures whatever the pipeline is. After each run it checks exact counts: every
operation Succeeded (the loop) or the job succeeded with `counts.succeeded` = `counts.total` = N
and N items listed all `succeeded` (the service), and the emulator's collection holds exactly the N
item ids. Prints figures; asserts nothing.

    python -m bench.tutorial_vs_service [--tutorial-items 1000] [--service-items 1000 10000]
                                        [--quick] [--setting NAME=VALUE ...] [--timeout 3600]
    python -m bench.tutorial_vs_service --backfill 100000   # only the service, one stac-search job
    python -m bench.tutorial_vs_service --faults --service-items 10000   # only the service, under
                                                                         # the fault mix below

`--faults` injects, on every GeoCatalog data-plane call, 5% 429s, 2% 503s and 1% 500s (each
without Retry-After) and fails 5% of operations with a transient code: the figures per item (calls,
storage requests) are then those of a pipeline that retries, splits and re-posts, and the counts
must still be exact.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests

from bench._common import (
    SENTINEL2_PAGE,
    cpu_seconds,
    fixture_features,
    print_table,
    running,
    sentinel2_id,
    sentinel2_item,
)
from bench._stac_api import StacApiProcess
from bench._stack import (
    API_VERSION,
    GEOCATALOG_HEADERS,
    Probes,
    calls_spent,
    collection_item_ids,
    create_collection,
    probes,
    wait_for_job,
)
from local.emulator.geocatalog import GeoCatalogConfig
from local.host.invocation import Invocation
from local.stack import EXAMPLE_SETTINGS, LocalStack, StackConfig

# The real service as issue 8 measured it: its budget, a typical call latency, operation lives.
BUDGET = 50.0
LATENCY_SECONDS = 0.08
OPERATION_SECONDS = (1.0, 5.0)
# What the tutorial removes from every item before posting it (non-static assets).
DROP_ASSETS = ["rendered_preview", "preview", "tilejson"]
TUTORIAL_POLL_SECONDS = 5.0
UNFINISHED = {"Pending", "Running"}
PIPELINE_FUNCTIONS = ("ingest_plan", "ingest_items", "ingest_status")


@dataclass
class Run:
    """One measured ingestion and what the checks after it found."""

    name: str
    items: int
    elapsed: float | None
    calls: dict[str, int]
    storage: Counter[str] | None
    cpu_app: float
    cpu_azurite: float
    cpu_geocatalog: float
    problems: list[str] = field(default_factory=list)
    note: str = ""
    # The pipeline's invocations during the run, by function (the local host's log).
    invocations: dict[str, list[Invocation]] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return self.items / self.elapsed if self.elapsed else None


@dataclass
class Bench:
    stack: LocalStack
    http: httpx.Client
    probe: Probes
    stac: StacApiProcess
    timeout: float
    features: list[dict[str, Any]]

    @property
    def geocatalog_url(self) -> str:
        return self.stack.geocatalog_api.base_url

    def stats(self) -> dict[str, Any]:
        return self.stack.geocatalog_api.stats()

    def cpu(self) -> tuple[float, float, float]:
        """CPU seconds so far of this process (the app), Azurite, and the GeoCatalog emulator."""
        azurite = running(self.stack.azurite, "Azurite")
        geocatalog = running(self.stack.geocatalog_process, "the GeoCatalog emulator process")
        return time.process_time(), cpu_seconds(azurite.process.pid), cpu_seconds(geocatalog.pid)

    def expected_ids(self, count: int) -> set[str]:
        return {sentinel2_id(self.features, n) for n in range(count)}

    def check_catalog(self, collection: str, count: int) -> list[str]:
        """Problems, if the emulator's collection does not hold exactly the `count` items."""
        held = collection_item_ids(self.geocatalog_url, collection)
        expected = self.expected_ids(count)
        problems = []
        if len(held) != len(set(held)):
            problems.append(f"the GeoCatalog lists {len(held) - len(set(held))} ids twice")
        if set(held) != expected:
            problems.append(
                f"the GeoCatalog holds {len(set(held) - expected)} unexpected and misses "
                f"{len(expected - set(held))} items"
            )
        return problems

    def quiet_budget(self) -> None:
        # The setup's calls leave the budget's one-second window before the clock starts.
        time.sleep(1.1)


def tutorial_source(bench: Bench) -> None:
    """The tutorial's ingestion source: the collection's container and a Planetary Computer SAS
    token for it, registered with the GeoCatalog (not timed: the loop is what is compared)."""
    pc = running(bench.stack.planetary_computer, "the Planetary Computer emulator")
    collection = requests.get(f"{pc.base_url}/api/stac/v1/collections/sentinel-2-l2a", timeout=30)
    collection.raise_for_status()
    body = collection.json()
    container = (
        f"https://{body['msft:storage_account']}.blob.core.windows.net/{body['msft:container']}"
    )
    token = requests.get(f"{pc.base_url}/api/sas/v1/token/sentinel-2-l2a", timeout=30)
    token.raise_for_status()
    created = requests.post(
        f"{bench.geocatalog_url}/inma/ingestion-sources",
        json={
            "kind": "SasToken",
            "connectionInfo": {"containerUrl": container, "sasToken": token.json()["token"]},
        },
        headers=GEOCATALOG_HEADERS,
        params={"api-version": API_VERSION},
        timeout=30,
    )
    created.raise_for_status()


def _tutorial_call(method: str, url: str, **kwargs: Any) -> requests.Response:
    """One call as the notebook makes it (no session). The notebook has no 429 handling; this waits
    out a Retry-After instead of failing, which a loop this slow never needs."""
    while True:
        response = requests.request(
            method,
            url,
            headers=GEOCATALOG_HEADERS,
            params={"api-version": API_VERSION},
            timeout=60,
            **kwargs,
        )
        if response.status_code != 429:
            response.raise_for_status()
            return response
        time.sleep(float(response.headers.get("Retry-After", "1")))


def run_tutorial(bench: Bench, count: int) -> Run:
    collection = f"tutorial-loop-{count}"
    create_collection(bench.http, bench.stack, collection)
    bench.quiet_budget()
    items_endpoint = f"{bench.geocatalog_url}/stac/collections/{collection}/items"
    operations_endpoint = f"{bench.geocatalog_url}/inma/operations"
    before, cpu_before = bench.stats(), bench.cpu()
    t0 = time.perf_counter()
    operation_ids = []
    for n in range(count):
        item_json = sentinel2_item(bench.features, n)
        item_json["collection"] = collection
        for asset in DROP_ASSETS:
            del item_json["assets"][asset]
        response = _tutorial_call("POST", items_endpoint, json=item_json)
        operation_ids.append(response.json()["id"])
    passes = 0
    while True:
        passes += 1
        statuses: Counter[str] = Counter()
        for operation_id in operation_ids:
            status = _tutorial_call("GET", f"{operations_endpoint}/{operation_id}").json()["status"]
            statuses[status] += 1
        if not UNFINISHED & statuses.keys():
            break
        time.sleep(TUTORIAL_POLL_SECONDS)
    elapsed = time.perf_counter() - t0
    cpu_after, after = bench.cpu(), bench.stats()
    problems = []
    if statuses != Counter({"Succeeded": count}):
        problems.append(f"operations ended {dict(statuses)}")
    problems += bench.check_catalog(collection, count)
    return Run(
        name="tutorial loop",
        items=count,
        elapsed=elapsed,
        calls=calls_spent(after, before),
        storage=None,
        cpu_app=cpu_after[0] - cpu_before[0],
        cpu_azurite=cpu_after[1] - cpu_before[1],
        cpu_geocatalog=cpu_after[2] - cpu_before[2],
        problems=problems,
        note=f"{passes} polling passes",
    )


def _job_rows(bench: Bench, job_id: str) -> Counter[str]:
    """A job's items by state, and by id under the key "id:<id>" (GET /api/jobs/{id}/items)."""
    rows: Counter[str] = Counter()
    cursor: str | None = None
    while True:
        params = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
        response = bench.http.get(f"/api/jobs/{job_id}/items", params=params)
        response.raise_for_status()
        page = response.json()
        for item in page["items"]:
            rows[item["state"]] += 1
            rows[f"id:{item['itemId']}"] += 1
        cursor = page.get("nextCursor")
        if not cursor:
            return rows


def run_service(bench: Bench, count: int, name: str = "service") -> Run:
    collection = f"service-{count}"
    create_collection(bench.http, bench.stack, collection)
    bench.quiet_budget()
    body = {
        "collection": collection,
        "source": {
            "type": "stac-search",
            "url": bench.stac.url,
            "collections": ["sentinel-2-l2a"],
            "maxItems": count,
        },
        "mode": "create",
        "dropAssets": DROP_ASSETS,
    }
    before, cpu_before = bench.stats(), bench.cpu()
    storage_before = bench.probe.snapshot()[0]
    host = running(bench.stack.host, "the local host")
    seen = {name: len(host.invocations_of(name)) for name in PIPELINE_FUNCTIONS}
    t0 = time.perf_counter()
    accepted = bench.http.post("/api/ingest", json=body)
    if accepted.status_code != 202:
        raise RuntimeError(f"POST /api/ingest answered {accepted.status_code}: {accepted.text}")
    job, elapsed = wait_for_job(bench.http, accepted.json()["statusUrl"], t0, bench.timeout)
    cpu_after, after = bench.cpu(), bench.stats()
    storage = bench.probe.snapshot()[0] - storage_before
    problems = []
    counts = job.get("counts", {})
    if job.get("state") != "succeeded" or counts.get("succeeded") != count:
        problems.append(f"job {job.get('state')} with counts {json.dumps(counts)}")
    if counts.get("total") != count:
        problems.append(f"counts.total is {counts.get('total')}, not {count}")
    rows = _job_rows(bench, accepted.json()["jobId"])
    states = {k: v for k, v in rows.items() if not k.startswith("id:")}
    ids = {k.removeprefix("id:") for k in rows if k.startswith("id:")}
    if states != {"succeeded": count}:
        problems.append(f"items by state {states}")
    if ids != bench.expected_ids(count) or any(
        v != 1 for k, v in rows.items() if k.startswith("id:")
    ):
        problems.append("the items listed are not exactly the source's items, once each")
    problems += bench.check_catalog(collection, count)
    return Run(
        name=name,
        items=count,
        elapsed=elapsed,
        calls=calls_spent(after, before),
        storage=storage,
        cpu_app=cpu_after[0] - cpu_before[0],
        cpu_azurite=cpu_after[1] - cpu_before[1],
        cpu_geocatalog=cpu_after[2] - cpu_before[2],
        problems=problems,
        note="" if elapsed is not None else f"not terminal after {bench.timeout:g} s",
        invocations={n: host.invocations_of(n)[seen[n] :] for n in PIPELINE_FUNCTIONS},
    )


def _row(run: Run, tutorial_rate: float | None) -> list[object]:
    n = run.items
    storage = "-"
    per_service = "-"
    if run.storage is not None:
        total = sum(run.storage[s] for s in ("table", "queue", "blob"))
        storage = f"{total / n:.2f}"
        per_service = "/".join(f"{run.storage[s] / n:.2f}" for s in ("table", "queue", "blob"))
    rate = run.rate
    return [
        run.name,
        n,
        f"{run.elapsed:.1f}" if run.elapsed is not None else "-",
        f"{rate:.1f}" if rate is not None else "-",
        f"{rate / tutorial_rate:.1f}x" if rate is not None and tutorial_rate else "-",
        f"{run.calls['total'] / n:.3f}",
        f"{run.calls['posts']}/{run.calls['operations']}/{run.calls['other'] + run.calls['sources']}",
        run.calls["throttled"],
        storage,
        per_service,
        f"{1000 * run.cpu_app / n:.1f}",
        f"{1000 * run.cpu_azurite / n:.1f}",
        f"{1000 * run.cpu_geocatalog / n:.1f}",
        "exact" if not run.problems else "NOT EXACT",
        run.note,
    ]


def _invocation_rows(run: Run) -> list[list[object]]:
    """Per pipeline function: invocations, their wall time, and (for the planner, whose pages
    form a chain: page k sends page k+1's message) the wait between one page and the next."""
    rows: list[list[object]] = []
    for name, calls in run.invocations.items():
        durations = sorted(i.duration_ms for i in calls if i.duration_ms is not None)
        if not durations:
            continue
        waits = "-"
        if name == "ingest_plan":
            ordered = sorted(calls, key=lambda i: i.started_at)
            gaps = [
                (b.started_at - a.finished_at).total_seconds()
                for a, b in itertools.pairwise(ordered)
                if a.finished_at is not None
            ]
            waits = f"{1000 * statistics.mean(gaps):.0f}" if gaps else "-"
        rows.append(
            [
                f"{run.name} {run.items}: {name}",
                len(calls),
                f"{sum(durations) / 1000:.0f}",
                f"{durations[len(durations) // 2]:.0f}",
                f"{durations[min(len(durations) - 1, int(0.95 * len(durations)))]:.0f}",
                waits,
            ]
        )
    return rows


def _print(runs: list[Run]) -> None:
    tutorial = next((r.rate for r in runs if r.name == "tutorial loop"), None)
    print_table(
        [
            "run",
            "items",
            "seconds",
            "items/s",
            "x tutorial",
            "calls/item",
            "POST/op GET/other",
            "429s",
            "storage req/item",
            "tbl/q/blob",
            "CPU ms/item",
            "Azurite CPU ms/item",
            "GeoCatalog CPU ms/item",
            "counts",
            "",
        ],
        [_row(run, tutorial) for run in runs],
    )
    print(
        "(calls: GeoCatalog data-plane calls the emulator counted during the run, 429s included; "
        "storage requests: sent by the app's own clients to Azurite, not the host's queue polling; "
        "CPU: this process, which runs the host with the app, the Planetary Computer emulator and "
        "the client; Azurite's process; the GeoCatalog emulator's process. The bench STAC API "
        "runs in a process of its own, not counted)"
    )
    for run in runs:
        for problem in run.problems:
            print(f"  {run.name}, {run.items} items: {problem}")
    rows = [row for run in runs for row in _invocation_rows(run)]
    if rows:
        print("\nPipeline invocations during each service run (the local host's log)")
        print_table(
            ["run: function", "invocations", "busy s", "p50 ms", "p95 ms", "wait between pages ms"],
            rows,
        )


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name, value


FAULT_MIX: dict[str, Any] = {
    "fault_429_rate": 0.05,
    "fault_503_rate": 0.02,
    "fault_500_rate": 0.01,
    "transient_operation_failure_rate": 0.05,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tutorial-items", type=int, help="items of the tutorial's loop (1000; --quick 200)"
    )
    parser.add_argument(
        "--service-items",
        type=int,
        nargs="+",
        help="items of each service run, each into its own collection (1000 10000; --quick 200 1000)",
    )
    parser.add_argument("--quick", action="store_true", help="the smaller sizes")
    parser.add_argument(
        "--backfill",
        type=int,
        metavar="N",
        help="instead: one N-item stac-search job through the service (e.g. 100000), no tutorial",
    )
    parser.add_argument(
        "--faults",
        action="store_true",
        help="only the service, with the GeoCatalog emulator injecting the fault mix above",
    )
    parser.add_argument(
        "--setting",
        type=_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an app setting on top of local.settings.example.json (repeatable)",
    )
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds to wait for each job (3600)"
    )
    args = parser.parse_args(argv)
    if args.backfill is not None:
        tutorial_items, service_items = 0, [args.backfill]
    elif args.faults:
        tutorial_items = 0
        service_items = args.service_items or ([200, 1000] if args.quick else [1000, 10_000])
    else:
        tutorial_items = args.tutorial_items or (200 if args.quick else 1000)
        service_items = args.service_items or ([200, 1000] if args.quick else [1000, 10_000])
    if min(service_items, default=1) < 1 or tutorial_items < 0:
        parser.error("sizes must be positive")
    budget, latency, operations = BUDGET, LATENCY_SECONDS, OPERATION_SECONDS
    overrides = {
        # Not what is measured: the timer's SAS refresh and stalled-job sweep.
        "AzureWebJobs.maintenance.Disabled": "true",
        **dict(args.setting),
    }
    local = {**json.loads(EXAMPLE_SETTINGS.read_text())["Values"], **overrides}
    print(
        f"GeoCatalog emulator: {budget:g} calls/s budget, {1000 * latency:g} ms per call, "
        f"operations {operations[0]:g}-{operations[1]:g} s. Real Sentinel-2 L2A items, "
        f"{', '.join(DROP_ASSETS)} assets removed. Service: status checks after "
        f"{local.get('INGEST_STATUS_INITIAL_DELAY_SECONDS', '5')} s growing to "
        f"{local.get('INGEST_STATUS_MAX_DELAY_SECONDS', '120')} s"
        + (f"; settings {dict(args.setting)}" if args.setting else " (local settings)")
        + (f". Fault mix: {FAULT_MIX}" if args.faults else "")
        + ". The GeoCatalog emulator and the bench STAC API run in processes of their own, "
        "reached over HTTP: their CPU is not charged to the app's process.",
        flush=True,
    )
    config = StackConfig(
        geocatalog=GeoCatalogConfig(
            seed=1,
            budget_per_second=budget,
            latency_seconds=latency,
            operation_duration_seconds=operations,
            **(FAULT_MIX if args.faults else {}),
        ),
        settings_overrides=overrides,
        geocatalog_process=True,
        # The batches' blobs of the largest run (~13 KB per item), with room to spare.
        azurite_extent_memory_mb=max(256, max(service_items) * 13 * 3 // 1024),
    )
    runs: list[Run] = []
    began = time.perf_counter()
    with (
        probes() as probe,
        StacApiProcess(max(service_items)) as stac,
        LocalStack(config) as stack,
        httpx.Client(base_url=stack.base_url, timeout=300) as http,
    ):
        probe.watch(stack)
        bench = Bench(stack, http, probe, stac, args.timeout, fixture_features(SENTINEL2_PAGE))
        if tutorial_items:
            tutorial_source(bench)
            runs.append(run_tutorial(bench, tutorial_items))
            print(f"  tutorial loop, {tutorial_items} items: {runs[-1].elapsed:.0f} s", flush=True)
        for count in service_items:
            name = "service (backfill)" if args.backfill is not None else "service"
            name = "service (faults)" if args.faults else name
            runs.append(run_service(bench, count, name))
            elapsed = runs[-1].elapsed
            print(
                f"  {name}, {count} items: "
                + (f"{elapsed:.0f} s" if elapsed is not None else "timed out"),
                flush=True,
            )
    _print(runs)
    print(f"whole run (stack start, setup, checks included): {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
