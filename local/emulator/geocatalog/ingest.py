"""What an item operation does when it runs: validate, check that every asset can be read,
copy the assets into managed storage (rewrite their hrefs) and store the item."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from local.emulator.geocatalog.blob_endpoints import path_style_container, read_status
from local.emulator.geocatalog.clock import format_micros, format_ticks
from local.emulator.geocatalog.errors import OperationError
from local.emulator.geocatalog.filters import geometry_bbox
from local.emulator.geocatalog.managed_storage import (
    asset_filename,
    guess_type,
    item_asset_path,
    managed_href,
)
from local.emulator.geocatalog.sas import carries_sas, parse_sas
from local.emulator.geocatalog.store import CollectionRecord, ManagedBlob

if TYPE_CHECKING:
    from local.emulator.geocatalog.emulator import GeoCatalogEmulator

ITEM_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
BLOB_HOST = re.compile(r"^(?P<account>[a-z0-9]{3,24})\.blob\.core\.windows\.net$")
# Links the service makes itself; any others a client sends are kept.
SERVICE_ITEM_RELS = frozenset({"self", "parent", "root", "collection"})


@dataclass(frozen=True)
class Failure:
    code: str
    message: str


def blob_container_url(href: str) -> str | None:
    """`https://<account>.blob.core.windows.net/<container>` of a blob href, else None."""
    parts = urlsplit(href)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or BLOB_HOST.match(host) is None:
        return None
    container = parts.path.lstrip("/").split("/", 1)[0]
    if not container:
        return None
    return f"https://{host}/{container.lower()}"


def validate_item(item: Any, collection_id: str, expected_id: str | None = None) -> Failure | None:
    if not isinstance(item, dict):
        return Failure(OperationError.STAC_VALIDATION_FAILED, "The item is not a JSON object.")
    item_id = item.get("id")
    if not isinstance(item_id, str) or not ITEM_ID.match(item_id):
        return Failure(
            OperationError.STAC_VALIDATION_FAILED,
            f"Item id {item_id!r} is invalid: 1-64 letters, digits, '-', '_' or '.'.",
        )
    if item.get("type") != "Feature":
        return Failure(
            OperationError.STAC_VALIDATION_FAILED, f"Item '{item_id}' must have type 'Feature'."
        )
    if expected_id is not None and item_id != expected_id:
        return Failure(
            OperationError.INVALID_INPUT,
            f"Item id '{item_id}' in the body does not match '{expected_id}' in the path.",
        )
    if item.get("collection") != collection_id:
        return Failure(
            OperationError.INVALID_INPUT,
            f"Item '{item_id}' must set 'collection' to '{collection_id}' "
            f"(found {item.get('collection')!r}).",
        )
    if "geometry" not in item:
        return Failure(
            OperationError.STAC_VALIDATION_FAILED, f"Item '{item_id}' has no 'geometry'."
        )
    properties = item.get("properties")
    if not isinstance(properties, dict):
        return Failure(
            OperationError.STAC_VALIDATION_FAILED, f"Item '{item_id}' has no 'properties'."
        )
    if properties.get("datetime") is None and not (
        properties.get("start_datetime") and properties.get("end_datetime")
    ):
        return Failure(
            OperationError.STAC_VALIDATION_FAILED,
            f"Item '{item_id}' needs properties.datetime or start_datetime and end_datetime.",
        )
    assets = item.get("assets", {})
    if not isinstance(assets, dict):
        return Failure(
            OperationError.STAC_VALIDATION_FAILED, f"Item '{item_id}' has invalid 'assets'."
        )
    for key, asset in assets.items():
        if not isinstance(asset, dict) or not isinstance(asset.get("href"), str):
            return Failure(
                OperationError.INVALID_ASSET_HREF, f"Asset '{key}' of item '{item_id}' has no href."
            )
    return None


def check_asset_access(emu: GeoCatalogEmulator, href: str, now: float) -> Failure | None:
    """Can GeoCatalog read `href` now? Public URLs yes; blob URLs need their own SAS or an
    ingestion source for their container; managed-storage URLs are never re-ingested."""
    parts = urlsplit(href)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return Failure(OperationError.INVALID_ASSET_HREF, f"Asset href '{href}' is not absolute.")
    if emu.managed_location(href) is not None:
        # Live SDK runs: re-submitting hrefs read back from GeoCatalog fails like this.
        return Failure(
            OperationError.PUBLIC_ACCESS_RESTRICTED,
            f"Public access is restricted for asset '{href.split('?', 1)[0]}'. "
            "Submit the original source href, not the GeoCatalog managed-storage href.",
        )
    path_style = path_style_container(href, emu.config.blob_endpoints)
    container_url = path_style or blob_container_url(href)
    if container_url is None:
        return None
    if carries_sas(parts.query):
        try:
            token = parse_sas(parts.query)
        except ValueError:
            return Failure(
                OperationError.AUTHENTICATION_FAILED,
                f"The SAS token of asset '{href.split('?', 1)[0]}' cannot be parsed.",
            )
        if token.expired(now):
            return Failure(
                OperationError.AUTHENTICATION_FAILED,
                f"The SAS token of asset '{href.split('?', 1)[0]}' expired at "
                f"{token.params.get('se')}.",
            )
        return None
    source = emu.state.source_for_container(container_url)
    if source is None:
        return Failure(
            OperationError.RESOURCE_FORBIDDEN,
            f"Access to asset '{href}' is forbidden: no ingestion source is registered for "
            f"container '{container_url}' and the href carries no SAS token.",
        )
    if source.kind == "SasToken" and source.expiration is not None and source.expiration <= now:
        return Failure(
            OperationError.AUTHENTICATION_FAILED,
            f"Authentication failed for asset '{href}': the SAS token of ingestion source "
            f"'{source.id}' for container '{source.container_url}' expired at "
            f"{format_ticks(source.expiration)}.",
        )
    if path_style is not None and source.kind == "SasToken" and source.sas_token:
        return _tried(href, source.sas_token)
    return None


def _tried(href: str, sas_token: str) -> Failure | None:
    """Read the asset from the (local) endpoint with the source's token: a token Azurite does
    not accept fails the ingestion as the GeoCatalog's copy would."""
    status = read_status(href, sas_token)
    where = href.split("?", 1)[0]
    if status == 200:
        return None
    if status in (401, 403):
        return Failure(
            OperationError.AUTHENTICATION_FAILED,
            f"Authentication failed for asset '{where}': the storage refused the SAS token.",
        )
    if status == 404:
        return Failure(OperationError.RESOURCE_NOT_FOUND, f"Asset '{where}' does not exist.")
    return Failure(
        OperationError.CONNECTION_FAILED, f"Asset '{where}' could not be read (status {status})."
    )


