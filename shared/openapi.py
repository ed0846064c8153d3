"""The OpenAPI 3.1 description of the service's HTTP API, served at `GET /api/openapi.json`.

Enumerations and rules come from the code that enforces them (item, job and ingestion-source
states, modes, source types, the collection id rule, the URL length cap, the configured item
ceiling), so those cannot drift; the rest is kept true by a schemathesis run against the local
host (`tests/integration/test_openapi_schemathesis.py`).

Request schemas describe what the service accepts; where a rule cannot be written in JSON Schema
(the source host allow-list, a bbox's south <= north, the datetime grammar, the inline byte cap,
whether the collection exists), the schema is looser than the service and the rule is in the
`description`: a body the schema refuses is always refused by the service, not the other way round.
Explicit `null` in an optional member means "not given".
"""

from __future__ import annotations

import copy
from typing import Any, Final

from shared.bootstrap import CREATED, SKIPPED, TITLE_MAX, UNCHANGED, UPDATED
from shared.geocatalog.models import COLLECTION_ID_RULE
from shared.ingest_request import DEFAULT_DROP_ASSETS, MAX_URL_LENGTH, IngestMode
from shared.ingestion_sources import SourceStatus
from shared.jobs.states import ItemState, JobState
from shared.openapi_operator import add_operator_api
from shared.pipeline.views import ITEMS_LIMIT_DEFAULT, ITEMS_LIMIT_MAX
from shared.problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE
from shared.settings import PipelineSettings

API_VERSION: Final = "1.0.0"
JSON: Final = "application/json"

