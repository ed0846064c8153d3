"""The operation state machine, timed by an injected clock (no sleeps)."""

from __future__ import annotations

from local.emulator.geocatalog.clock import ManualClock, parse_timestamp
from local.emulator.geocatalog.config import GeoCatalogConfig
from local.emulator.geocatalog.emulator import GeoCatalogEmulator
from local.emulator.geocatalog.operations import Operation, OperationBook, OpStatus, Outcome

T0 = 1_760_000_000.0


def make(book: OperationBook, *, times: bool = True, work=None, ready=None) -> Operation:  # type: ignore[no-untyped-def]
    return book.add(
        Operation(
            id="op-1" if len(book) == 0 else f"op-{len(book) + 1}",
            type="AddItem" if times else "AddCollection",
            collection_id="c",
            creation_time=T0,
            start_at=T0 + 1,
            finish_at=T0 + 3,
            reports_times=times,
            work=work,
            ready=ready,
        )
    )


def test_pending_running_succeeded_by_time() -> None:
    book = OperationBook(cancel_delay=lambda: 0.1)
    op = make(book)
    assert op.status is OpStatus.PENDING
    body = op.to_json()
    assert body["startTime"] == body["creationTime"]  # item operations: startTime == creationTime
    assert "finishTime" not in body

    book.advance(T0 + 0.99)
    assert op.status is OpStatus.PENDING
    book.advance(T0 + 1)
    assert op.status is OpStatus.RUNNING
    book.advance(T0 + 2.99)
    assert op.status is OpStatus.RUNNING
    book.advance(T0 + 10)
    body = op.to_json()
    assert body["status"] == "Succeeded"
    assert [entry["status"] for entry in body["statusHistory"]] == [
        "Pending",
        "Running",
        "Finished",
    ]
    # Transitions are stamped with their scheduled time, not the time they were observed.
    assert parse_timestamp(body["statusHistory"][1]["timestamp"]) == T0 + 1
    assert parse_timestamp(body["finishTime"]) == T0 + 3
    assert "error" not in body


def test_collection_operations_report_no_start_or_finish_time() -> None:
    book = OperationBook(cancel_delay=lambda: 0)
    op = make(book, times=False)
    book.advance(T0 + 5)
    body = op.to_json()
    assert body["status"] == "Succeeded"
    assert "startTime" not in body
    assert "finishTime" not in body


def test_failure_is_in_the_history_and_doubly_nested() -> None:
    book = OperationBook(cancel_delay=lambda: 0)
    op = make(book, work=lambda op, when: Outcome.failed("NoRecordsToDelete", "gone"))
    book.advance(T0 + 5)
    body = op.to_json()
    assert body["status"] == "Failed"
    assert body["statusHistory"][-1] == {
        "timestamp": body["finishTime"],
        "status": "Failed",
        "errorCode": "NoRecordsToDelete",
        "errorMessage": "gone",
    }
    assert body["error"] == {"error": {"code": "NoRecordsToDelete", "message": "gone"}}


def test_effects_apply_in_finish_order() -> None:
    book = OperationBook(cancel_delay=lambda: 0)
    log: list[str] = []

    def recorder(name: str):  # type: ignore[no-untyped-def]
        def work(op: Operation, when: float) -> Outcome:
            log.append(f"{name}@{when - T0:g}")
            return Outcome.ok()

        return work

    slow = Operation("slow", "AddItem", "c", T0, T0 + 1, T0 + 5, True, work=recorder("slow"))
    fast = Operation(
        "fast", "DeleteItem", "c", T0 + 0.5, T0 + 1, T0 + 2, True, work=recorder("fast")
    )
    book.add(slow)
    book.add(fast)
    book.advance(T0 + 100)
    assert log == ["fast@2", "slow@5"]


def test_cancel_while_pending_keeps_only_finish_time() -> None:
    book = OperationBook(cancel_delay=lambda: 0.1)
    op = make(book)
    book.cancel(op, T0 + 0.5)
    body = op.to_json()
    assert body["status"] == "Canceled"
    assert "startTime" not in body
    assert parse_timestamp(body["finishTime"]) == T0 + 0.5
    assert body["statusHistory"][-1]["errorCode"] == "CanceledOperation"
    assert (
        body["statusHistory"][-1]["errorMessage"]
        == "Operation 'op-1' for collection 'c' has been cancelled"
    )
    book.advance(T0 + 10)  # nothing runs after a cancel
    assert op.status is OpStatus.CANCELED


def test_cancel_while_running_goes_through_canceling() -> None:
    ran: list[bool] = []
    book = OperationBook(cancel_delay=lambda: 0.5)
    op = make(book, work=lambda op, when: ran.append(True) or Outcome.ok())
    book.advance(T0 + 1.5)
    book.cancel(op, T0 + 1.5)
    assert op.status is OpStatus.CANCELING
    book.advance(T0 + 1.9)
    assert op.status is OpStatus.CANCELING
    book.advance(T0 + 2.0)
    assert op.status is OpStatus.CANCELED
    book.advance(T0 + 10)
    assert ran == []  # the effect never happened
    assert [e["status"] for e in op.to_json()["statusHistory"]] == [
        "Pending",
        "Running",
        "Canceling",
        "Canceled",
    ]


def test_finishing_waits_until_ready() -> None:
    ready = {"value": False}
    book = OperationBook(cancel_delay=lambda: 0)
    op = make(book, ready=lambda: ready["value"])
    book.advance(T0 + 10)
    assert op.status is OpStatus.RUNNING
    ready["value"] = True
    book.advance(T0 + 10.1)
    assert op.status is OpStatus.SUCCEEDED


def test_emulator_durations_and_transient_failures_follow_the_config() -> None:
    clock = ManualClock(T0)
    emu = GeoCatalogEmulator(
        GeoCatalogConfig(
            seed=7, operation_duration_seconds=(2.0, 2.0), transient_operation_failure_rate=1.0
        ),
        clock=clock,
    )
    op = emu.submit(
        "AddItem", "c", None, reports_times=True, additional_information={"TotalItems": "3"}
    )
    assert op.finish_at == T0 + 2.0
    assert T0 + 0.4 <= op.start_at <= T0 + 1.0  # 20-50 % of the life is spent queued
    clock.advance(1.99)
    emu.advance()
    assert op.status is OpStatus.RUNNING
    clock.advance(0.01)
    emu.advance()
    body = op.to_json()
    assert body["statusHistory"][-1]["errorCode"] == "InternalIntermitentError"
    assert body["additionalInformation"]["TotalFailedItems"] == "3"


def test_seeded_emulators_make_the_same_ids() -> None:
    one = GeoCatalogEmulator(GeoCatalogConfig(seed=42), clock=ManualClock())
    two = GeoCatalogEmulator(GeoCatalogConfig(seed=42), clock=ManualClock())
    assert [one.new_id() for _ in range(3)] == [two.new_id() for _ in range(3)]
