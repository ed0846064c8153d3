"""Helpers shared by the benchmarks: fixtures, percentiles, tables, request counting."""

from __future__ import annotations

import copy
import json
import math
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parent.parent
PC_ITEMS = REPO_ROOT / "local" / "fixtures" / "planetary-computer" / "items"
NAIP_PAGE = PC_ITEMS / "naip.search-post.page1.10-items.json"
SENTINEL2_PAGE = PC_ITEMS / "sentinel-2-l2a.search-post.page1.250-items.json"


def running(part: T | None, what: str) -> T:
    """A part of the local stack, which must be started."""
    if part is None:
        raise RuntimeError(f"{what} is not running")
    return part


def fixture_features(path: Path) -> list[dict[str, Any]]:
    """The features of a recorded Planetary Computer search page."""
    features: list[dict[str, Any]] = json.loads(path.read_text())["features"]
    return features


def sentinel2_item(features: Sequence[dict[str, Any]], n: int) -> dict[str, Any]:
    """The n-th of an endless run of real Sentinel-2 L2A items: the recorded ones in turn, with
    their ids suffixed past the first round so that every id is unique."""
    item = copy.deepcopy(features[n % len(features)])
    item["id"] = sentinel2_id(features, n)
    return item


def sentinel2_id(features: Sequence[dict[str, Any]], n: int) -> str:
    """The id of `sentinel2_item(features, n)`."""
    recorded = str(features[n % len(features)]["id"])
    return recorded if n < len(features) else f"{recorded}-copy{n // len(features)}"


def sentinel2_items(count: int) -> list[dict[str, Any]]:
    """`count` real Sentinel-2 L2A items (the recorded 250-item search page; ids unique)."""
    features = fixture_features(SENTINEL2_PAGE)
    return [sentinel2_item(features, n) for n in range(count)]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_row(samples: Sequence[float]) -> tuple[str, str, str]:
    """p50 / p95 / max of samples in seconds, as milliseconds text."""
    return (
        f"{1000 * percentile(samples, 50):.1f}",
        f"{1000 * percentile(samples, 95):.1f}",
        f"{1000 * max(samples):.1f}",
    )


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain table: the first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        first = row[0].ljust(widths[0])
        rest = "  ".join(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))
        print(f"{first}  {rest}".rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:  # noqa: PTH123 - a procfs read, not a path API use
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class RequestCounter:
    """An azure-core `raw_request_hook`: counts the HTTP requests a storage client sends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def __call__(self, request: Any) -> None:
        with self._lock:
            self.count += 1
