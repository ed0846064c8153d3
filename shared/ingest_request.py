"""The body of `POST /api/ingest`: a typed model, validated once, refused naming every bad field.

Nothing here touches the network: this runs inside the HTTP request, which must answer at once.
The body is `IngestRequest` (a pydantic model, the same one the OpenAPI document is derived from);
its source is one of the source specs of `shared.sources.specs`. Rules follow the README (HTTP
API), the STAC API item-search spec (bbox, datetime, intersects, filter, sortby) and GeoCatalog's id
rules (docs/reference/geocatalog-api.md §11). A refusal is an `InvalidRequest` whose `errors` name each offending field
by its dotted path (`source.bbox`, `source.urls[3]`, `mode`), or a `PayloadTooLarge` for inline
items over the configured size.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field, ValidationError, WithJsonSchema

from shared.contract import (
    ApiModel,
    element_errors,
    fail,
    field_errors,
    wire_names,
)
from shared.geocatalog.models import COLLECTION_ID_RULE, is_valid_collection_id
from shared.json_values import MAX_JSON_DEPTH, json_depth_exceeds
from shared.outbound.urls import redact_url
from shared.problems import FieldError, InvalidRequest, PayloadTooLarge
from shared.settings import Settings
from shared.sources.specs import (
    REF,
    REFUSED_MEMBERS,
    SOURCE_TYPES,
    InlineItemsSource,
    Source,
    SourceUrl,
    source_model,
)

DEFAULT_DROP_ASSETS: Final = ("rendered_preview", "preview", "tilejson")
# dropAssets is stored in the job row (one Table property): bounded so that it always fits.
MAX_DROP_ASSETS_CHARS: Final = 8192

# The collection id rule (shared.geocatalog.models.COLLECTION_ID_RULE) without look-arounds, which
# not every JSON Schema engine supports: 3-32 characters (minLength/maxLength), lowercase letters,
# digits, '-' and '_', first and last a letter or digit, every '-' followed by something else.
COLLECTION_ID_PATTERN: Final = "^[a-z0-9](?:-?[a-z0-9_])*-?[a-z0-9]$"


class IngestMode(StrEnum):
    # POST; an item that already exists is counted as skipped.
    CREATE = "create"
    # PUT, falling back to POST when the item does not exist yet.
    UPSERT = "upsert"


def _collection(value: object) -> str:
    if value is None:
        raise fail("is required")
    if not isinstance(value, str):
        raise fail("must be a string")
    if not is_valid_collection_id(value):
        raise fail(COLLECTION_ID_RULE)
    return value


def _source(value: object) -> object:
    if value is None:
        raise fail("is required")
    if not isinstance(value, dict | ApiModel):
        raise fail("must be an object")
    return value


def _create_collection(value: object) -> object:
    if value is not None and not isinstance(value, dict | ApiModel):
        raise fail('must be an object {"templateUrl": ...}')
    return value


def _mode(value: object) -> IngestMode:
    if value is None:
        return IngestMode.CREATE
    if isinstance(value, str) and value in {m.value for m in IngestMode}:
        return IngestMode(value)
    raise fail(f"must be one of: {', '.join(m.value for m in IngestMode)}")


def _drop_assets(value: object) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_DROP_ASSETS
    if not isinstance(value, list | tuple):
        raise fail("must be an array of asset keys")
    bad = [(i, "must be a non-empty string") for i, key in enumerate(value) if not _key(key)]
    if bad:
        raise fail(bad[0][1], errors=element_errors(bad, "entries"))
    keys = tuple(dict.fromkeys(value))
    if len(json.dumps(keys)) > MAX_DROP_ASSETS_CHARS:
        raise fail(f"must be at most {MAX_DROP_ASSETS_CHARS} characters as JSON")
    return keys


def _key(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _boolean(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise fail("must be true or false")


class CreateCollection(ApiModel):
    """Create the target collection from this STAC collection template (as POST
    /api/collections does) when it does not exist yet."""

    template_url: Annotated[SourceUrl, Field(alias="templateUrl")]

    def to_record(self) -> dict[str, Any]:
        return {"templateUrl": redact_url(self.template_url)}

    def to_dict(self) -> dict[str, Any]:
        return {"templateUrl": self.template_url}


_COLLECTION_ID_REF: Final = {REF: "CollectionId"}


class IngestRequest(ApiModel):
    collection: Annotated[
        str,
        BeforeValidator(_collection),
        WithJsonSchema(
            {
                **_COLLECTION_ID_REF,
                "description": (
                    "The target collection. It must exist in the GeoCatalog unless "
                    "`createCollection` is given (else 422)."
                ),
            }
        ),
    ]
    source: Annotated[Source, BeforeValidator(_source)]
    create_collection: Annotated[
        CreateCollection | None,
        BeforeValidator(_create_collection),
        Field(alias="createCollection"),
    ] = None
    mode: Annotated[
        IngestMode,
        BeforeValidator(_mode),
        WithJsonSchema(
            {
                "enum": [*(m.value for m in IngestMode), None],
                "default": IngestMode.CREATE.value,
                "description": (
                    "`create`: POST each item; one that already exists is counted as "
                    "skipped. `upsert`: PUT, POST when the item does not exist yet."
                ),
            }
        ),
    ] = IngestMode.CREATE
    drop_assets: Annotated[
        tuple[str, ...],
        BeforeValidator(_drop_assets),
        WithJsonSchema(
            {
                "type": ["array", "null"],
                "items": {"type": "string", "minLength": 1},
                "default": list(DEFAULT_DROP_ASSETS),
                "description": "Asset keys removed from every item before it is posted.",
            }
        ),
        Field(alias="dropAssets"),
    ] = DEFAULT_DROP_ASSETS
    dry_run: Annotated[
        bool,
        BeforeValidator(_boolean),
        WithJsonSchema(
            {
                "type": ["boolean", "null"],
                "default": False,
                "description": "Validate and plan, post nothing (items end `skipped`).",
            }
        ),
        Field(alias="dryRun"),
    ] = False

    def to_record(self) -> dict[str, Any]:
        """JSON-able, bounded and safe to store and show: no inline items, no SAS signatures."""
        return {
            "collection": self.collection,
            "source": self.source.to_record(),
            "createCollection": self.create_collection.to_record()
            if self.create_collection
            else None,
            "mode": self.mode.value,
            "dropAssets": list(self.drop_assets),
            "dryRun": self.dry_run,
        }


_REQUIRED: Final = {
    "source.type": f"is required: one of {', '.join(SOURCE_TYPES)}",
    "source.items": "is required: an array of STAC Items or a FeatureCollection object",
}


def parse_ingest_request(body: object, settings: Settings) -> IngestRequest:
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object", field="body")
    if json_depth_exceeds(body):
        raise InvalidRequest(
            f"the request body is nested deeper than {MAX_JSON_DEPTH} levels", field="body"
        )
    # Refused before anything else is looked at: whatever else is wrong, the caller must split it.
    _refuse_oversized_items(body, settings)
    try:
        return IngestRequest.model_validate(body, context={"settings": settings})
    except ValidationError as error:
        raise _refusal(error, body) from None


def _refusal(error: ValidationError, body: Mapping[str, Any]) -> InvalidRequest:
    errors: list[FieldError] = []
    for line in error.errors():
        if line["type"] == "union_tag_not_found":
            errors.append(FieldError("source.type", _REQUIRED["source.type"]))
        elif line["type"] == "union_tag_invalid":
            kind = body.get("source", {}).get("type")
            errors.append(
                FieldError(
                    "source.type",
                    f"unknown source type {kind!r}; allowed: {', '.join(SOURCE_TYPES)}",
                )
            )
    errors.extend(
        field_errors(
            [
                line
                for line in error.errors()
                if line["type"] not in ("union_tag_not_found", "union_tag_invalid")
            ],
            members=_members,
            required=_REQUIRED,
            refused_members=REFUSED_MEMBERS,
            tags=frozenset(SOURCE_TYPES),
        )
    )
    if len(errors) == 1:
        detail = f"{errors[0].field}: {errors[0].detail}"
    else:
        detail = f"{len(errors)} problems in the request: {', '.join(e.field for e in errors)}"
    return InvalidRequest(detail, field=errors[0].field, errors=tuple(errors))


def _members(loc: tuple[str | int, ...]) -> list[str]:
    if not loc:
        return wire_names(IngestRequest)
    if loc[0] == "createCollection":
        return wire_names(CreateCollection)
    model = source_model(loc[1]) if len(loc) > 1 else None
    return wire_names(model) if model is not None else []


def _refuse_oversized_items(body: Mapping[str, Any], settings: Settings) -> None:
    source = body.get("source")
    if (
        not isinstance(source, dict)
        or source.get("type") != InlineItemsSource.model_fields["type"].default
    ):
        return
    if "items" not in source:
        return
    limit = settings.pipeline.inline_payload_max_bytes
    try:
        size = len(
            json.dumps(source["items"], separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        )
    except (TypeError, ValueError, RecursionError):
        return
    if size > limit:
        raise PayloadTooLarge(
            f"source.items is {size} bytes as JSON; at most {limit} bytes may be sent inline "
            "(use a static catalog or item URLs for more)",
            field="source.items",
            extra={"maxBytes": limit, "sizeBytes": size},
        )
