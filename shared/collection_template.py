"""Template collections: where the service may fetch them from, and what of them GeoCatalog accepts.

The service fetches URLs on behalf of callers, so every fetch (the template, its thumbnail, every
redirect hop) passes the same policy: a host from `SOURCE_ALLOWED_HOSTS`, https unless in local
mode, bounded size and time. A template is then stripped of what GeoCatalog refuses at creation
(collection-level assets, the Planetary Computer's `msft:` storage fields) and of the links that
describe the template's own place in another catalog.
"""

from __future__ import annotations

import copy
import json
import math
import mimetypes
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from shared.geocatalog.client import new_session
from shared.geocatalog.errors import parse_retry_after
from shared.problems import ApiError, InvalidRequest, ServiceUnavailable, UpstreamRefused
from shared.settings import Settings
from shared.sources.urls import fetch_problem

# Fields of Planetary Computer collections that describe where the PC keeps the data; GeoCatalog
# refuses the first two at creation and the others would describe the wrong storage.
STORAGE_FIELDS = frozenset(
    {"msft:storage_account", "msft:container", "msft:region", "msft:requires_account"}
)
# Links that place the template in its own catalog; GeoCatalog writes its own for the new one.
NAVIGATION_RELS = frozenset(
    {"self", "root", "parent", "child", "item", "items", "collection", "next", "prev", "previous"}
)
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
MAX_THUMBNAIL_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 3
FETCH_TIMEOUT_SECONDS = 15.0
THUMBNAIL_KEY = "thumbnail"


class UnprocessableContent(ApiError):
    """The request is well-formed but what it points at cannot be used (e.g. a non-JSON template)."""

    status = 422
    title = "Unprocessable content"
    slug = "unprocessable-content"


@dataclass(frozen=True)
class UrlPolicy:
    allowed_hosts: frozenset[str]
    allow_http: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> UrlPolicy:
        return cls(
            allowed_hosts=frozenset(h.lower() for h in settings.allowed_source_hosts),
            allow_http=settings.local_mode,
        )

    def check(self, url: str, *, field: str) -> str:
        """The URL if the service may fetch it; InvalidRequest naming `field` if not."""
        problem = fetch_problem(
            url, allowed_hosts=tuple(self.allowed_hosts), allow_http=self.allow_http
        )
        if problem is not None:
            hint = " (app setting SOURCE_ALLOWED_HOSTS)" if "allowed" in problem else ""
            raise InvalidRequest(f"{field} {problem}{hint}", field=field)
        return url


@dataclass(frozen=True)
class Fetched:
    content: bytes
    content_type: str | None
    url: str


class TemplateFetcher:
    """GETs under a UrlPolicy: every redirect hop re-checked, size and time bounded."""

    def __init__(
        self,
        policy: UrlPolicy,
        *,
        session: requests.Session | None = None,
        timeout: float = FETCH_TIMEOUT_SECONDS,
    ) -> None:
        self.policy = policy
        self._own_session = session is None
        self.session = session or new_session(pool_size=4)
        self.timeout = timeout

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> TemplateFetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def fetch(self, url: str, *, field: str, max_bytes: int, accept: str) -> Fetched:
        current = self.policy.check(url, field=field)
        for _ in range(MAX_REDIRECTS + 1):
            host = urlsplit(current).hostname or ""
            try:
                response = self.session.get(
                    current,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                    headers={"Accept": accept},
                )
            except requests.RequestException as exc:
                raise UpstreamRefused(
                    f"{field} could not be fetched from {host} ({type(exc).__name__})",
                    field=field,
                    extra={"upstreamHost": host},
                ) from None
            with response:
                if response.is_redirect:
                    location = response.headers.get("Location", "")
                    current = self.policy.check(urljoin(current, location), field=field)
                    continue
                _raise_for_status(response, field=field, host=host)
                return Fetched(
                    content=_read_bounded(response, max_bytes, field=field),
                    content_type=_media_type(response.headers.get("Content-Type")),
                    url=current,
                )
        raise UnprocessableContent(
            f"{field} redirects more than {MAX_REDIRECTS} times", field=field
        )

    def fetch_json(self, url: str, *, field: str) -> Any:
        fetched = self.fetch(
            url, field=field, max_bytes=MAX_TEMPLATE_BYTES, accept="application/json"
        )
        try:
            return json.loads(fetched.content)
        except (ValueError, UnicodeDecodeError):
            raise UnprocessableContent(f"{field} did not answer JSON", field=field) from None


def _raise_for_status(response: requests.Response, *, field: str, host: str) -> None:
    status = response.status_code
    if status < 300:
        return
    extra: dict[str, Any] = {"upstreamHost": host, "upstreamStatus": status}
    if status == 429:
        retry_after = parse_retry_after(response.headers)
        if retry_after is not None:
            extra["retryAfter"] = math.ceil(retry_after)
        raise ServiceUnavailable(
            f"{host} is throttling fetches of {field}", field=field, extra=extra
        )
    if status >= 500 or status == 408:
        raise UpstreamRefused(
            f"{host} failed to answer {field} ({status})", field=field, extra=extra
        )
    # 4xx other than throttling: the URL points at nothing usable; the caller must change it.
    raise UnprocessableContent(f"{field} answered {status}", field=field, extra=extra)


def _read_bounded(response: requests.Response, max_bytes: int, *, field: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > max_bytes:
                raise UnprocessableContent(
                    f"{field} is larger than {max_bytes // (1024 * 1024)} MiB", field=field
                )
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise UpstreamRefused(
            f"{field} could not be read ({type(exc).__name__})", field=field
        ) from None
    return b"".join(chunks)


def _media_type(value: str | None) -> str | None:
    if not value:
        return None
    media = value.split(";", 1)[0].strip().lower()
    return media or None


# -- the template itself -----------------------------------------------------------------------


def validated_template(document: Any, *, field: str = "templateUrl") -> dict[str, Any]:
    """The document if it is a STAC Collection the service can copy, else UnprocessableContent."""
    if not isinstance(document, dict):
        raise UnprocessableContent(f"{field} did not answer a JSON object", field=field)
    kind = document.get("type")
    if kind != "Collection":
        found = f"a STAC {kind}" if isinstance(kind, str) else "not a STAC document"
        raise UnprocessableContent(
            f"{field} must point at a STAC Collection; it is {found}", field=field
        )
    for key in ("extent", "description", "license"):
        if key not in document:
            raise UnprocessableContent(f"{field} is a STAC Collection without `{key}`", field=field)
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
    "MAX_TEMPLATE_BYTES",
    "MAX_THUMBNAIL_BYTES",
    "NAVIGATION_RELS",
    "STORAGE_FIELDS",
    "THUMBNAIL_KEY",
    "Fetched",
    "TemplateFetcher",
    "ThumbnailRef",
    "UnprocessableContent",
    "UrlPolicy",
    "creatable_collection",
    "thumbnail_filename",
    "thumbnail_media_type",
    "thumbnail_of",
    "validated_template",
]
