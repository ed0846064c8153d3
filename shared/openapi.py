"""The OpenAPI 3.1 description of the service's HTTP API, served at `GET /api/openapi.json`.

The request and response schemas are derived from the typed models that validate requests
(`shared.ingest_request`, `shared.sources.specs`) and describe answers (`shared.api_responses`);
this module adds the operations, shared responses and parameters, and fills in the configured
limits. Enumerations and rules come from the code that enforces them, so those cannot drift; the
rest is kept true by a schemathesis run against the local host
(`tests/integration/test_openapi_schemathesis.py`). The operator's routes (job listing, items,
errors, retry, cancel) are described in `shared.openapi_operator`.

Request schemas describe what the service accepts; where a rule cannot be written in JSON Schema
(the source host allow-list, a bbox's south <= north, the datetime grammar, the inline byte cap,
whether the collection exists), the schema is looser than the service and the rule is in the
`description`: a body the schema refuses is always refused by the service, not the other way round.
Explicit `null` in an optional member means "not given".
"""

from __future__ import annotations

import copy
from typing import Any, Final

from pydantic.json_schema import models_json_schema

from shared.api_responses import JOB_ID_PATTERN, RESPONSE_MODELS
from shared.collection_request import CollectionRequest
from shared.geocatalog.models import COLLECTION_ID_RULE
from shared.ingest_request import COLLECTION_ID_PATTERN, IngestRequest
from shared.jobs.states import ItemState
from shared.openapi_operator import add_operator_api
from shared.pipeline.views import ITEMS_LIMIT_DEFAULT, ITEMS_LIMIT_MAX
from shared.problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE
from shared.settings import PipelineSettings
from shared.sources.specs import (
    BBOX_SCHEMA,
    CEILING,
    INLINE_MAX_BYTES,
    REF,
    SOURCE_URL_SCHEMA,
    SortBy,
)

API_VERSION: Final = "1.0.0"
JSON: Final = "application/json"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _schema(name: str) -> dict[str, str]:
    return _ref("schemas", name)


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
    """The request models' JSON Schemas (shared.ingest_request, shared.sources.specs), with this
    service's limits filled in."""
    _, top = models_json_schema(
        [(IngestRequest, "validation"), (SortBy, "validation"), (CollectionRequest, "validation")],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = {
        "CollectionId": {
            "type": "string",
            "minLength": 3,
            "maxLength": 32,
            "pattern": COLLECTION_ID_PATTERN,
            "description": f"A GeoCatalog collection id: {COLLECTION_ID_RULE}.",
            "examples": ["sentinel-2-l2a-demo"],
        },
        "SourceUrl": SOURCE_URL_SCHEMA,
        "Bbox": BBOX_SCHEMA,
        **top["$defs"],
    }
    filled: dict[str, Any] = _with_limits(_without_titles(schemas), limits)
    return filled


def _without_titles(value: Any) -> Any:
    """pydantic titles every schema after its Python name; the document does not need them."""
    if isinstance(value, dict):
        return {
            k: _without_titles(v)
            for k, v in value.items()
            if not (k == "title" and isinstance(v, str))
        }
    if isinstance(value, list):
        return [_without_titles(v) for v in value]
    return value


def _with_limits(value: Any, limits: PipelineSettings) -> Any:
    """Limits and component references filled into the models' schemas."""
    if isinstance(value, dict):
        filled = {k: _with_limits(v, limits) for k, v in value.items() if k != REF}
        if REF in value:
            return {**_schema(value[REF]), **filled}
        return filled
    if isinstance(value, list):
        return [_with_limits(v, limits) for v in value]
    if value == CEILING:
        return limits.max_items_ceiling
    if isinstance(value, str) and INLINE_MAX_BYTES in value:
        return value.replace(INLINE_MAX_BYTES, str(limits.inline_payload_max_bytes))
    return value


# -- response bodies -----------------------------------------------------------------------------


def _response_schemas() -> dict[str, Any]:
    """The response models' JSON Schemas (shared.api_responses), and every model they use,
    named after their classes."""
    _, top = models_json_schema(
        [(model, "validation") for model in RESPONSE_MODELS],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = _without_titles(top["$defs"])
    return schemas


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
                        "content": _problem(["unprocessable-content"], 422),
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


__all__ = [
    "API_VERSION",
    "COLLECTION_ID_PATTERN",
    "JOB_ID_PATTERN",
    "openapi_document",
]
