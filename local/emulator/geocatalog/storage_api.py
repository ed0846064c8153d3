"""Reads from emulated managed storage: a SAS made by this emulator is required, as for a
real storage account that allows no anonymous access; errors are Azure Storage XML."""

from __future__ import annotations

import hashlib
from email.utils import formatdate

from starlette.responses import Response

from local.emulator.geocatalog.clock import format_ticks
from local.emulator.geocatalog.errors import BlobError
from local.emulator.geocatalog.http import RequestContext, RouteSpec
from local.emulator.geocatalog.managed_storage import synthetic_body


def blob_error_response(ctx: RequestContext, error: BlobError) -> Response:
    request_id = ctx.emulator.new_id()
    body = error.xml(request_id, format_ticks(ctx.emulator.now()))
    return Response(
        body,
        status_code=error.status,
        media_type="application/xml",
        headers={"x-ms-error-code": error.code, "x-ms-request-id": request_id},
    )


async def read_blob(ctx: RequestContext) -> Response:
    emu = ctx.emulator
    container, path = ctx.path("container"), ctx.path("path")
    try:
        with emu.lock:
            if container not in emu.state.containers:
                raise BlobError(404, "ContainerNotFound", "The specified container does not exist.")
            emu.signer.verify(container, ctx.request.url.query, emu.now())
            blob = emu.state.blobs.get(f"{container}/{path}")
            if blob is None:
                raise BlobError(404, "BlobNotFound", "The specified blob does not exist.")
    except BlobError as error:
        return blob_error_response(ctx, error)
    data = (
        blob.data if blob.data is not None else synthetic_body(container, path, blob.content_type)
    )
    etag = '"0x' + hashlib.sha256(data).hexdigest()[:15].upper() + '"'
    headers = {
        "ETag": etag,
        "Last-Modified": formatdate(usegmt=True),
        "x-ms-blob-type": "BlockBlob",
        "Accept-Ranges": "bytes",
    }
    if ctx.request.method == "HEAD":
        headers["Content-Length"] = str(len(data))
        return Response(b"", headers=headers, media_type=blob.content_type)
    return Response(data, headers=headers, media_type=blob.content_type)


def routes() -> list[RouteSpec]:
    return [RouteSpec("/_managed/{container}/{path:path}", ("GET", "HEAD"), read_blob, "managed")]