# The collection id rule (shared.geocatalog.models.COLLECTION_ID_RULE) without look-arounds, which
# not every JSON Schema engine supports: 3-32 characters (minLength/maxLength), lowercase letters,
# digits, '-' and '_', first and last a letter or digit, every '-' followed by something else.
COLLECTION_ID_PATTERN: Final = "^[a-z0-9](?:-?[a-z0-9_])*-?[a-z0-9]$"
JOB_ID_PATTERN: Final = "^[0-9a-f]{32}$"
# "Contains something other than ASCII white space": the service strips white space and refuses
# what is left empty (it strips more than ASCII, so the schema is the looser of the two).
NOT_BLANK: Final = "[^\\t\\n\\v\\f\\r ]"
_ACTIONS: Final = (CREATED, UPDATED, UNCHANGED, SKIPPED)


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _schema(name: str) -> dict[str, str]:
    return _ref("schemas", name)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _closed(
    properties: dict[str, Any], required: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    if required:
        schema["required"] = required
    schema.update(extra)
    return schema


def _json(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {JSON: {"schema": schema, **extra}}


def _problem(slugs: list[str], status: int) -> dict[str, Any]:
    return {
        PROBLEM_CONTENT_TYPE: {
            "schema": {
                "allOf": [
                    _schema("Problem"),
                    {
                        "properties": {
                            "status": {"const": status},
                            "type": {"enum": [PROBLEM_TYPE_BASE + slug for slug in slugs]},
                        }
                    },
                ]
            }
        }
    }


# -- request bodies ------------------------------------------------------------------------------


def _request_schemas(limits: PipelineSettings) -> dict[str, Any]:
    ceiling = limits.max_items_ceiling
    url = {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_URL_LENGTH,
        "description": (
            "Absolute https URL (plain http only when the service runs in local mode) on a host "
            "of the app setting SOURCE_ALLOWED_HOSTS, without credentials; anything else is "
            "refused with 400 naming the field."
        ),
    }
    max_items = _nullable(
        {
            "type": "integer",
            "minimum": 1,
            "maximum": ceiling,
            "description": "Stop after this many items (at most the INGEST_MAX_ITEMS ceiling).",
        }
    )
    longitude = {"type": "number", "minimum": -180, "maximum": 180}
    latitude = {"type": "number", "minimum": -90, "maximum": 90}
    elevation = {"type": "number"}
    items_array = {"type": "array", "minItems": 1, "maxItems": ceiling}
    return {
        "CollectionId": {
            "type": "string",
            "minLength": 3,
            "maxLength": 32,
            "pattern": COLLECTION_ID_PATTERN,
            "description": f"A GeoCatalog collection id: {COLLECTION_ID_RULE}.",
            "examples": ["sentinel-2-l2a-demo"],
        },
        "SourceUrl": url,
        "Bbox": {
            "description": (
                "STAC bbox: [west, south, east, north] or [west, south, minElevation, east, "
                "north, maxElevation]. West greater than east crosses the antimeridian; south "
                "greater than north, or a minimum elevation above the maximum, is refused (400)."
            ),
            "oneOf": [
                {
                    "type": "array",
                    "minItems": 4,
                    "maxItems": 4,
                    "prefixItems": [longitude, latitude, longitude, latitude],
                },
                {
                    "type": "array",
                    "minItems": 6,
                    "maxItems": 6,
                    "prefixItems": [longitude, latitude, elevation, longitude, latitude, elevation],
                },
            ],
        },
        "StacSearchSource": _closed(
            {
                "type": {"const": "stac-search"},
                "url": {
                    **_schema("SourceUrl"),
                    "description": "The STAC API root (its /search endpoint is used).",
                },
                "collections": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "pattern": NOT_BLANK},
                    "description": "Source collection ids to search (duplicates are ignored).",
                },
                "bbox": _nullable(_schema("Bbox")),
                "datetime": {
                    "type": ["string", "null"],
                    "description": (
                        "STAC API datetime: an RFC 3339 date-time, a full date (the whole day), "
                        "or an interval 'start/end' with '..' or '' for one open end; the start "
                        "must not be after the end. Anything else is refused (400)."
                    ),
                    "examples": ["2024-05-10/2024-05-20"],
                },
                "query": {
                    "type": ["object", "null"],
                    "description": "STAC API query extension object, passed on unchanged.",
                },
                "filter": _nullable(
                    {
                        "type": "object",
                        "required": ["op"],
                        "properties": {"op": {"type": "string"}},
                        "description": "CQL2-JSON expression, passed on unchanged.",
                    }
                ),
                "maxItems": max_items,
            },
            ["type", "url", "collections"],
        ),
        "StaticCatalogSource": _closed(
            {
                "type": {"const": "static-catalog"},
                "url": {**_schema("SourceUrl"), "description": "URL of the catalog.json."},
                "maxItems": max_items,
            },
            ["type", "url"],
        ),
        "InlineItemsSource": _closed(
            {
                "type": {"const": "items"},
                "items": {
                    "description": (
                        "STAC Items, as an array or a FeatureCollection. At most "
                        f"{limits.inline_payload_max_bytes} bytes as compact JSON "
                        "(INGEST_INLINE_MAX_BYTES; more is refused with 413 before anything else "
                        "is checked). Each item is validated when the job plans it: an invalid "
                        "one is recorded as `invalid` with the reason, not refused here."
                    ),
                    "oneOf": [
                        {**items_array, "items": {"type": "object"}},
                        {
                            "type": "object",
                            "required": ["type", "features"],
                            "properties": {
                                "type": {"const": "FeatureCollection"},
                                "features": {**items_array, "items": {"type": "object"}},
                            },
                        },
                    ],
                },
            },
            ["type", "items"],
        ),
        "ItemUrlsSource": _closed(
            {
                "type": {"const": "item-urls"},
                "urls": {**items_array, "items": _schema("SourceUrl")},
            },
            ["type", "urls"],
        ),
        "Source": {
            "oneOf": [
                _schema("StacSearchSource"),
                _schema("StaticCatalogSource"),
                _schema("InlineItemsSource"),
                _schema("ItemUrlsSource"),
            ],
            "discriminator": {
                "propertyName": "type",
                "mapping": {
                    "stac-search": "#/components/schemas/StacSearchSource",
                    "static-catalog": "#/components/schemas/StaticCatalogSource",
                    "items": "#/components/schemas/InlineItemsSource",
                    "item-urls": "#/components/schemas/ItemUrlsSource",
                },
            },
        },
        "IngestRequest": _closed(
            {
                "collection": {
                    **_schema("CollectionId"),
                    "description": (
                        "The target collection. It must exist in the GeoCatalog unless "
                        "`createCollection` is given (else 422)."
                    ),
                },
                "source": _schema("Source"),
                "createCollection": _nullable(
                    _closed(
                        {"templateUrl": _schema("SourceUrl")},
                        ["templateUrl"],
                        description=(
                            "Create the target collection from this STAC collection template "
                            "(as POST /api/collections does) when it does not exist yet."
                        ),
                    )
                ),
                "mode": {
                    "enum": [*(m.value for m in IngestMode), None],
                    "default": IngestMode.CREATE.value,
                    "description": (
                        "`create`: POST each item; one that already exists is counted as "
                        "skipped. `upsert`: PUT, POST when the item does not exist yet."
                    ),
                },
                "dropAssets": {
                    "type": ["array", "null"],
                    "items": {"type": "string", "minLength": 1},
                    "default": list(DEFAULT_DROP_ASSETS),
                    "description": "Asset keys removed from every item before it is posted.",
                },
                "dryRun": {
                    "type": ["boolean", "null"],
                    "default": False,
                    "description": "Validate and plan, post nothing (items end `skipped`).",
                },
            },
            ["collection", "source"],
        ),
        "CollectionRequest": _closed(
            {
                "id": {**_schema("CollectionId"), "description": "The collection to create."},
                "templateUrl": {
                    "type": "string",
                    "pattern": NOT_BLANK,
                    "description": (
                        "URL of a STAC Collection to copy (surrounding white space is ignored); "
                        "the same host rules as source URLs. A Planetary Computer collection "
                        "also brings its render options and mosaics."
                    ),
                },
                "title": {
                    "type": ["string", "null"],
                    "minLength": 1,
                    "maxLength": TITLE_MAX,
                    "pattern": NOT_BLANK,
                    "description": "Title of the new collection (default: its id).",
                },
            },
            ["id", "templateUrl"],
        ),
    }


