"""A job's failures grouped by error code: 3,000 failures read as their few causes.

Read through the store's public item listing (per error state, only the batches that hold it), so
it does not depend on how items are stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.jobs.states import ItemState
from shared.jobs.store import JobStore

# The order the states are read in, and listed in within a group.
ERROR_STATE_ORDER = (ItemState.FAILED, ItemState.INVALID, ItemState.DEAD_LETTERED)
EXAMPLES_DEFAULT = 5
EXAMPLES_MAX = 50
_PAGE = 1000


@dataclass
class ErrorGroup:
    code: str
    count: int = 0
    states: dict[ItemState, int] = field(default_factory=dict)
    message: str = ""
    example_item_ids: list[str] = field(default_factory=list)


def group_errors(
    store: JobStore, job_id: str, *, examples: int = EXAMPLES_DEFAULT
) -> list[ErrorGroup]:
    """Every item in an error state, grouped by its error code; largest group first (then by
    code). Each group keeps the first message met and up to `examples` item ids, in source order."""
    groups: dict[str, ErrorGroup] = {}
    for state in ERROR_STATE_ORDER:
        continuation: dict[str, str] | None = None
        while True:
            page = store.list_items(job_id, state=state, limit=_PAGE, continuation=continuation)
            for item in page.items:
                code = item.error.code if item.error else "Unknown"
                group = groups.setdefault(code, ErrorGroup(code))
                group.count += 1
                group.states[item.state] = group.states.get(item.state, 0) + 1
                if not group.message and item.error:
                    group.message = item.error.message
                if len(group.example_item_ids) < examples:
                    group.example_item_ids.append(item.item_id)
            continuation = page.continuation
            if continuation is None:
                break
    return sorted(groups.values(), key=lambda g: (-g.count, g.code))
