"""Row keys of the job table. One partition per job; key prefixes group the row kinds.

Prefixes sort as count| < error| < item| < job < page|, so each kind is a cheap key-range scan.
"""

from __future__ import annotations

import zlib

JOB_ROW = "job"
COUNT_PREFIX = "count|"
ERROR_PREFIX = "error|"
ITEM_PREFIX = "item|"
PAGE_PREFIX = "page|"
# Jobs that have not settled yet, for the maintenance timer: one row per job in its own partition.
ACTIVE_PARTITION = "~active"

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


def escape(value: str) -> str:
    """Table keys refuse / \\ # ? and control characters; percent-encode all but a safe set."""
    return "".join(c if c in _SAFE else "".join(f"%{b:02X}" for b in c.encode()) for c in value)


def unescape(value: str) -> str:
    out = bytearray()
    i = 0
    while i < len(value):
        if value[i] == "%" and _is_hex(value[i + 1 : i + 3]):
            out.append(int(value[i + 1 : i + 3], 16))
            i += 3
        else:
            out.extend(value[i].encode())
            i += 1
    return out.decode()


def _is_hex(pair: str) -> bool:
    return len(pair) == 2 and all(c in "0123456789ABCDEFabcdef" for c in pair)


def item_key(item_id: str) -> str:
    return ITEM_PREFIX + escape(item_id)


def error_key(item_id: str) -> str:
    return ERROR_PREFIX + escape(item_id)


def count_key(shard: int) -> str:
    return f"{COUNT_PREFIX}{shard:02d}"


def page_key(page: int) -> str:
    return f"{PAGE_PREFIX}{page:08d}"


def range_end(prefix: str) -> str:
    """The first key after every key that starts with `prefix` ('|' + 1 == '}')."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def shard_of(item_id: str, shards: int) -> int:
    return zlib.crc32(item_id.encode()) % shards
