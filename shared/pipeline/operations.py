"""Where a set of GeoCatalog operations stands: a GET each, or one listing for many.

A batch is carried by one operation, and one GET settles it. Upsert replaces existing items
with one PUT (one operation) each, so a batch can be carried by dozens of operations; those are
read from the collection's operations listing (newest first, a thousand a page), which holds
each operation's status as a GET would, back to the time the batch was posted. An operation the
listing did not show (it ran past its bounds, or the service lists in another order) is read
with its own GET, so the answer never rests on an inference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from shared.geocatalog.errors import NotFoundError
from shared.geocatalog.models import Operation
from shared.pipeline.deps import ItemCatalog

# Up to this many operations, a GET each costs about what paging a busy listing does.
GET_EACH_UP_TO = 5
# Listings are newest first; an operation created this long before the batch was posted cannot be
# one of its own (the margin covers the difference between our clock and the service's).
_SKEW = timedelta(seconds=30)
_PAGE = 1000
# A listing read this far without finding everything is given up for GETs of the rest.
_MAX_LISTED = 5 * _PAGE


def resolve_operations(
    catalog: ItemCatalog,
    collection: str,
    operation_ids: Iterable[str],
    *,
    since: datetime | None,
) -> Mapping[str, Operation | None]:
    """Each operation as it stands now; None for an operation the service does not know.
    `since`: when the operations were created at the earliest (by our clock)."""
    wanted = list(dict.fromkeys(operation_ids))
    found: dict[str, Operation | None] = {}
    if len(wanted) > GET_EACH_UP_TO and since is not None:
        found.update(_listed(catalog, collection, set(wanted), since - _SKEW))
    for op in wanted:
        if op not in found:
            found[op] = _get(catalog, op)
    return found


def _listed(
    catalog: ItemCatalog, collection: str, wanted: set[str], horizon: datetime
) -> dict[str, Operation | None]:
    found: dict[str, Operation | None] = {}
    listing = catalog.iter_operations(collection_id=collection, top=_PAGE)
    for seen, operation in enumerate(listing, start=1):
        if operation.id in wanted:
            found[operation.id] = operation
            if len(found) == len(wanted):
                break
        created = operation.creation_time
        if (created is not None and created < horizon) or seen >= _MAX_LISTED:
            break
    return found


def _get(catalog: ItemCatalog, operation_id: str) -> Operation | None:
    try:
        return catalog.get_operation(operation_id)
    except NotFoundError:
        return None
