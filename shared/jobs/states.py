"""Item and job states, and the one rule that derives a job's state from its counts."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class ItemState(StrEnum):
    # Registered by the planner, waiting to be posted.
    PENDING = "pending"
    # Claimed by one item worker that is posting it right now.
    SUBMITTING = "submitting"
    # Posted; the GeoCatalog operation is being followed.
    SUBMITTED = "submitted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Nothing to do: already in the collection (create mode) or a dry run.
    SKIPPED = "skipped"
    # Refused before posting (not a valid STAC item, unreadable URL).
    INVALID = "invalid"
    # Its message exhausted the host's retries and sits in a poison queue.
    DEAD_LETTERED = "deadLettered"
    CANCELED = "canceled"


OPEN_STATES = frozenset({ItemState.PENDING, ItemState.SUBMITTING, ItemState.SUBMITTED})
ERROR_STATES = frozenset({ItemState.FAILED, ItemState.INVALID, ItemState.DEAD_LETTERED})
# States an item may be redriven from by POST /api/jobs/{id}/retry.
RETRYABLE_STATES = frozenset({ItemState.FAILED, ItemState.DEAD_LETTERED})


class JobState(StrEnum):
    PLANNING = "planning"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIALLY_SUCCEEDED = "partially_succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


TERMINAL_JOB_STATES = frozenset(
    {JobState.SUCCEEDED, JobState.PARTIALLY_SUCCEEDED, JobState.FAILED, JobState.CANCELED}
)


def open_count(counts: Mapping[ItemState, int]) -> int:
    return sum(counts.get(s, 0) for s in OPEN_STATES)


def derive_job_state(
    *,
    planning_done: bool,
    canceled: bool,
    plan_failed: bool,
    counts: Mapping[ItemState, int],
    source_problems: bool = False,
) -> JobState:
    """The job's state from what is known; the same rule for reads and for settling.

    A terminal state means nothing is in flight: a canceled job whose operations are still
    being canceled (or whose last items are on their way to `canceled`) is running until they are.
    `source_problems`: parts of the source could not be read (a dead link in a static catalog),
    so whatever the items did, the job did not do all it was asked: at best partially succeeded.
    """
    if canceled:
        return JobState.RUNNING if open_count(counts) > 0 else JobState.CANCELED
    if not planning_done:
        return JobState.PLANNING
    if open_count(counts) > 0:
        return JobState.RUNNING
    good = counts.get(ItemState.SUCCEEDED, 0) + counts.get(ItemState.SKIPPED, 0)
    bad = sum(counts.get(s, 0) for s in ERROR_STATES) + counts.get(ItemState.CANCELED, 0)
    if plan_failed or source_problems:
        return JobState.PARTIALLY_SUCCEEDED if good else JobState.FAILED
    if bad == 0:
        return JobState.SUCCEEDED
    if good == 0:
        return JobState.FAILED
    return JobState.PARTIALLY_SUCCEEDED


def is_settled(*, planning_done: bool, counts: Mapping[ItemState, int]) -> bool:
    """Nothing more will happen to the job by itself."""
    return planning_done and open_count(counts) == 0
