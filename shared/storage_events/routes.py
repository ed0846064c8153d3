"""Routes: which storage the service watches, and where the items written there go.

`STORAGE_ROUTES` is a JSON array; each route names a container (by storage account, or by its
blob endpoint for Azurite's path-style URLs), an optional blob-name prefix and suffix, the target
collection (or the item's own `collection` field) and the mode. An event outside every route is
ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote

from shared.geocatalog.models import COLLECTION_ID_RULE, is_valid_collection_id
from shared.ingest_request import IngestMode
from shared.item_prep import BLOB_HOST_SUFFIXES
from shared.json_values import loads_json
from shared.outbound.urls import split_url

SETTING: Final = "STORAGE_ROUTES"
# The documented compact form of a route's target: the collection named by each item itself.
COLLECTION_FROM_ITEM: Final = "$item"
DEFAULT_SUFFIX: Final = ".json"

_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_CONTAINER = re.compile(r"^(\$root|[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62})$")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_KEYS = frozenset(
    {
        "name",
        "account",
        "blobEndpoint",
        "container",
        "prefix",
        "suffix",
        "collection",
        "mode",
        "syncDeletes",
    }
)


class RoutesError(ValueError):
    """The setting is malformed; the message names the route and field (never a secret)."""


@dataclass(frozen=True)
class BlobLocation:
    """Where a blob lives: `endpoint` is the account's blob endpoint (no trailing slash)."""

    endpoint: str
    account: str
    container: str
    name: str

    @property
    def container_url(self) -> str:
        return f"{self.endpoint}/{self.container}"

    @property
    def url(self) -> str:
        return f"{self.container_url}/{self.name}"


def parse_blob_url(url: str, path_style_endpoints: Sequence[str] = ()) -> BlobLocation | None:
    """The blob of `https://<account>.blob.core.windows.net/<container>/<name>` or of a
    path-style endpoint (`http://127.0.0.1:10000/<account>/<container>/<name>`); None otherwise.

    The name is percent-decoded (events carry it encoded, as in the blob's URL).
    """
    parts = split_url(url)
    if parts is None:
        return None
    host = (parts.hostname or "").lower()
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return None
    if scheme == "https" and host.endswith(BLOB_HOST_SUFFIXES):
        account = host.split(".", 1)[0]
        endpoint = f"https://{parts.netloc.lower()}"
        rest = parts.path.lstrip("/")
    else:
        origin = f"{scheme}://{parts.netloc.lower()}"
        path = parts.path.lstrip("/")
        account, _, rest = path.partition("/")
        endpoint = f"{origin}/{account}"
        if endpoint not in {e.rstrip("/") for e in path_style_endpoints}:
            return None
    container, _, name = rest.partition("/")
    if not container or not name:
        return None
    return BlobLocation(endpoint, account, container.lower(), unquote(name))


@dataclass(frozen=True)
class Route:
    name: str
    account: str
    container: str
    # Set for path-style endpoints (Azurite); None means the account's public-cloud endpoint.
    blob_endpoint: str | None = None
    prefix: str = ""
    suffix: str = DEFAULT_SUFFIX
    # None: each item names its own target in its `collection` field.
    collection: str | None = None
    mode: IngestMode = IngestMode.UPSERT
    sync_deletes: bool = False

    @property
    def endpoint(self) -> str:
        return self.blob_endpoint or f"https://{self.account}.blob.core.windows.net"

    @property
    def container_url(self) -> str:
        return f"{self.endpoint}/{self.container}"

    def matches(self, blob: BlobLocation) -> bool:
        if blob.account.lower() != self.account or blob.container != self.container:
            return False
        if self.blob_endpoint is not None and blob.endpoint.lower() != self.blob_endpoint.lower():
            return False
        return blob.name.startswith(self.prefix) and blob.name.endswith(self.suffix)

    def to_record(self) -> dict[str, Any]:
        """The route as a job shows it."""
        return {
            "route": self.name,
            "containerUrl": self.container_url,
            "prefix": self.prefix,
            "suffix": self.suffix,
            "collection": self.collection or COLLECTION_FROM_ITEM,
            "syncDeletes": self.sync_deletes,
        }


@dataclass(frozen=True)
class Routes:
    routes: tuple[Route, ...] = ()

    @property
    def path_style_endpoints(self) -> tuple[str, ...]:
        return tuple(r.blob_endpoint for r in self.routes if r.blob_endpoint)

    def match(self, blob: BlobLocation) -> Route | None:
        """The first route that takes the blob (routes are tried in the order configured)."""
        return next((r for r in self.routes if r.matches(blob)), None)

    def __bool__(self) -> bool:
        return bool(self.routes)


