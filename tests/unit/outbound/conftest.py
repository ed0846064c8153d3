"""A real web server on loopback, so redirects, statuses, headers and bodies cross real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from shared.outbound import FetchPolicy, GuardedHttp


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    body: bytes
    accept: str | None


# (status, headers, body); a body sent without Content-Length ends when the connection closes.
Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Web:
    port: int = 0
    routes: dict[str, Callable[[Request], Answer]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def answer(
        self, path: str, status: int, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> None:
        self.routes[path] = lambda _request: (status, headers or {}, body)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.answer(path, status, {"Location": location, "Content-Length": "0"})

    def paths(self) -> list[str]:
        with self.lock:
            return [r.path for r in self.requests]


def _handler(web: Web) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                self.command,
                parts.path,
                parts.query,
                self.rfile.read(length),
                self.headers.get("Accept"),
            )
            with web.lock:
                web.requests.append(request)
            route = web.routes.get(parts.path)
            status, headers, body = route(request) if route else (404, {"Content-Length": "0"}, b"")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_HEAD = do_PUT = _serve

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def web() -> Iterator[Web]:
    state = Web()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.fixture
def http(session: requests.Session) -> GuardedHttp:
    # 127.0.0.1 only: `localhost`, the same server by another name, is off the list.
    return GuardedHttp(session, FetchPolicy.of(["127.0.0.1"], allow_http=True), timeout=10.0)
