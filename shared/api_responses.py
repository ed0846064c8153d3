"""The HTTP API's response bodies as typed models: the OpenAPI document's response schemas are
derived from them (`shared.openapi`), and the service's answers are checked against them in tests.

Enumerations come from the code that decides them (item, job and ingestion-source states, modes,
bootstrap actions), so the document cannot drift from the service. A member typed `X | None` with
`omitted()` is left out of the answer when absent (never `null`); one without it is always there
and may be `null`.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import Discriminator, Field, JsonValue, RootModel, create_model, field_validator

from shared.collections.results import CREATED, SKIPPED, UNCHANGED, UPDATED
from shared.contract import ApiModel
from shared.geocatalog.ingestion_sources import SourceStatus
from shared.ingest_request import IngestMode
from shared.jobs.states import ItemState, JobState
from shared.problems import PROBLEM_TYPE_BASE
from shared.sources.specs import SortBy

JOB_ID_PATTERN: Final = "^[0-9a-f]{32}$"
ACTIONS: Final = (CREATED, UPDATED, UNCHANGED, SKIPPED)

JobId = Annotated[str, Field(pattern=JOB_ID_PATTERN)]
Count = Annotated[int, Field(ge=0)]
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


def _omitted_when_absent(schema: dict[str, Any]) -> None:
    any_of = schema.pop("anyOf", None)
    if any_of is not None:
        kept = [s for s in any_of if s != {"type": "null"}]
        if len(kept) == 1:
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept
    schema.pop("default", None)


def omitted(**kwargs: Any) -> Any:
    """A member left out of the answer when it has no value (the schema says its type only)."""
    return Field(default=None, json_schema_extra=_omitted_when_absent, **kwargs)


def _enum(values: list[str]) -> Any:
    enum: list[JsonValue] = list(values)
    return Field(json_schema_extra={"enum": enum})


# -- problems ------------------------------------------------------------------------------------


class FieldProblem(ApiModel):
    field: str
    detail: str


class Problem(ApiModel):
    """RFC 9457 problem details."""

    type: Annotated[
        str,
        Field(description=f"`{PROBLEM_TYPE_BASE}<kind>`; `about:blank` is never used."),
    ]
    title: str
    status: Annotated[int, Field(ge=400, le=599)]
    detail: str
    instance: str | None = omitted(description="The request path (never its query string).")
    field: str | None = omitted(
        description="The first offending field (`source.bbox`, `jobId`, `body`)."
    )
    errors: list[FieldProblem] | None = omitted(min_length=1)
    retry_after: Annotated[int | None, Field(alias="retryAfter")] = omitted(
        ge=0, description="Seconds to wait before trying again (also Retry-After)."
    )
    upstream: str | None = omitted(description="The remote service at fault.")
    upstream_status: Annotated[int | None, Field(alias="upstreamStatus")] = omitted()
    upstream_code: Annotated[str | None, Field(alias="upstreamCode")] = omitted()
    upstream_host: Annotated[str | None, Field(alias="upstreamHost")] = omitted()
    geocatalog_code: Annotated[str | None, Field(alias="geocatalogCode")] = omitted(
        description="The GeoCatalog's error code."
    )
    operation_id: Annotated[str | None, Field(alias="operationId")] = omitted(
        description="A failed GeoCatalog operation."
    )
    max_bytes: Annotated[int | None, Field(alias="maxBytes")] = omitted(
        description="413: the inline size cap."
    )
    size_bytes: Annotated[int | None, Field(alias="sizeBytes")] = omitted(
        description="413: the size that was sent."
    )


# -- jobs ----------------------------------------------------------------------------------------


class IngestAccepted(ApiModel):
    job_id: Annotated[JobId, Field(alias="jobId")]
    status_url: Annotated[str, Field(alias="statusUrl", description="Absolute URL of the job.")]


class StacSearchRecord(ApiModel):
    """A stac-search source as recorded: its members, the URL without a SAS signature."""

    type: Literal["stac-search"]
    url: str
    collections: list[str] | None = omitted()
    ids: list[str] | None = omitted()
    bbox: list[float] | None = omitted()
    intersects: dict[str, Any] | None = omitted()
    datetime: str | None = omitted(description="Normalised to RFC 3339 (full dates expanded).")
    query: dict[str, Any] | None = omitted()
    filter: dict[str, Any] | str | None = omitted()
    filter_lang: Annotated[str | None, Field(alias="filter-lang")] = omitted()
    filter_crs: Annotated[str | None, Field(alias="filter-crs")] = omitted()
    sortby: list[SortBy] | None = omitted()
    limit: int | None = omitted()
    max_items: Annotated[int | None, Field(alias="maxItems")] = omitted()
    omitted_members: Annotated[dict[str, Count] | None, Field(alias="omitted")] = omitted(
        description=(
            "Members too large for the job record (a detailed AOI polygon), by their size in "
            "bytes; the job uses them in full."
        )
    )


class StaticCatalogRecord(ApiModel):
    type: Literal["static-catalog"]
    url: str
    max_items: Annotated[int | None, Field(alias="maxItems")] = omitted()


class InlineItemsRecord(ApiModel):
    type: Literal["items"]
    count: Count


class ItemUrlsRecord(ApiModel):
    type: Literal["item-urls"]
    count: Count
    first_urls: Annotated[list[str], Field(alias="firstUrls", max_length=5)]


class StorageEventsRecord(ApiModel):
    """A rolling job of a storage route (shared.storage_events): one per route, UTC day,
    generation and target collection."""

    type: Literal["storage-events"]
    route: str
    container_url: Annotated[str, Field(alias="containerUrl")]
    prefix: str
    suffix: str
    collection: Annotated[str, Field(description="The route's target; `$item`: each item's own.")]
    sync_deletes: Annotated[bool, Field(alias="syncDeletes")]
    day: Annotated[str, Field(json_schema_extra={"format": "date"})]
    generation: Annotated[
        int,
        Field(
            ge=0,
            description="A blob written again the same day goes to the day's next generation "
            "of the route's rolling job.",
        ),
    ]


class SourceRecord(
    RootModel[
        Annotated[
            StacSearchRecord
            | StaticCatalogRecord
            | InlineItemsRecord
            | ItemUrlsRecord
            | StorageEventsRecord,
            Discriminator("type"),
        ]
    ]
):
    """The source as recorded: URLs without SAS signatures, inline items and item URLs
    summarised, members too large for the record by their size."""


JobCounts = create_model(
    "JobCounts",
    __base__=ApiModel,
    __doc__="Items per state; `total` is their sum.",
    total=(Count, ...),
    **{state.value: (Count, ...) for state in ItemState},  # type: ignore[call-overload]
)


class Planning(ApiModel):
    done: bool
    pages: Annotated[Count, Field(description="Source pages planned so far.")]


class ErrorRecord(ApiModel):
    code: str
    message: str


class ContainerUse(ApiModel):
    container_url: Annotated[str, Field(alias="containerUrl")]
    ingestion_source: Annotated[SourceStatus, Field(alias="ingestionSource")]


class ItemErrorRecord(ApiModel):
    item_id: Annotated[str, Field(alias="itemId")]
    code: str
    message: str


class JobWarning(ApiModel):
    code: str
    message: str
    url: Annotated[
        str | None, Field(description="The part of the source concerned, without query string.")
    ] = omitted()


class JobLinks(ApiModel):
    self_: Annotated[str, Field(alias="self")]
    items: str


class TemplateRecord(ApiModel):
    template_url: Annotated[str, Field(alias="templateUrl")]


class Job(ApiModel):
    job_id: Annotated[JobId, Field(alias="jobId")]
    state: JobState
    collection: str
    mode: IngestMode
    dry_run: Annotated[bool, Field(alias="dryRun")]
    cancel_requested: Annotated[
        bool,
        Field(
            alias="cancelRequested",
            description=(
                "POST .../cancel was called; the job reports `running` until nothing is in "
                "flight, then `canceled`."
            ),
        ),
    ]
    source: SourceRecord
    drop_assets: Annotated[list[str], Field(alias="dropAssets")]
    create_collection: Annotated[TemplateRecord | None, Field(alias="createCollection")] = omitted()
    counts: JobCounts
    created_at: Annotated[Timestamp, Field(alias="createdAt")]
    updated_at: Annotated[Timestamp, Field(alias="updatedAt")]
    completed_at: Annotated[
        Timestamp | None,
        Field(alias="completedAt", description="When the job settled; null while it runs."),
    ]
    planning: Planning
    plan_error: Annotated[ErrorRecord | None, Field(alias="planError")] = omitted(
        description="Why planning stopped (source unreadable, dead-lettered)."
    )
    containers: Annotated[
        list[ContainerUse],
        Field(description="Asset containers and how their ingestion source was handled."),
    ]
    errors: Annotated[
        list[ItemErrorRecord],
        Field(description="The first (up to 10) failed, invalid or dead-lettered items."),
    ]
    warnings: Annotated[
        list[JobWarning],
        Field(
            description=(
                "What the job has to say that belongs to no one item: parts of the source that "
                "could not be read (`SourceLinkBroken`, `SourceLinkUnavailable`; the job is then "
                "at best `partially_succeeded`), more of them than are listed "
                "(`MoreSourceProblems`), and a source that matched no item at all "
                "(`NoItemsFound`)."
            )
        ),
    ]
    links: JobLinks


class JobItem(ApiModel):
    item_id: Annotated[str, Field(alias="itemId")]
    state: ItemState
    operation_id: Annotated[
        str | None,
        Field(alias="operationId", description="The GeoCatalog operation of the last post."),
    ]
    attempts: Count
    updated_at: Annotated[Timestamp | None, Field(alias="updatedAt")]
    last_error: Annotated[ErrorRecord | None, Field(alias="lastError")] = omitted()


class JobItemsPage(ApiModel):
    job_id: Annotated[JobId, Field(alias="jobId")]
    items: list[JobItem]
    next_cursor: Annotated[
        str | None,
        Field(
            alias="nextCursor",
            description="Pass as `cursor` for the next page; null on the last page.",
        ),
    ]


class RetryResult(ApiModel):
    job_id: Annotated[JobId, Field(alias="jobId")]
    reposted: Annotated[Count, Field(description="Items queued to be posted again.")]
    rechecked: Annotated[
        Count, Field(description="Dead-lettered items whose operation is followed again.")
    ]
    planning_redriven: Annotated[bool, Field(alias="planningRedriven")]
    status_url: Annotated[str, Field(alias="statusUrl")]


# -- collections and health ----------------------------------------------------------------------

CollectionSummary = create_model(
    "CollectionSummary",
    __base__=ApiModel,
    **dict.fromkeys(ACTIONS, (Count, ...)),  # type: ignore[call-overload]
)


class CollectionChange(ApiModel):
    kind: Literal["collection", "thumbnail", "render-option", "mosaic", "tile-settings"]
    id: str
    action: Annotated[str, _enum(list(ACTIONS))]

    @field_validator("action")
    @classmethod
    def _known_action(cls, value: str) -> str:
        if value not in ACTIONS:
            raise ValueError(f"not one of {', '.join(ACTIONS)}")
        return value


class CollectionResult(ApiModel):
    collection_id: Annotated[str, Field(alias="collectionId")]
    created: bool
    changed: bool
    summary: CollectionSummary
    changes: list[CollectionChange]
    warnings: list[str]


class HealthCheck(ApiModel):
    ok: bool
    detail: str
    duration_ms: Annotated[float, Field(alias="durationMs", ge=0)]


class Health(ApiModel):
    status: Literal["ok", "unhealthy"]
    checks: Annotated[
        dict[str, HealthCheck],
        Field(description="One entry per probe (configuration, storage, geocatalog)."),
    ]


RESPONSE_MODELS: Final = (
    Problem,
    IngestAccepted,
    SourceRecord,
    Job,
    JobItem,
    JobItemsPage,
    RetryResult,
    CollectionResult,
    Health,
)
