"""The body of `POST /api/collections`: a typed model, validated once, refused naming every bad field.

It sits beside `shared.ingest_request` (the other request body), at the HTTP edge: it knows the
wire names (`templateUrl`), the OpenAPI schema and `InvalidRequest`, and hands the collections
domain a plain `BootstrapRequest`. Nothing here touches the network: the template URL is checked
against the URL policy, not fetched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, WithJsonSchema

from shared.collections.bootstrap import BootstrapRequest
from shared.collections.errors import UrlNotAllowed
from shared.collections.template_fetch import UrlPolicy
from shared.contract import ApiModel, fail, field_errors
from shared.geocatalog.models import COLLECTION_ID_RULE, is_valid_collection_id
from shared.problems import InvalidRequest
from shared.sources.specs import MAX_URL_LENGTH, NOT_BLANK, REF

TITLE_MAX = 256


def _collection_id(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise fail("id is required: the new collection's id")
    if not is_valid_collection_id(value):
        raise fail(f"id {COLLECTION_ID_RULE}")
    return value


def _template_url(value: object, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail("templateUrl is required: the URL of a STAC collection to copy")
    if len(value.strip()) > MAX_URL_LENGTH:
        raise fail(f"templateUrl must be at most {MAX_URL_LENGTH} characters")
    context = info.context
    policy = context.get("policy") if isinstance(context, Mapping) else None
    if isinstance(policy, UrlPolicy):
        try:
            policy.check(value.strip(), field="templateUrl")
        except UrlNotAllowed as refused:
            raise fail(refused.message) from None
    return value.strip()


def _title(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > TITLE_MAX:
        raise fail(f"title must be a non-empty string of at most {TITLE_MAX} characters")
    return value.strip()


class CollectionRequest(ApiModel):
    """The body of POST /api/collections."""

    id: Annotated[
        str,
        BeforeValidator(_collection_id),
        WithJsonSchema({REF: "CollectionId", "description": "The collection to create."}),
    ]
    template_url: Annotated[
        str,
        BeforeValidator(_template_url),
        WithJsonSchema(
            {
                "type": "string",
                "pattern": NOT_BLANK,
                "maxLength": MAX_URL_LENGTH,
                "description": (
                    "URL of a STAC Collection to copy (surrounding white space is ignored); "
                    "the same host rules as source URLs. A Planetary Computer collection "
                    "also brings its render options and mosaics."
                ),
            }
        ),
        Field(alias="templateUrl"),
    ]
    title: Annotated[
        str | None,
        BeforeValidator(_title),
        WithJsonSchema(
            {
                "type": ["string", "null"],
                "minLength": 1,
                "maxLength": TITLE_MAX,
                "pattern": NOT_BLANK,
                "description": "Title of the new collection (default: its id).",
            }
        ),
    ] = None


_REQUIRED: Final = {
    "id": "id is required: the new collection's id",
    "templateUrl": "templateUrl is required: the URL of a STAC collection to copy",
}


def parse_collection_request(body: Any, policy: UrlPolicy) -> BootstrapRequest:
    """The request, or InvalidRequest naming each field at fault (nothing fetched yet)."""
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object", field="body")
    try:
        request = CollectionRequest.model_validate(body, context={"policy": policy})
    except ValidationError as error:
        errors = field_errors(
            error.errors(),
            members=lambda _loc: [],
            required=_REQUIRED,
            refused_members={
                key: f"unknown field {key!r}; expected id, templateUrl and optionally title"
                for key in body
                if isinstance(key, str)
            },
        )
        detail = (
            errors[0].detail
            if len(errors) == 1
            else f"{len(errors)} problems in the request: {', '.join(e.field for e in errors)}"
        )
        raise InvalidRequest(detail, field=errors[0].field, errors=tuple(errors)) from None
    return BootstrapRequest(request.id, request.template_url, request.title)


__all__ = ["TITLE_MAX", "CollectionRequest", "parse_collection_request"]
