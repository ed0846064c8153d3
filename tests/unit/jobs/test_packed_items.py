"""Packing a batch's items into its row: round trip, Table property limits, lookup by id."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.jobs import packed_items
from shared.jobs.records import ItemError, ItemRecord
from shared.jobs.states import ItemState

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _item(index: int, **kw: object) -> ItemRecord:
    fields: dict[str, object] = {
        "job_id": "job",
        "item_id": f"S2B_MSIL2A_{index:04d}",
        "state": ItemState.PENDING,
        "batch": "p00000000-000",
        "index": index,
        "created_at": NOW,
        "updated_at": NOW,
        **kw,
    }
    return ItemRecord(**fields)  # type: ignore[arg-type]


def _round_trip(items: list[ItemRecord]) -> tuple[ItemRecord, ...]:
    row = packed_items.pack(items)
    return packed_items.unpack("job", "p00000000-000", row, NOW)


def test_every_field_survives_the_round_trip() -> None:
    a = "https://acct.blob.core.windows.net/a"
    b = "https://acct.blob.core.windows.net/b"
    items = [
        _item(0),
        _item(
            1,
            state=ItemState.FAILED,
            attempts=3,
            operation_id="op-1",
            error=ItemError("InvalidGeometry", "ring not closed: ünïcode ☃"),
            containers=(b, a),
            single=True,
            unseen_post=True,
            method="PUT",
            renewed=True,
            after="p00000000-000:7",
        ),
        _item(2, item_id="dup", containers=(a,)),
        _item(3, item_id="dup", state=ItemState.SKIPPED, updated_at=None),
    ]
    assert _round_trip(items) == tuple(items)


def test_a_row_holds_99_items_with_long_errors_within_table_limits() -> None:
    message = "é" * 2000  # escaped as \\u00e9: six characters each
    items = [
        _item(
            i, state=ItemState.FAILED, error=ItemError("Code", message), item_id="x" * 200 + str(i)
        )
        for i in range(99)
    ]
    row = packed_items.pack(items)
    chunks = [v for k, v in row.items() if k[len("Items") :].isdecimal()]
    assert row["ItemsChunks"] == len(chunks) > 1
    # A string property holds 64 KiB of UTF-16; the whole entity at most 1 MiB.
    assert all(len(c.encode("utf-16-le")) <= 64 * 1024 for c in chunks)
    assert sum(len(c.encode("utf-16-le")) for c in chunks) < 1024 * 1024 - 64 * 1024
    back = packed_items.unpack("job", "b", row, NOW)
    assert [i.item_id for i in back] == [i.item_id for i in items]
    # Too long to keep whole: the messages are shortened, the codes kept.
    assert all(i.error is not None and i.error.code == "Code" for i in back)
    assert all(i.error is not None and 0 < len(i.error.message) < 2000 for i in back)


def test_short_messages_are_kept_whole() -> None:
    items = [_item(0, state=ItemState.FAILED, error=ItemError("Code", "m" * 2000))]
    (back,) = _round_trip(items)
    assert back.error == ItemError("Code", "m" * 2000)


def test_holds_id_matches_whole_ids_only() -> None:
    row = packed_items.pack([_item(0, item_id="abc-1"), _item(1, item_id='q"uote')])
    assert packed_items.holds_id(row, "abc-1")
    assert packed_items.holds_id(row, 'q"uote')
    assert not packed_items.holds_id(row, "abc")
    assert not packed_items.holds_id(row, "bc-1")


def test_repacking_fewer_chunks_says_how_many_count() -> None:
    big = [_item(i, state=ItemState.FAILED, error=ItemError("C", "m" * 1900)) for i in range(99)]
    first = packed_items.pack(big)
    small = packed_items.pack([_item(0)])
    merged = {**first, **small}  # a MERGE update leaves the old chunks in place
    assert len(packed_items.unpack("job", "b", merged, NOW)) == 1


def test_an_empty_row_holds_no_items() -> None:
    assert packed_items.unpack("job", "b", {}, NOW) == ()


@pytest.mark.parametrize("index", [0, 98])
def test_items_keep_their_place(index: int) -> None:
    items = [_item(i) for i in range(99)]
    assert _round_trip(items)[index].index == index
