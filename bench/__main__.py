"""Run every benchmark in sequence and print its tables (what `make bench` runs).

The default sizes finish in a few minutes on 2 cores; --full uses each benchmark's own defaults
(about twice as long), and the size flags scale single benchmarks up or down. Prints figures;
asserts nothing. A benchmark that fails is reported and the others still run.

    python -m bench [--full] [--only NAME ...] [--job-items N] [--pipeline-items N]
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable

from bench import (
    emulator_throughput,
    job_view_latency,
    pipeline_throughput,
    ratelimiter,
    tutorial_vs_service,
)

NAMES = (
    "ratelimiter",
    "pipeline_throughput",
    "job_view_latency",
    "emulator_throughput",
    "tutorial_vs_service",
)


def _plan(args: argparse.Namespace) -> list[tuple[str, Callable[[list[str]], int], list[str]]]:
    quick = not args.full
    job_items = args.job_items or (15_000 if quick else 100_000)
    pipeline_items = args.pipeline_items or (100 if quick else 200)
    return [
        ("ratelimiter", ratelimiter.main, ["--seconds", "5"] if quick else []),
        ("pipeline_throughput", pipeline_throughput.main, ["--items", str(pipeline_items)]),
        (
            "job_view_latency",
            job_view_latency.main,
            ["--items", str(job_items), "--planner-items", str(min(5_000, job_items))]
            + (["--calls", "30"] if quick else []),
        ),
        ("emulator_throughput", emulator_throughput.main, ["--requests", "2000"] if quick else []),
        ("tutorial_vs_service", tutorial_vs_service.main, ["--quick"] if quick else []),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--full", action="store_true", help="each benchmark's own default sizes (longer)"
    )
    parser.add_argument("--only", nargs="+", choices=NAMES, help="run only these benchmarks")
    parser.add_argument(
        "--job-items", type=int, help="items of the job_view_latency job (15000; --full 100000)"
    )
    parser.add_argument(
        "--pipeline-items", type=int, help="items per pipeline_throughput run (100; --full 200)"
    )
    args = parser.parse_args(argv)
    failed = []
    began = time.perf_counter()
    for name, run, bench_args in _plan(args):
        if args.only and name not in args.only:
            continue
        print(f"\n=== python -m bench.{name} {' '.join(bench_args)}".rstrip(), flush=True)
        started = time.perf_counter()
        try:
            run(bench_args)
        except Exception:  # noqa: BLE001 - report it and run the other benchmarks
            traceback.print_exc()
            failed.append(name)
        print(f"=== {name}: {time.perf_counter() - started:.0f} s", flush=True)
    print(f"\nall benchmarks: {time.perf_counter() - began:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