# -- response bodies -----------------------------------------------------------------------------


def _response_schemas() -> dict[str, Any]:
    text = {"type": "string"}
    count = {"type": "integer", "minimum": 0}
    timestamp = {"type": "string", "format": "date-time"}
    error = _closed({"code": text, "message": text}, ["code", "message"])
    job_id = {"type": "string", "pattern": JOB_ID_PATTERN}
    return {
        "Problem": _closed(
            {
                "type": {
                    "type": "string",
                    "description": f"`{PROBLEM_TYPE_BASE}<kind>`; `about:blank` is never used.",
                },
                "title": text,
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": text,
                "instance": {
                    "type": "string",
                    "description": "The request path (never its query string).",
                },
                "field": {
                    "type": "string",
                    "description": "The first offending field (`source.bbox`, `jobId`, `body`).",
                },
                "errors": {
                    "type": "array",
                    "minItems": 1,
                    "items": _closed({"field": text, "detail": text}, ["field", "detail"]),
                },
                "retryAfter": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Seconds to wait before trying again (also Retry-After).",
                },
                "upstream": {"type": "string", "description": "The remote service at fault."},
                "upstreamStatus": {"type": "integer"},
                "upstreamCode": text,
                "upstreamHost": text,
                "geocatalogCode": {"type": "string", "description": "The GeoCatalog's error code."},
                "operationId": {"type": "string", "description": "A failed GeoCatalog operation."},
                "maxBytes": {"type": "integer", "description": "413: the inline size cap."},
                "sizeBytes": {"type": "integer", "description": "413: the size that was sent."},
            },
            ["type", "title", "status", "detail"],
            description="RFC 9457 problem details.",
        ),
        "IngestAccepted": _closed(
            {
                "jobId": job_id,
                "statusUrl": {"type": "string", "description": "Absolute URL of the job."},
            },
            ["jobId", "statusUrl"],
        ),
        "SourceRecord": {
            "description": (
                "The source as recorded: URLs without SAS signatures, inline items and item "
                "URLs summarised."
            ),
            "oneOf": [
                _closed(
                    {
                        "type": {"const": "stac-search"},
                        "url": text,
                        "collections": {"type": "array", "items": text},
                        "bbox": {"type": "array", "items": {"type": "number"}},
                        "datetime": {
                            "type": "string",
                            "description": "Normalised to RFC 3339 (full dates expanded).",
                        },
                        "query": {"type": "object"},
                        "filter": {"type": "object"},
                        "maxItems": {"type": "integer"},
                    },
                    ["type", "url", "collections"],
                ),
                _closed(
                    {
                        "type": {"const": "static-catalog"},
                        "url": text,
                        "maxItems": {"type": "integer"},
                    },
                    ["type", "url"],
                ),
                _closed({"type": {"const": "items"}, "count": count}, ["type", "count"]),
                _closed(
                    {
                        "type": {"const": "item-urls"},
                        "count": count,
                        "firstUrls": {"type": "array", "maxItems": 5, "items": text},
                    },
                    ["type", "count", "firstUrls"],
                ),
                _closed(
                    {
                        "type": {"const": "storage-events"},
                        "route": text,
                        "containerUrl": text,
                        "prefix": {"type": "string"},
                        "suffix": {"type": "string"},
                        "collection": {
                            "type": "string",
                            "description": "The route's target; `$item`: each item's own.",
                        },
                        "syncDeletes": {"type": "boolean"},
                        "day": {"type": "string", "format": "date"},
                        "generation": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "A blob written again the same day goes to the "
                            "day's next generation of the route's rolling job.",
                        },
                    },
                    [
                        "type",
                        "route",
                        "containerUrl",
                        "prefix",
                        "suffix",
                        "collection",
                        "syncDeletes",
                        "day",
                        "generation",
                    ],
                ),
            ],
        },
        "Job": _closed(
            {
                "jobId": job_id,
                "state": {"enum": [s.value for s in JobState]},
                "collection": text,
                "mode": {"enum": [m.value for m in IngestMode]},
                "dryRun": {"type": "boolean"},
                "cancelRequested": {
                    "type": "boolean",
                    "description": "POST .../cancel was called; the job reports `running` until "
                    "nothing is in flight, then `canceled`.",
                },
                "source": _schema("SourceRecord"),
                "dropAssets": {"type": "array", "items": text},
                "createCollection": _closed({"templateUrl": text}, ["templateUrl"]),
                "counts": _closed(
                    {"total": count, **{s.value: count for s in ItemState}},
                    ["total", *(s.value for s in ItemState)],
                    description="Items per state; `total` is their sum.",
                ),
                "createdAt": timestamp,
                "updatedAt": timestamp,
                "completedAt": {
                    **_nullable(timestamp),
                    "description": "When the job settled; null while it runs.",
                },
                "planning": _closed(
                    {
                        "done": {"type": "boolean"},
                        "pages": {**count, "description": "Source pages planned so far."},
                    },
                    ["done", "pages"],
                ),
                "planError": {
                    **error,
                    "description": "Why planning stopped (source unreadable, dead-lettered).",
                },
                "containers": {
                    "type": "array",
                    "description": "Asset containers and how their ingestion source was handled.",
                    "items": _closed(
                        {
                            "containerUrl": text,
                            "ingestionSource": {"enum": [s.value for s in SourceStatus]},
                        },
                        ["containerUrl", "ingestionSource"],
                    ),
                },
                "errors": {
                    "type": "array",
                    "description": "The first (up to 10) failed, invalid or dead-lettered items.",
                    "items": _closed(
                        {"itemId": text, "code": text, "message": text},
                        ["itemId", "code", "message"],
                    ),
                },
                "links": _closed({"self": text, "items": text}, ["self", "items"]),
            },
            [
                "jobId",
                "state",
                "collection",
                "mode",
                "dryRun",
                "cancelRequested",
                "source",
                "dropAssets",
                "counts",
                "createdAt",
                "updatedAt",
                "completedAt",
                "planning",
                "containers",
                "errors",
                "links",
            ],
        ),
        "JobItem": _closed(
            {
                "itemId": text,
                "state": {"enum": [s.value for s in ItemState]},
                "operationId": {
                    "type": ["string", "null"],
                    "description": "The GeoCatalog operation of the last post.",
                },
                "attempts": count,
                "updatedAt": _nullable(timestamp),
                "lastError": error,
            },
            ["itemId", "state", "operationId", "attempts", "updatedAt"],
        ),
        "JobItemsPage": _closed(
            {
                "jobId": job_id,
                "items": {"type": "array", "items": _schema("JobItem")},
                "nextCursor": {
                    "type": ["string", "null"],
                    "description": "Pass as `cursor` for the next page; null on the last page.",
                },
            },
            ["jobId", "items", "nextCursor"],
        ),
        "RetryResult": _closed(
            {
                "jobId": job_id,
                "reposted": {**count, "description": "Items queued to be posted again."},
                "rechecked": {
                    **count,
                    "description": "Dead-lettered items whose operation is followed again.",
                },
                "planningRedriven": {"type": "boolean"},
                "statusUrl": text,
            },
            ["jobId", "reposted", "rechecked", "planningRedriven", "statusUrl"],
        ),
        "CollectionResult": _closed(
            {
                "collectionId": text,
                "created": {"type": "boolean"},
                "changed": {"type": "boolean"},
                "summary": _closed(
                    dict.fromkeys(_ACTIONS, count),
                    list(_ACTIONS),
                ),
                "changes": {
                    "type": "array",
                    "items": _closed(
                        {
                            "kind": {
                                "enum": [
                                    "collection",
                                    "thumbnail",
                                    "render-option",
                                    "mosaic",
                                    "tile-settings",
                                ]
                            },
                            "id": text,
                            "action": {"enum": list(_ACTIONS)},
                        },
                        ["kind", "id", "action"],
                    ),
                },
                "warnings": {"type": "array", "items": text},
            },
            ["collectionId", "created", "changed", "summary", "changes", "warnings"],
        ),
        "Health": _closed(
            {
                "status": {"enum": ["ok", "unhealthy"]},
                "checks": {
                    "type": "object",
                    "description": "One entry per probe (configuration, storage, geocatalog).",
                    "additionalProperties": _closed(
                        {
                            "ok": {"type": "boolean"},
                            "detail": text,
                            "durationMs": {"type": "number", "minimum": 0},
                        },
                        ["ok", "detail", "durationMs"],
                    ),
                },
            },
            ["status", "checks"],
        ),
    }


