"""A fake web for source tests: `responses` intercepts every request (nothing reaches a network),
routes it to handlers by method and URL (query string ignored) and records it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from shared.settings import GeoCatalogSettings, Settings, StorageSettings

REPO = Path(__file__).resolve().parents[3]
ITEMS = REPO / "tests" / "fixtures" / "items"
STATIC = REPO / "local" / "fixtures" / "static-catalog"
PC = "https://planetarycomputer.microsoft.com/api/stac/v1"

Reply = tuple[int, dict[str, str], str | bytes]
Handler = Callable[["Call"], Reply]


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    body: Any

    @property
    def base(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.url).query)


def json_reply(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(document)


class Web:
    def __init__(self, mock: responses.RequestsMock) -> None:
        self.calls: list[Call] = []
        self._exact: dict[tuple[str, str], Handler] = {}
        self._prefix: list[tuple[str, str, Callable[[Call, str], Reply]]] = []
        for method in ("GET", "POST"):
            mock.add_callback(method, re.compile(r".*"), self._dispatch)

    def route(self, method: str, url: str, handler: Handler | Any) -> None:
        if callable(handler):
            self._exact[(method, url)] = handler
        else:
            document = handler
            self._exact[(method, url)] = lambda _call: json_reply(document)

    def route_api_root(self, url: str, document: Any) -> None:
        """A STAC API landing page answers with and without the trailing slash, as real ones do."""
        self.route("GET", url.rstrip("/"), document)
        self.route("GET", url.rstrip("/") + "/", document)

    def serve_dir(self, prefix: str, directory: Path) -> None:
        """GET `prefix + relative path` answers the file under `directory` (404 when missing)."""

        def handler(_call: Call, rest: str) -> Reply:
            path = directory / rest
            if not rest or not path.is_file():
                return json_reply({"detail": "Not Found"}, 404)
            return 200, {"Content-Type": "application/json"}, path.read_bytes()

        self.serve_prefix(prefix, handler)

    def serve_prefix(self, prefix: str, handler: Callable[[Call, str], Reply]) -> None:
        self._prefix.append(("GET", prefix, handler))

    def calls_to(self, base: str) -> list[Call]:
        return [c for c in self.calls if c.base == base]

    def _dispatch(self, request: requests.PreparedRequest) -> Reply:
        body = json.loads(request.body) if request.body else None
        call = Call(str(request.method), str(request.url), body)
        self.calls.append(call)
        handler = self._exact.get((call.method, call.base))
        if handler is not None:
            return handler(call)
        for method, prefix, prefix_handler in self._prefix:
            if call.method == method and call.base.startswith(prefix):
                return prefix_handler(call, call.base[len(prefix) :])
        return json_reply({"detail": "Not Found"}, 404)


@pytest.fixture
def web() -> Iterator[Web]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield Web(mock)


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def make_settings(*hosts: str, local_mode: bool = False) -> Settings:
    return Settings(
        geocatalog=GeoCatalogSettings(url="https://geo.example"),
        storage=StorageSettings(connection_string="UseDevelopmentStorage=true"),
        allowed_source_hosts=hosts or ("planetarycomputer.microsoft.com", ".blob.core.windows.net"),
        local_mode=local_mode,
    )


@pytest.fixture
def settings() -> Settings:
    return make_settings()


def load_json(path: Path) -> Any:
    return json.loads(path.read_bytes())


def roundtrip(cursor: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a cursor looks like after travelling in a queue message."""
    decoded: dict[str, Any] | None = json.loads(json.dumps(cursor))
    return decoded
