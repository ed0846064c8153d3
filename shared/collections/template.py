"""A template collection, and what of it the GeoCatalog accepts.

A template is stripped of what the GeoCatalog refuses at creation (collection-level assets, the
Planetary Computer's `msft:` storage fields) and of the links that describe the template's own
place in another catalog; its thumbnail asset is what the bootstrap copies separately.
"""

from __future__ import annotations

import copy
import mimetypes
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from shared.collections.errors import TemplateUnusable

# Fields of Planetary Computer collections that describe where the PC keeps the data; GeoCatalog
# refuses the first two at creation and the others would describe the wrong storage.
STORAGE_FIELDS = frozenset(
    {"msft:storage_account", "msft:container", "msft:region", "msft:requires_account"}
)
# Links that place the template in its own catalog; GeoCatalog writes its own for the new one.
NAVIGATION_RELS = frozenset(
    {"self", "root", "parent", "child", "item", "items", "collection", "next", "prev", "previous"}
)
THUMBNAIL_KEY = "thumbnail"


def validated_template(document: Any, *, field: str = "templateUrl") -> dict[str, Any]:
    """The document if it is a STAC Collection the service can copy, else TemplateUnusable."""
    if not isinstance(document, dict):
        raise TemplateUnusable(f"{field} did not answer a JSON object", field=field)
    kind = document.get("type")
    if kind != "Collection":
        found = f"a STAC {kind}" if isinstance(kind, str) else "not a STAC document"
        raise TemplateUnusable(
            f"{field} must point at a STAC Collection; it is {found}", field=field
        )
    for key in ("extent", "description", "license"):
        if key not in document:
            raise TemplateUnusable(f"{field} is a STAC Collection without `{key}`", field=field)
    return document


def creatable_collection(
    template: Mapping[str, Any], *, collection_id: str, title: str
) -> dict[str, Any]:
    """The template as a collection GeoCatalog will create: new id and title, nothing it refuses."""
    collection = {
        key: copy.deepcopy(value)
        for key, value in template.items()
        if key != "assets" and key not in STORAGE_FIELDS and not key.startswith("msft:_")
    }
    collection["id"] = collection_id
    collection["title"] = title
    links = template.get("links")
    if isinstance(links, list):
        collection["links"] = [
            copy.deepcopy(link)
            for link in links
            if isinstance(link, Mapping) and link.get("rel") not in NAVIGATION_RELS
        ]
    return collection


@dataclass(frozen=True)
class ThumbnailRef:
    href: str
    media_type: str | None
    title: str


def thumbnail_of(template: Mapping[str, Any]) -> ThumbnailRef | None:
    assets = template.get("assets")
    asset = assets.get(THUMBNAIL_KEY) if isinstance(assets, Mapping) else None
    if not isinstance(asset, Mapping) or not isinstance(asset.get("href"), str):
        return None
    media = asset.get("type")
    title = asset.get("title")
    return ThumbnailRef(
        href=asset["href"],
        media_type=_normal_image_type(media) if isinstance(media, str) else None,
        title=title if isinstance(title, str) and title else "Thumbnail",
    )


def _normal_image_type(media: str) -> str:
    media = media.split(";", 1)[0].strip().lower()
    return "image/jpeg" if media == "image/jpg" else media


def thumbnail_media_type(ref: ThumbnailRef, served: str | None) -> str:
    """The real content type: as served if it is an image, else as the template says, else guessed."""
    if served and served.startswith("image/"):
        return _normal_image_type(served)
    if ref.media_type and ref.media_type.startswith("image/"):
        return _normal_image_type(ref.media_type)
    guessed, _ = mimetypes.guess_type(urlsplit(ref.href).path)
    return _normal_image_type(guessed) if guessed else "application/octet-stream"


def thumbnail_filename(ref: ThumbnailRef, media_type: str) -> str:
    name = posixpath.basename(urlsplit(ref.href).path)
    if name:
        return name
    return THUMBNAIL_KEY + (mimetypes.guess_extension(media_type) or "")


__all__ = [
    "NAVIGATION_RELS",
    "STORAGE_FIELDS",
    "THUMBNAIL_KEY",
    "ThumbnailRef",
    "creatable_collection",
    "thumbnail_filename",
    "thumbnail_media_type",
    "thumbnail_of",
    "validated_template",
]
