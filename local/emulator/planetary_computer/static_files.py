"""Static STAC catalogs served like a public blob container: GET/HEAD a file by its path.

`/static/<catalog>/<path>` maps to `local/fixtures/static-catalog/<catalog>/<path>`, files served as
recorded (the mpcpro-sample-naip-sea items' root/parent links point at a `./catalog.json` that does
not exist beside them: that 404 is part of the real data). A missing file answers the way Azure Blob
Storage does, 404 with `x-ms-error-code: BlobNotFound` and an XML error body.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

STATIC_PREFIX = "/static"


def blob_not_found() -> Response:
    request_id = uuid.uuid4()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    body = (
        '\ufeff<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code>'
        f"<Message>The specified blob does not exist.\nRequestId:{request_id}\nTime:{now}</Message>"
        "</Error>"
    )
    return Response(
        body,
        status_code=404,
        media_type="application/xml",
        headers={"x-ms-error-code": "BlobNotFound", "x-ms-request-id": str(request_id)},
    )


def make_static_endpoint(root: Path) -> Callable[[Request], Awaitable[Response]]:
    resolved_root = root.resolve()

    async def static_file(request: Request) -> Response:
        relative = request.path_params["path"]
        candidate = (resolved_root / relative).resolve()
        # Refuse anything that escapes the catalogs folder (`..`, symlinks).
        if not candidate.is_relative_to(resolved_root) or not candidate.is_file():
            return blob_not_found()
        media_type = "application/json" if candidate.suffix == ".json" else None
        return FileResponse(candidate, media_type=media_type)

    return static_file