# -- the document --------------------------------------------------------------------------------

_PROBLEM_RESPONSES: Final = {
    "BadRequest": ("The request is invalid; `errors` names each field at fault.", 400),
    "NotFound": ("No such job.", 404),
    "Conflict": ("Retry of a canceled job, or cancel of a finished one.", 409),
    "PayloadTooLarge": ("Inline items above the configured size (INGEST_INLINE_MAX_BYTES).", 413),
    "BadGateway": ("A remote service (the GeoCatalog, a template host) refused or failed.", 502),
    "ServiceUnavailable": (
        "A dependency is busy or unreachable (see `retryAfter`), or the service is misconfigured.",
        503,
    ),
    "InternalError": ("An unexpected error; it is logged with the request path.", 500),
}
_SLUGS: Final = {
    400: ["invalid-request"],
    404: ["not-found"],
    409: ["conflict"],
    413: ["payload-too-large"],
    502: ["upstream-refused"],
    503: ["service-unavailable"],
    500: ["internal-error"],
}
_RETRY_AFTER: Final = {
    "description": "Seconds to wait before trying again, when the dependency said so.",
    "schema": {"type": "integer", "minimum": 0},
}


def _components(limits: PipelineSettings) -> dict[str, Any]:
    responses: dict[str, Any] = {
        name: {"description": description, "content": _problem(_SLUGS[status], status)}
        for name, (description, status) in _PROBLEM_RESPONSES.items()
    }
    responses["ServiceUnavailable"]["headers"] = {"Retry-After": _RETRY_AFTER}
    responses["Unauthorized"] = {
        "description": (
            "No valid function key (`x-functions-key` header or `code` query parameter); "
            "answered by the Functions host, without a body."
        )
    }
    return {
        "schemas": {**_request_schemas(limits), **_response_schemas()},
        "responses": responses,
        "parameters": {
            "JobId": {
                "name": "jobId",
                "in": "path",
                "required": True,
                "description": "The id POST /api/ingest answered (32 lowercase hex digits).",
                "schema": {"type": "string", "pattern": JOB_ID_PATTERN},
            },
            "State": {
                "name": "state",
                "in": "query",
                "description": "Only items in this state (empty: all).",
                "allowEmptyValue": True,
                "schema": {"enum": [s.value for s in ItemState]},
            },
            "Limit": {
                "name": "limit",
                "in": "query",
                "description": "Items per page (empty: the default).",
                "allowEmptyValue": True,
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": ITEMS_LIMIT_MAX,
                    "default": ITEMS_LIMIT_DEFAULT,
                },
            },
            "Cursor": {
                "name": "cursor",
                "in": "query",
                "description": "`nextCursor` of the previous page (empty: the first page).",
                "allowEmptyValue": True,
                "schema": {"type": "string"},
            },
        },
        "securitySchemes": {
            "functionKeyHeader": {
                "type": "apiKey",
                "in": "header",
                "name": "x-functions-key",
                "description": "A function key (or the host key) of the Function App.",
            },
            "functionKeyQuery": {
                "type": "apiKey",
                "in": "query",
                "name": "code",
                "description": "The same key as a query parameter.",
            },
        },
    }


