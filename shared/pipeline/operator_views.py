"""The JSON shapes and query parameters of GET /api/jobs and GET /api/jobs/{id}/errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from shared.jobs.error_groups import EXAMPLES_DEFAULT, EXAMPLES_MAX, ErrorGroup
from shared.jobs.listing import LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, JobFilter, JobSummary
from shared.jobs.states import ItemState, JobState
from shared.pipeline.views import decode_cursor, encode_cursor, parse_limit
from shared.problems import InvalidRequest

# Collection ids are short; anything longer cannot match and is refused rather than queried.
_COLLECTION_MAX = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def job_summary_json(summary: JobSummary, *, status_url: str) -> dict[str, Any]:
    job = summary.job
    counts: dict[str, int] = {"total": summary.total}
    counts.update({state.value: summary.counts.get(state, 0) for state in ItemState})
    return {
        "jobId": job.job_id,
        "state": summary.state.value,
        "collection": job.collection,
        "mode": job.mode,
        "dryRun": job.dry_run,
        "cancelRequested": job.canceled,
        "sourceType": str(job.source.get("type", "")),
        "counts": counts,
        "createdAt": _time(job.created_at),
        "updatedAt": _time(job.updated_at),
        "completedAt": _time(job.completed_at),
        "links": {"self": status_url},
    }


def error_groups_json(job_id: str, groups: list[ErrorGroup]) -> dict[str, Any]:
    return {
        "jobId": job_id,
        "total": sum(g.count for g in groups),
        "groups": [
            {
                "code": g.code,
                "count": g.count,
                "states": {s.value: n for s, n in g.states.items()},
                "message": g.message,
                "exampleItemIds": list(g.example_item_ids),
            }
            for g in groups
        ],
    }


def parse_job_filter(params: dict[str, str]) -> JobFilter:
    return JobFilter(
        state=_job_state(params.get("state")),
        collection=_collection(params.get("collection")),
        since=_since(params.get("since")),
    )


def parse_list_limit(value: str | None) -> int:
    return parse_limit(value, default=LIST_LIMIT_DEFAULT, maximum=LIST_LIMIT_MAX)


def parse_examples(value: str | None) -> int:
    if value is None or value == "":
        return EXAMPLES_DEFAULT
    if not re.fullmatch(r"[0-9]{1,4}", value) or not 0 <= int(value) <= EXAMPLES_MAX:
        raise InvalidRequest(
            f"examples must be a whole number from 0 to {EXAMPLES_MAX}", field="examples"
        )
    return int(value)


def decode_list_cursor(cursor: str | None) -> str | None:
    value = decode_cursor(cursor)
    if value is None:
        return None
    after = value.get("after")
    if not after or set(value) != {"after"}:
        raise InvalidRequest("cursor is not one this service issued", field="cursor")
    return after


def encode_list_cursor(after: str | None) -> str | None:
    return encode_cursor({"after": after} if after is not None else None)


def _job_state(value: str | None) -> JobState | None:
    if value is None or value == "":
        return None
    try:
        return JobState(value)
    except ValueError:
        allowed = ", ".join(s.value for s in JobState)
        raise InvalidRequest(f"state must be one of: {allowed}", field="state") from None


def _collection(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > _COLLECTION_MAX or _CONTROL.search(value):
        raise InvalidRequest("collection is not a collection id", field="collection")
    return value


def _since(value: str | None) -> datetime | None:
    if value is None or value == "":
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(
            "since must be an RFC 3339 date-time (2024-05-10T00:00:00Z) or a date",
            field="since",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not datetime(1970, 1, 1, tzinfo=UTC) <= moment <= datetime(4000, 1, 1, tzinfo=UTC):
        raise InvalidRequest("since is out of range", field="since")
    return moment
