"""Bounded retries for SYNCHRONOUS paths only (the HTTP-triggered bootstrap).

Queue-triggered code must not use these loops: the Functions host already retries a failed message
(and re-enqueues throttled ones with the asked delay); stacking a second loop on top multiplies
calls against the GeoCatalog budget. Every wait goes through an injected `sleep` and `clock`, so
tests never sleep.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from shared.geocatalog.errors import (
    OperationTimeoutError,
    ThrottledError,
    TransientError,
)
from shared.geocatalog.models import Operation

logger = logging.getLogger(__name__)

T = TypeVar("T")


def backoff_delay(
    attempt: int, *, base: float, cap: float, rng: Callable[[], float] = random.random
) -> float:
    """Full-jitter exponential delay before retry number `attempt` (1-based)."""
    return rng() * min(cap, base * 2.0 ** (attempt - 1))


def call_with_retries(
    fn: Callable[[], T],
    *,
    attempts: int = 4,
    max_elapsed: float = 30.0,
    base_delay: float = 0.5,
    max_delay: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: Callable[[], float] = random.random,
) -> T:
    """`fn()`, retried on ThrottledError (after its retry_after) and TransientError.

    Bounded twice: at most `attempts` calls, and no wait that would end after `max_elapsed`
    seconds from the first call; the last error is raised when either bound is reached. Every
    other error is raised at once.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    started = clock()
    attempt = 1
    while True:
        try:
            return fn()
        except (ThrottledError, TransientError) as exc:
            if attempt >= attempts:
                raise
            if isinstance(exc, ThrottledError) and exc.retry_after is not None:
                delay = exc.retry_after
            else:
                delay = backoff_delay(attempt, base=base_delay, cap=max_delay, rng=rng)
            if clock() - started + delay > max_elapsed:
                raise
            logger.debug(
                "retrying after %s in %.2f s (attempt %s of %s)",
                type(exc).__name__,
                delay,
                attempt + 1,
                attempts,
                extra={"retry_delay_s": delay, "attempt": attempt + 1},
            )
            sleep(delay)
            attempt += 1


class OperationReader(Protocol):
    def get_operation(self, operation_id: str) -> Operation: ...


def wait_for_operation(
    client: OperationReader,
    operation_id: str,
    *,
    timeout: float = 120.0,
    poll_interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Operation:
    """Poll an operation until it is Succeeded, Failed or Canceled, and return it.

    A throttled or transient poll is not fatal: the next poll waits the asked delay (or the poll
    interval). OperationTimeoutError when `timeout` seconds pass without a terminal status.
    """
    deadline = clock() + timeout
    while True:
        delay = poll_interval
        try:
            operation = client.get_operation(operation_id)
        except ThrottledError as exc:
            delay = max(poll_interval, exc.retry_after or 0.0)
        except TransientError:
            pass
        else:
            if operation.is_terminal:
                return operation
        if clock() + delay > deadline:
            raise OperationTimeoutError(
                f"operation {operation_id} did not finish within {timeout:g} s",
                operation_id=operation_id,
            )
        sleep(delay)


__all__ = ["OperationReader", "backoff_delay", "call_with_retries", "wait_for_operation"]