def _job_links() -> dict[str, Any]:
    job_id = {"jobId": "$response.body#/jobId"}
    return {
        name: {"operationId": operation, "parameters": job_id}
        for name, operation in (
            ("GetJob", "getJob"),
            ("ListJobItems", "listJobItems"),
            ("RetryJob", "retryJob"),
            ("CancelJob", "cancelJob"),
        )
    }


def _errors(*names: str) -> dict[str, Any]:
    codes = {
        "BadRequest": "400",
        "Unauthorized": "401",
        "NotFound": "404",
        "Conflict": "409",
        "PayloadTooLarge": "413",
        "BadGateway": "502",
        "ServiceUnavailable": "503",
        "InternalError": "500",
    }
    return {codes[name]: _ref("responses", name) for name in names}


def _job_operation(
    operation_id: str, summary: str, responses: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "tags": ["jobs"],
        "summary": summary,
        "responses": responses,
        **extra,
    }


def _paths() -> dict[str, Any]:
    job_view = {
        "description": "The job.",
        "content": _json(_schema("Job")),
    }
    job_path_parameters = [_ref("parameters", "JobId")]
    return {
        "/api/health": {
            "get": {
                "operationId": "getHealth",
                "tags": ["service"],
                "summary": "Configuration and dependencies (storage, GeoCatalog) reachable",
                "security": [],
                "responses": {
                    "200": {
                        "description": "Every probe passed.",
                        "content": _json(_schema("Health")),
                    },
                    "503": {
                        "description": "At least one probe failed; its `detail` says why.",
                        "content": _json(_schema("Health")),
                    },
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "getOpenApiDocument",
                "tags": ["service"],
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 document of the HTTP API.",
                        "content": _json(
                            {
                                "type": "object",
                                "required": ["openapi", "info", "paths"],
                                "properties": {"openapi": {"const": "3.1.0"}},
                            }
                        ),
                    },
                    **_errors("ServiceUnavailable", "InternalError"),
                },
            }
        },
        "/api/collections": {
            "post": {
                "operationId": "createOrUpdateCollection",
                "tags": ["collections"],
                "summary": "Create a collection from a template, or bring it up to date",
                "description": (
                    "The Planetary Computer Pro tutorial's steps 1, 2 and 7: the template copied "
                    "without what GeoCatalog refuses, its thumbnail as a collection asset, render "
                    "options and mosaics converted from the Planetary Computer's mosaic info. "
                    "Idempotent: what differs is replaced, nothing else is touched. Everything "
                    "is fetched before the GeoCatalog is written to, so a refused request leaves "
                    "nothing half-created."
                ),
                "requestBody": {
                    "required": True,
                    "content": _json(
                        _schema("CollectionRequest"),
                        examples={
                            "sentinel-2-l2a": {
                                "summary": "Sentinel-2 L2A from the Planetary Computer",
                                "value": {
                                    "id": "sentinel-2-l2a-demo",
                                    "templateUrl": "https://planetarycomputer.microsoft.com"
                                    "/api/stac/v1/collections/sentinel-2-l2a",
                                },
                            }
                        },
                    ),
                },
                "responses": {
                    "201": {
                        "description": "The collection was created.",
                        "content": _json(_schema("CollectionResult")),
                    },
                    "200": {
                        "description": "It existed; `changes` says what was updated.",
                        "content": _json(_schema("CollectionResult")),
                    },
                    **_errors("BadRequest", "Unauthorized"),
                    "422": {
                        "description": (
                            "The template URL answered something unusable (not a STAC "
                            "Collection, not JSON, 4xx, too large, too many redirects)."
                        ),
                        "content": _problem(["unprocessable-content"], 422),
                    },
                    **_errors("BadGateway", "ServiceUnavailable", "InternalError"),
                },
            }
        },
        "/api/ingest": {
            "post": {
                "operationId": "submitIngestJob",
                "tags": ["jobs"],
                "summary": "Start an ingest job",
                "description": (
                    "Validates the request, records the job and queues its planning; answers at "
                    "once whatever the size of the source. Follow the job at `statusUrl`."
                ),
                "requestBody": {
                    "required": True,
                    "content": _json(
                        _schema("IngestRequest"),
                        examples={
                            "stac-search": {
                                "summary": "Sentinel-2 L2A scenes from the Planetary Computer",
                                "value": {
                                    "collection": "sentinel-2-l2a-demo",
                                    "source": {
                                        "type": "stac-search",
                                        "url": "https://planetarycomputer.microsoft.com"
                                        "/api/stac/v1",
                                        "collections": ["sentinel-2-l2a"],
                                        "bbox": [8.0, 79.5, 16.0, 80.2],
                                        "datetime": "2024-05-10/2024-05-20",
                                        "maxItems": 6,
                                    },
                                    "createCollection": {
                                        "templateUrl": "https://planetarycomputer.microsoft.com"
                                        "/api/stac/v1/collections/sentinel-2-l2a"
                                    },
                                    "dryRun": True,
                                },
                            },
                            "item-urls": {
                                "summary": "Items by URL, replacing existing ones",
                                "value": {
                                    "collection": "sentinel-2-l2a-demo",
                                    "source": {
                                        "type": "item-urls",
                                        "urls": [
                                            "https://planetarycomputer.microsoft.com/api/stac/v1"
                                            "/collections/sentinel-2-l2a/items/"
                                            "S2B_MSIL2A_20240516T144749_R082_T33XWK_20240516T202124"
                                        ],
                                    },
                                    "createCollection": {
                                        "templateUrl": "https://planetarycomputer.microsoft.com"
                                        "/api/stac/v1/collections/sentinel-2-l2a"
                                    },
                                    "mode": "upsert",
                                },
                            },
                        },
                    ),
                },
                "responses": {
                    "202": {
                        "description": "The job is recorded and queued.",
                        "headers": {
                            "Location": {
                                "required": True,
                                "description": "The job's status URL.",
                                "schema": {"type": "string"},
                            }
                        },
                        "content": _json(_schema("IngestAccepted")),
                        "links": _job_links(),
                    },
                    **_errors("BadRequest", "Unauthorized", "PayloadTooLarge"),
                    "422": {
                        "description": (
                            "The target collection does not exist and `createCollection` was "
                            "not given."
                        ),
                        "content": _problem(["unprocessable-request"], 422),
                    },
                    **_errors("BadGateway", "ServiceUnavailable", "InternalError"),
                },
            }
        },
        "/api/jobs/{jobId}": {
            "parameters": job_path_parameters,
            "get": _job_operation(
                "getJob",
                "A job: state, counts per item state, first errors",
                {
                    "200": job_view,
                    **_errors("Unauthorized", "NotFound", "ServiceUnavailable", "InternalError"),
                },
            ),
        },
        "/api/jobs/{jobId}/items": {
            "parameters": job_path_parameters,
            "get": _job_operation(
                "listJobItems",
                "The job's items, in id order, a page at a time",
                {
                    "200": {
                        "description": "A page of items.",
                        "content": _json(_schema("JobItemsPage")),
                    },
                    **_errors(
                        "BadRequest",
                        "Unauthorized",
                        "NotFound",
                        "ServiceUnavailable",
                        "InternalError",
                    ),
                },
                parameters=[
                    _ref("parameters", "State"),
                    _ref("parameters", "Limit"),
                    _ref("parameters", "Cursor"),
                ],
            ),
        },
        "/api/jobs/{jobId}/retry": {
            "parameters": job_path_parameters,
            "post": _job_operation(
                "retryJob",
                "Redrive failed and dead-lettered items (and a dead-lettered plan page)",
                {
                    "202": {
                        "description": "Something was redriven.",
                        "content": _json(_schema("RetryResult")),
                    },
                    "200": {
                        "description": "Nothing to redrive.",
                        "content": _json(_schema("RetryResult")),
                    },
                    **_errors(
                        "Unauthorized",
                        "NotFound",
                        "Conflict",
                        "ServiceUnavailable",
                        "InternalError",
                    ),
                },
            ),
        },
        "/api/jobs/{jobId}/cancel": {
            "parameters": job_path_parameters,
            "post": _job_operation(
                "cancelJob",
                "Stop a job: nothing more is planned or posted; pending items end `canceled`",
                {
                    "202": {
                        "description": (
                            "The job: `running` while posted operations are still being "
                            "canceled, then `canceled`. 409 once it has finished."
                        ),
                        "content": _json(_schema("Job")),
                    },
                    **_errors(
                        "Unauthorized",
                        "NotFound",
                        "Conflict",
                        "ServiceUnavailable",
                        "InternalError",
                    ),
                },
            ),
        },
    }


