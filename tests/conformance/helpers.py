"""Shared data and small helpers for the SDK conformance tests."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import HttpResponseError

from tests.conformance.conftest import STATIC_CATALOGS

NAIP_CONTAINER = "https://naipeuwest.blob.core.windows.net/naip"
NAIP_ITEMS = [
    "wa_m_4712238_ne_10_060_20191011_20191218",
    "wa_m_4712238_nw_10_060_20231007_20240209",
]


def naip_item(index: int, collection_id: str) -> dict[str, Any]:
    """A real NAIP item (assets in Azure Blob Storage), retargeted at `collection_id` and without
    the Planetary Computer API assets, as the tutorial prepares items before posting them."""
    name = NAIP_ITEMS[index]
    path = STATIC_CATALOGS / "mpcpro-sample-naip-sea-subset" / name / f"{name}.json"
    item: dict[str, Any] = json.loads(path.read_text())
    item = copy.deepcopy(item)
    item["collection"] = collection_id
    for key in ("tilejson", "rendered_preview"):
        item["assets"].pop(key, None)
    return item


def sas_token(expiry: str = "2099-12-31T23:59:59Z") -> str:
    return f"sv=2021-06-08&st=2024-01-01T00%3A00%3A00Z&se={expiry.replace(':', '%3A')}&sr=c&sp=rl&sig=not-a-real-signature"


def lro_error_code(error: HttpResponseError) -> str:
    """The SDK cannot parse the operation's doubly nested error: read the history
    (docs/reference/geocatalog-api.md §2)."""
    assert error.response is not None
    code: str = error.response.json()["statusHistory"][-1]["errorCode"]
    return code


def wait_until(check: Callable[[], Any], *, attempts: int = 400, pause: float = 0.02) -> Any:
    """Poll `check` until it returns something truthy; a bounded loop, not a timing assertion."""
    for _ in range(attempts):
        result = check()
        if result:
            return result
        time.sleep(pause)
    raise AssertionError("condition not reached")
