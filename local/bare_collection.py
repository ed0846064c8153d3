"""A bare STAC collection, straight in the GeoCatalog (set-up for demos and tests, not the service's
own bootstrap, which POST /api/collections and createCollection do from a template)."""

from __future__ import annotations

from typing import Any

from shared.geocatalog.client import GeoCatalogClient
from shared.geocatalog.models import Operation
from shared.retry import wait_for_operation


def bare_collection(collection_id: str, description: str) -> dict[str, Any]:
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": collection_id,
        "description": description,
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [["2000-01-01T00:00:00Z", None]]},
        },
        "links": [],
    }


def create_bare_collection(
    client: GeoCatalogClient,
    collection_id: str,
    description: str,
    *,
    timeout: float,
    poll_interval: float,
) -> Operation:
    """Create it and wait for its operation to end; the operation as it ended."""
    operation = client.create_collection(bare_collection(collection_id, description))
    return wait_for_operation(client, operation.id, timeout=timeout, poll_interval=poll_interval)
