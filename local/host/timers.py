"""Timer triggers: NCRONTAB schedule, no overlap, runOnStartup, the schedule monitor, the
singleton lock.

- The next occurrence is computed after a run finishes, so a long run never overlaps the next
  (missed occurrences are skipped).
- With the monitor on, the status (Last, Next, LastUpdated) lives in the AzureWebJobsStorage
  account, blob `azure-webjobs-hosts/timers/<hostId>/<function>/status`; a start after downtime
  that finds Next in the past runs once with `past_due=True`.
- A failed run is not retried.
- Only the instance that holds the blob lease `azure-webjobs-hosts/locks/<hostId>/<function>.Listener`
  runs the timer, so two hosts sharing a storage account do not both fire it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.functions.meta import Datum
from azure.functions.timer import TimerRequestConverter
from azure.storage.blob.aio import BlobLeaseClient, BlobServiceClient

from local.host.bindings import ResolvedFunction
from local.host.clock import Clock
from local.host.invocation import InvocationResult
from local.host.schedule import NCrontabSchedule, ScheduleStatus, check_past_due

log = logging.getLogger(__name__)

HOSTS_CONTAINER = "azure-webjobs-hosts"
LOCK_LEASE_SECONDS = 15
LOCK_RENEW_SECONDS = 5.0

Invoke = Callable[..., Awaitable[InvocationResult]]


def timer_request(
    past_due: bool, status: ScheduleStatus | None, *, adjust_for_dst: bool = True
) -> Any:
    """The `azure.functions.timer.TimerRequest` the worker builds from the host's payload."""
    payload = {
        "Schedule": {"AdjustForDST": adjust_for_dst},
        "ScheduleStatus": status.for_function() if status else None,
        "IsPastDue": past_due,
    }
    return TimerRequestConverter.decode(Datum(json.dumps(payload), "json"), trigger_metadata=None)


class ScheduleMonitor:
    """Schedule status per timer, in a blob as the host's `StorageScheduleMonitor` keeps it."""

    def __init__(self, blobs: BlobServiceClient, host_id: str) -> None:
        self._container = blobs.get_container_client(HOSTS_CONTAINER)
        self._host_id = host_id
        self._created = False

    def _blob(self, function_name: str) -> Any:
        return self._container.get_blob_client(
            f"timers/{self._host_id}/Host.Functions.{function_name}/status"
        )

    async def read(self, function_name: str) -> ScheduleStatus | None:
        try:
            downloader = await self._blob(function_name).download_blob()
            data = await downloader.readall()
        except ResourceNotFoundError:
            return None
        try:
            return ScheduleStatus.from_json(data)
        except ValueError:
            log.warning("timer %s: unreadable schedule status; starting afresh", function_name)
            return None

    async def write(self, function_name: str, status: ScheduleStatus) -> None:
        if not self._created:
            with contextlib.suppress(ResourceExistsError):
                await self._container.create_container()
            self._created = True
        await self._blob(function_name).upload_blob(status.to_json(), overwrite=True)


class SingletonLock:
    """A blob lease that only one host instance holds at a time."""

    def __init__(self, blobs: BlobServiceClient, host_id: str, function_name: str) -> None:
        container = blobs.get_container_client(HOSTS_CONTAINER)
        self._container = container
        self._blob = container.get_blob_client(
            f"locks/{host_id}/Host.Functions.{function_name}.Listener"
        )
        self._lease: BlobLeaseClient | None = None

    @property
    def held(self) -> bool:
        return self._lease is not None

    async def try_acquire(self) -> bool:
        with contextlib.suppress(ResourceExistsError):
            await self._container.create_container()
        with contextlib.suppress(ResourceExistsError):
            await self._blob.upload_blob(b"", overwrite=False)
        lease = BlobLeaseClient(self._blob)
        try:
            await lease.acquire(lease_duration=LOCK_LEASE_SECONDS)
        except ResourceExistsError:
            return False
        except AzureError as exc:
            if getattr(exc, "status_code", None) == 409:
                return False
            raise
        self._lease = lease
        return True

    async def renew(self) -> bool:
        if self._lease is None:
            return False
        try:
            await self._lease.renew()
        except AzureError:
            self._lease = None
            return False
        return True

    async def release(self) -> None:
        if self._lease is None:
            return
        lease, self._lease = self._lease, None
        try:
            await lease.release()
        except AzureError as exc:
            log.info("timer lock release failed (%s); it expires by itself", type(exc).__name__)


@dataclass
class TimerState:
    lock_held: bool = False
    running: bool = False
    next_occurrence: dt.datetime | None = None
    runs: int = 0


