"""Managed storage: where GeoCatalog keeps the assets it copied, and reading them back.

In "emulator" mode hrefs point at this server (`{base}/_managed/{container}/{path}`) so a
signed href can really be read; in "blob" mode they look like the real service's
(`https://<account>.blob.core.windows.net/<container>/<path>`) and cannot be read offline.
"""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
import re
import struct
import zlib
from urllib.parse import unquote, urlsplit

from local.emulator.geocatalog.config import GeoCatalogConfig

MANAGED_PREFIX = "/_managed/"


def container_name(collection_id: str, suffix: str) -> str:
    """`<collection>-<8hex>` as in live captures; container names are lower-case, no `_`."""
    base = re.sub(r"[^a-z0-9-]", "-", collection_id.lower()).strip("-") or "collection"
    return f"{base[:54]}-{suffix}"


def managed_href(config: GeoCatalogConfig, base_url: str, container: str, path: str) -> str:
    if config.managed_storage == "blob":
        return f"https://{config.storage_account}.blob.core.windows.net/{container}/{path}"
    return f"{base_url}{MANAGED_PREFIX}{container}/{path}"


def parse_managed_href(config: GeoCatalogConfig, href: str) -> tuple[str, str] | None:
    """(container, path) when `href` points into this catalog's managed storage."""
    parts = urlsplit(href)
    if config.managed_storage == "blob":
        if parts.hostname != f"{config.storage_account}.blob.core.windows.net":
            return None
        raw = parts.path.lstrip("/")
    else:
        if not parts.path.startswith(MANAGED_PREFIX):
            return None
        raw = parts.path[len(MANAGED_PREFIX) :]
    container, _, path = raw.partition("/")
    if not container or not path:
        return None
    return container, unquote(path)


def asset_filename(href: str, key: str) -> str:
    name = posixpath.basename(unquote(urlsplit(href).path))
    return name or key


def item_asset_path(item_id: str, filename: str) -> str:
    """`<3hex>/<item id>/<file>`, the layout of live item hrefs."""
    shard = hashlib.sha1(item_id.encode()).hexdigest()[:3]  # noqa: S324 - a shard, not security
    return f"{shard}/{item_id}/{filename}"


def guess_type(path: str, declared: str | None) -> str:
    if declared:
        return declared
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "application/octet-stream"


def synthetic_body(container: str, path: str, content_type: str) -> bytes:
    """A small deterministic stand-in for an asset GeoCatalog would have copied.

    Raster types get a valid 16x16 grayscale image so an image reader can open it.
    """
    seed = hashlib.sha256(f"{container}/{path}".encode()).digest()
    pixels = bytes(seed[i % len(seed)] for i in range(16 * 16))
    lowered = content_type.lower()
    if "tiff" in lowered:
        return _tiff(pixels, 16, 16)
    if "png" in lowered:
        return _png(pixels, 16, 16)
    return f"GeoCatalog emulator asset {container}/{path}\n".encode()


def _png(pixels: bytes, width: int, height: int) -> bytes:
    rows = b"".join(b"\x00" + pixels[y * width : (y + 1) * width] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _tiff(pixels: bytes, width: int, height: int) -> bytes:
    """A baseline little-endian TIFF: one strip of 8-bit grayscale."""
    entries = [
        (256, 3, 1, width),  # ImageWidth
        (257, 3, 1, height),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # Photometric: BlackIsZero
        (273, 4, 1, 0),  # StripOffsets, patched below
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 3, 1, height),  # RowsPerStrip
        (279, 4, 1, len(pixels)),  # StripByteCounts
    ]
    ifd_offset = 8
    ifd_size = 2 + 12 * len(entries) + 4
    data_offset = ifd_offset + ifd_size
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        if tag == 273:
            value = data_offset
        packed = struct.pack("<H", value) + b"\x00\x00" if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", ifd_offset) + ifd + pixels
