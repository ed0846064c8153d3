"""LocalHost: runs a v2-model function app with the Functions host's semantics, in-process.

    host = LocalHost(".", settings_overrides={"AzureWebJobsStorage": azurite.connection_string})
    host.start()            # its own event loop in a background thread
    httpx.get(host.base_url + "/api/health")
    host.drain(timeout=30)  # every watched queue empty, nothing in flight
    host.stop()

`python -m local.host` is the same object behind a command line.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from local.host import eventgrid
from local.host.app_loader import (
    AppLoadError,
    HttpTriggerSpec,
    LoadedApp,
    TriggerKind,
    load_app,
)
from local.host.auth import AuthConfigError, Keys
from local.host.bindings import ResolvedFunction, resolve_function
from local.host.clock import Clock, SystemClock
from local.host.host_config import HostConfig, HostConfigError, load_host_json
from local.host.http_server import AdminInputError, HostHttpApp
from local.host.invocation import Invocation, InvocationLog, InvocationResult, Invoker
from local.host.outputs import QueueWriter, make_output_flush
from local.host.queue_listener import (
    MESSAGE_LEASE_SECONDS,
    QueueEvent,
    QueueListener,
    build_queue_message,
    trigger_argument,
)
from local.host.routes import RouteTable, RouteTemplateError
from local.host.settings import (
    AppSettings,
    SettingsFileError,
    find_settings_file,
    function_disabled,
    merge_settings,
    read_settings_file,
    resolve_connection,
)
from local.host.storage import StorageClients
from local.host.timers import (
    ScheduleMonitor,
    SingletonLock,
    TimerListener,
    TimerState,
    timer_request,
)
from local.server import redact_access_log

log = logging.getLogger("local.host")

DEFAULT_PORT = 7071
# How long stop() lets in-flight invocations finish before cancelling them.
STOP_GRACE_SECONDS = 10.0


class HostStartError(RuntimeError):
    """The host cannot start; the message says what to fix."""


class DrainTimeout(TimeoutError):
    """drain() gave up; `remaining` says what was still there."""

    def __init__(self, message: str, remaining: dict[str, Any]) -> None:
        super().__init__(message)
        self.remaining = remaining


@dataclass(frozen=True)
class DrainReport:
    # Messages the host left invisible (no poison queue) that reappear after the drain deadline.
    parked: dict[str, int] = field(default_factory=dict)
    waited_seconds: float = 0.0


# App settings live in the process environment (as in Azure), shared by every host of the
# process. Hosts may stop in any order (a test stops the timer lock holder before the other), so
# each setting goes back to what the newest host still running set, or, once none is, to what
# it was before the first of them.
_ENV_LOCK = threading.Lock()
_ENV_ACTIVE: list[_EnvPatch] = []
_ENV_ORIGINAL: dict[str, str | None] = {}


@dataclass(eq=False)
class _EnvPatch:
    values: dict[str, str] = field(default_factory=dict)

    def apply(self, values: Mapping[str, str]) -> None:
        with _ENV_LOCK:
            for key in values:
                if not any(key in patch.values for patch in _ENV_ACTIVE):
                    _ENV_ORIGINAL[key] = os.environ.get(key)
            self.values.update(values)
            if self not in _ENV_ACTIVE:
                _ENV_ACTIVE.append(self)
            os.environ.update(values)

    def restore(self) -> None:
        with _ENV_LOCK:
            if self not in _ENV_ACTIVE:
                return
            _ENV_ACTIVE.remove(self)
            for key in self.values:
                newest = next((p for p in reversed(_ENV_ACTIVE) if key in p.values), None)
                if newest is not None:
                    os.environ[key] = newest.values[key]
                    continue
                original = _ENV_ORIGINAL.pop(key, None)
                if original is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = original
            self.values.clear()


class LocalHost:
    def __init__(
        self,
        project_dir: str | Path = ".",
        *,
        app_module: str = "function_app",
        settings_path: str | Path | None = None,
        settings_overrides: Mapping[str, str] | None = None,
        http_host: str = "127.0.0.1",
        http_port: int | None = 0,
        strict_auth: bool = False,
        clock: Clock | None = None,
        host_id: str | None = None,
        message_lease_seconds: int = MESSAGE_LEASE_SECONDS,
        lock_retry_seconds: float = 5.0,
        fail_on_function_errors: bool = True,
        processor_count: int | None = None,
    ) -> None:
        """`http_port=0` picks a free port; None takes `Host.LocalHttpPort` from the settings
        file, else 7071 (what `func start` does)."""
        self.project_dir = Path(project_dir).resolve()
        self.app_module = app_module
        self._settings_path = Path(settings_path) if settings_path else None
        self._overrides = dict(settings_overrides or {})
        self.http_host = http_host
        self._requested_port = http_port
        self._strict_auth = strict_auth
        self.clock: Clock = clock or SystemClock()
        self._host_id = host_id
        self._lease_seconds = message_lease_seconds
        self._lock_retry = lock_retry_seconds
        self._fail_on_errors = fail_on_function_errors
        self._processor_count = processor_count

        self.config: HostConfig | None = None
        self.settings: AppSettings = AppSettings({})
        self.keys = Keys(strict=False)
        self.route_prefix = "api"
        self.loaded: LoadedApp | None = None
        self.functions: dict[str, ResolvedFunction] = {}
        self.function_errors: dict[str, str] = {}
        self.disabled: list[str] = []
        self.http_routes: RouteTable[ResolvedFunction] = RouteTable()
        self.port = 0

        self._env = _EnvPatch()
        self._log = InvocationLog()
        self._events: list[QueueEvent] = []
        self._events_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._stop_event: asyncio.Event | None = None
        self._socket: socket.socket | None = None
        self._listeners: dict[str, QueueListener] = {}
        self._timers: dict[str, TimerListener] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._clients: StorageClients | None = None
        self._writer: QueueWriter | None = None
        self._invoker: Invoker | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._monitor: ScheduleMonitor | None = None
        self._server: uvicorn.Server | None = None
        self._server_task: asyncio.Task[None] | None = None
        self._started = False

    # ----------------------------------------------------------------------------------------
    # Start-up (caller's thread: settings, import, indexing, socket; then the loop thread)

    @property
    def host_id(self) -> str:
        if self._host_id:
            return self._host_id
        configured = self.settings.get("AzureFunctionsWebHost__hostid")
        return configured or self.project_dir.name.lower()[:32] or "localhost"

    @property
    def base_url(self) -> str:
        return f"http://{self.http_host}:{self.port}"

    def start(self, timeout: float = 30.0) -> LocalHost:
        if self._started:
            raise HostStartError("this host was started already")
        self._started = True
        try:
            try:
                self._prepare()
            except (HostConfigError, SettingsFileError, AuthConfigError) as exc:
                raise HostStartError(str(exc)) from exc
            self._thread = threading.Thread(target=self._run_loop, name="local-host", daemon=True)
            self._thread.start()
            if not self._ready.wait(timeout):
                raise HostStartError(f"the host did not start within {timeout}s")
            if self._start_error is not None:
                raise HostStartError(f"the host failed to start: {self._start_error}") from (
                    self._start_error
                )
        except BaseException:
            self._teardown_after_failed_start()
            raise
        log.info(
            "Local Functions host %r listening on %s with %d function(s)",
            self.host_id,
            self.base_url,
            len(self.functions),
        )
        return self

    def _prepare(self) -> None:
        settings_file = read_settings_file(
            find_settings_file(self.project_dir, self._settings_path)
        )
        self._env.apply(merge_settings(os.environ, settings_file.values, self._overrides))
        self.settings = AppSettings.from_environ()
        self.config = load_host_json(
            self.project_dir, processor_count=self._processor_count, settings=self.settings
        )
        self.route_prefix = self.config.route_prefix
        self.keys = Keys.from_settings(self.settings, strict=self._strict_auth)
        try:
            self.loaded = load_app(self.app_module, self.project_dir)
        except AppLoadError as exc:
            raise HostStartError(str(exc)) from exc
        self.function_errors = dict(self.loaded.errors)
        now = self.clock.now()
        for name, spec in self.loaded.functions.items():
            if function_disabled(name, self.settings):
                self.disabled.append(name)
                continue
            try:
                resolved = resolve_function(spec, self.settings, now)
                if isinstance(spec.trigger, HttpTriggerSpec):
                    self.http_routes.add(spec.trigger.route, spec.trigger.methods, resolved)
                if spec.kind is TriggerKind.TIMER:
                    # Timers keep their lock and status in AzureWebJobsStorage.
                    resolve_connection("", self.settings)
            except (ValueError, RouteTemplateError) as exc:
                self.function_errors[name] = str(exc)
                continue
            self.functions[name] = resolved
            if "retry_policy" in spec.settings:
                log.warning(
                    "%s has a retry policy; the local host does not apply retry policies", name
                )
        if self.function_errors and self._fail_on_errors:
            details = "; ".join(f"{n}: {e}" for n, e in sorted(self.function_errors.items()))
            raise HostStartError(f"function(s) in error: {details}")
        for name, error in sorted(self.function_errors.items()):
            log.error("The '%s' function is in error: %s", name, error)
        self._socket = self._bind()

    def _bind(self) -> socket.socket:
        port = self._requested_port
        if port is None:
            settings_file = read_settings_file(
                find_settings_file(self.project_dir, self._settings_path)
            )
            port = settings_file.local_http_port or DEFAULT_PORT
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP;
        # without it each response on a kept-alive connection waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.http_host, port))
        except OSError as exc:
            sock.close()
            raise HostStartError(f"cannot listen on {self.http_host}:{port}: {exc}") from exc
        self.port = sock.getsockname()[1]
        return sock

    def _teardown_after_failed_start(self) -> None:
        loop, stop, thread = self._loop, self._stop_event, self._thread
        if loop is not None and stop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(stop.set)
            thread.join(STOP_GRACE_SECONDS)
        if self._socket is not None:
            self._socket.close()
        self._env.restore()

    def _run_loop(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _main(self) -> None:
        self._stop_event = asyncio.Event()
        try:
            await self._startup()
        except BaseException as exc:  # noqa: BLE001 - reported to the thread that called start()
            self._start_error = exc
            self._ready.set()
            await self._shutdown()
            return
        self._ready.set()
        await self._stop_event.wait()
        await self._shutdown()

    async def _startup(self) -> None:
        if self.config is None or self._socket is None:
            raise HostStartError("start-up ran before the host was prepared")
        threads = self.settings.get("PYTHON_THREADPOOL_THREAD_COUNT")
        self._executor = ThreadPoolExecutor(
            max_workers=int(threads) if threads else None, thread_name_prefix="fn"
        )
        self._clients = StorageClients()
        self._writer = QueueWriter(
            self._clients, self.config.queues.message_encoding, self._wake_listeners
        )
        self._invoker = Invoker(
            executor=self._executor,
            timeout=self.config.function_timeout,
            flush_outputs=make_output_flush(self._writer),
            record=self._log,
            function_directory=str(self.project_dir),
        )
        for name, function in self.functions.items():
            if function.spec.kind is TriggerKind.QUEUE:
                listener = QueueListener(
                    function,
                    options=self.config.queues,
                    clients=self._clients,
                    writer=self._writer,
                    invoke=self.invoke,
                    on_event=self._record_event,
                    lease_seconds=self._lease_seconds,
                )
                self._listeners[name] = listener
            elif function.spec.kind is TriggerKind.TIMER:
                blobs = self._clients.blob_service(resolve_connection("", self.settings))
                if self._monitor is None:
                    self._monitor = ScheduleMonitor(blobs, self.host_id)
                self._timers[name] = TimerListener(
                    function,
                    clock=self.clock,
                    invoke=self.invoke,
                    monitor=self._monitor,
                    lock=SingletonLock(blobs, self.host_id, name),
                    lock_retry_seconds=self._lock_retry,
                )
        redact_access_log()
        config = uvicorn.Config(
            HostHttpApp(self),
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._server_task = asyncio.ensure_future(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._server_task.done():
                self._server_task.result()
                raise HostStartError("the HTTP server stopped during start-up")
            await asyncio.sleep(0.01)
        for listener in self._listeners.values():
            listener.start()
        for timer in self._timers.values():
            timer.start()

    # ----------------------------------------------------------------------------------------
    # Shutdown

    def stop(self, timeout: float = 30.0) -> None:
        """Stop polling, let in-flight invocations finish (bounded), close everything."""
        if self._loop is None or self._thread is None or self._stop_event is None:
            self._env.restore()
            return
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop_event.set)
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the host did not stop within %ss", timeout)
        self._env.restore()

    async def _shutdown(self) -> None:
        function_timeout = self.config.function_timeout if self.config else None
        grace = min(STOP_GRACE_SECONDS, function_timeout or STOP_GRACE_SECONDS)
        await asyncio.gather(
            *(listener.stop(grace) for listener in self._listeners.values()),
            *(timer.stop(grace) for timer in self._timers.values()),
            return_exceptions=True,
        )
        work = [t for t in self._background if not t.done()]
        if work:
            _, pending = await asyncio.wait(work, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5)
        if self._server is not None and self._server_task is not None:
            self._server.should_exit = True
            await asyncio.wait({self._server_task}, timeout=10)
        if self._clients is not None:
            await self._clients.close()
        if self._executor is not None:
            # A sync function stuck past its timeout keeps its thread; do not wait for it.
            self._executor.shutdown(wait=False, cancel_futures=True)
        if self._socket is not None:
            self._socket.close()

    def __enter__(self) -> LocalHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------------------------------
    # Used by the HTTP front end, the listeners and the timers (on the loop)

    def function(self, name: str) -> ResolvedFunction | None:
        return self.functions.get(name)

    async def invoke(
        self, function: ResolvedFunction, value: Any, *, reason: str, details: dict[str, Any]
    ) -> InvocationResult:
        if self._invoker is None:
            raise RuntimeError("the host is not running")
        return await self._invoker.invoke(function, value, reason=reason, details=details)

    def status(self) -> dict[str, Any]:
        return {
            "id": self.host_id,
            "state": "Running",
            "version": "local",
            "functions": sorted(self.functions),
            "errors": dict(self.function_errors),
        }

    def run_in_background(self, function: ResolvedFunction, raw_input: str | None) -> str:
        """Start an admin-API run (answered 202 before it finishes); input errors raise now."""
        prepared = self._admin_argument(function, raw_input)
        task = asyncio.ensure_future(self._run_admin(function, prepared))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return function.name

    def _admin_argument(self, function: ResolvedFunction, raw_input: str | None) -> Any:
        kind = function.spec.kind
        if kind is TriggerKind.QUEUE:
            now = dt.datetime.now(dt.UTC)
            message = build_queue_message(
                message_id=str(uuid.uuid4()),
                body=(raw_input or "").encode("utf-8"),
                dequeue_count=1,
                pop_receipt=None,
                inserted_on=now,
                expires_on=now + dt.timedelta(days=7),
                next_visible_on=now,
            )
            return trigger_argument(function, message)
        if kind is TriggerKind.EVENT_GRID:
            try:
                events = eventgrid.parse_events((raw_input or "").encode("utf-8"))
                if len(events) != 1:
                    raise AdminInputError("the input must be one event (a JSON object)")
                return eventgrid.decode_event(events[0])
            except eventgrid.EventGridPayloadError as exc:
                raise AdminInputError(f"the input is not an Event Grid event: {exc}") from exc
        return None

    async def _run_admin(self, function: ResolvedFunction, argument: Any) -> InvocationResult:
        details: dict[str, Any] = {"admin": True}
        if function.spec.kind is TriggerKind.TIMER:
            status = None
            timer = self._timers.get(function.name)
            if self._monitor is not None and function.use_monitor:
                status = await self._monitor.read(function.name)
            argument = timer_request(False, status)
            if timer is not None:
                details["scheduled_for"] = self.clock.now()
        return await self.invoke(
            function,
            argument,
            reason="This function was programmatically called via the host APIs.",
            details=details,
        )

    def _wake_listeners(self, endpoint: str, queue_name: str) -> None:
        for listener in self._listeners.values():
            if listener.queue_name == queue_name and listener.endpoint == endpoint:
                listener.notify(by_write=True)

    def _record_event(self, event: QueueEvent) -> None:
        with self._events_lock:
            self._events.append(event)

    # ----------------------------------------------------------------------------------------
    # The in-process API for tests and the demo (any thread)

    def _call(self, coro: Any, timeout: float | None) -> Any:
        if self._loop is None or not self._ready.is_set():
            coro.close()
            raise RuntimeError("the host is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def invocations(self) -> list[Invocation]:
        """Every invocation so far (running ones have `outcome` None), oldest first."""
        return self._log.snapshot()

    def invocations_of(self, name: str) -> list[Invocation]:
        return [i for i in self._log.snapshot() if i.function_name == name]

    @property
    def queue_events(self) -> list[QueueEvent]:
        """Poison moves, releases and messages left invisible, oldest first."""
        with self._events_lock:
            return list(self._events)

    def wait_for_invocations(
        self, name: str, count: int, timeout: float = 30.0, *, finished: bool = True
    ) -> list[Invocation]:
        """Block until `name` has at least `count` (finished) invocations; return them."""

        def enough(items: list[Invocation]) -> bool:
            return (
                sum(1 for i in items if i.function_name == name and (i.done or not finished))
                >= count
            )

        try:
            self._log.wait_for(enough, timeout)
        except TimeoutError:
            seen = self.invocations_of(name)
            raise TimeoutError(
                f"{name}: wanted {count} invocation(s) within {timeout}s, saw {len(seen)}"
            ) from None
        return [i for i in self.invocations_of(name) if i.done or not finished]

    def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition"
    ) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} not reached within {timeout}s")
            time.sleep(0.02)

    def run_function(
        self,
        name: str,
        input: str | None = None,
        *,
        timeout: float = 60.0,
    ) -> Invocation:
        """Run a non-HTTP function now, like `POST /admin/functions/<name>`, and wait for it."""
        function = self.functions.get(name)
        if function is None:
            raise KeyError(f"no running function {name!r}; running: {sorted(self.functions)}")
        if function.spec.kind is TriggerKind.HTTP:
            raise ValueError(f"{name} is an HTTP function: call its route")

        async def run() -> InvocationResult:
            return await self._run_admin(function, self._admin_argument(function, input))

        result: InvocationResult = self._call(run(), timeout)
        return result.invocation

    def notify_queue(self, queue_name: str) -> None:
        """Make the listener(s) of `queue_name` poll now (e.g. after a test enqueued directly)."""
        if self._loop is None:
            return

        def wake() -> None:
            for listener in self._listeners.values():
                if listener.queue_name == queue_name:
                    listener.notify()

        self._loop.call_soon_threadsafe(wake)

    def listener(self, function_name: str) -> QueueListener:
        return self._listeners[function_name]

    def timer_state(self, function_name: str) -> TimerState:
        return self._timers[function_name].state

    def drain(self, timeout: float = 30.0) -> DrainReport:
        """Return once every watched queue is empty, nothing is in flight and no message is
        scheduled to become visible before the deadline; raise DrainTimeout saying what is left.

        Messages the host left invisible on purpose (no poison queue) and that reappear only
        after the deadline do not hold the drain up; they are reported in `parked`.
        """
        started = time.monotonic()
        deadline = started + timeout
        wall_deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=timeout)
        self._wake_all()
        last: dict[str, Any] = {}
        while True:
            quiet, last = self._call(self._quiet(wall_deadline), timeout)
            if quiet:
                return DrainReport(
                    parked=last.get("parked", {}), waited_seconds=time.monotonic() - started
                )
            if time.monotonic() > deadline:
                raise DrainTimeout(f"drain did not finish within {timeout}s: {last}", last)
            time.sleep(0.05)

    def _wake_all(self) -> None:
        if self._loop is None:
            return

        def wake() -> None:
            for listener in self._listeners.values():
                listener.notify()

        self._loop.call_soon_threadsafe(wake)

    async def _quiet(self, wall_deadline: dt.datetime) -> tuple[bool, dict[str, Any]]:
        started_before = self._log.started
        busy = self._log.active + sum(1 for t in self._background if not t.done())
        counts: dict[str, int] = {}
        parked: dict[str, int] = {}
        pending: dict[str, int] = {}
        for listener in self._listeners.values():
            queue = listener.queue_name
            if queue in counts:
                continue
            count = await listener.approximate_count()
            late = sum(1 for when in listener.stats.parked.values() if when > wall_deadline)
            counts[queue] = count
            parked[queue] = late
            if count - late > 0:
                pending[queue] = count - late
        in_flight = {
            name: listener.stats.in_flight
            for name, listener in self._listeners.items()
            if listener.stats.in_flight
        }
        busy_after = self._log.active + sum(1 for t in self._background if not t.done())
        quiet = (
            not pending
            and not in_flight
            and busy == 0
            and busy_after == 0
            and started_before == self._log.started
        )
        state = {
            "queues": pending,
            "in_flight": in_flight,
            "running_invocations": [i.function_name for i in self.invocations if not i.done],
            "parked": {q: n for q, n in parked.items() if n},
        }
        return quiet, state

    # ----------------------------------------------------------------------------------------

    def describe(self) -> str:
        """Where the host listens and what it runs (printed at start, as `func start` does)."""
        lines = [
            f"Local Functions host {self.host_id!r} listening on {self.base_url}",
            "Functions:",
        ]
        prefix = f"/{self.route_prefix}" if self.route_prefix else ""
        for name, function in self.functions.items():
            trigger = function.spec.trigger
            if isinstance(trigger, HttpTriggerSpec):
                methods = ",".join(trigger.methods) if trigger.methods else "*"
                lines.append(
                    f"    {name}: [{methods}] {self.base_url}{prefix}/{trigger.route} "
                    f"(auth {trigger.auth_level})"
                )
            elif function.queue is not None:
                lines.append(
                    f"    {name}: queueTrigger {function.queue.queue_name} "
                    f"(connection {function.queue.connection_name})"
                )
            elif function.schedule is not None:
                flags = [f"monitor {'on' if function.use_monitor else 'off'}"]
                if function.run_on_startup:
                    flags.append("runOnStartup")
                lines.append(
                    f"    {name}: timerTrigger '{function.schedule.expression}' ({', '.join(flags)})"
                )
            else:
                lines.append(
                    f"    {name}: eventGridTrigger "
                    f"{self.base_url}/runtime/webhooks/eventgrid?functionName={name}"
                )
            for output in function.outputs:
                lines.append(f"        -> queue {output.target.queue_name} ({output.param})")
        if self.disabled:
            lines.append("Disabled: " + ", ".join(sorted(self.disabled)))
        for name, error in sorted(self.function_errors.items()):
            lines.append(f"In error: {name}: {error}")
        return "\n".join(lines)
