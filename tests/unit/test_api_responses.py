"""The response models against what the service answers: every job view, item record and problem
the code builds is valid for its model (so for the OpenAPI schema derived from it), and the models
refuse what the document does not promise."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from shared.api_responses import Job, JobItem, Problem, SourceRecord
from shared.ingest_request import parse_ingest_request
from shared.jobs.records import ItemError, ItemRecord, JobRecord, JobView
from shared.jobs.states import ItemState, JobState
from shared.pipeline.views import item_json, job_json
from shared.problems import InvalidRequest, PayloadTooLarge, ServiceUnavailable
from shared.settings import GeoCatalogSettings, Settings, StorageSettings

PC = "https://planetarycomputer.microsoft.com/api/stac/v1"
SETTINGS = Settings(
    geocatalog=GeoCatalogSettings(url="https://catalog.example"),
    storage=StorageSettings(connection_string="UseDevelopmentStorage=true"),
)
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def aoi(vertices: int) -> dict[str, Any]:
    ring = [
        [
            12 + 4 * math.cos(2 * math.pi * i / vertices),
            79.8 + 0.3 * math.sin(2 * math.pi * i / vertices),
        ]
        for i in range(vertices)
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


SOURCES: dict[str, dict[str, Any]] = {
    "stac-search-everything": {
        "type": "stac-search",
        "url": PC,
        "collections": ["sentinel-2-l2a"],
        "ids": ["a"],
        "intersects": aoi(12),
        "datetime": "2024-05-10/2024-05-20",
        "query": {"eo:cloud_cover": {"lt": 10}},
        "filter": "eo:cloud_cover < 10",
        "filter-lang": "cql2-text",
        "sortby": [{"field": "datetime", "direction": "desc"}],
        "limit": 50,
        "maxItems": 6,
    },
    "stac-search-huge-aoi": {
        "type": "stac-search",
        "url": PC,
        "filter": {"op": "s_intersects", "args": [{"property": "geometry"}, aoi(3000)]},
    },
    "static-catalog": {"type": "static-catalog", "url": f"{PC}/catalog.json", "maxItems": 3},
    "items": {"type": "items", "items": [{"type": "Feature"}]},
    "item-urls": {"type": "item-urls", "urls": [f"{PC}/i/{n}" for n in range(9)]},
}


def view_of(source: dict[str, Any], **job: Any) -> JobView:
    request = parse_ingest_request(
        {
            "collection": "abc",
            "source": source,
            "createCollection": {"templateUrl": f"{PC}/collections/x"},
        },
        SETTINGS,
    )
    record = request.to_record()
    return JobView(
        job=JobRecord(
            job_id="0" * 32,
            collection=request.collection,
            mode=request.mode.value,
            source=record["source"],
            drop_assets=request.drop_assets,
            dry_run=request.dry_run,
            created_at=NOW,
            updated_at=NOW,
            create_collection=record["createCollection"],
            **job,
        ),
        state=JobState.PARTIALLY_SUCCEEDED,
        counts={ItemState.SUCCEEDED: 2, ItemState.INVALID: 1},
        errors=(("item-1", ItemError("InvalidNumber", "bbox[0] is NaN")),),
    )


@pytest.mark.parametrize("name", list(SOURCES))
def test_every_job_view_is_a_job(name: str) -> None:
    view = view_of(
        SOURCES[name],
        completed_at=NOW,
        planning_done=True,
        plan_error=ItemError("SourceUnavailable", "x"),
        containers={"https://a.blob.core.windows.net/c": "created"},
    )
    body = job_json(view, status_url="https://app/api/jobs/" + "0" * 32)
    job = Job.model_validate(body)
    assert job.model_dump(mode="json", exclude_none=True) == body


def test_a_huge_aoi_is_recorded_by_its_size() -> None:
    record = SourceRecord.model_validate(view_of(SOURCES["stac-search-huge-aoi"]).job.source)
    dumped = record.model_dump(mode="json", exclude_none=True)
    assert set(dumped) == {"type", "url", "omitted"}
    assert dumped["omitted"]["filter"] > 64 * 1024


def test_item_records_are_job_items() -> None:
    for item in (
        ItemRecord(job_id="0" * 32, item_id="a", state=ItemState.PENDING),
        ItemRecord(
            job_id="0" * 32,
            item_id="b",
            state=ItemState.FAILED,
            attempts=2,
            operation_id="op",
            error=ItemError("Bad", "no"),
            updated_at=NOW,
        ),
    ):
        body = item_json(item)
        assert JobItem.model_validate(body).model_dump(mode="json", exclude_none=True) == {
            k: v for k, v in body.items() if v is not None
        }


@pytest.mark.parametrize(
    "error",
    [
        InvalidRequest("bad", field="source.bbox"),
        PayloadTooLarge("big", field="source.items", extra={"maxBytes": 1, "sizeBytes": 2}),
        ServiceUnavailable("busy", extra={"retryAfter": 3, "upstream": "GeoCatalog"}),
    ],
)
def test_problems_are_problems(error: Any) -> None:
    body = error.to_problem(instance="/api/ingest").to_dict()
    Problem.model_validate(body)


def test_the_models_refuse_what_the_document_does_not_promise() -> None:
    body = job_json(view_of(SOURCES["items"]), status_url="https://app/api/jobs/x")
    with pytest.raises(ValidationError):
        Job.model_validate({**body, "surprise": 1})
    with pytest.raises(ValidationError):
        Job.model_validate({**body, "state": "exploded"})
    with pytest.raises(ValidationError):
        SourceRecord.model_validate({"type": "stac-search", "url": PC, "filter": 3})
