"""Where a set of GeoCatalog operations stands: a GET each, or a few listings for many.

A batch is carried by one operation, and one GET settles it. Upsert replaces existing items
with one PUT (one operation) each, so a batch can be carried by dozens of operations; those are
settled by listing the collection's operations by status instead of a GET each.

The listings run in the order operations move (Pending, Running, Canceling, then the terminal
Failed and Canceled): an operation found in none of the in-flight lists had ended before the
terminal lists were read, so one found in no list at all has succeeded. That inference is only
made when every listing was read to its end (or back past the oldest operation asked about);
otherwise the operations not found are read one by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from shared.geocatalog.errors import NotFoundError
from shared.geocatalog.models import Operation, OperationStatus
from shared.pipeline.deps import ItemCatalog

# Up to this many operations, a GET each costs no more than the five listings.
GET_EACH_UP_TO = 5
_IN_FLIGHT = (OperationStatus.PENDING, OperationStatus.RUNNING, OperationStatus.CANCELING)
_ENDED_BADLY = (OperationStatus.FAILED, OperationStatus.CANCELED)
# Listings are newest first; older than this before the oldest operation asked about, a
# listing has shown every operation that can matter (clock skew between us and the service).
_SKEW = timedelta(minutes=10)
_PAGE = 1000
_MAX_LISTED = 20_000


def resolve_operations(
    catalog: ItemCatalog,
    collection: str,
    operation_ids: Iterable[str],
    *,
    since: datetime | None,
) -> Mapping[str, Operation | None]:
    """Each operation as it stands now; None for an operation the service does not know."""
    wanted = list(dict.fromkeys(operation_ids))
    if len(wanted) <= GET_EACH_UP_TO or since is None:
        return {op: _get(catalog, op) for op in wanted}
    found: dict[str, Operation] = {}
    complete = True
    for status in (*_IN_FLIGHT, *_ENDED_BADLY):
        listed, whole = _listed(catalog, collection, status, set(wanted) - set(found), since)
        found.update(listed)
        complete = complete and whole
    result: dict[str, Operation | None] = dict(found)
    for op in wanted:
        if op in result:
            continue
        result[op] = (
            Operation(id=op, status=OperationStatus.SUCCEEDED, collection_id=collection)
            if complete
            else _get(catalog, op)
        )
    return result


def _listed(
    catalog: ItemCatalog,
    collection: str,
    status: OperationStatus,
    wanted: set[str],
    since: datetime,
) -> tuple[dict[str, Operation], bool]:
    """The wanted operations in one status listing, and whether the listing was read whole."""
    found: dict[str, Operation] = {}
    if not wanted:
        return found, True
    horizon = since - _SKEW
    listing = catalog.iter_operations(collection_id=collection, status=status, top=_PAGE)
    for seen, operation in enumerate(listing, start=1):
        if operation.id in wanted:
            found[operation.id] = operation
            if len(found) == len(wanted):
                return found, True
        created = operation.creation_time
        if created is not None and created < horizon:
            return found, True
        if seen >= _MAX_LISTED:
            return found, False
    # Ran out of pages: the whole listing was read (the client's page bound lies far beyond
    # _MAX_LISTED operations whatever page size the service uses).
    return found, True


def _get(catalog: ItemCatalog, operation_id: str) -> Operation | None:
    try:
        return catalog.get_operation(operation_id)
    except NotFoundError:
        return None
