"""The operator's routes in the OpenAPI document: the job listing, errors by code, the job pages.

Kept apart from shared/openapi.py, which calls `add_operator_api` on the document it builds; the
shared problem responses (`#/components/responses/...`) and the JobId parameter are that
document's. The schemathesis run against the local host keeps both true.
"""

from __future__ import annotations

from typing import Any, Final

from shared.api_responses import JOB_ID_PATTERN
from shared.jobs.error_groups import EXAMPLES_DEFAULT, EXAMPLES_MAX
from shared.jobs.listing import LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX
from shared.jobs.states import ItemState, JobState

JSON: Final = "application/json"
HTML: Final = "text/html"
_ERROR_STATES: Final = (ItemState.FAILED, ItemState.INVALID, ItemState.DEAD_LETTERED)


def _closed(properties: dict[str, Any], required: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": required,
        **extra,
    }


def _response(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _errors(*names: str) -> dict[str, Any]:
    codes = {
        "BadRequest": "400",
        "Unauthorized": "401",
        "NotFound": "404",
        "ServiceUnavailable": "503",
        "InternalError": "500",
    }
    return {codes[name]: _response(name) for name in names}


def _schemas() -> dict[str, Any]:
    text = {"type": "string"}
    count = {"type": "integer", "minimum": 0}
    timestamp = {"type": "string", "format": "date-time"}
    job_id = {"type": "string", "pattern": JOB_ID_PATTERN}
    return {
        "JobSummary": _closed(
            {
                "jobId": job_id,
                "state": {"enum": [s.value for s in JobState]},
                "collection": text,
                "mode": text,
                "dryRun": {"type": "boolean"},
                "cancelRequested": {"type": "boolean"},
                "sourceType": text,
                "counts": _closed(
                    {"total": count, **{s.value: count for s in ItemState}},
                    ["total", *(s.value for s in ItemState)],
                ),
                "createdAt": timestamp,
                "updatedAt": timestamp,
                "completedAt": {"anyOf": [timestamp, {"type": "null"}]},
                "links": _closed({"self": text}, ["self"]),
            },
            [
                "jobId",
                "state",
                "collection",
                "mode",
                "dryRun",
                "cancelRequested",
                "sourceType",
                "counts",
                "createdAt",
                "updatedAt",
                "completedAt",
                "links",
            ],
            description="A job as listed: its state and counts, read without its items.",
        ),
        "JobList": _closed(
            {
                "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/JobSummary"}},
                "nextCursor": {
                    "type": ["string", "null"],
                    "description": (
                        "Pass as `cursor` for the next page; null when the listing is complete. "
                        "With a `state` filter a page may hold fewer jobs than `limit` (even "
                        "none) and still have a next page."
                    ),
                },
            },
            ["jobs", "nextCursor"],
        ),
        "JobErrors": _closed(
            {
                "jobId": job_id,
                "total": {**count, "description": "Items in an error state."},
                "groups": {
                    "type": "array",
                    "description": "One per error code, largest first.",
                    "items": _closed(
                        {
                            "code": text,
                            "count": count,
                            "states": {
                                "type": "object",
                                "propertyNames": {"enum": [s.value for s in _ERROR_STATES]},
                                "additionalProperties": count,
                            },
                            "message": {**text, "description": "The first message met."},
                            "exampleItemIds": {"type": "array", "items": text},
                        },
                        ["code", "count", "states", "message", "exampleItemIds"],
                    ),
                },
            },
            ["jobId", "total", "groups"],
        ),
    }


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "allowEmptyValue": True,
        "schema": schema,
    }


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {HTML: {"schema": {"type": "string"}}}}


def _paths() -> dict[str, Any]:
    job_id = {"$ref": "#/components/parameters/JobId"}
    return {
        "/api/jobs": {
            "get": {
                "operationId": "listJobs",
                "tags": ["jobs"],
                "summary": "Every job, newest first, a page at a time",
                "description": (
                    "Jobs from every entrance (POST /api/ingest and events), each with its state "
                    "and counts. Reads the job index, the job rows and the counts of their batch "
                    "rows (one per batch of up to 99 items), never the items themselves."
                ),
                "parameters": [
                    _query(
                        "state",
                        "Only jobs in this state (empty: all).",
                        {"enum": [s.value for s in JobState]},
                    ),
                    _query(
                        "collection",
                        "Only jobs into this collection (empty: all).",
                        {"type": "string", "maxLength": 256},
                    ),
                    _query(
                        "since",
                        "Only jobs created at or after this RFC 3339 date-time (a date means its "
                        "midnight UTC; empty: all).",
                        {"type": "string"},
                    ),
                    _query(
                        "limit",
                        "Jobs per page (empty: the default).",
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": LIST_LIMIT_MAX,
                            "default": LIST_LIMIT_DEFAULT,
                        },
                    ),
                    _query(
                        "cursor",
                        "`nextCursor` of the previous page (empty: the first page).",
                        {"type": "string"},
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "A page of jobs.",
                        "content": {JSON: {"schema": {"$ref": "#/components/schemas/JobList"}}},
                    },
                    **_errors("BadRequest", "Unauthorized", "ServiceUnavailable", "InternalError"),
                },
            }
        },
        "/api/jobs/{jobId}/errors": {
            "parameters": [job_id],
            "get": {
                "operationId": "getJobErrors",
                "tags": ["jobs"],
                "summary": "The job's failed, invalid and dead-lettered items grouped by code",
                "parameters": [
                    _query(
                        "examples",
                        "Example item ids per group (empty: the default).",
                        {
                            "type": "integer",
                            "minimum": 0,
                            "maximum": EXAMPLES_MAX,
                            "default": EXAMPLES_DEFAULT,
                        },
                    )
                ],
                "responses": {
                    "200": {
                        "description": "The groups (none when nothing failed).",
                        "content": {JSON: {"schema": {"$ref": "#/components/schemas/JobErrors"}}},
                    },
                    **_errors(
                        "BadRequest",
                        "Unauthorized",
                        "NotFound",
                        "ServiceUnavailable",
                        "InternalError",
                    ),
                },
            },
        },
        "/api/ui/jobs": {
            "get": {
                "operationId": "jobListPage",
                "tags": ["pages"],
                "summary": "The job page: every job (HTML)",
                "description": "Open with `?code=<function key>`; the page reads the API with it.",
                "responses": {
                    "200": _html("The page."),
                    **_errors("Unauthorized"),
                },
            }
        },
        "/api/ui/jobs/{jobId}": {
            "parameters": [job_id],
            "get": {
                "operationId": "jobPage",
                "tags": ["pages"],
                "summary": "The page of one job: live progress, errors by code, retry, cancel",
                "responses": {
                    "200": _html("The page."),
                    **_errors("Unauthorized", "NotFound", "ServiceUnavailable", "InternalError"),
                },
            },
        },
    }


def add_operator_api(document: dict[str, Any]) -> dict[str, Any]:
    """Add the operator's paths, schemas and tag to `document` (in place; also returned)."""
    document.setdefault("paths", {}).update(_paths())
    document.setdefault("components", {}).setdefault("schemas", {}).update(_schemas())
    tags = document.setdefault("tags", [])
    if not any(tag.get("name") == "pages" for tag in tags):
        tags.append({"name": "pages", "description": "The job pages, for people (HTML)."})
    return document


__all__ = ["add_operator_api"]
