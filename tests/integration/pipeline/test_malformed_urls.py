"""URLs that Python's own parser refuses (an unclosed IPv6 bracket, a port that is no number) in
what a source serves: each costs only what holds it, never the page it is on."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shared.jobs.states import ItemState, JobState
from shared.pipeline.submit import submit_job
from tests.integration.pipeline.conftest import Harness, pc_items
from tests.integration.source_server import document, source_server

BAD_URLS = ["http://[abc/x.tif", "https://host:port/x.tif", "//[::1/x.tif"]


@pytest.mark.parametrize("bad", BAD_URLS)
def test_an_asset_href_python_cannot_parse_makes_only_its_item_invalid(
    harness: Harness, bad: str
) -> None:
    items = pc_items(3)
    broken = copy.deepcopy(items[1])
    next(iter(broken["assets"].values()))["href"] = bad
    with source_server() as web:
        for n, item in enumerate([items[0], broken, items[2]]):
            web.serve(f"/items/{n}.json", document(item))
        job_id = submit_job(
            {
                "collection": "naip-test",
                "source": {
                    "type": "item-urls",
                    "urls": [web.url(f"/items/{n}.json") for n in range(3)],
                },
            },
            harness.deps,
        ).job_id
        harness.driver.run()

    view = harness.assert_accounted(job_id)
    assert (view.counts[ItemState.SUCCEEDED], view.counts[ItemState.INVALID]) == (2, 1)
    [(item_id, error)] = view.errors
    assert item_id == broken["id"]
    assert error.code == "InvalidAssetHref"


@pytest.mark.parametrize("bad", BAD_URLS)
def test_a_catalog_link_python_cannot_parse_is_a_broken_link_not_a_failed_plan(
    harness: Harness, bad: str
) -> None:
    items = pc_items(2)
    catalog: dict[str, Any] = {
        "type": "Catalog",
        "id": "c",
        "stac_version": "1.1.0",
        "description": "one good item and a link nobody can follow",
        "links": [
            {"rel": "item", "href": "items/0.json"},
            {"rel": "child", "href": bad.replace(".tif", ".json")},
            {"rel": "item", "href": "items/1.json"},
        ],
    }
    with source_server() as web:
        for n, item in enumerate(items):
            web.serve(f"/items/{n}.json", document(item))
        web.serve("/catalog.json", document(catalog))
        job_id = submit_job(
            {
                "collection": "naip-test",
                "source": {"type": "static-catalog", "url": web.url("/catalog.json")},
            },
            harness.deps,
        ).job_id
        harness.driver.run()

    view = harness.assert_accounted(job_id)
    assert view.counts[ItemState.SUCCEEDED] == 2
    assert view.job.plan_error is None
    assert view.job.source_problems.count == 1
    assert view.state is JobState.PARTIALLY_SUCCEEDED
