"""Which of a batch's items the collection holds: one search by ids instead of a GET each.

Used before a batch is posted (create mode skips what is there, upsert replaces it) and after a
batch operation failed (what landed succeeded; the rest is posted again singly to learn each
item's own error code), so that no outcome depends on parsing an operation's error text.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.pipeline.deps import ItemCatalog

# Ask for ids only: a search answers whole items otherwise (tens of KiB each).
_FIELDS = {"include": ["id"], "exclude": []}
_MAX_PAGES = 10


def find_existing(catalog: ItemCatalog, collection: str, item_ids: Sequence[str]) -> set[str]:
    wanted = sorted(set(item_ids))
    if not wanted:
        return set()
    body = {"collections": [collection], "ids": wanted, "limit": len(wanted), "fields": _FIELDS}
    found: set[str] = set()
    for page in catalog.iter_search(body, max_pages=_MAX_PAGES):
        for feature in page.get("features") or ():
            if isinstance(feature, dict) and isinstance(feature.get("id"), str):
                found.add(feature["id"])
    return found & set(wanted)
