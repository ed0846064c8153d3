"""The Planetary Computer's public assets container (collection thumbnails), mirrored locally.

Collection JSONs point their thumbnails at ai4edatasetspublicassets.blob.core.windows.net, which
is out of reach here, and the recorded data has no image bytes. With `mirror_public_assets` on,
the emulator rewrites those hrefs to its own `/_public-assets/...` and serves a generated PNG
there, so the bootstrap's "upload the template's thumbnail" step runs end to end. The image is a
stand-in (a colour derived from the path), not the real thumbnail.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PUBLIC_ASSETS_ORIGIN = "https://ai4edatasetspublicassets.blob.core.windows.net"
MIRROR_PREFIX = "/_public-assets"
_SIDE = 64


def mirror_asset_hrefs(document: Any, base_url: str) -> Any:
    """A copy of `document` whose public-assets hrefs point at this emulator."""
    if isinstance(document, dict):
        out = {k: mirror_asset_hrefs(v, base_url) for k, v in document.items()}
        href = out.get("href")
        if isinstance(href, str) and href.startswith(PUBLIC_ASSETS_ORIGIN + "/"):
            out["href"] = base_url + MIRROR_PREFIX + href[len(PUBLIC_ASSETS_ORIGIN) :]
        return out
    if isinstance(document, list):
        return [mirror_asset_hrefs(v, base_url) for v in document]
    return document


def placeholder_png(path: str) -> bytes:
    """A valid 64x64 RGB PNG whose colour depends on `path` (so two assets differ)."""
    r, g, b = hashlib.sha256(path.encode()).digest()[:3]

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + b"".join(bytes((r, g, (b + x * 4) % 256)) for x in range(_SIDE))
        for _ in range(_SIDE)
    )
    header = struct.pack(">IIBBBBB", _SIDE, _SIDE, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def _asset(request: Request) -> Response:
    path = request.path_params["path"]
    if not path.lower().endswith(".png"):
        return Response(status_code=404)
    return Response(placeholder_png(path), media_type="image/png")


def routes() -> list[Route]:
    return [Route(MIRROR_PREFIX + "/{path:path}", _asset, methods=["GET"])]
