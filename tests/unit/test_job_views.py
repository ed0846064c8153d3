"""The job view's warnings, and the query parameters of GET /api/jobs/{id}/items (refused as 400
naming the parameter, never a 500)."""

from __future__ import annotations

from datetime import UTC, datetime

import jsonschema_rs
import pytest

from shared.jobs.records import ItemError, JobRecord, JobView
from shared.jobs.source_problems import MAX_KEPT, JobProblem, SourceProblems
from shared.jobs.states import ItemState, derive_job_state
from shared.openapi import openapi_document
from shared.pipeline.views import ITEMS_LIMIT_DEFAULT, ITEMS_LIMIT_MAX, job_json, parse_limit
from shared.problems import InvalidRequest


@pytest.mark.parametrize(
    ("value", "limit"),
    [
        (None, ITEMS_LIMIT_DEFAULT),
        ("", ITEMS_LIMIT_DEFAULT),
        ("1", 1),
        ("0050", 50),
        ("1000", 1000),
    ],
)
def test_limit(value: str | None, limit: int) -> None:
    assert parse_limit(value) == limit


@pytest.mark.parametrize(
    "value",
    [
        "0",
        str(ITEMS_LIMIT_MAX + 1),
        "-1",
        "+5",
        " 5",
        "5.0",
        "ten",
        # str.isdigit() accepts these, int() refuses the first and reads the second as 1
        "\u00b2",
        "\u0661",
        # more digits than int() converts
        "1" * 5000,
    ],
)
def test_bad_limit_is_invalid_request(value: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        parse_limit(value)
    assert raised.value.field == "limit"


def _view(
    *,
    counts: dict[ItemState, int],
    problems: SourceProblems | None = None,
    planning_done: bool = True,
    plan_error: ItemError | None = None,
) -> JobView:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    job = JobRecord(
        job_id="0" * 32,
        collection="c-1",
        mode="create",
        source={"type": "static-catalog", "url": "https://x.example/catalog.json"},
        drop_assets=(),
        dry_run=False,
        created_at=now,
        updated_at=now,
        planning_done=planning_done,
        plan_error=plan_error,
        source_problems=problems or SourceProblems(),
    )
    state = derive_job_state(
        planning_done=planning_done,
        canceled=False,
        plan_failed=plan_error is not None,
        counts=counts,
        source_problems=job.source_problems.count > 0,
    )
    return JobView(job, state, counts, ())


def test_a_job_that_found_nothing_says_so() -> None:
    body = job_json(_view(counts={}), status_url="https://app/api/jobs/x")
    assert body["state"] == "succeeded"
    assert body["counts"]["total"] == 0
    assert [w["code"] for w in body["warnings"]] == ["NoItemsFound"]


def test_a_job_still_planning_or_with_items_has_no_such_warning() -> None:
    planning = job_json(_view(counts={}, planning_done=False), status_url="u")
    assert planning["warnings"] == []
    some = job_json(_view(counts={ItemState.SUCCEEDED: 1}), status_url="u")
    assert some["warnings"] == []
    failed = job_json(
        _view(counts={}, plan_error=ItemError("SourceInvalid", "404")), status_url="u"
    )
    assert failed["warnings"] == []


def test_unread_parts_of_the_source_are_listed_with_their_url() -> None:
    problems = SourceProblems()
    for page in range(3):
        problems = problems.add(
            page,
            [
                JobProblem("SourceLinkBroken", f"https://x.example/{page}-{n}.json", "HTTP 404")
                for n in range(10)
            ],
        )
    body = job_json(
        _view(counts={ItemState.SUCCEEDED: 4}, problems=problems), status_url="https://a"
    )
    assert body["state"] == "partially_succeeded"
    warnings = body["warnings"]
    assert len(warnings) == MAX_KEPT + 1
    assert warnings[0] == {
        "code": "SourceLinkBroken",
        "message": "HTTP 404",
        "url": "https://x.example/0-0.json",
    }
    assert warnings[-1]["code"] == "MoreSourceProblems"
    assert "10 more" in warnings[-1]["message"]


def test_warnings_are_what_the_openapi_document_says() -> None:
    problems = SourceProblems().add(
        0,
        [
            JobProblem("SourceLinkBroken", "https://x.example/c.json", "HTTP 403"),
            JobProblem("SourceLinkUnavailable", None, "HTTP 503 (3 tries)"),
        ],
    )
    schema = {"$ref": "#/components/schemas/Job", "components": openapi_document()["components"]}
    validator = jsonschema_rs.Draft202012Validator(schema)
    for view in (_view(counts={}), _view(counts={ItemState.SUCCEEDED: 2}, problems=problems)):
        body = job_json(view, status_url="https://app/api/jobs/x")
        assert body["warnings"]
        validator.validate(body)


def test_nothing_readable_at_all_is_failed_and_says_so() -> None:
    problems = SourceProblems().add(0, [JobProblem("SourceLinkBroken", "https://x/c.json", "m")])
    body = job_json(_view(counts={}, problems=problems), status_url="u")
    assert body["state"] == "failed"
    assert [w["code"] for w in body["warnings"]] == ["SourceLinkBroken", "NoItemsFound"]
