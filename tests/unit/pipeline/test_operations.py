"""Settling many operations with one listing, and a GET for what the listing did not show."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.geocatalog.errors import NotFoundError
from shared.geocatalog.models import Operation, OperationStatus
from shared.pipeline.operations import GET_EACH_UP_TO, resolve_operations

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


class Catalog:
    """Operations listed newest first; records every call."""

    def __init__(self, operations: list[Operation]) -> None:
        self.operations = operations
        self.gets: list[str] = []
        self.listed = 0

    def iter_operations(self, **kwargs: Any) -> Iterator[Operation]:
        for operation in sorted(self.operations, key=lambda o: o.creation_time or T0, reverse=True):
            self.listed += 1
            yield operation

    def get_operation(self, operation_id: str) -> Operation:
        self.gets.append(operation_id)
        for operation in self.operations:
            if operation.id == operation_id:
                return operation
        raise NotFoundError("no such operation", status=404)


def op(n: int, status: OperationStatus, minutes: float = 0) -> Operation:
    return Operation(f"op-{n}", status, creation_time=T0 + timedelta(minutes=minutes))


def test_a_few_operations_are_read_one_by_one() -> None:
    catalog = Catalog([op(n, OperationStatus.SUCCEEDED) for n in range(GET_EACH_UP_TO)])
    ids = [f"op-{n}" for n in range(GET_EACH_UP_TO)]
    found = resolve_operations(catalog, "c", ids, since=T0)  # type: ignore[arg-type]
    assert catalog.gets == ids
    assert catalog.listed == 0
    assert {o.status for o in found.values() if o} == {OperationStatus.SUCCEEDED}


def test_many_operations_come_from_one_listing_with_their_own_status() -> None:
    ours = [
        op(n, OperationStatus.FAILED if n % 3 else OperationStatus.RUNNING, 1) for n in range(8)
    ]
    others = [op(100 + n, OperationStatus.SUCCEEDED, 2) for n in range(20)]
    catalog = Catalog(ours + others)
    found = resolve_operations(  # type: ignore[arg-type]
        catalog, "c", [o.id for o in ours], since=T0
    )
    assert catalog.gets == []
    assert {k: v.status for k, v in found.items() if v} == {o.id: o.status for o in ours}


def test_what_the_listing_does_not_show_is_read_with_a_get() -> None:
    """Older than the horizon (the listing stops there), or unknown to the service."""
    recent = [op(n, OperationStatus.SUCCEEDED, 5) for n in range(6)]
    before_the_batch = op(50, OperationStatus.SUCCEEDED, -30)
    ours_but_older = op(70, OperationStatus.FAILED, -90)
    catalog = Catalog([*recent, before_the_batch, ours_but_older])
    ids = [o.id for o in recent] + ["op-70", "op-missing"]
    found = resolve_operations(catalog, "c", ids, since=T0)  # type: ignore[arg-type]
    # The listing stopped at the first operation older than the horizon.
    assert catalog.listed == len(recent) + 1
    assert catalog.gets == ["op-70", "op-missing"]
    assert found["op-70"] is not None
    assert found["op-70"].status is OperationStatus.FAILED
    assert found["op-missing"] is None
    assert all(found[o.id] is o for o in recent)
