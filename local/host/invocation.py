"""Running one function invocation: arguments, sync/async execution, timeout, outputs, logging.

Sync functions run in a thread pool and async ones on the host's loop, as the Python worker
does. `functionTimeout` counts as a failure; a sync function's thread cannot be stopped, so it is
abandoned (and logged) while the host moves on. Output bindings are flushed after the function
returned; a failure to flush fails the invocation.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import azure.functions as func
from azure.functions import _abc as azf_abc

from local.host.bindings import ResolvedFunction
from local.host.outputs import HostOut, OutputFlush

log = logging.getLogger("local.host.invocation")


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


@dataclass
class Invocation:
    """One run of a function, for logs and test assertions."""

    id: str
    function_name: str
    trigger: str
    reason: str
    started_at: dt.datetime
    details: dict[str, Any] = field(default_factory=dict)
    finished_at: dt.datetime | None = None
    duration_ms: float | None = None
    outcome: Outcome | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.outcome is not None

    @property
    def succeeded(self) -> bool:
        return self.outcome is Outcome.SUCCEEDED


class InvocationLog:
    """Every invocation of the host's lifetime, with a condition to wait on (thread-safe)."""

    def __init__(self) -> None:
        self._items: list[Invocation] = []
        self._cond = threading.Condition()
        self.active = 0
        self.started = 0

    def begin(self, invocation: Invocation) -> None:
        with self._cond:
            self._items.append(invocation)
            self.active += 1
            self.started += 1
            self._cond.notify_all()

    def end(self) -> None:
        with self._cond:
            self.active -= 1
            self._cond.notify_all()

    def snapshot(self) -> list[Invocation]:
        with self._cond:
            return list(self._items)

    def wait_for(
        self, predicate: Callable[[list[Invocation]], bool], timeout: float
    ) -> list[Invocation]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self._items):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                self._cond.wait(min(remaining, 0.5))
            return list(self._items)


class _TraceContext(azf_abc.TraceContext):
    def __init__(self) -> None:
        self._parent = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"

    @property
    def trace_state(self) -> str:
        return ""

    @property
    def trace_parent(self) -> str:
        return self._parent

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class _RetryContext(azf_abc.RetryContext):
    @property
    def retry_count(self) -> int:
        return 0

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> Any:
        return None


class InvocationContext(func.Context):
    """The `context` argument the worker passes to functions that declare one."""

    _local = threading.local()

    def __init__(self, invocation_id: str, function_name: str, function_directory: str) -> None:
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._function_directory = function_directory
        self._trace = _TraceContext()
        self._retry = _RetryContext()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._local

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> azf_abc.TraceContext:
        return self._trace

    @property
    def retry_context(self) -> azf_abc.RetryContext:
        return self._retry


@dataclass
class InvocationResult:
    invocation: Invocation
    value: Any = None


class _Timeout(Exception):
    pass


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}"[:500] if first else type(exc).__name__


class Invoker:
    def __init__(
        self,
        *,
        executor: ThreadPoolExecutor,
        timeout: float | None,
        flush_outputs: OutputFlush,
        record: InvocationLog,
        function_directory: str,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._executor = executor
        self._timeout = timeout
        self._flush = flush_outputs
        self._record = record
        self._directory = function_directory
        self._now = now

    async def invoke(
        self,
        function: ResolvedFunction,
        trigger_value: Any,
        *,
        reason: str,
        details: dict[str, Any] | None = None,
    ) -> InvocationResult:
        spec = function.spec
        invocation = Invocation(
            id=str(uuid.uuid4()),
            function_name=spec.name,
            trigger=spec.kind.value,
            reason=reason,
            started_at=self._now(),
            details=dict(details or {}),
        )
        self._record.begin(invocation)
        log.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", spec.name, reason, invocation.id)
        started = time.monotonic()
        value: Any = None
        try:
            outs = {o.param: HostOut() for o in function.outputs if o.param != "$return"}
            kwargs: dict[str, Any] = {spec.trigger_param: trigger_value, **outs}
            if spec.context_param:
                kwargs[spec.context_param] = InvocationContext(
                    invocation.id, spec.name, self._directory
                )
            value = await self._run(function, kwargs, invocation.id)
            # The function has finished; its outputs are sent after this (and may already be
            # picked up by their listeners before the invocation is logged).
            invocation.finished_at = self._now()
            if (
                value is not None
                and spec.return_output is None
                and spec.kind.value != "httpTrigger"
            ):
                log.warning(
                    "%s returned a value but has no $return binding; the value is dropped",
                    spec.name,
                )
            await self._flush(function, outs, value)
            invocation.outcome = Outcome.SUCCEEDED
        except _Timeout:
            invocation.outcome = Outcome.TIMED_OUT
            invocation.error = f"Timeout value of {self._timeout_text()} was exceeded by function"
        except asyncio.CancelledError:
            invocation.outcome = Outcome.FAILED
            invocation.error = "canceled: the host is stopping"
            raise
        except Exception as exc:
            invocation.outcome = Outcome.FAILED
            invocation.error = _describe(exc)
            # The traceback is what a developer needs; it is logged once, here.
            log.error(
                "Executed 'Functions.%s' failed (Id=%s)", spec.name, invocation.id, exc_info=exc
            )
        finally:
            elapsed = (time.monotonic() - started) * 1000
            invocation.duration_ms = round(elapsed, 1)
            invocation.finished_at = invocation.finished_at or self._now()
            if invocation.outcome is None:
                invocation.outcome = Outcome.FAILED
            self._log_outcome(invocation)
            self._record.end()
        return InvocationResult(invocation, value if invocation.succeeded else None)

    def _timeout_text(self) -> str:
        return str(dt.timedelta(seconds=self._timeout or 0))

    async def _run(self, function: ResolvedFunction, kwargs: dict[str, Any], inv_id: str) -> Any:
        spec = function.spec
        if spec.is_async:
            task = asyncio.ensure_future(spec.user_function(**kwargs))
            try:
                return await asyncio.wait_for(task, self._timeout)
            except TimeoutError:
                if task.cancelled():
                    raise _Timeout from None
                raise
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        call = functools.partial(context.run, self._call_in_thread, spec, kwargs, inv_id)
        future = loop.run_in_executor(self._executor, call)
        done, _ = await asyncio.wait({future}, timeout=self._timeout)
        if not done:
            future.cancel()
            log.warning(
                "%s exceeded functionTimeout (%s); its thread cannot be stopped and is "
                "abandoned (Id=%s)",
                spec.name,
                self._timeout_text(),
                inv_id,
            )
            raise _Timeout
        return future.result()

    @staticmethod
    def _call_in_thread(spec: Any, kwargs: dict[str, Any], inv_id: str) -> Any:
        InvocationContext._local.invocation_id = inv_id
        try:
            return spec.user_function(**kwargs)
        finally:
            InvocationContext._local.invocation_id = None

    def _log_outcome(self, invocation: Invocation) -> None:
        outcome = {
            Outcome.SUCCEEDED: "Succeeded",
            Outcome.FAILED: "Failed",
            Outcome.TIMED_OUT: "Failed",
        }[invocation.outcome or Outcome.FAILED]
        level = logging.INFO if invocation.succeeded else logging.WARNING
        log.log(
            level,
            "Executed 'Functions.%s' (%s, Id=%s, Duration=%sms)%s",
            invocation.function_name,
            outcome,
            invocation.id,
            invocation.duration_ms,
            f": {invocation.error}" if invocation.error else "",
        )
