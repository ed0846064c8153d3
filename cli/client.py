"""The app's HTTP API as the CLI uses it: JSON in and out, problems and outages as exceptions.

The function key travels in the `x-functions-key` header only; it is never part of a URL or a
message this module produces.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

DEFAULT_URL = "http://127.0.0.1:7071"
USER_AGENT = "geocatalog-ingest-cli"


class CliError(Exception):
    """Something the user should read; `exit_code` says what kind of failure it was."""

    exit_code = 4


class ApiProblem(CliError):
    """The app answered 4xx/5xx; problem JSON fields when it sent them."""

    def __init__(
        self,
        status: int,
        title: str = "",
        detail: str = "",
        field: str | None = None,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field
        self.errors = errors or []
        super().__init__(self.describe())

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return 3 if 400 <= self.status < 500 else 4

    def describe(self) -> str:
        if self.status == 401:
            return (
                "401 Unauthorized: the app wants a valid function key "
                "(--key or GEOCATALOG_INGEST_KEY)"
            )
        head = f"{self.status} {self.title or 'error'}"
        lines = [f"{head}: {self.detail}" if self.detail else head]
        listed = {e.get("field") for e in self.errors}
        if self.field and self.field not in listed:
            lines.append(f"  field {self.field}")
        lines += [f"  field {e.get('field')}: {e.get('detail')}" for e in self.errors]
        return "\n".join(lines)


class Unreachable(CliError):
    pass


class BadInput(CliError):
    """The command line or a file it names is not usable; nothing was sent."""

    exit_code = 2


def safe_url(url: str) -> str:
    """The URL without query or credentials (either may hold a key)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class Api:
    def __init__(
        self,
        url: str = DEFAULT_URL,
        key: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        base = safe_url(url.strip()).rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise BadInput(f"--url must be an http(s) URL of the app, not {base!r}")
        self.base = base.removesuffix("/api")
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if key:
            headers["x-functions-key"] = key
        self._http = httpx.Client(
            base_url=self.base + "/api", headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> tuple[int, Any]:
        query = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        try:
            response = self._http.request(
                method, path, params=query, json=body if body is not None else None
            )
        except httpx.TimeoutException:
            raise Unreachable(f"the app at {self.base} did not answer in time") from None
        except httpx.TransportError as error:
            raise Unreachable(
                f"cannot reach the app at {self.base} ({type(error).__name__}); "
                "is it running? (--url or GEOCATALOG_INGEST_URL)"
            ) from None
        if response.status_code >= 400:
            raise _problem(response)
        try:
            return response.status_code, response.json()
        except ValueError:
            raise CliError(
                f"{method} {path} answered {response.status_code} without JSON"
            ) from None

    # ---- the routes ----------------------------------------------------------------------

    def submit(self, request: Any) -> dict[str, Any]:
        return self.call("POST", "/ingest", body=request)[1]  # type: ignore[no-any-return]

    def job(self, job_id: str) -> dict[str, Any]:
        return self.call("GET", f"/jobs/{_segment(job_id)}")[1]  # type: ignore[no-any-return]

    def jobs(self, **params: Any) -> dict[str, Any]:
        return self.call("GET", "/jobs", params=params)[1]  # type: ignore[no-any-return]

    def all_jobs(self, limit: int | None = None, **params: Any) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        given = 0
        while True:
            page = self.jobs(**params, limit=min(100, limit or 100), cursor=cursor)
            for job in page["jobs"]:
                if limit is not None and given >= limit:
                    return
                given += 1
                yield job
            cursor = page["nextCursor"]
            if cursor is None:
                return

    def items(self, job_id: str, **params: Any) -> dict[str, Any]:
        path = f"/jobs/{_segment(job_id)}/items"
        return self.call("GET", path, params=params)[1]  # type: ignore[no-any-return]

    def errors(self, job_id: str, examples: int | None = None) -> dict[str, Any]:
        path = f"/jobs/{_segment(job_id)}/errors"
        return self.call("GET", path, params={"examples": examples})[1]  # type: ignore[no-any-return]

    def retry(self, job_id: str) -> tuple[int, dict[str, Any]]:
        return self.call("POST", f"/jobs/{_segment(job_id)}/retry")

    def cancel(self, job_id: str) -> dict[str, Any]:
        return self.call("POST", f"/jobs/{_segment(job_id)}/cancel")[1]  # type: ignore[no-any-return]

    def create_collection(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return self.call("POST", "/collections", body=body)


def _segment(value: str) -> str:
    # A job id is 32 hex digits; anything else is still sent (the app answers 404), but escaped.
    return quote(value, safe="")


def _problem(response: httpx.Response) -> ApiProblem:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return ApiProblem(response.status_code, response.reason_phrase)
    errors = body.get("errors")
    return ApiProblem(
        status=response.status_code,
        title=str(body.get("title") or response.reason_phrase),
        detail=str(body.get("detail") or ""),
        field=body.get("field") if isinstance(body.get("field"), str) else None,
        errors=[e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else [],
    )
