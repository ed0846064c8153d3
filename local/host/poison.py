"""The queue trigger's decision table (WebJobs `QueueProcessor`), as pure functions.

- Before invoking: DequeueCount > maxDequeueCount → poison without invoking.
- After a success: delete.
- After a failure: DequeueCount >= maxDequeueCount → poison; otherwise release the message with
  `visibilityTimeout`.
- A queue without a poison queue (its name ends in `-poison`, or `<name>-poison` would be longer
  than 63 characters) never releases a failed message: it stays invisible until its lease runs
  out, which stops a fast retry loop.
- A body that is not valid base64 under base64 encoding goes straight to the poison queue.
"""

from __future__ import annotations

import re
from enum import StrEnum

POISON_SUFFIX = "-poison"
MAX_QUEUE_NAME = 63
_QUEUE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")


class Action(StrEnum):
    INVOKE = "invoke"
    DELETE = "delete"
    RELEASE = "release"
    POISON = "poison"
    LEAVE_INVISIBLE = "leave-invisible"


class InvalidQueueName(ValueError):
    pass


def normalize_queue_name(name: str) -> str:
    """Lowercase and validate a queue name as the queue bindings do (3-63 characters of
    lowercase letters, digits and single hyphens, starting and ending with a letter or digit)."""
    lowered = name.strip().lower()
    if not _QUEUE_NAME.match(lowered):
        raise InvalidQueueName(
            f"invalid queue name {name!r}: 3-63 lowercase letters, digits and single hyphens, "
            "starting and ending with a letter or digit"
        )
    return lowered


def poison_queue_name(queue_name: str) -> str | None:
    """`<queue>-poison`, or None when the queue has no poison queue."""
    if queue_name.endswith(POISON_SUFFIX):
        return None
    candidate = queue_name + POISON_SUFFIX
    return candidate if len(candidate) <= MAX_QUEUE_NAME else None


def _poison_or_leave(has_poison_queue: bool) -> Action:
    return Action.POISON if has_poison_queue else Action.LEAVE_INVISIBLE


def before_invoke(dequeue_count: int, max_dequeue_count: int, *, has_poison_queue: bool) -> Action:
    if dequeue_count > max_dequeue_count:
        return _poison_or_leave(has_poison_queue)
    return Action.INVOKE


def after_invoke(
    succeeded: bool, dequeue_count: int, max_dequeue_count: int, *, has_poison_queue: bool
) -> Action:
    if succeeded:
        return Action.DELETE
    if not has_poison_queue:
        return Action.LEAVE_INVISIBLE
    if dequeue_count >= max_dequeue_count:
        return Action.POISON
    return Action.RELEASE


def undecodable(*, has_poison_queue: bool) -> Action:
    return _poison_or_leave(has_poison_queue)
