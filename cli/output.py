"""Tables and summaries for people; `--json` prints the API's own JSON instead."""

from __future__ import annotations

import json
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.progress import BAD, counts_text, finished

STATE_STYLE = {
    "succeeded": "green",
    "partially_succeeded": "yellow",
    "failed": "red",
    "canceled": "magenta",
    "running": "blue",
    "planning": "blue",
}


def print_json(console: Console, value: Any) -> None:
    # Plain text, not rich's highlighted JSON: scripts read it.
    console.print(json.dumps(value, indent=2), markup=False, highlight=False, soft_wrap=True)


def state(value: str) -> str:
    return f"[{STATE_STYLE.get(value, 'white')}]{value}[/]"


def jobs_table(jobs: list[dict[str, Any]]) -> Table:
    table = Table(title="Jobs (newest first)", title_justify="left", box=box.SIMPLE_HEAD)
    # The id stays whole (it is what the other commands take); the rest folds on a narrow screen.
    table.add_column("Job", no_wrap=True)
    for column in ("State", "Collection", "Done", "OK", "Failed", "Created UTC"):
        table.add_column(column, overflow="fold")
    for job in jobs:
        counts = job["counts"]
        table.add_row(
            job["jobId"],
            state(job["state"]) + (" (dry run)" if job["dryRun"] else ""),
            escape(job["collection"]),
            f"{finished(counts)}/{counts['total']}",
            str(counts["succeeded"] + counts["skipped"]),
            str(sum(counts[s] for s in BAD)),
            (job["createdAt"] or "").replace("T", " ")[5:16],
        )
    return table


def show_job(console: Console, job: dict[str, Any]) -> None:
    counts = job["counts"]
    console.print(f"Job [bold]{job['jobId']}[/]: {state(job['state'])}")
    flags = " (dry run)" if job["dryRun"] else ""
    if job["cancelRequested"] and job["state"] == "running":
        flags += " (canceling)"
    console.print(f"  collection {escape(job['collection'])}, mode {job['mode']}{flags}")
    source = job["source"]
    console.print(f"  source {source.get('type')}: {_source_text(source)}", markup=False)
    console.print(f"  items {finished(counts)}/{counts['total']} finished: ", end="")
    console.print(counts_text(counts, markup=True))
    planning = job["planning"]
    console.print(
        f"  planning {'done' if planning['done'] else 'in progress'} ({planning['pages']} pages)"
    )
    console.print(f"  created {job['createdAt']}, completed {job['completedAt'] or '-'}")
    for container in job["containers"]:
        console.print(
            f"  ingestion source for {container['containerUrl']}: {container['ingestionSource']}",
            markup=False,
        )
    if job.get("planError"):
        error = job["planError"]
        console.print(
            f"  [red]planning failed[/]: {escape(error['code'])}: {escape(error['message'])}"
        )
    for error in job["errors"]:
        console.print(
            f"  [red]{escape(error['code'])}[/] {escape(error['itemId'])}: "
            f"{escape(error['message'])}"
        )


def _source_text(source: dict[str, Any]) -> str:
    if source.get("type") in ("items", "item-urls"):
        return f"{source.get('count')} items"
    keys = ("url", "collections", "bbox", "datetime", "maxItems")
    return ", ".join(f"{k} {source[k]}" for k in keys if k in source)


def items_table(items: list[dict[str, Any]]) -> Table:
    table = Table(title_justify="left")
    for column in ("Item", "State", "Attempts", "Operation", "Error", "Message"):
        table.add_column(column, overflow="fold")
    for item in items:
        error = item.get("lastError") or {}
        table.add_row(
            escape(item["itemId"]),
            state(item["state"]),
            str(item["attempts"]),
            escape(item.get("operationId") or ""),
            escape(error.get("code", "")),
            escape(error.get("message", "")),
        )
    return table


def errors_table(errors: dict[str, Any]) -> Table:
    table = Table(
        title=f"{errors['total']} items in error, by cause", title_justify="left", show_lines=True
    )
    for column in ("Code", "Items", "States", "Message", "Examples"):
        table.add_column(column, overflow="fold")
    for group in errors["groups"]:
        more = ", ..." if group["count"] > len(group["exampleItemIds"]) else ""
        table.add_row(
            f"[red]{escape(group['code'])}[/]",
            str(group["count"]),
            ", ".join(f"{s} {n}" for s, n in group["states"].items()),
            escape(group["message"]),
            escape(", ".join(group["exampleItemIds"]) + more),
        )
    return table
