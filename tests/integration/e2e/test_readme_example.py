"""The README's ingest request, run as written on the local stack (the Planetary Computer emulator
in place of the Planetary Computer), finds items: a reader who copies it sees it work."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.integration.e2e.conftest import E2E

README = Path(__file__).resolve().parents[3] / "README.md"
PLANETARY_COMPUTER = "https://planetarycomputer.microsoft.com"


def readme_ingest_request() -> dict[str, Any]:
    text = README.read_text()
    start = text.index("An ingest request")
    block = re.search(r"```json\n(.*?)```", text[start:], re.DOTALL)
    assert block is not None, "the README has no ingest request example"
    body: dict[str, Any] = json.loads(block.group(1))
    return body


def test_the_readme_ingest_request_ingests_items_on_the_local_stack(
    e2e: E2E, collection_id: str
) -> None:
    example = readme_ingest_request()
    body = json.loads(json.dumps(example).replace(PLANETARY_COMPUTER, e2e.pc.base_url))
    assert body != example  # both URLs pointed at the Planetary Computer
    body["collection"] = collection_id  # the example's own id, once per test run

    job_id = e2e.submit(body)
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "succeeded", job["errors"]
    assert job["warnings"] == []
    assert len(rows) == example["source"]["maxItems"]
    assert set(e2e.catalog_items(collection_id)) == {r["itemId"] for r in rows}
