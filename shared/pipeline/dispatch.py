"""Register a unit of planned items in the job store and hand the pending ones to the posters.

Every producer of items (a source page, a storage event) goes through here, so the posting path
has one entrance. `unit` names the unit of work (a plan page, an event) and must be the same on
every redelivery of that unit, so that registering it again is a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from shared.jobs.records import NewItem
from shared.jobs.store import RegisterResult
from shared.messages import ItemsMessage
from shared.pipeline.deps import PipelineDeps

_SEND_WORKERS = 8


def register_and_dispatch(
    job_id: str, unit: str, items: Sequence[NewItem], deps: PipelineDeps
) -> RegisterResult:
    result = deps.store.register_items(job_id, items)
    messages = [ItemsMessage(job_id, (item_id,)) for item_id in result.pending_ids]
    if len(messages) <= 1:
        for m in messages:
            deps.queues.send(m)
        return result
    with ThreadPoolExecutor(max_workers=min(_SEND_WORKERS, len(messages))) as pool:
        list(pool.map(deps.queues.send, messages))
    return result