def openapi_document(limits: PipelineSettings | None = None) -> dict[str, Any]:
    """The document for a service with these limits (the configured item ceiling and size cap)."""
    limits = limits or PipelineSettings()
    document = copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "geocatalog-ingest",
                "version": API_VERSION,
                "summary": "Ingest STAC items into a Microsoft Planetary Computer Pro GeoCatalog",
                "description": (
                    "Jobs that copy STAC items from a STAC API search, a static catalog, inline "
                    "items or item URLs into a GeoCatalog collection, with every item accounted "
                    "for. Errors are RFC 9457 problem JSON. Other systems can also start jobs "
                    "through Event Grid (the Functions host's "
                    "`/runtime/webhooks/eventgrid?functionName=ingest_events`, outside this API)."
                ),
                "license": {"name": "MIT", "identifier": "MIT"},
            },
            "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
            "tags": [
                {"name": "jobs", "description": "Ingest jobs and their items."},
                {"name": "collections", "description": "Collections from templates."},
                {"name": "service", "description": "Health and this document (anonymous)."},
            ],
            "security": [{"functionKeyHeader": []}, {"functionKeyQuery": []}],
            "paths": _paths(),
            "components": _components(limits),
        }
    )
    return add_operator_api(document)


__all__ = ["API_VERSION", "COLLECTION_ID_PATTERN", "JOB_ID_PATTERN", "openapi_document"]
