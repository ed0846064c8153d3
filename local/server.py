"""Run an ASGI app under uvicorn: in a background thread (tests, demo) or in the foreground (CLI)."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
from typing import Any

import uvicorn

# Query parameters whose values are secrets: a function key (`code`, the local host) and a SAS
# signature (`sig`, requests the emulators receive).
_SECRET_PARAMETER = re.compile(r"([?&](?:code|sig)=)[^&\s\"]+", re.IGNORECASE)


class AccessLogRedaction(logging.Filter):
    """Request lines of uvicorn's access log without function keys or SAS signatures.

    `access_log=False` only empties the `uvicorn.access` handlers; uvicorn logs a request
    whenever that logger has one, and pytest attaches its capture handler to every logger that
    does not propagate, so access lines with full query strings appear in test logs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SECRET_PARAMETER.sub(r"\1<redacted>", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


_ACCESS_FILTER = AccessLogRedaction()


def redact_access_log() -> None:
    """Install the filter on `uvicorn.access` (once; every server of the process shares it)."""
    access = logging.getLogger("uvicorn.access")
    if _ACCESS_FILTER not in access.filters:
        access.addFilter(_ACCESS_FILTER)


class ThreadedServer:
    """An ASGI app served on a loopback port from a daemon thread; port 0 picks a free port."""

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        access_log: bool = False,
        keep_alive_seconds: int = 75,
    ) -> None:
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP;
        # without it every request on a kept-alive connection waits ~40 ms for delayed ACKs.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        redact_access_log()
        config = uvicorn.Config(
            app,
            log_level=log_level,
            access_log=access_log,
            lifespan="on",
            http="httptools",
            loop="asyncio",
            timeout_graceful_shutdown=5,
            # Not uvicorn's 5 s: a client that reuses a pooled connection just as the server
            # closes it sees a ConnectionError (a GeoCatalog check failed a schemathesis case so,
            # under load). The services the emulators stand for keep idle connections minutes.
            timeout_keep_alive=keep_alive_seconds,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"uvicorn:{self.port}", daemon=True)
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._error = exc

    def start(self, timeout: float = 15.0) -> ThreadedServer:
        self._thread.start()
        waited = 0.0
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"server on {self.base_url} failed to start") from self._error
            if waited >= timeout:
                raise TimeoutError(f"server on {self.base_url} did not start in {timeout}s")
            self._thread.join(0.02)
            waited += 0.02
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_foreground(app: Any, *, host: str, port: int, log_level: str = "info") -> None:
    redact_access_log()
    uvicorn.run(app, host=host, port=port, log_level=log_level, http="httptools")
