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


def test_settled_only_when_planning_done_and_nothing_open() -> None:
    assert not is_settled(planning_done=False, counts=counts(succeeded=1))
    assert not is_settled(planning_done=True, counts=counts(submitting=1))
    assert is_settled(planning_done=True, counts=counts(failed=1, canceled=2))


@pytest.mark.parametrize(
    "item_id",
    ["S2A_MSIL2A_20190101T_R1", "a/b#c?d\\e", "100%", "ünïcode id", "x\x01y", ""],
)
def test_row_keys_round_trip_and_avoid_forbidden_characters(item_id: str) -> None:
    key = keys.item_key(item_id)
    assert not set(key) & set("/\\#?")
    assert all(ord(c) >= 0x20 for c in key)
    assert keys.unescape(key[len(keys.ITEM_PREFIX) :]) == item_id


def test_key_ranges_cover_exactly_their_prefix() -> None:
    end = keys.range_end(keys.ITEM_PREFIX)
    assert keys.ITEM_PREFIX <= keys.item_key("zzz") < end
    assert not keys.ITEM_PREFIX <= keys.JOB_ROW < end
    assert not keys.COUNT_PREFIX <= keys.error_key("a") < keys.range_end(keys.COUNT_PREFIX)


def test_an_item_always_maps_to_the_same_shard() -> None:
    assert {keys.shard_of("item-1", 16) for _ in range(5)} == {keys.shard_of("item-1", 16)}
    assert len({keys.shard_of(f"item-{i}", 16) for i in range(200)}) == 16
