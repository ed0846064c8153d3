"""Keys of the job table.

A job's own partition (its id) holds the job row and the plan-page markers. Its items live in
one partition per BATCH (`<job id>.<batch key>`), in the batch row (counts per state, the claim,
the status-check count, and the items packed in source order: `shared.jobs.packed_items`). A
partition per batch spreads a job's writes (Azure serves ~2,000 entities/s per partition; Azurite
scans a partition on every request), and the key range of a job's batch partitions lists its
batches, and so its items, in source order.
"""

from __future__ import annotations

import hashlib

JOB_ROW = "job"
PAGE_PREFIX = "page|"
# A plan page whose message has been sent (by the page before it).
SENT_PREFIX = "sent|"
BATCH_ROW = "batch"
# Jobs that have not settled yet, for the maintenance timer: one row per job in its own partition.
ACTIVE_PARTITION = "~active"
# '.' separates a job id from its batch keys; '/' is the next character, so the key range
# [job., job/) holds exactly the job's batch partitions.
_SEP = "."
# Azure Table keys take at most 1 KiB; a batch key derived from a long unit is hashed instead.
_MAX_UNIT = 120

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def escape(value: str) -> str:
    """Table keys refuse / \\ # ? and control characters; percent-encode all but a safe set."""
    return "".join(c if c in _SAFE else "".join(f"%{b:02X}" for b in c.encode()) for c in value)


def batch_key(unit: str, index: int) -> str:
    """The key of the `index`th batch of a unit of work (a plan page, an event)."""
    safe = escape(unit)
    if len(safe) > _MAX_UNIT:
        safe = "h" + hashlib.sha256(unit.encode()).hexdigest()
    return f"{safe}-{index:03d}"


def batch_partition(job_id: str, batch: str) -> str:
    return f"{job_id}{_SEP}{batch}"


def batch_of(partition: str) -> str:
    return partition.split(_SEP, 1)[1]


def batch_range(job_id: str) -> tuple[str, str]:
    """Partition-key bounds [lo, hi) of every batch partition of the job."""
    return job_id + _SEP, job_id + chr(ord(_SEP) + 1)


def page_key(page: int) -> str:
    return f"{PAGE_PREFIX}{page:08d}"


def sent_key(page: int) -> str:
    return f"{SENT_PREFIX}{page:08d}"


def range_end(prefix: str) -> str:
    """The first key after every key that starts with `prefix` ('|' + 1 == '}')."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
