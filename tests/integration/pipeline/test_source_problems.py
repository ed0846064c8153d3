"""Parts of a source that cannot be read, through the real planner and a real job store: recorded
on the job once, however often a plan page is delivered, and the job ends partially succeeded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from shared.jobs.records import JobRecord, NewItem
from shared.jobs.states import ItemState, JobState
from shared.pipeline import plan
from shared.pipeline.deps import PipelineDeps
from shared.pipeline.dispatch import register_and_dispatch
from shared.pipeline.submit import submit_job
from tests.integration.pipeline.conftest import Harness, pc_items
from tests.integration.source_server import document, source_server


def catalog(*links: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "Catalog",
        "id": "c",
        "stac_version": "1.1.0",
        "description": "real NAIP items under catalogs of which two are gone",
        "links": [{"rel": rel, "href": href} for rel, href in links],
    }


def test_broken_children_are_recorded_once_each_even_when_a_page_is_delivered_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = pc_items(4)
    with source_server() as web:
        for n, item in enumerate(items):
            web.serve(f"/items/{n}.json", document(item))
        web.serve("/a/catalog.json", document(catalog(("item", "../items/0.json"))))
        web.serve(
            "/b/catalog.json",
            document(catalog(*[("item", f"../items/{n}.json") for n in (1, 2, 3)])),
        )
        # Page size 4: page 0 meets /gone-1, page 1 meets /gone-2 (neither is served: 404).
        web.serve(
            "/catalog.json",
            document(
                catalog(
                    ("child", "a/catalog.json"),
                    ("child", "gone-1/catalog.json"),
                    ("child", "b/catalog.json"),
                    ("child", "gone-2/catalog.json"),
                )
            ),
        )
        job_id = submit_job(
            {
                "collection": "naip-test",
                "source": {"type": "static-catalog", "url": web.url("/catalog.json")},
            },
            harness.deps,
        ).job_id
        # Each of the two plan pages fails once after it was read (and its problems recorded),
        # and is delivered again: calls 1 and 3 of the registration fail.
        calls: list[int] = []

        def register_failing_once_a_page(
            job: JobRecord, unit: str, new: Sequence[NewItem], deps: PipelineDeps
        ) -> Any:
            calls.append(len(new))
            if len(calls) in (1, 3):
                raise ConnectionError("storage hiccup after the page was read")
            return register_and_dispatch(job, unit, new, deps)

        monkeypatch.setattr(plan, "register_and_dispatch", register_failing_once_a_page)
        harness.driver.run()
        gone = web.hits_of("/gone-1/catalog.json"), web.hits_of("/gone-2/catalog.json")

    view = harness.assert_accounted(job_id)
    assert calls == [4, 4, 0, 0]  # page 0: 4 items; page 1: only the broken link
    assert gone == (2, 2)  # each broken link met twice, by the two deliveries of its page
    problems = view.job.source_problems
    assert problems.count == 2
    assert [p.url for p in problems.first] == [
        web.url("/gone-1/catalog.json"),
        web.url("/gone-2/catalog.json"),
    ]
    assert {p.code for p in problems.first} == {"SourceLinkBroken"}
    assert view.counts[ItemState.SUCCEEDED] == 4
    assert view.state is JobState.PARTIALLY_SUCCEEDED
    assert view.job.settled_state is JobState.PARTIALLY_SUCCEEDED


def test_pages_planned_side_by_side_end_planning_only_when_all_are_done(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each page sends the next as soon as it has read its own, so a later page can finish
    first: planning (and so the job) must end only when every page is done."""
    items = pc_items(10)
    with source_server() as web:
        for n, item in enumerate(items):
            web.serve(f"/items/{n}.json", document(item))
        job_id = submit_job(
            {
                "collection": "naip-test",
                "source": {
                    "type": "item-urls",
                    "urls": [web.url(f"/items/{n}.json") for n in range(10)],
                },
            },
            harness.deps,
        ).job_id
        seen: list[tuple[bool, int]] = []

        def first_page_last(
            job: JobRecord, unit: str, new: Sequence[NewItem], deps: PipelineDeps
        ) -> Any:
            if unit == "p00000000" and not seen:
                # Pages 1 and 2 (and all their batches) run to the end before page 0 registers.
                harness.driver.run()
                view = harness.view(job.job_id)
                seen.append((view.job.planning_done, view.total))
            return register_and_dispatch(job, unit, new, deps)

        monkeypatch.setattr(plan, "register_and_dispatch", first_page_last)
        harness.driver.run()

    assert seen == [(False, 6)]  # pages 1 and 2 done, page 0 not: still planning
    view = harness.assert_accounted(job_id)
    assert view.job.planning_done
    assert view.job.planned_pages == 3
    assert view.counts[ItemState.SUCCEEDED] == 10
    assert view.state is JobState.SUCCEEDED
