"""Every bad input of the issue: a 4xx problem naming the field, and no job created."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from local.host.app_loader import TriggerKind
from local.ports import free_port
from local.stack import REPO_ROOT
from tests.integration.e2e.conftest import (
    DEMO_SEARCH,
    E2E,
    INLINE_MAX_BYTES,
    MAX_ITEMS_CEILING,
    naip_items,
)

Body = Callable[[E2E], dict[str, Any]]
PROBLEM = "application/problem+json"


def search(e2e: E2E, **changes: Any) -> dict[str, Any]:
    source = {"type": "stac-search", "url": e2e.pc.stac_url, **DEMO_SEARCH, **changes}
    return {"collection": "e2e-never-created", "source": source}


def oversized(e2e: E2E) -> dict[str, Any]:
    items = naip_items(4)
    for item in items:
        item["properties"]["e2e:padding"] = "x" * (INLINE_MAX_BYTES // 3)
    return {"collection": "e2e-never-created", "source": {"type": "items", "items": items}}


BAD_INPUT: list[tuple[str, Body, int, str]] = [
    (
        "unknown source type",
        lambda e2e: {
            "collection": "e2e-never-created",
            "source": {"type": "ftp", "url": e2e.pc.stac_url},
        },
        400,
        "source.type",
    ),
    (
        "bbox out of range",
        lambda e2e: search(e2e, bbox=[8.0, 79.5, 16.0, 95.0]),
        400,
        "source.bbox",
    ),
    (
        "malformed datetime",
        lambda e2e: search(e2e, datetime="2024-05-10/last tuesday"),
        400,
        "source.datetime",
    ),
    (
        "maxItems above the ceiling",
        lambda e2e: search(e2e, maxItems=MAX_ITEMS_CEILING + 1),
        400,
        "source.maxItems",
    ),
    ("inline items above the size cap", oversized, 413, "source.items"),
    (
        "source host outside the allow-list",
        lambda e2e: search(e2e, url="https://stac.example.org/api/stac/v1"),
        400,
        "source.url",
    ),
    (
        "item URL host outside the allow-list",
        lambda e2e: {
            "collection": "e2e-never-created",
            "source": {
                "type": "item-urls",
                "urls": [
                    f"{e2e.pc.stac_url}/collections/naip/items/x",
                    "https://stac.example.org/items/y.json",
                ],
            },
        },
        400,
        "source.urls[1]",
    ),
    ("unknown collection without createCollection", lambda e2e: search(e2e), 422, "collection"),
    # The STAC item-search body: what it defines is taken, what it forbids is refused.
    (
        "the fields extension",
        lambda e2e: search(e2e, fields={"include": ["id"], "exclude": []}),
        400,
        "source.fields",
    ),
    (
        "bbox and intersects together",
        lambda e2e: search(e2e, intersects={"type": "Point", "coordinates": [12.0, 79.9]}),
        400,
        "source.intersects",
    ),
    (
        "intersects not a geometry",
        lambda e2e: search(e2e, bbox=None, intersects={"type": "Circle", "radius": 3}),
        400,
        "source.intersects",
    ),
    (
        "CQL2 text that does not parse",
        lambda e2e: search(e2e, filter="eo:cloud_cover <", **{"filter-lang": "cql2-text"}),
        400,
        "source.filter",
    ),
    (
        "CQL2 text under filter-lang cql2-json",
        lambda e2e: search(e2e, filter="eo:cloud_cover < 10", **{"filter-lang": "cql2-json"}),
        400,
        "source.filter",
    ),
    (
        "an unknown filter language",
        lambda e2e: search(e2e, filter="eo:cloud_cover < 10", **{"filter-lang": "ecql"}),
        400,
        "source.filter-lang",
    ),
    (
        "a sort key without a direction it knows",
        lambda e2e: search(e2e, sortby=[{"field": "datetime", "direction": "up"}]),
        400,
        "source.sortby[0]",
    ),
    ("a page size of 0", lambda e2e: search(e2e, limit=0), 400, "source.limit"),
    (
        "ids as a comma list",
        lambda e2e: search(e2e, ids="S2B_a,S2B_b"),
        400,
        "source.ids",
    ),
    (
        "dropAssets larger than a job record holds",
        lambda e2e: {**search(e2e), "dropAssets": [f"a{i:04d}" + "x" * 200 for i in range(60)]},
        400,
        "dropAssets",
    ),
]


def assert_problem(response: httpx.Response, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("urn:geocatalog-ingest:problem:")
    assert problem["title"]
    assert problem["detail"]
    assert problem["field"] == field, problem
    return problem


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_bad_input_is_refused_and_creates_no_job(
    e2e: E2E, body: Body, status: int, field: str
) -> None:
    jobs, active = e2e.job_rows(), e2e.active_jobs()
    response = e2e.post_ingest(body(e2e))
    problem = assert_problem(response, status, field)
    assert problem["instance"] == "/api/ingest"
    assert e2e.job_rows() == jobs
    assert e2e.active_jobs() == active


def _raw(e2e: E2E, **source: str) -> str:
    """A body whose source members are raw JSON text (NaN, Infinity: what json.dumps writes)."""
    members = ",".join(f'"{k}":{v}' for k, v in source.items())
    return (
        '{"collection":"e2e-never-created","source":{"type":"stac-search",'
        f'"url":"{e2e.pc.stac_url}","collections":["sentinel-2-l2a"],{members}}}}}'
    )


NOT_JSON: list[tuple[str, str, Callable[[E2E], str], str]] = [
    (
        "NaN in query",
        "ingest",
        lambda e2e: _raw(e2e, query='{"eo:cloud_cover":{"lt":NaN}}'),
        "source.query.eo:cloud_cover.lt",
    ),
    (
        "Infinity in a CQL2 filter",
        "ingest",
        lambda e2e: _raw(e2e, filter='{"op":"<","args":[{"property":"eo:cloud_cover"},Infinity]}'),
        "source.filter.args[1]",
    ),
    (
        "-Infinity in intersects",
        "ingest",
        lambda e2e: _raw(e2e, intersects='{"type":"Point","coordinates":[-Infinity,0]}'),
        "source.intersects.coordinates[0]",
    ),
    ("NaN as bbox", "ingest", lambda e2e: _raw(e2e, bbox="[NaN,0,1,1]"), "source.bbox"),
    ("NaN as maxItems", "ingest", lambda e2e: _raw(e2e, maxItems="NaN"), "source.maxItems"),
    (
        "a body nested 100,000 levels",
        "ingest",
        lambda e2e: '{"collection":"x","source":' + "[" * 100_000 + "]" * 100_000 + "}",
        "body",
    ),
    (
        "a filter nested 150 levels",
        "ingest",
        lambda e2e: _raw(e2e, filter='{"op":"not","args":[' * 150 + "true" + "]}" * 150),
        "body",
    ),
    (
        "a collection request nested 100,000 levels",
        "collections",
        lambda e2e: (
            '{"id":"e2e-never-created","templateUrl":' + "[" * 100_000 + "]" * 100_000 + "}"
        ),
        "body",
    ),
]


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [case[1:] for case in NOT_JSON],
    ids=[case[0] for case in NOT_JSON],
)
def test_malformed_json_is_a_400_naming_the_field_and_creates_nothing(
    e2e: E2E, route: str, body: Callable[[E2E], str], field: str
) -> None:
    jobs, active = e2e.job_rows(), e2e.active_jobs()
    collections_before = set(e2e.geocatalog.emulator.state.collections)
    response = e2e.http.post(
        f"{e2e.api}/{route}", content=body(e2e), headers={"Content-Type": "application/json"}
    )
    problem = assert_problem(response, 400, field)
    assert problem["instance"] == f"/api/{route}"
    assert e2e.job_rows() == jobs
    assert e2e.active_jobs() == active
    assert set(e2e.geocatalog.emulator.state.collections) == collections_before


def test_a_bbox_across_the_antimeridian_is_accepted(e2e: E2E, collection_id: str) -> None:
    """west > east is a box across the antimeridian (STAC API item search), not an error."""
    e2e.create_collection(collection_id)
    job_id = e2e.submit(
        {
            "collection": collection_id,
            "source": {
                "type": "stac-search",
                "url": e2e.pc.stac_url,
                "collections": ["sentinel-2-l2a"],
                "bbox": [172.5, 53.0, -170.0, 59.0],
                "datetime": "2019-01-01/2019-01-02",
                "maxItems": 3,
            },
        }
    )
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)

    assert job["state"] == "succeeded", job["errors"]
    assert job["source"]["bbox"] == [172.5, 53.0, -170.0, 59.0]
    assert len(rows) == 3
    # Only scenes east of 172.5°E (the recorded ones near the antimeridian) were found.
    stored = e2e.catalog_items(collection_id)
    assert len(stored) == 3
    assert all(item["bbox"][2] >= 172.5 for item in stored.values())


def test_unknown_and_malformed_job_ids_are_404_problems(e2e: E2E) -> None:
    unknown = uuid.uuid4().hex
    for method, path in (
        ("GET", f"jobs/{unknown}"),
        ("GET", f"jobs/{unknown}/items"),
        ("POST", f"jobs/{unknown}/retry"),
        ("POST", f"jobs/{unknown}/cancel"),
        ("GET", "jobs/not-a-job-id"),
        ("GET", "jobs/NOT0A0JOB0ID00000000000000000000/items"),
    ):
        assert_problem(e2e.http.request(method, f"{e2e.api}/{path}"), 404, "jobId")


@pytest.fixture
def production_host(e2e: E2E) -> Iterator[str]:
    """A second host on the same storage and emulators, outside local mode (LOCAL_MODE=false),
    run as its own process: settings are read once per process. Its queue and timer functions
    are disabled, so it cannot take the first host's messages."""
    assert e2e.stack.azurite is not None
    port = free_port()
    env = {
        **os.environ,
        "LOCAL_MODE": "false",
        "AzureWebJobsStorage": e2e.stack.azurite.connection_string,
        "GEOCATALOG_URL": e2e.geocatalog.base_url,
        "GEOCATALOG_CREDENTIAL": "none",
        "PLANETARY_COMPUTER_URL": e2e.pc.base_url,
        "SOURCE_ALLOWED_HOSTS": "127.0.0.1",
    }
    for name, function in e2e.host.functions.items():
        if function.spec.kind is not TriggerKind.HTTP:
            env[f"AzureWebJobs.{name}.Disabled"] = "true"
    process = subprocess.Popen(
        [sys.executable, "-m", "local.host", "--port", str(port), "--project-dir", "."],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/admin/host/status", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the second host exited"
            assert time.monotonic() < deadline, "the second host did not start"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_plain_http_sources_are_refused_outside_local_mode(
    e2e: E2E, production_host: str, collection_id: str
) -> None:
    e2e.create_collection(collection_id)
    body = {
        "collection": collection_id,
        "source": {"type": "stac-search", "url": e2e.pc.stac_url, **DEMO_SEARCH, "maxItems": 1},
    }
    assert e2e.pc.stac_url.startswith("http://")
    jobs, active = e2e.job_rows(), e2e.active_jobs()

    refused = httpx.post(f"{production_host}/api/ingest", json=body, timeout=60)
    problem = assert_problem(refused, 400, "source.url")
    assert "https" in problem["detail"]
    assert e2e.job_rows() == jobs
    assert e2e.active_jobs() == active

    # The same body in local mode is accepted (the emulators speak plain http); a dry run.
    job_id = e2e.submit({**body, "dryRun": True})
    e2e.wait_for_job(job_id)
    job, rows = e2e.assert_every_item_accounted(job_id)
    assert job["state"] == "succeeded"
    assert [r["state"] for r in rows] == ["skipped"]