def parse_routes(raw: str | None) -> Routes:
    if raw is None or not raw.strip():
        return Routes()
    try:
        value = loads_json(raw)
    except ValueError:
        raise RoutesError(f"{SETTING} is not JSON") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise RoutesError(f"{SETTING} must be a JSON array of routes")
    routes = tuple(_route(entry, index) for index, entry in enumerate(value))
    names = [r.name for r in routes]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RoutesError(f"{SETTING}: route names must be unique ({', '.join(duplicates)})")
    return Routes(routes)


def routes_from_env(env: Mapping[str, str]) -> Routes:
    return parse_routes(env.get(SETTING))


def _route(entry: object, index: int) -> Route:
    where = f"{SETTING}[{index}]"
    if not isinstance(entry, dict):
        raise RoutesError(f"{where} must be an object")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise RoutesError(f"{where} has unknown fields: {', '.join(unknown)}")
    account, endpoint = _account(entry, where)
    container = _text(entry, "container", where)
    if container is None or not _CONTAINER.fullmatch(container):
        raise RoutesError(f"{where}.container must be a blob container name")
    prefix = _text(entry, "prefix", where) or ""
    suffix = _text(entry, "suffix", where)
    collection = _text(entry, "collection", where)
    if collection is None:
        raise RoutesError(f"{where}.collection is required (a collection id, or '$item')")
    if collection != COLLECTION_FROM_ITEM and not is_valid_collection_id(collection):
        raise RoutesError(f"{where}.collection {COLLECTION_ID_RULE} (or is '$item')")
    mode_text = _text(entry, "mode", where) or IngestMode.UPSERT.value
    try:
        mode = IngestMode(mode_text)
    except ValueError:
        raise RoutesError(f"{where}.mode must be 'create' or 'upsert'") from None
    sync = entry.get("syncDeletes", False)
    if not isinstance(sync, bool):
        raise RoutesError(f"{where}.syncDeletes must be true or false")
    name = _text(entry, "name", where) or f"{account}-{container}"
    if not _NAME.fullmatch(name):
        raise RoutesError(f"{where}.name must be 1-64 letters, digits, '.', '_' or '-'")
    return Route(
        name=name,
        account=account,
        container=container,
        blob_endpoint=endpoint,
        prefix=prefix,
        suffix=DEFAULT_SUFFIX if suffix is None else suffix,
        collection=None if collection == COLLECTION_FROM_ITEM else collection,
        mode=mode,
        sync_deletes=sync,
    )


def _account(entry: Mapping[str, Any], where: str) -> tuple[str, str | None]:
    account = _text(entry, "account", where)
    endpoint = _text(entry, "blobEndpoint", where)
    if endpoint is not None:
        parts = split_url(endpoint)
        if parts is None:
            raise RoutesError(f"{where}: blobEndpoint is not a URL")
        host = (parts.hostname or "").lower()
        if (
            parts.scheme == "https"
            and host.endswith(BLOB_HOST_SUFFIXES)
            and not parts.path.strip("/")
        ):
            from_host = host.split(".", 1)[0]
            if account is not None and account.lower() != from_host:
                raise RoutesError(f"{where}: account and blobEndpoint name different accounts")
            account, endpoint = from_host, None
        elif parts.scheme in ("http", "https") and parts.netloc and parts.path.strip("/"):
            # Path style (Azurite): the account is the first path segment.
            from_path = parts.path.strip("/").split("/")[0]
            if account is not None and account.lower() != from_path.lower():
                raise RoutesError(f"{where}: account and blobEndpoint name different accounts")
            account = from_path
            endpoint = f"{parts.scheme}://{parts.netloc.lower()}/{from_path}"
        else:
            raise RoutesError(
                f"{where}.blobEndpoint must be https://<account>.blob.core.windows.net or a "
                "path-style endpoint http(s)://<host:port>/<account>"
            )
    if account is None:
        raise RoutesError(f"{where} needs account (or blobEndpoint)")
    if not _ACCOUNT.fullmatch(account.lower()):
        raise RoutesError(f"{where}.account must be a storage account name")
    return account.lower(), endpoint


def _text(entry: Mapping[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RoutesError(f"{where}.{key} must be a string")
    return value
