"""Ids that earlier pages of a job's source listed: duplicates across pages.

A page's own repeats are found in the page (`dispatch.mark_duplicates`). Across pages, a page
needs to know what every earlier page listed. The ledger is that knowledge: one blob per job,
holding for each id to post a digest and where its copy that counts sits (page, place in the
page), and the last page that wrote it. A page decides only once the page before it has written
(pages are read one after another, each sending the next before it registers its own), so pages
write the ledger in source order without locks; the blob's ETag guards against a redelivered
page writing at the same time as the next one.

Digests keep the ledger small (24 bytes an id: 2.4 MB for 100,000 items, read and written once
per page of 198): 128 bits, so that two ids of a job sharing one is not a risk worth a read
(about 10^-29 for 100,000 ids); the first 64 bits find an id, the second 64 confirm it. A job
of one page needs no ledger.
"""

from __future__ import annotations

import hashlib
import struct
from array import array
from dataclasses import dataclass

from shared.payloads import PayloadStore

# The number of ids, and the last page that wrote the ledger (-1: none yet).
_HEADER = struct.Struct("<Ii")


def ledger_ref(job_id: str) -> str:
    return f"jobs/{job_id}/ids.bin"


def digest(item_id: str) -> tuple[int, int]:
    raw = hashlib.blake2b(item_id.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    return int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:], "little")


@dataclass(frozen=True)
class Place:
    page: int
    index: int


class Ledger:
    """The ids of a job as the pages read so far left them: digest -> place of the copy that
    counts (the first in create mode, the last in upsert mode)."""

    def __init__(self, data: bytes = b"", etag: str | None = None) -> None:
        self.etag = etag
        self._digests = array("Q")
        self._checks = array("Q")
        self._pages = array("I")
        self._indexes = array("I")
        self.last_page = -1
        if data:
            n, self.last_page = _HEADER.unpack_from(data)
            at = _HEADER.size
            for part in self._parts():
                width = part.itemsize
                part.frombytes(data[at : at + n * width])
                at += n * width
        self._known = set(self._digests)
        self.changed = False

    def __len__(self) -> int:
        return len(self._digests)

    def find(self, key: tuple[int, int]) -> Place | None:
        at = self._at(key)
        return None if at is None else Place(self._pages[at], self._indexes[at])

    def put(self, key: tuple[int, int], place: Place) -> None:
        at = self._at(key)
        if at is not None:
            if (self._pages[at], self._indexes[at]) == (place.page, place.index):
                return
            self._pages[at], self._indexes[at] = place.page, place.index
        else:
            self._digests.append(key[0])
            self._checks.append(key[1])
            self._pages.append(place.page)
            self._indexes.append(place.index)
            self._known.add(key[0])
        self.changed = True

    def _at(self, key: tuple[int, int]) -> int | None:
        if key[0] not in self._known:
            return None
        start = 0
        while True:  # two ids sharing the first 64 bits are rare, not impossible
            try:
                at = self._digests.index(key[0], start)
            except ValueError:
                return None
            if self._checks[at] == key[1]:
                return at
            start = at + 1

    def _parts(self) -> tuple[array[int], ...]:
        return (self._digests, self._checks, self._pages, self._indexes)

    def mark_page(self, page: int) -> None:
        """Pages up to `page` have written their ids."""
        if page > self.last_page:
            self.last_page = page
            self.changed = True

    def to_bytes(self) -> bytes:
        header = _HEADER.pack(len(self._digests), self.last_page)
        return header + b"".join(p.tobytes() for p in self._parts())


def read_ledger(payloads: PayloadStore, job_id: str) -> Ledger:
    found = payloads.get_versioned(ledger_ref(job_id))
    return Ledger() if found is None else Ledger(found[0], found[1])


def write_ledger(payloads: PayloadStore, job_id: str, ledger: Ledger) -> bool:
    """False if another writer changed the ledger since it was read."""
    return payloads.put_versioned(ledger_ref(job_id), ledger.to_bytes(), ledger.etag)
