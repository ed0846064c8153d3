"""Request context, JSON responses and route declarations shared by the route modules."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from local.emulator.geocatalog.errors import ApiError, bad_request

if TYPE_CHECKING:
    from local.emulator.geocatalog.emulator import GeoCatalogEmulator

JSON = "application/json"
GEOJSON = "application/geo+json"


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None, media_type: str = JSON
) -> Response:
    return Response(dumps(body), status_code=status, headers=headers, media_type=media_type)


def empty_response(status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(b"", status_code=status, headers=headers)


class RequestContext:
    """What a handler needs: the request, the emulator, the api-version and the base URL."""

    __slots__ = ("api_version", "base_url", "emulator", "request", "template")

    def __init__(
        self,
        request: Request,
        emulator: GeoCatalogEmulator,
        template: str,
        api_version: str,
        base_url: str,
    ) -> None:
        self.request = request
        self.emulator = emulator
        self.template = template
        self.api_version = api_version
        self.base_url = base_url

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    def query_int(self, name: str, default: int | None = None) -> int | None:
        raw = self.query(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise bad_request(f"Query parameter '{name}' must be an integer.") from exc

    def sign_requested(self) -> bool:
        return (self.query("sign") or "").lower() == "true"

    def duration_minutes(self) -> int | None:
        minutes = self.query_int("duration")
        if minutes is not None and minutes <= 0:
            raise bad_request("Query parameter 'duration' must be a positive number of minutes.")
        return minutes

    async def json(self) -> Any:
        raw = await self.request.body()
        if not raw:
            raise bad_request("The request body is empty.", "InvalidRequestContent")
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise bad_request(
                f"The request body is not valid JSON: {exc}", "InvalidRequestContent"
            ) from exc

    async def json_object(self) -> dict[str, Any]:
        body = await self.json()
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.", "InvalidRequestContent")
        return body

    def url(self, path: str, **params: str | int | None) -> str:
        """An absolute URL on this catalog carrying the caller's api-version."""
        query = [("api-version", self.api_version)]
        query.extend((k, str(v)) for k, v in params.items() if v is not None)
        encoded = "&".join(f"{quote(k, safe='$')}={quote(v, safe=':,/')}" for k, v in query)
        return f"{self.base_url}{path}?{encoded}"

    def operation_url(self, operation_id: str) -> str:
        return self.url(f"/inma/operations/{operation_id}")


Handler = Callable[[RequestContext], Awaitable[Response]]
RouteKind = Literal["data", "managed", "control"]


@dataclass(frozen=True)
class RouteSpec:
    template: str
    methods: tuple[str, ...]
    handler: Handler
    kind: RouteKind = "data"


def require(condition: bool, message: str) -> None:
    if not condition:
        raise bad_request(message)


def accepted(ctx: RequestContext, operation_json: dict[str, Any]) -> Response:
    """202 with Location and Operation-Location both on the operation (api-version included:
    the SDK's final GET after a POST hits Location verbatim)."""
    location = ctx.operation_url(operation_json["id"])
    return json_response(
        operation_json, 202, headers={"Location": location, "Operation-Location": location}
    )


__all__ = [
    "GEOJSON",
    "JSON",
    "ApiError",
    "Handler",
    "RequestContext",
    "RouteSpec",
    "accepted",
    "dumps",
    "empty_response",
    "json_response",
    "require",
]
