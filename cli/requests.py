"""The common ingest requests built from command-line flags."""

from __future__ import annotations

from typing import Any

from cli.client import BadInput


def parse_bbox(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise BadInput(f"--bbox must be numbers separated by commas, not {text!r}") from None
    if len(values) not in (4, 6):
        raise BadInput("--bbox takes 4 numbers (west,south,east,north) or 6 (with heights)")
    return values


def ingest_request(
    *,
    collection: str,
    source: dict[str, Any],
    template: str | None,
    mode: str,
    dry_run: bool,
    drop_assets: list[str] | None,
) -> dict[str, Any]:
    request: dict[str, Any] = {"collection": collection, "source": source, "mode": mode}
    if template:
        request["createCollection"] = {"templateUrl": template}
    if dry_run:
        request["dryRun"] = True
    if drop_assets is not None:
        request["dropAssets"] = drop_assets
    return request


def stac_search_source(
    *,
    url: str,
    collections: list[str],
    bbox: str | None,
    datetime: str | None,
    max_items: int | None,
) -> dict[str, Any]:
    source: dict[str, Any] = {"type": "stac-search", "url": url, "collections": collections}
    if bbox:
        source["bbox"] = parse_bbox(bbox)
    if datetime:
        source["datetime"] = datetime
    if max_items is not None:
        source["maxItems"] = max_items
    return source


def static_catalog_source(*, url: str, max_items: int | None) -> dict[str, Any]:
    source: dict[str, Any] = {"type": "static-catalog", "url": url}
    if max_items is not None:
        source["maxItems"] = max_items
    return source
