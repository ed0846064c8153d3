from __future__ import annotations

import pytest

from shared.jobs import keys
from shared.jobs.states import ItemState, JobState, derive_job_state, is_settled


def counts(**kw: int) -> dict[ItemState, int]:
    return {ItemState(k if k != "dead" else "deadLettered"): v for k, v in kw.items()}


@pytest.mark.parametrize(
    ("planning_done", "canceled", "plan_failed", "c", "expected"),
    [
        (False, False, False, counts(pending=3), JobState.PLANNING),
        (True, False, False, counts(pending=1, succeeded=2), JobState.RUNNING),
        (True, False, False, counts(submitted=1), JobState.RUNNING),
        (True, False, False, counts(succeeded=2, skipped=1), JobState.SUCCEEDED),
        (True, False, False, counts(), JobState.SUCCEEDED),
        (True, False, False, counts(failed=1, invalid=1), JobState.FAILED),
        (True, False, False, counts(succeeded=1, dead=1), JobState.PARTIALLY_SUCCEEDED),
        (True, False, True, counts(succeeded=1), JobState.PARTIALLY_SUCCEEDED),
        (True, False, True, counts(), JobState.FAILED),
        (True, True, False, counts(canceled=4, succeeded=1), JobState.CANCELED),
        (False, True, False, counts(), JobState.CANCELED),
        # Canceled, but operations in flight still have to be canceled: not terminal yet.
        (True, True, False, counts(canceled=2, submitted=3), JobState.RUNNING),
        (True, True, False, counts(pending=4), JobState.RUNNING),
    ],
)
def test_job_state_rule(
    planning_done: bool,
    canceled: bool,
    plan_failed: bool,
    c: dict[ItemState, int],
    expected: JobState,
) -> None:
    state = derive_job_state(
        planning_done=planning_done, canceled=canceled, plan_failed=plan_failed, counts=c
    )
    assert state is expected


@pytest.mark.parametrize(
    ("c", "expected"),
    [
        (counts(succeeded=3), JobState.PARTIALLY_SUCCEEDED),
        (counts(skipped=1, invalid=1), JobState.PARTIALLY_SUCCEEDED),
        (counts(), JobState.FAILED),
        (counts(invalid=2), JobState.FAILED),
    ],
)
def test_parts_of_the_source_unread_means_at_best_partially_succeeded(
    c: dict[ItemState, int], expected: JobState
) -> None:
    state = derive_job_state(
        planning_done=True, canceled=False, plan_failed=False, counts=c, source_problems=True
    )
    assert state is expected


def test_settled_only_when_planning_done_and_nothing_open() -> None:
    assert not is_settled(planning_done=False, counts=counts(succeeded=1))
    assert not is_settled(planning_done=True, counts=counts(submitting=1))
    assert is_settled(planning_done=True, counts=counts(failed=1, canceled=2))


@pytest.mark.parametrize(
    "unit",
    ["p00000003", "event/a#b?c\\d", "100%", "ünïcode unit", "x\x01y", "e" * 5000],
)
def test_batch_keys_are_valid_table_keys_and_stable(unit: str) -> None:
    key = keys.batch_partition("0" * 32, keys.batch_key(unit, 7))
    assert not set(key) & set("/\\#?")
    assert all(0x20 <= ord(c) < 0x7F for c in key)
    assert len(key) < 300  # Azure Table keys take at most 1 KiB
    assert key == keys.batch_partition("0" * 32, keys.batch_key(unit, 7))
    assert keys.batch_key(unit, 7) != keys.batch_key(unit, 8)


def test_the_batch_range_holds_exactly_the_jobs_batches() -> None:
    job, other = "a" * 32, "a" * 31 + "b"
    lo, hi = keys.batch_range(job)
    assert lo <= keys.batch_partition(job, keys.batch_key("p00000000", 0)) < hi
    assert lo <= keys.batch_partition(job, keys.batch_key("~~~", 999)) < hi
    assert not lo <= job < hi
    assert not lo <= keys.batch_partition(other, keys.batch_key("p0", 0)) < hi
    assert not lo <= keys.ACTIVE_PARTITION < hi
