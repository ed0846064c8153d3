"""The JSON shapes of GET /api/jobs/{id} and GET /api/jobs/{id}/items (camelCase throughout)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime
from typing import Any

from shared.jobs.records import ItemRecord, JobView
from shared.jobs.states import ItemState
from shared.json_values import loads_json
from shared.problems import InvalidRequest

# GET /api/jobs/{id}/items: page size when `limit` is not given, and the largest accepted.
ITEMS_LIMIT_DEFAULT = 100
ITEMS_LIMIT_MAX = 1000
# ASCII digits only (str.isdigit() also takes superscripts and other scripts' digits), and few
# enough for int().
_LIMIT = re.compile(r"[0-9]{1,16}")


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def job_json(view: JobView, *, status_url: str) -> dict[str, Any]:
    job = view.job
    counts: dict[str, int] = {"total": view.total}
    counts.update({state.value: view.counts.get(state, 0) for state in ItemState})
    body: dict[str, Any] = {
        "jobId": job.job_id,
        "state": view.state.value,
        "collection": job.collection,
        "mode": job.mode,
        "dryRun": job.dry_run,
        # A canceled job stays `running` until its operations in flight have settled.
        "cancelRequested": job.canceled,
        "source": job.source,
        "dropAssets": list(job.drop_assets),
        "counts": counts,
        "createdAt": _time(job.created_at),
        "updatedAt": _time(job.updated_at),
        "completedAt": _time(job.completed_at),
        "planning": {"done": job.planning_done, "pages": job.planned_pages},
        "containers": [
            {"containerUrl": url, "ingestionSource": status}
            for url, status in sorted(job.containers.items())
        ],
        "errors": [
            {"itemId": item_id, "code": error.code, "message": error.message}
            for item_id, error in view.errors
        ],
        "warnings": job_warnings(view),
        "links": {"self": status_url, "items": f"{status_url}/items"},
    }
    if job.create_collection:
        body["createCollection"] = job.create_collection
    if job.plan_error:
        body["planError"] = {"code": job.plan_error.code, "message": job.plan_error.message}
    return body


def job_warnings(view: JobView) -> list[dict[str, Any]]:
    """Job-level findings that belong to no item (see the Job schema's `warnings`)."""
    job = view.job
    problems = job.source_problems
    warnings: list[dict[str, Any]] = []
    for problem in problems.first:
        entry = {"code": problem.code, "message": problem.message}
        if problem.url:
            entry["url"] = problem.url
        warnings.append(entry)
    if problems.count > len(problems.first):
        more = problems.count - len(problems.first)
        warnings.append(
            {
                "code": "MoreSourceProblems",
                "message": f"{more} more parts of the source could not be read "
                f"(the first {len(problems.first)} are listed)",
            }
        )
    if job.planning_done and not job.canceled and job.plan_error is None and view.total == 0:
        warnings.append(
            {
                "code": "NoItemsFound",
                "message": "the source matched no item: check its URL and filters "
                "(collections, bbox, datetime, query, filter)"
                if not problems.count
                else "no item of the source could be read",
            }
        )
    return warnings


def item_json(item: ItemRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "itemId": item.item_id,
        "state": item.state.value,
        "operationId": item.operation_id,
        "attempts": item.attempts,
        "updatedAt": _time(item.updated_at),
    }
    if item.error:
        body["lastError"] = {"code": item.error.code, "message": item.error.message}
    return body


def encode_cursor(continuation: dict[str, str] | None) -> str | None:
    if continuation is None:
        return None
    raw = json.dumps(continuation, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = loads_json(raw)
    except (binascii.Error, ValueError):
        raise InvalidRequest("cursor is not one this service issued", field="cursor") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidRequest("cursor is not one this service issued", field="cursor")
    return value


def parse_state(value: str | None) -> ItemState | None:
    if value is None or value == "":
        return None
    try:
        return ItemState(value)
    except ValueError:
        allowed = ", ".join(s.value for s in ItemState)
        raise InvalidRequest(f"state must be one of: {allowed}", field="state") from None


def parse_limit(
    value: str | None, *, default: int = ITEMS_LIMIT_DEFAULT, maximum: int = ITEMS_LIMIT_MAX
) -> int:
    if value is None or value == "":
        return default
    if not _LIMIT.fullmatch(value) or not 1 <= int(value) <= maximum:
        raise InvalidRequest(f"limit must be a whole number from 1 to {maximum}", field="limit")
    return int(value)
