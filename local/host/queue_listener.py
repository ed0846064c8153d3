"""One queue trigger listener per function: WebJobs' `QueueListener` + `QueueProcessor`.

1. Receive up to batchSize messages with a 10-minute visibility lease (a queue that does not
   exist yet counts as empty: back off, do not fail).
2. Per message: not valid base64 → poison without invoking; DequeueCount > maxDequeueCount →
   poison without invoking; else invoke while a timer renews the lease at half-time.
3. Success → delete. Failure or timeout → poison when DequeueCount >= maxDequeueCount, else
   release with visibilityTimeout. A queue without a poison queue leaves the message invisible.
4. Poll again once in-flight <= newBatchThreshold; after an empty poll wait a randomized
   exponential back-off (100 ms .. maxPollingInterval), cut short by `notify()` (a write to this
   queue from inside the host).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.functions.meta import Datum
from azure.functions.queue import QueueMessageInConverter
from azure.storage.queue import QueueMessage as StorageMessage

from local.host import poison
from local.host.bindings import QueueTarget, ResolvedFunction
from local.host.encoding import UndecodableMessage, decode_body
from local.host.host_config import QueuesOptions
from local.host.invocation import InvocationResult
from local.host.outputs import QueueWriter
from local.host.polling import RandomizedExponentialBackoff
from local.host.storage import StorageClients

log = logging.getLogger(__name__)

# Fixed in the host: the lease a received message gets while the function runs.
MESSAGE_LEASE_SECONDS = 600

Invoke = Callable[..., Awaitable[InvocationResult]]


@dataclass(frozen=True)
class QueueEvent:
    """Something the listener did to a message besides invoking (for logs and tests)."""

    queue: str
    message_id: str
    action: str
    reason: str
    destination: str | None = None


@dataclass
class ListenerStats:
    polls: int = 0
    empty_polls: int = 0
    received: int = 0
    wakeups: int = 0
    woken_by_writes: int = 0
    missing_queue_polls: int = 0
    in_flight: int = 0
    # True while the listener waits for in-flight to fall to newBatchThreshold.
    waiting_for_capacity: bool = False
    current_delay: float = 0.0
    # Messages left invisible by the host (no poison queue), by id: when they reappear.
    parked: dict[str, dt.datetime] = field(default_factory=dict)


class _Lease:
    def __init__(self, message: StorageMessage) -> None:
        self.id: str = message.id
        self.pop_receipt: str | None = message.pop_receipt
        self.next_visible: dt.datetime | None = message.next_visible_on


def build_queue_message(
    *,
    message_id: str,
    body: bytes,
    dequeue_count: int,
    pop_receipt: str | None,
    inserted_on: dt.datetime | None,
    expires_on: dt.datetime | None,
    next_visible_on: dt.datetime | None,
) -> Any:
    """The `azure.functions.queue.QueueMessage` the worker builds, through its own converter
    and from host-shaped trigger metadata."""

    def when(value: dt.datetime | None) -> Datum | None:
        if value is None:
            return None
        text = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return Datum(json.dumps(text), "json")

    metadata = {
        "Id": Datum(message_id, "string"),
        "PopReceipt": Datum(pop_receipt, "string") if pop_receipt else None,
        "DequeueCount": Datum(dequeue_count, "int"),
        "InsertionTime": when(inserted_on),
        "ExpirationTime": when(expires_on),
        "NextVisibleTime": when(next_visible_on),
    }
    try:
        data = Datum(body.decode("utf-8"), "string")
    except UnicodeDecodeError:
        data = Datum(body, "bytes")
    return QueueMessageInConverter.decode(
        data, trigger_metadata={k: v for k, v in metadata.items() if v is not None}
    )


def from_storage(message: StorageMessage, body: bytes) -> Any:
    return build_queue_message(
        message_id=message.id,
        body=body,
        dequeue_count=message.dequeue_count or 0,
        pop_receipt=message.pop_receipt,
        inserted_on=message.inserted_on,
        expires_on=message.expires_on,
        next_visible_on=message.next_visible_on,
    )


def trigger_argument(function: ResolvedFunction, message: Any) -> Any:
    """What the trigger parameter receives: the body for `str`/`bytes` annotations (the worker's
    rule), the QueueMessage otherwise."""
    annotation = function.spec.trigger_annotation
    if annotation is str:
        return message.get_body().decode("utf-8")
    if annotation is bytes:
        return message.get_body()
    return message


class QueueListener:
    def __init__(
        self,
        function: ResolvedFunction,
        *,
        options: QueuesOptions,
        clients: StorageClients,
        writer: QueueWriter,
        invoke: Invoke,
        on_event: Callable[[QueueEvent], None],
        lease_seconds: int = MESSAGE_LEASE_SECONDS,
    ) -> None:
        if function.queue is None:
            raise ValueError(f"{function.name} has no queue trigger")
        self.function = function
        self.target: QueueTarget = function.queue
        self.options = options
        self._clients = clients
        self._writer = writer
        self._invoke = invoke
        self._on_event = on_event
        self.lease_seconds = lease_seconds
        poison_name = poison.poison_queue_name(self.target.queue_name)
        self.poison_target = (
            QueueTarget(self.target.connection_string, poison_name, self.target.connection_name)
            if poison_name
            else None
        )
        self.stats = ListenerStats()
        self._client = clients.queue(self.target.connection_string, self.target.queue_name)
        self._backoff = RandomizedExponentialBackoff(options.max_polling_interval)
        self._wake = asyncio.Event()
        self._capacity = asyncio.Condition()
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None

    @property
    def queue_name(self) -> str:
        return self.target.queue_name

    @property
    def endpoint(self) -> str:
        return self._clients.queue_endpoint(self.target.connection_string)

    def start(self) -> None:
        self._runner = asyncio.ensure_future(self._run())

    def notify(self, *, by_write: bool = False) -> None:
        """Poll now (must be called on the host's loop). `by_write`: an output binding or the
        poison queue copy wrote to this queue, which is when the real host wakes a listener."""
        self.stats.wakeups += 1
        if by_write:
            self.stats.woken_by_writes += 1
        self._wake.set()

    async def stop(self, timeout: float) -> None:
        """Stop polling and wait up to `timeout` for in-flight messages to finish."""
        self._stop.set()
        self._wake.set()
        async with self._capacity:
            self._capacity.notify_all()
        if self._runner is not None:
            await self._runner
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)

    async def _run(self) -> None:
        batch = self.options.batch_size
        threshold = self.options.new_batch_threshold
        while not self._stop.is_set():
            async with self._capacity:
                self.stats.waiting_for_capacity = self.stats.in_flight > threshold
                await self._capacity.wait_for(
                    lambda: self.stats.in_flight <= threshold or self._stop.is_set()
                )
                self.stats.waiting_for_capacity = False
            if self._stop.is_set():
                break
            # The real host fetches batchSize; it caps in-flight at batchSize + threshold.
            messages = await self._receive(batch)
            if messages:
                self._backoff.reset()
                for message in messages:
                    self.stats.in_flight += 1
                    task = asyncio.ensure_future(self._process(message))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                continue
            delay = self._backoff.next_delay()
            self.stats.current_delay = delay
            await self._sleep(delay)

    async def _sleep(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)
        self._wake.clear()

    async def _receive(self, count: int) -> list[StorageMessage]:
        self.stats.polls += 1
        try:
            pager = self._client.receive_messages(
                messages_per_page=count,
                max_messages=count,
                visibility_timeout=self.lease_seconds,
            )
            messages = [m async for m in pager]
        except ResourceNotFoundError:
            self.stats.missing_queue_polls += 1
            return []
        except AzureError as exc:
            log.warning(
                "queue %s: receive failed (%s); backing off", self.queue_name, type(exc).__name__
            )
            return []
        if not messages:
            self.stats.empty_polls += 1
        self.stats.received += len(messages)
        return messages

    async def _process(self, message: StorageMessage) -> None:
        try:
            await self._handle(message)
        except Exception:
            log.exception("queue %s: message %s could not be handled", self.queue_name, message.id)
        finally:
            self.stats.in_flight -= 1
            async with self._capacity:
                self._capacity.notify_all()

    async def _handle(self, message: StorageMessage) -> None:
        has_poison = self.poison_target is not None
        lease = _Lease(message)
        # A message the host parked earlier is back: it is in flight again, not parked.
        self.stats.parked.pop(message.id, None)
        try:
            body = decode_body(message.content or "", self.options.message_encoding)
        except UndecodableMessage:
            action = poison.undecodable(has_poison_queue=has_poison)
            await self._apply(action, message, lease, reason="the message is not valid base64")
            return
        action = poison.before_invoke(
            message.dequeue_count or 0, self.options.max_dequeue_count, has_poison_queue=has_poison
        )
        if action is not poison.Action.INVOKE:
            await self._apply(
                action,
                message,
                lease,
                reason=(
                    f"dequeue count {message.dequeue_count} exceeds maxDequeueCount "
                    f"{self.options.max_dequeue_count}"
                ),
            )
            return
        argument = trigger_argument(self.function, from_storage(message, body))
        renewal = asyncio.ensure_future(self._keep_invisible(lease))
        try:
            result = await self._invoke(
                self.function,
                argument,
                reason="New queue message detected",
                details={
                    "queue": self.queue_name,
                    "message_id": message.id,
                    "dequeue_count": message.dequeue_count,
                },
            )
        finally:
            renewal.cancel()
        succeeded = result.invocation.succeeded
        action = poison.after_invoke(
            succeeded,
            message.dequeue_count or 0,
            self.options.max_dequeue_count,
            has_poison_queue=has_poison,
        )
        await self._apply(
            action,
            message,
            lease,
            reason=(
                "the function succeeded"
                if succeeded
                else f"attempt {message.dequeue_count} of {self.options.max_dequeue_count} failed"
            ),
        )

    async def _keep_invisible(self, lease: _Lease) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 2)
            try:
                updated = await self._client.update_message(
                    lease.id, lease.pop_receipt, visibility_timeout=self.lease_seconds
                )
            except AzureError as exc:
                # The host logs and stops renewing; the message may be delivered again.
                log.warning(
                    "queue %s: could not renew the lease of message %s (%s)",
                    self.queue_name,
                    lease.id,
                    type(exc).__name__,
                )
                return
            lease.pop_receipt = updated.pop_receipt
            lease.next_visible = updated.next_visible_on

    async def _apply(
        self, action: poison.Action, message: StorageMessage, lease: _Lease, *, reason: str
    ) -> None:
        if action is poison.Action.DELETE:
            await self._delete(lease)
            return
        if action is poison.Action.RELEASE:
            try:
                await self._client.update_message(
                    lease.id,
                    lease.pop_receipt,
                    visibility_timeout=int(self.options.visibility_timeout),
                )
            except (ResourceNotFoundError, HttpResponseError) as exc:
                log.info(
                    "queue %s: release of %s ignored (%s)", self.queue_name, lease.id, exc.reason
                )
            self._emit(lease.id, "released", reason)
            return
        if action is poison.Action.POISON and self.poison_target is not None:
            # A new message with the same stored text: id, insertion time, dequeue count are lost.
            await self._writer.send_text(self.poison_target, [message.content or ""])
            await self._delete(lease)
            log.warning(
                "queue %s: message %s moved to %s: %s",
                self.queue_name,
                lease.id,
                self.poison_target.queue_name,
                reason,
            )
            self._emit(lease.id, "poisoned", reason, self.poison_target.queue_name)
            return
        visible_again = lease.next_visible or dt.datetime.now(dt.UTC)
        self.stats.parked[lease.id] = visible_again
        log.warning(
            "queue %s: message %s has no poison queue and stays invisible until %s: %s",
            self.queue_name,
            lease.id,
            visible_again.isoformat(),
            reason,
        )
        self._emit(lease.id, "left-invisible", reason)

    async def _delete(self, lease: _Lease) -> None:
        try:
            await self._client.delete_message(lease.id, lease.pop_receipt)
        except (ResourceNotFoundError, HttpResponseError) as exc:
            # PopReceiptMismatch or MessageNotFound: someone else owns it now; only logged.
            log.info("queue %s: delete of %s ignored (%s)", self.queue_name, lease.id, exc.reason)
        self.stats.parked.pop(lease.id, None)

    def _emit(
        self, message_id: str, action: str, reason: str, destination: str | None = None
    ) -> None:
        self._on_event(QueueEvent(self.queue_name, message_id, action, reason, destination))

    async def approximate_count(self) -> int:
        try:
            properties = await self._client.get_queue_properties()
        except ResourceNotFoundError:
            return 0
        return int(properties.approximate_message_count or 0)
