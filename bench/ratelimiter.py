"""The client-side limiter against the GeoCatalog budget: rate achieved, 429s, recovery.

In process and in real time: worker threads call a simulated service through the real
`shared.ratelimit.AdaptiveRateLimiter` exactly as GeoCatalogClient does (`acquire()` before the
call, `on_success()` / `on_throttled(retry_after)` after). The service is the GeoCatalog
emulator's budget (`local.emulator.geocatalog.budget.Budget`: a sliding one-second window, 50
calls/s; a refused call does not count) with the emulator's Retry-After (seconds until a slot
frees, at least 1) and a fixed call latency. The scale-out rows put several instances, each with
its own limiter, on one budget: with the old default (40/s each) and with the deployed default
(each instance's share of the budget, `shared.ratelimit.instance_share`). Prints figures; asserts
nothing.

    python -m bench.ratelimiter [--seconds 6] [--threads 8] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench._common import print_table
from local.emulator.geocatalog.budget import Budget
from shared.ratelimit import AdaptiveRateLimiter, instance_share

BUDGET = 50.0
# maximumInstanceCount in infra/main.bicep, which it also sets as GEOCATALOG_MAX_INSTANCES.
DEPLOYED_MAX_INSTANCES = 40


class Service:
    """The GeoCatalog's STAC API budget; `per_second` may change during a run."""

    def __init__(self, per_second: float, latency: float, *, retry_after: bool = True) -> None:
        self.per_second = per_second
        self._latency = latency
        self._retry_after = retry_after
        self._budget = Budget()

    def call(self) -> float | None:
        """None when served; else the Retry-After the 429 carries (0.0 when it carries none)."""
        time.sleep(self._latency / 2)
        wait = self._budget.try_acquire(time.monotonic(), self.per_second)
        time.sleep(self._latency / 2)
        if wait is None:
            return None
        return float(max(1, math.ceil(wait))) if self._retry_after else 0.0