def resolve_relative_hrefs(item: dict[str, Any], document_url: str) -> None:
    """Static catalogs may use hrefs relative to the item document."""
    for asset in (item.get("assets") or {}).values():
        if isinstance(asset, dict) and isinstance(asset.get("href"), str):
            asset["href"] = urljoin(document_url, asset["href"])


def check_item_assets(
    emu: GeoCatalogEmulator, assets: dict[str, Any], now: float
) -> Failure | None:
    for asset in assets.values():
        failure = check_asset_access(emu, asset["href"], now)
        if failure is not None:
            return failure
    return None


def copy_assets(
    emu: GeoCatalogEmulator,
    record: CollectionRecord,
    item_id: str,
    assets: dict[str, Any],
    base_url: str,
) -> dict[str, Any]:
    """Rewrite hrefs to managed storage and register the copies (content made up on read)."""
    copied: dict[str, Any] = {}
    used: set[str] = set()
    blob_keys = record.item_blobs.setdefault(item_id, [])
    for key, asset in assets.items():
        filename = asset_filename(asset["href"], key)
        if filename in used:
            filename = f"{key}-{filename}"
        used.add(filename)
        path = item_asset_path(item_id, filename)
        new_asset = dict(asset)
        new_asset["href"] = managed_href(emu.config, base_url, record.container, path)
        copied[key] = new_asset
        blob_key = f"{record.container}/{path}"
        emu.state.blobs[blob_key] = ManagedBlob(
            guess_type(path, asset.get("type")), item_id=item_id
        )
        blob_keys.append(blob_key)
    return copied


def forget_item_blobs(emu: GeoCatalogEmulator, record: CollectionRecord, item_id: str) -> None:
    for blob_key in record.item_blobs.pop(item_id, []):
        emu.state.blobs.pop(blob_key, None)


def store_item(
    emu: GeoCatalogEmulator,
    record: CollectionRecord,
    item: dict[str, Any],
    base_url: str,
    now: float,
    *,
    copied_assets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Store `item` (already validated and checked) with managed hrefs and service fields."""
    item_id = item["id"]
    stored = copy.deepcopy(item)
    if copied_assets is None:
        forget_item_blobs(emu, record, item_id)
        copied_assets = copy_assets(emu, record, item_id, item.get("assets") or {}, base_url)
    stored["assets"] = copied_assets
    stored["links"] = [
        link
        for link in item.get("links") or []
        if isinstance(link, dict) and link.get("rel") not in SERVICE_ITEM_RELS
    ]
    if "bbox" not in stored:
        box = geometry_bbox(stored.get("geometry"))
        if box is not None:
            stored["bbox"] = list(box)
    stored["_msft:etag"] = emu.new_id()
    stored["_msft:ts"] = format_micros(now)
    record.items[item_id] = stored
    return stored


def present_item(
    stored: dict[str, Any],
    base_url: str,
    *,
    sign: bool = False,
    sign_item: Any = None,
) -> dict[str, Any]:
    """The item as GET returns it: service links first (collection, parent, root, self)."""
    collection_id = stored["collection"]
    collection_url = f"{base_url}/stac/collections/{collection_id}"
    links = [
        {"rel": "collection", "type": "application/json", "href": collection_url},
        {"rel": "parent", "type": "application/json", "href": collection_url},
        {"rel": "root", "type": "application/json", "href": f"{base_url}/stac/"},
        {
            "rel": "self",
            "type": "application/geo+json",
            "href": f"{collection_url}/items/{stored['id']}",
        },
        *stored.get("links", []),
    ]
    result = dict(stored)
    result["links"] = links
    if sign and sign_item is not None:
        result["assets"] = {
            key: {**asset, "href": sign_item(asset["href"])}
            for key, asset in stored.get("assets", {}).items()
        }
    return result
