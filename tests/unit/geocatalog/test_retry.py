"""Bounded retries and operation waits, on a fake clock (no test sleeps)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shared.geocatalog.errors import (
    InvalidRequestError,
    OperationTimeoutError,
    ThrottledError,
    TransientError,
)
from shared.geocatalog.models import Operation, OperationStatus
from shared.retry import backoff_delay, call_with_retries, wait_for_operation
from tests.fake_time import FakeTime


def failing(*errors: Exception, result: str = "done") -> Callable[[], str]:
    queue = list(errors)

    def fn() -> str:
        if queue:
            raise queue.pop(0)
        return result

    return fn


def test_throttled_calls_wait_the_delay_asked_for() -> None:
    t = FakeTime()
    fn = failing(ThrottledError("slow", retry_after=3.0), ThrottledError("slow", retry_after=1.5))
    assert call_with_retries(fn, sleep=t.sleep, clock=t.clock, rng=lambda: 1.0) == "done"
    assert t.slept == [3.0, 1.5]


def test_transient_errors_back_off_exponentially_with_jitter() -> None:
    t = FakeTime()
    fn = failing(TransientError("a"), TransientError("b"), ThrottledError("no delay given"))
    call_with_retries(fn, attempts=4, base_delay=0.5, sleep=t.sleep, clock=t.clock, rng=lambda: 0.5)
    assert t.slept == [0.25, 0.5, 1.0]


def test_attempts_bound_the_calls() -> None:
    t = FakeTime()
    calls = 0

    def always() -> str:
        nonlocal calls
        calls += 1
        raise TransientError("down")

    with pytest.raises(TransientError):
        call_with_retries(always, attempts=3, sleep=t.sleep, clock=t.clock)
    assert calls == 3


def test_elapsed_time_bounds_the_waits() -> None:
    t = FakeTime()
    fn = failing(ThrottledError("a", retry_after=20.0), ThrottledError("b", retry_after=20.0))
    with pytest.raises(ThrottledError, match="b"):
        call_with_retries(fn, attempts=10, max_elapsed=30.0, sleep=t.sleep, clock=t.clock)
    assert t.slept == [20.0]


def test_other_errors_are_raised_at_once() -> None:
    t = FakeTime()
    with pytest.raises(InvalidRequestError):
        call_with_retries(failing(InvalidRequestError("bad")), sleep=t.sleep, clock=t.clock)
    assert t.slept == []


def test_backoff_is_capped() -> None:
    assert backoff_delay(10, base=1.0, cap=8.0, rng=lambda: 1.0) == 8.0
    assert backoff_delay(1, base=1.0, cap=8.0, rng=lambda: 0.0) == 0.0


class Operations:
    def __init__(self, *answers: Operation | Exception) -> None:
        self.answers = list(answers)
        self.asked = 0

    def get_operation(self, operation_id: str) -> Operation:
        self.asked += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def op(status: OperationStatus) -> Operation:
    return Operation(id="op-1", status=status)


def test_wait_for_operation_polls_until_terminal() -> None:
    t = FakeTime()
    ops = Operations(
        op(OperationStatus.PENDING), op(OperationStatus.RUNNING), op(OperationStatus.SUCCEEDED)
    )
    result = wait_for_operation(
        ops, "op-1", timeout=60, poll_interval=2, sleep=t.sleep, clock=t.clock
    )
    assert result.succeeded
    assert t.slept == [2, 2]


def test_a_failed_operation_is_returned_not_raised() -> None:
    t = FakeTime()
    ops = Operations(op(OperationStatus.FAILED))
    assert (
        wait_for_operation(ops, "op-1", sleep=t.sleep, clock=t.clock).status
        is OperationStatus.FAILED
    )


def test_throttled_and_transient_polls_keep_waiting() -> None:
    t = FakeTime()
    ops = Operations(
        ThrottledError("slow", retry_after=5.0),
        TransientError("blip"),
        op(OperationStatus.SUCCEEDED),
    )
    assert wait_for_operation(ops, "op-1", poll_interval=1, sleep=t.sleep, clock=t.clock).succeeded
    assert t.slept == [5.0, 1]


def test_wait_for_operation_times_out() -> None:
    t = FakeTime()
    ops = Operations(op(OperationStatus.RUNNING))
    with pytest.raises(OperationTimeoutError) as caught:
        wait_for_operation(ops, "op-1", timeout=10, poll_interval=3, sleep=t.sleep, clock=t.clock)
    assert caught.value.operation_id == "op-1"
    assert isinstance(caught.value, TransientError)
    assert ops.asked == 4  # at 0, 3, 6, 9 s; the next poll would pass the deadline
    assert t.now <= 10
