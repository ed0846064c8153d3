"""`GET /` of the local host points to the job pages, the OpenAPI document and the CLI."""

from __future__ import annotations

import re

import httpx

from tests.integration.e2e.conftest import E2E


def test_the_root_points_to_the_pages_the_document_and_the_cli(op: E2E) -> None:
    base = op.stack.base_url
    text = httpx.get(f"{base}/", timeout=30)
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/plain")
    assert f"{base}/api/ui/jobs" in text.text
    assert f"{base}/api/openapi.json" in text.text
    assert f"geocatalog-ingest --url {base} jobs" in text.text
    # This stack enforces keys: the page says how to pass one (and holds none).
    assert "?code=<function key>" in text.text

    page = httpx.get(f"{base}/", headers={"Accept": "text/html"}, timeout=30)
    assert page.headers["content-type"].startswith("text/html")
    links = re.findall(r'href="([^"]+)"', page.text)
    assert f"{base}/api/ui/jobs" in links
    # Every link it gives leads somewhere (with the key).
    for link in links:
        assert op.http.get(link).status_code == 200, link
