"""Who is posting a batch right now: the claim a delivery of its message puts on the batch row.

Delivery is at least once, so a batch is claimed before it is posted (post.py). A claim is live
while it is younger than an invocation can run; an older one was left by a worker that died, and
whoever comes next may take its `submitting` items over (a redelivery, the sweep, a cancel).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.jobs.records import BatchRecord

# Longer than functionTimeout (10 min) plus the host's lease slack: a claim this old is orphaned.
CLAIM_STALE_AFTER = timedelta(minutes=15)


def claim_is_live(batch: BatchRecord, now: datetime, *, other_than: str | None = None) -> bool:
    """Some delivery (other than `other_than`) may be posting the batch right now."""
    if not batch.claim or batch.claim == other_than:
        return False
    return batch.claimed_at is not None and now - batch.claimed_at <= CLAIM_STALE_AFTER
