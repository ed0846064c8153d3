"""The queue trigger's decision table and queue names."""

from __future__ import annotations

import pytest

from local.host.poison import (
    Action,
    InvalidQueueName,
    after_invoke,
    before_invoke,
    normalize_queue_name,
    poison_queue_name,
    undecodable,
)

MAX = 5


@pytest.mark.parametrize(
    ("dequeue_count", "has_poison", "expected"),
    [
        (1, True, Action.INVOKE),
        (5, True, Action.INVOKE),
        (6, True, Action.POISON),
        (6, False, Action.LEAVE_INVISIBLE),
    ],
)
def test_before_invoke(dequeue_count: int, has_poison: bool, expected: Action) -> None:
    assert before_invoke(dequeue_count, MAX, has_poison_queue=has_poison) is expected


@pytest.mark.parametrize(
    ("succeeded", "dequeue_count", "has_poison", "expected"),
    [
        (True, 1, True, Action.DELETE),
        (True, 5, True, Action.DELETE),
        (True, 3, False, Action.DELETE),
        (False, 1, True, Action.RELEASE),
        (False, 4, True, Action.RELEASE),
        (False, 5, True, Action.POISON),
        (False, 7, True, Action.POISON),
        (False, 1, False, Action.LEAVE_INVISIBLE),
        (False, 5, False, Action.LEAVE_INVISIBLE),
    ],
)
def test_after_invoke(
    succeeded: bool, dequeue_count: int, has_poison: bool, expected: Action
) -> None:
    assert after_invoke(succeeded, dequeue_count, MAX, has_poison_queue=has_poison) is expected


def test_undecodable_messages_go_to_poison_when_there_is_one() -> None:
    assert undecodable(has_poison_queue=True) is Action.POISON
    assert undecodable(has_poison_queue=False) is Action.LEAVE_INVISIBLE


def test_poison_queue_names() -> None:
    assert poison_queue_name("ingest-items") == "ingest-items-poison"
    assert poison_queue_name("ingest-items-poison") is None
    assert poison_queue_name("a" * 56) == "a" * 56 + "-poison"
    assert poison_queue_name("a" * 57) is None


@pytest.mark.parametrize(
    ("name", "normalized"),
    [("Ingest-Items", "ingest-items"), ("abc", "abc"), ("a1-b2", "a1-b2"), ("x" * 63, "x" * 63)],
)
def test_queue_names_are_lowercased(name: str, normalized: str) -> None:
    assert normalize_queue_name(name) == normalized


@pytest.mark.parametrize("name", ["ab", "x" * 64, "-abc", "abc-", "a--b", "a_b", "a b", ""])
def test_invalid_queue_names(name: str) -> None:
    with pytest.raises(InvalidQueueName):
        normalize_queue_name(name)
