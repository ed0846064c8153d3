"""`watch`: a job followed until it is terminal, as a live progress bar or as plain lines.

On a terminal: a bar of finished items, the counts by state, the rate and the time left (rich
estimates both from the updates). Elsewhere (a pipe, a log, CI): one line each time the counts
change, so the output stays readable in a file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from cli.client import Api, ApiProblem

TERMINAL = ("succeeded", "partially_succeeded", "failed", "canceled")
OPEN = ("pending", "submitting", "submitted")
GOOD = ("succeeded", "skipped")
BAD = ("failed", "invalid", "deadLettered", "canceled")
# Answers of the app that a watch sits out (the job goes on meanwhile).
_PASSING = frozenset({429, 502, 503, 504})
_PASSING_LIMIT = 30


def finished(counts: dict[str, int]) -> int:
    return sum(counts.get(s, 0) for s in (*GOOD, *BAD))


def counts_text(counts: dict[str, int], *, markup: bool) -> str:
    parts = [
        ("pending", counts.get("pending", 0), "yellow"),
        ("posting", counts.get("submitting", 0) + counts.get("submitted", 0), "blue"),
        ("succeeded", counts.get("succeeded", 0), "green"),
        ("skipped", counts.get("skipped", 0), "cyan"),
        ("failed", counts.get("failed", 0) + counts.get("deadLettered", 0), "red"),
        ("invalid", counts.get("invalid", 0), "red"),
        ("canceled", counts.get("canceled", 0), "magenta"),
    ]
    shown = [(name, n, color) for name, n, color in parts if n or name in ("pending", "succeeded")]
    if markup:
        return " ".join(f"[{color}]{name} {n}[/]" for name, n, color in shown)
    return " ".join(f"{name} {n}" for name, n, _ in shown)


def exit_code_of(job: dict[str, Any]) -> int:
    """0 only when every item succeeded or was skipped (and planning did not fail)."""
    return 0 if job["state"] == "succeeded" else 1


def watch(
    api: Api,
    job_id: str,
    console: Console,
    *,
    interval: float = 1.0,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Follow the job until it is terminal (and completed); the job as last read."""
    if console.is_terminal:
        return _watch_bar(api, job_id, console, interval, timeout, sleep)
    return _watch_lines(api, job_id, console, interval, timeout, sleep)


def _poll(
    api: Api, job_id: str, interval: float, timeout: float | None, sleep: Callable[[float], None]
) -> Any:
    """Yields the job at each poll; returns after a terminal one."""
    deadline = None if timeout is None else time.monotonic() + timeout
    passing = 0
    while True:
        try:
            job = api.job(job_id)
            passing = 0
        except ApiProblem as problem:
            passing += 1
            if problem.status not in _PASSING or passing > _PASSING_LIMIT:
                raise
            sleep(interval)
            continue
        yield job
        if job["state"] in TERMINAL and job.get("completedAt"):
            return
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job['state']} after {timeout:.0f} s")
        sleep(interval)


def _watch_lines(
    api: Api,
    job_id: str,
    console: Console,
    interval: float,
    timeout: float | None,
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    last = ""
    job: dict[str, Any] = {}
    for job in _poll(api, job_id, interval, timeout, sleep):
        counts = job["counts"]
        line = (
            f"{job['state']:<19} {finished(counts)}/{counts['total']} "
            f"| {counts_text(counts, markup=False)}"
        )
        if line != last:
            console.print(line, markup=False, highlight=False)
            last = line
    return job


def _watch_bar(
    api: Api,
    job_id: str,
    console: Console,
    interval: float,
    timeout: float | None,
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    progress = Progress(
        TextColumn("{task.fields[state]:<19}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[counts]}"),
        console=console,
        transient=False,
    )
    job: dict[str, Any] = {}
    with progress:
        task = progress.add_task(job_id, total=None, state="", rate="", counts="")
        for job in _poll(api, job_id, interval, timeout, sleep):
            counts = job["counts"]
            speed = progress.tasks[0].speed
            progress.update(
                task,
                total=counts["total"] if job["planning"]["done"] or counts["total"] else None,
                completed=finished(counts),
                state=job["state"],
                rate=f"{speed:.1f} items/s" if speed else "",
                counts=counts_text(counts, markup=True),
            )
    return job
