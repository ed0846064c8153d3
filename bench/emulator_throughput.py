"""Throughput of the GeoCatalog emulator: is it fast enough never to be the bottleneck?

Starts the emulator (`python -m local.emulator geocatalog`, uvicorn, one process, latency and
budget off, instant operations) in a subprocess, loads a collection with items, then drives it
from client processes over keep-alive HTTP for a bounded number of requests per endpoint and
prints requests/s and the emulator's CPU seconds per request. Prints figures; asserts nothing.

    python -m bench.emulator_throughput [--requests 3000] [--clients 2] [--items 200]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from local.ports import free_port, wait_for_port

HOST = "127.0.0.1"
HEADERS = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
API = "api-version=2026-04-15"
COLLECTION = "bench-collection"


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    body: bytes | None = None


def _request(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes]:
    conn.request(method, path, body=body, headers=HEADERS)
    response = conn.getresponse()
    return response.status, response.read()


def _drive(port: int, scenario: Scenario, count: int) -> int:
    """Send `count` requests on one keep-alive connection; return how many got a 2xx."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    ok = 0
    for _ in range(count):
        status, _ = _request(conn, scenario.method, scenario.path, scenario.body)
        ok += 200 <= status < 300
    conn.close()
    return ok


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:  # noqa: PTH123 - a procfs read, not a path API use
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _item(index: int) -> dict[str, Any]:
    west, south = -22.5 + (index % 10) * 0.01, 63.8 + (index // 10) * 0.01
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": f"bench-item-{index:05d}",
        "collection": COLLECTION,
        "bbox": [west, south, west + 0.01, south + 0.01],
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [
                    [west, south],
                    [west + 0.01, south],
                    [west + 0.01, south + 0.01],
                    [west, south + 0.01],
                    [west, south],
                ]
            ],
        },
        "properties": {
            "datetime": f"2024-02-{1 + index % 28:02d}T12:00:00Z",
            "eo:cloud_cover": index % 100,
        },
        "links": [],
        "assets": {
            "data": {"href": f"https://example.com/bench/{index}.tif", "type": "image/tiff"}
        },
    }


def _seed(port: int, items: int) -> str:
    """Create the collection and items; return the id of a finished operation."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    collection = {
        "id": COLLECTION,
        "description": "benchmark",
        "license": "CC-BY-4.0",
        "extent": {
            "spatial": {"bbox": [[-180, -90, 180, 90]]},
            "temporal": {"interval": [[None, None]]},
        },
    }
    status, _ = _request(conn, "POST", f"/stac/collections?{API}", json.dumps(collection).encode())
    if status != 202:
        raise RuntimeError(f"collection create answered {status}")
    _request(conn, "GET", f"/stac/collections/{COLLECTION}?{API}")
    batch = {"type": "FeatureCollection", "features": [_item(i) for i in range(items)]}
    status, body = _request(
        conn, "POST", f"/stac/collections/{COLLECTION}/items?{API}", json.dumps(batch).encode()
    )
    if status != 202:
        raise RuntimeError(f"item create answered {status}")
    operation_id = json.loads(body)["id"]
    for _ in range(100):
        status, body = _request(conn, "GET", f"/inma/operations/{operation_id}?{API}")
        if json.loads(body)["status"] == "Succeeded":
            break
        time.sleep(0.05)
    else:
        raise RuntimeError("seeding did not finish")
    conn.close()
    return str(operation_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--requests", type=int, default=3000, help="requests per scenario (default 3000)"
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes (default 2)")
    parser.add_argument(
        "--items", type=int, default=200, help="items in the collection (default 200)"
    )
    args = parser.parse_args(argv)

    port = free_port()
    emulator = subprocess.Popen(
        [
            sys.executable, "-m", "local.emulator", "geocatalog",
            "--host", HOST, "--port", str(port),
            "--budget-per-second", "0",
            "--operation-duration-seconds", "0", "0",
            "--seed", "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        if not wait_for_port(HOST, port, timeout=30):
            raise RuntimeError("the emulator did not start")
        operation_id = _seed(port, args.items)
        search_body = json.dumps(
            {"collections": [COLLECTION], "bbox": [-22.46, 63.83, -22.40, 63.88], "limit": 10}
        ).encode()
        scenarios = [
            Scenario("GET operation", "GET", f"/inma/operations/{operation_id}?{API}"),
            Scenario(
                "GET item", "GET", f"/stac/collections/{COLLECTION}/items/bench-item-00042?{API}"
            ),
            Scenario("POST search (bbox, limit 10)", "POST", f"/stac/search?{API}", search_body),
        ]
        print(f"GeoCatalog emulator throughput: uvicorn, 1 server process, {args.clients} client processes, "
              f"{args.requests} requests per scenario, {args.items} items, latency and budget off")  # fmt: skip
        print(f"{'scenario':<32}{'requests/s':>12}{'server CPU ms/request':>24}{'2xx':>8}")
        per_client = max(1, args.requests // args.clients)
        with ProcessPoolExecutor(max_workers=args.clients) as pool:
            for scenario in scenarios:
                list(
                    pool.map(
                        _drive,
                        [port] * args.clients,
                        [scenario] * args.clients,
                        [20] * args.clients,
                    )
                )
                cpu_before = _cpu_seconds(emulator.pid)
                started = time.perf_counter()
                ok = sum(
                    pool.map(
                        _drive,
                        [port] * args.clients,
                        [scenario] * args.clients,
                        [per_client] * args.clients,
                    )
                )
                elapsed = time.perf_counter() - started
                cpu = _cpu_seconds(emulator.pid) - cpu_before
                total = per_client * args.clients
                print(
                    f"{scenario.name:<32}{total / elapsed:>12.0f}{1000 * cpu / total:>24.3f}{ok:>8}"
                )
        print(
            "(server CPU ms/request: 1000 / that figure = requests/s one fully busy core sustains)"
        )
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
