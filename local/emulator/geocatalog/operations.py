"""Asynchronous operations: the state machine of `/inma/operations` and a lazy scheduler.

An operation is Pending until its start time, Running until its finish time, then Succeeded
or Failed; its business effect is applied at the finish time. Time is evaluated lazily: every
request first calls `advance(now)`, which replays due transitions in time order, so effects
happen in the order their operations finish and reads in between see Pending/Running. Nothing
runs in the background except what an operation itself started (a bulk run's catalog fetch).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from local.emulator.geocatalog.clock import format_ticks
from local.emulator.geocatalog.errors import OperationError

READY_POLL_SECONDS = 0.05


class OpStatus(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELING = "Canceling"
    CANCELED = "Canceled"

    @property
    def terminal(self) -> bool:
        return self in (OpStatus.SUCCEEDED, OpStatus.FAILED, OpStatus.CANCELED)


# A success's last history entry says "Finished", not "Succeeded" (live captures).
FINISHED = "Finished"


@dataclass
class HistoryEntry:
    status: str
    timestamp: float
    error_code: str | None = None
    error_message: str | None = None

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"timestamp": format_ticks(self.timestamp), "status": self.status}
        if self.error_code is not None:
            entry["errorCode"] = self.error_code
            entry["errorMessage"] = self.error_message or ""
        return entry


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    code: str | None = None
    message: str | None = None

    @staticmethod
    def ok() -> Outcome:
        return Outcome(True)

    @staticmethod
    def failed(code: str, message: str) -> Outcome:
        return Outcome(False, code, message)


Work = Callable[["Operation", float], Outcome]


@dataclass(eq=False)
class Operation:
    id: str
    type: str
    collection_id: str | None
    creation_time: float
    start_at: float
    finish_at: float
    # Item and bulk operations report startTime (== creationTime) and finishTime; collection
    # and ingestion-definition operations report neither (live captures).
    reports_times: bool
    work: Work | None = None
    # Finishing waits until ready() (e.g. a bulk run's catalog has been read).
    ready: Callable[[], bool] | None = None
    additional_information: dict[str, str] | None = None
    status: OpStatus = OpStatus.PENDING
    history: list[HistoryEntry] = field(default_factory=list)
    start_time: float | None = None
    finish_time: float | None = None
    error: tuple[str, str] | None = None
    seq: int = 0
    generation: int = 0

    def __post_init__(self) -> None:
        if not self.history:
            self.history.append(HistoryEntry(OpStatus.PENDING, self.creation_time))
        if self.reports_times and self.start_time is None:
            self.start_time = self.creation_time

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "status": str(self.status),
            "type": self.type,
            "creationTime": format_ticks(self.creation_time),
        }
        if self.collection_id is not None:
            body["collectionId"] = self.collection_id
        body["statusHistory"] = [entry.to_json() for entry in self.history]
        if self.start_time is not None:
            body["startTime"] = format_ticks(self.start_time)
        if self.finish_time is not None:
            body["finishTime"] = format_ticks(self.finish_time)
        if self.additional_information is not None:
            body["additionalInformation"] = dict(self.additional_information)
        if self.error is not None:
            # The real service nests twice (SDK model ErrorInfo{error: ODataV4Format}).
            code, message = self.error
            body["error"] = {"error": {"code": code, "message": message}}
        return body


FailureInjector = Callable[[Operation], Outcome | None]


class OperationBook:
    """All operations of one catalog, and the time-ordered queue of their next transitions.

    Not thread-safe by itself: the emulator calls it under its lock.
    """

    def __init__(self, cancel_delay: Callable[[], float]) -> None:
        self._ops: dict[str, Operation] = {}
        self._heap: list[tuple[float, int, int, Operation]] = []
        self._seq = 0
        self._cancel_delay = cancel_delay
        self.failure_injector: FailureInjector | None = None

    def __len__(self) -> int:
        return len(self._ops)

    def get(self, operation_id: str) -> Operation | None:
        return self._ops.get(operation_id)

    def all(self) -> Iterable[Operation]:
        return self._ops.values()

    def add(self, op: Operation) -> Operation:
        self._seq += 1
        op.seq = self._seq
        self._ops[op.id] = op
        self._schedule(op, op.start_at)
        return op

    def _schedule(self, op: Operation, when: float) -> None:
        op.generation += 1
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, op.generation, op))

    def next_event_time(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def advance(self, now: float) -> None:
        """Apply every transition due at or before `now`, in time order."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            when, _, generation, op = heapq.heappop(heap)
            if generation != op.generation or op.status.terminal:
                continue
            self._step(op, when)

    def _step(self, op: Operation, when: float) -> None:
        if op.status is OpStatus.PENDING:
            op.status = OpStatus.RUNNING
            op.history.append(HistoryEntry(OpStatus.RUNNING, when))
            self._schedule(op, max(op.finish_at, when))
        elif op.status is OpStatus.RUNNING:
            if op.ready is not None and not op.ready():
                self._schedule(op, when + READY_POLL_SECONDS)
                return
            self._finish(op, when)
        elif op.status is OpStatus.CANCELING:
            self._mark_canceled(op, when)

    def _finish(self, op: Operation, when: float) -> None:
        outcome = self.failure_injector(op) if self.failure_injector else None
        if outcome is None:
            outcome = op.work(op, when) if op.work else Outcome.ok()
        if op.reports_times:
            op.finish_time = when
        if outcome.succeeded:
            op.status = OpStatus.SUCCEEDED
            op.history.append(HistoryEntry(FINISHED, when))
        else:
            code = outcome.code or OperationError.GENERIC
            message = outcome.message or "The operation failed."
            op.status = OpStatus.FAILED
            op.history.append(HistoryEntry(OpStatus.FAILED, when, code, message))
            op.error = (code, message)

    def _cancel_message(self, op: Operation) -> str:
        return f"Operation '{op.id}' for collection '{op.collection_id or ''}' has been cancelled"

    def _mark_canceled(self, op: Operation, when: float) -> None:
        op.status = OpStatus.CANCELED
        message = self._cancel_message(op)
        op.history.append(HistoryEntry(OpStatus.CANCELED, when, OperationError.CANCELED, message))
        op.error = (OperationError.CANCELED, message)
        op.finish_time = when
        op.generation += 1

    def cancel(self, op: Operation, now: float) -> None:
        """Pending → Canceled at once (only finishTime remains); Running → Canceling → Canceled."""
        if op.status is OpStatus.PENDING:
            op.start_time = None
            self._mark_canceled(op, now)
        elif op.status is OpStatus.RUNNING:
            delay = self._cancel_delay()
            if delay <= 0:
                self._mark_canceled(op, now)
                return
            op.status = OpStatus.CANCELING
            op.history.append(HistoryEntry(OpStatus.CANCELING, now))
            self._schedule(op, now + delay)

    def cancel_all(self, now: float) -> int:
        count = 0
        for op in list(self._ops.values()):
            if op.status in (OpStatus.PENDING, OpStatus.RUNNING):
                self.cancel(op, now)
                count += 1
        return count

    def newest_first(self) -> list[Operation]:
        return sorted(self._ops.values(), key=lambda op: (op.creation_time, op.seq), reverse=True)

    def clear(self) -> None:
        self._ops.clear()
        self._heap.clear()
