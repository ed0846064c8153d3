"""A small web server on loopback that serves STAC documents and chosen failures over real HTTP.

The service fetches sources only from allowed hosts, and 127.0.0.1 is one of them in local mode,
so a test can put a catalog with a dead child, a forbidden one and one whose server keeps
answering 503 in front of the real planner. Every request is counted by path.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# (status, content type, body)
Answer = tuple[int, str, bytes]
Route = Callable[[int], Answer]  # called with how many times the path was asked for before


def document(value: Any) -> Route:
    body = json.dumps(value).encode()
    return lambda _n: (200, "application/json", body)


def status(code: int, body: bytes = b'{"detail": "no"}') -> Route:
    return lambda _n: (code, "application/json", body)


def html() -> Route:
    return lambda _n: (200, "text/html", b"<html><body>Moved to our new portal</body></html>")


class SourceServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                with server._lock:
                    before = server.hits[path]
                    server.hits[path] += 1
                    route = server.routes.get(path)
                code, kind, body = route(before) if route else (404, "application/json", b"{}")
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def serve(self, path: str, route: Route) -> None:
        with self._lock:
            self.routes[path] = route

    def hits_of(self, path: str) -> int:
        with self._lock:
            return self.hits[path]

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def source_server() -> Iterator[SourceServer]:
    server = SourceServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