class TimerListener:
    def __init__(
        self,
        function: ResolvedFunction,
        *,
        clock: Clock,
        invoke: Invoke,
        monitor: ScheduleMonitor | None,
        lock: SingletonLock | None,
        lock_retry_seconds: float,
    ) -> None:
        if function.schedule is None:
            raise ValueError(f"{function.name} has no timer trigger")
        self.function = function
        self.schedule: NCrontabSchedule = function.schedule
        self._clock = clock
        self._invoke = invoke
        self._monitor = monitor if function.use_monitor else None
        self._lock = lock
        self._lock_retry = lock_retry_seconds
        self._stop = asyncio.Event()
        self._lost_lock = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self.state = TimerState()

    @property
    def name(self) -> str:
        return self.function.name

    def start(self) -> None:
        self._runner = asyncio.ensure_future(self._run())

    async def stop(self, timeout: float) -> None:
        """Stop scheduling; a run in progress gets `timeout` seconds to finish."""
        self._stop.set()
        if self._runner is not None:
            _, pending = await asyncio.wait({self._runner}, timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        if self._lock is not None:
            await self._lock.release()
            self.state.lock_held = False

    async def _run(self) -> None:
        while not self._stop.is_set():
            if not await self._acquire():
                return
            renewal = asyncio.ensure_future(self._keep_lock())
            try:
                await self._schedule_loop()
            except AzureError as exc:
                # Storage trouble (status blob): give the lock up and start over, as the host
                # restarts a failed listener.
                log.warning("timer %s: listener error (%s); restarting", self.name, exc)
                if self._lock is not None:
                    await self._lock.release()
                    self.state.lock_held = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._lock_retry)
            finally:
                renewal.cancel()

    async def _acquire(self) -> bool:
        if self._lock is None:
            self.state.lock_held = True
            return True
        while not self._stop.is_set():
            try:
                if await self._lock.try_acquire():
                    self.state.lock_held = True
                    self._lost_lock.clear()
                    log.info("timer %s: singleton lock acquired", self.name)
                    return True
            except AzureError as exc:
                log.warning("timer %s: lock not acquired (%s)", self.name, type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._lock_retry)
        return False

    async def _keep_lock(self) -> None:
        while self._lock is not None:
            await asyncio.sleep(LOCK_RENEW_SECONDS)
            if not await self._lock.renew():
                log.warning("timer %s: singleton lock lost; waiting to get it back", self.name)
                self.state.lock_held = False
                self._lost_lock.set()
                return

    async def _schedule_loop(self) -> None:
        status = await self._monitor.read(self.name) if self._monitor else None
        now = self._clock.now()
        past_due = False
        if self._monitor is not None:
            check = check_past_due(now, self.schedule, status)
            status = check.status
            past_due = check.past_due_by > dt.timedelta(0)
            if check.changed:
                await self._monitor.write(self.name, status)
            if past_due:
                log.info("timer %s: past due by %s", self.name, check.past_due_by)
        if self.function.run_on_startup or past_due:
            status = await self._fire(now, past_due=past_due, status=status, update=past_due)
        while not self._stop.is_set() and not self._lost_lock.is_set():
            occurrence = self.schedule.next_after(self._clock.now())
            self.state.next_occurrence = occurrence
            reached = await self._sleep_until(occurrence)
            if not reached:
                return
            status = await self._fire(occurrence, past_due=False, status=status, update=True)

    async def _sleep_until(self, when: dt.datetime) -> bool:
        either = asyncio.Event()

        async def relay(source: asyncio.Event) -> None:
            await source.wait()
            either.set()

        watchers = [asyncio.ensure_future(relay(e)) for e in (self._stop, self._lost_lock)]
        try:
            return await self._clock.sleep_until(when, either)
        finally:
            for watcher in watchers:
                watcher.cancel()

    async def _fire(
        self,
        occurrence: dt.datetime,
        *,
        past_due: bool,
        status: ScheduleStatus | None,
        update: bool,
    ) -> ScheduleStatus | None:
        self.state.running = True
        self.state.next_occurrence = None
        try:
            await self._invoke(
                self.function,
                timer_request(past_due, status if self._monitor else None),
                reason="Timer fired" if not past_due else "Timer past due",
                details={
                    "scheduled_for": occurrence,
                    "past_due": past_due,
                    "clock": self._clock.now(),
                },
            )
        finally:
            self.state.running = False
            self.state.runs += 1
        if self._monitor is None or not update:
            return status
        now = self._clock.now()
        fresh = ScheduleStatus(
            last=occurrence, next=self.schedule.next_after(now), last_updated=now
        )
        try:
            await self._monitor.write(self.name, fresh)
        except AzureError as exc:
            log.warning("timer %s: schedule status not saved (%s)", self.name, type(exc).__name__)
        return fresh