@dataclass
class Run:
    ok: list[float] = field(default_factory=list)
    throttled: list[float] = field(default_factory=list)
    rates: list[tuple[float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _drive(
    limiters: list[AdaptiveRateLimiter],
    service: Service,
    threads_each: int,
    seconds: float,
    script: Callable[[float], None] | None = None,
) -> Run:
    run = Run()
    start = time.monotonic()
    deadline = start + seconds
    stop = threading.Event()

    def worker(limiter: AdaptiveRateLimiter) -> None:
        while not stop.is_set():
            limiter.acquire()
            if time.monotonic() >= deadline:
                return
            retry_after = service.call()
            now = time.monotonic() - start
            if retry_after is None:
                limiter.on_success()
                with run.lock:
                    run.ok.append(now)
            else:
                limiter.on_throttled(retry_after or None)
                with run.lock:
                    run.throttled.append(now)

    def monitor() -> None:
        while not stop.wait(0.02):
            now = time.monotonic() - start
            run.rates.append((now, sum(limiter.rate for limiter in limiters)))
            if script is not None:
                script(now)

    workers = [
        threading.Thread(target=worker, args=(limiter,), daemon=True)
        for limiter in limiters
        for _ in range(threads_each)
    ]
    watcher = threading.Thread(target=monitor, daemon=True)
    for thread in [*workers, watcher]:
        thread.start()
    time.sleep(seconds)
    stop.set()
    # A worker may sit in acquire() for a Retry-After pause (a few seconds at most).
    for thread in [*workers, watcher]:
        thread.join(timeout=10)
    return run


def _peak_window(times: list[float]) -> int:
    """Most served calls in any one-second window."""
    ordered = sorted(times)
    best = lo = 0
    for hi, t in enumerate(ordered):
        while ordered[lo] <= t - 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _row(name: str, run: Run, seconds: float) -> list[object]:
    tail = [t for t in run.ok if t >= seconds - 2.0]
    rates = [r for _, r in run.rates] or [0.0]
    first_429 = f"{run.throttled[0]:.2f}" if run.throttled else "-"
    return [
        name,
        f"{len(run.ok) / seconds:.1f}",
        f"{len(tail) / 2.0:.1f}",
        _peak_window(run.ok),
        len(run.throttled),
        f"{len(run.throttled) / max(1, len(run.ok) + len(run.throttled)):.1%}",
        first_429,
        f"{min(rates):.1f}",
        f"{rates[-1]:.1f}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each run (6)")
    parser.add_argument("--threads", type=int, default=8, help="caller threads per limiter (8)")
    parser.add_argument(
        "--latency-ms", type=float, default=20.0, help="service time of one call (20 ms)"
    )
    args = parser.parse_args(argv)
    seconds, threads, latency = args.seconds, args.threads, args.latency_ms / 1000

    print(
        f"AdaptiveRateLimiter against a simulated {BUDGET:g} calls/s budget (sliding 1 s window), "
        f"{threads} threads per limiter, {args.latency_ms:g} ms per call, {seconds:g} s per run"
    )
    # Deployed defaults: each instance takes instance_share(budget, GEOCATALOG_MAX_INSTANCES), which
    # the Bicep sets to maximumInstanceCount (40); before, every instance took 40/s.
    deployed = instance_share(BUDGET, DEPLOYED_MAX_INSTANCES)
    share_16 = instance_share(BUDGET, 16)
    rows = []
    for name, limits, retry_after in (
        ("limit 40/s (1 instance's share), 1 instance", [40.0], True),
        ("limit 50/s (= budget), 1 instance", [50.0], True),
        ("limit 80/s (above budget), 1 instance", [80.0], True),
        ("limit 80/s, 429s without Retry-After", [80.0], False),
        ("limit 40/s, 2 instances (scale-out)", [40.0, 40.0], True),
        ("limit 40/s, 4 instances (scale-out)", [40.0] * 4, True),
        ("old default: 40/s each, 16 instances", [40.0] * 16, True),
        (f"new default: {deployed:g}/s each (max 40), 16 instances", [deployed] * 16, True),
        (f"new default: {deployed:g}/s each (max 40), 40 instances", [deployed] * 40, True),
        (f"max instances 16: {share_16:g}/s each, 16 instances", [share_16] * 16, True),
    ):
        service = Service(BUDGET, latency, retry_after=retry_after)
        limiters = [AdaptiveRateLimiter(limit) for limit in limits]
        run = _drive(limiters, service, threads, seconds)
        rows.append(_row(name, run, seconds))
    print_table(
        [
            "scenario",
            "ok/s",
            "ok/s last 2 s",
            "peak ok in 1 s",
            "429s",
            "429 share",
            "first 429 s",
            "min rate",
            "end rate",
        ],
        rows,
    )
    print("(rate: the limiters' allowed calls/s, summed over instances, sampled every 20 ms)")

    # Recovery: a neighbour takes most of the subscription's budget for a while.
    squeeze_from, squeeze_to = 1.0, 3.0
    service = Service(BUDGET, latency)

    def squeeze(now: float) -> None:
        service.per_second = 20.0 if squeeze_from <= now < squeeze_to else BUDGET

    limiter = AdaptiveRateLimiter(40.0)
    run = _drive([limiter], service, threads, squeeze_to + 6.0, script=squeeze)
    during = [t for t in run.throttled if squeeze_from <= t < squeeze_to + 1.0]
    after = [(t, r) for t, r in run.rates if t >= squeeze_to]
    back = next((t for t, r in after if r >= 0.95 * limiter.max_rate), None)
    ok_after = sorted(t for t in run.ok if t >= squeeze_to)
    steady = next((t for t in ok_after if sum(1 for u in ok_after if t <= u < t + 1.0) >= 36), None)
    min_rate = min(r for _, r in run.rates)
    print(
        f"\nRecovery (limit 40/s): the budget drops to 20/s from t={squeeze_from:g} s to "
        f"t={squeeze_to:g} s, then is 50/s again"
    )
    print_table(
        ["figure", "value"],
        [
            ["429s while squeezed (and the second after)", len(during)],
            ["429s in the whole run", len(run.throttled)],
            ["lowest limiter rate (calls/s)", f"{min_rate:.1f}"],
            [
                "limiter rate back to >= 38/s, after the squeeze ends",
                f"{back - squeeze_to:.2f} s" if back is not None else "not within the run",
            ],
            [
                "served calls back to >= 36 in a 1 s window, after",
                f"{steady - squeeze_to:.2f} s" if steady is not None else "not within the run",
            ],
            ["served calls/s in the last 2 s", f"{sum(1 for t in run.ok if t >= squeeze_to + 4.0) / 2:.1f}"],
        ],
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
