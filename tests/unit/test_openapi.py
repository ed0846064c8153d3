"""The OpenAPI document against the app itself, without services: every HTTP function is in it
with its method and auth, nothing else is, and its examples are requests the service accepts.

What the running service answers is checked against the document by
tests/integration/test_openapi_schemathesis.py.
"""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
import jsonschema_rs
import pytest

import function_app
from functions.openapi_api import openapi
from shared.collection_request import parse_collection_request
from shared.collections.template_fetch import UrlPolicy
from shared.ingest_request import parse_ingest_request
from shared.openapi import openapi_document
from shared.problems import InvalidRequest
from shared.runtime import reset
from shared.settings import (
    GeoCatalogSettings,
    PipelineSettings,
    Settings,
    StorageSettings,
)
from tests.app_settings import set_queue_names
from tests.triggers import app_functions

METHODS = ("get", "put", "post", "delete", "patch")
DOCUMENT = openapi_document()
SETTINGS = Settings(
    geocatalog=GeoCatalogSettings(url="https://catalog.example"),
    storage=StorageSettings(connection_string="UseDevelopmentStorage=true"),
)


def _http_functions() -> dict[tuple[str, str], str]:
    """(method, path) of every HTTP function of the app -> its auth level."""
    found: dict[tuple[str, str], str] = {}
    for function in app_functions(function_app.app):
        trigger = function.get_trigger()
        if trigger is None or trigger.get_binding_name() != "httpTrigger":
            continue
        binding = json.loads(function.get_function_json())["bindings"][0]
        for method in binding["methods"]:
            found[(method.lower(), "/api/" + binding["route"])] = binding["authLevel"]
    return found


def _operations() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def _validator(schema_name: str) -> Any:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": DOCUMENT["components"]}
    return jsonschema_rs.Draft202012Validator(schema)


def test_every_http_function_is_documented_and_nothing_else() -> None:
    assert set(_operations()) == set(_http_functions())


def test_anonymous_functions_and_only_they_need_no_key() -> None:
    for key, auth_level in _http_functions().items():
        operation = _operations()[key]
        anonymous = operation.get("security") == []
        assert anonymous == (auth_level.upper() == "ANONYMOUS"), key
        if not anonymous:
            assert "401" in operation["responses"], key


def test_every_reference_resolves() -> None:
    def refs(value: Any) -> list[str]:
        if isinstance(value, dict):
            own = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
            return own + [r for v in value.values() for r in refs(v)]
        if isinstance(value, list):
            return [r for v in value for r in refs(v)]
        return []

    found = refs(DOCUMENT)
    assert found
    for ref in found:
        root, kind, name = ref.removeprefix("#/").split("/")
        assert root == "components", ref
        assert name in DOCUMENT["components"][kind], ref


def test_problem_responses_are_problem_json_and_success_responses_json() -> None:
    responses = DOCUMENT["components"]["responses"]
    for (method, path), operation in _operations().items():
        for status, response in operation["responses"].items():
            resolved = (
                responses[response["$ref"].split("/")[-1]] if "$ref" in response else response
            )
            content = resolved.get("content", {})
            if status == "401":
                assert not content
            elif int(status) >= 400 and path != "/api/health":
                assert list(content) == ["application/problem+json"], (method, path, status)
            else:
                # The job pages are for people: HTML.
                media = "text/html" if operation["tags"] == ["pages"] else "application/json"
                assert list(content) == [media], (method, path, status)


def test_the_examples_are_valid_for_the_schema_and_accepted_by_the_service() -> None:
    paths = DOCUMENT["paths"]
    ingest = paths["/api/ingest"]["post"]["requestBody"]["content"]["application/json"]
    collections = paths["/api/collections"]["post"]["requestBody"]["content"]["application/json"]
    assert len(ingest["examples"]) >= 2
    for example in ingest["examples"].values():
        _validator("IngestRequest").validate(example["value"])
        parse_ingest_request(example["value"], SETTINGS)
    for example in collections["examples"].values():
        _validator("CollectionRequest").validate(example["value"])
        parse_collection_request(example["value"], UrlPolicy.from_settings(SETTINGS))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"collection": "a--b", "source": {"type": "items", "items": [{}]}}, "collection"),
        ({"collection": "ab_", "source": {"type": "items", "items": [{}]}}, "collection"),
        ({"collection": "abc", "source": {"type": "items", "items": []}}, "source"),
        ({"collection": "abc", "source": {"type": "nope"}}, "source"),
        (
            {
                "collection": "abc",
                "source": {
                    "type": "stac-search",
                    "url": "https://planetarycomputer.microsoft.com/api/stac/v1",
                    "collections": ["x"],
                    "bbox": [0, 0, 190, 1],
                },
            },
            "source",
        ),
        ({"collection": "abc", "source": {"type": "items", "items": [{}]}, "x": 1}, "x"),
    ],
)
def test_the_schema_refuses_what_the_service_refuses(body: dict[str, Any], field: str) -> None:
    assert not _validator("IngestRequest").is_valid(body)
    with pytest.raises(InvalidRequest) as raised:
        parse_ingest_request(body, SETTINGS)
    assert raised.value.errors[0].field.startswith(field)


def test_the_collection_id_pattern_is_the_services_rule() -> None:
    schema = DOCUMENT["components"]["schemas"]["CollectionId"]
    validator = jsonschema_rs.Draft202012Validator(schema)
    for value in ("abc", "a-b", "a_b", "a-_b", "sentinel-2-l2a", "0" * 32, "a--b", "ab_", "-ab"):
        assert validator.is_valid(value) == _service_accepts_collection(value), value
    assert not validator.is_valid("0" * 33)
    assert not validator.is_valid("ab")


def test_post_collections_takes_the_same_collection_ids_as_post_ingest() -> None:
    template = "https://planetarycomputer.microsoft.com/api/stac/v1/collections/sentinel-2-l2a"
    validator = _validator("CollectionRequest")
    policy = UrlPolicy.from_settings(SETTINGS)
    for value in ("abc", "a-b", "a_b", "a-_b", "0" * 32, "a--b", "ab_", "-ab", "0" * 33, "ab"):
        body = {"id": value, "templateUrl": template}
        try:
            parse_collection_request(body, policy)
        except InvalidRequest:
            accepted = False
        else:
            accepted = True
        assert accepted == _service_accepts_collection(value), value
        assert validator.is_valid(body) == accepted, value


def _service_accepts_collection(value: str) -> bool:
    body = {"collection": value, "source": {"type": "items", "items": [{}]}}
    try:
        parse_ingest_request(body, SETTINGS)
    except InvalidRequest:
        return False
    return True


def test_limits_come_from_settings() -> None:
    document = openapi_document(
        PipelineSettings(max_items_ceiling=25, inline_payload_max_bytes=8192)
    )
    schemas = document["components"]["schemas"]
    max_items = schemas["StaticCatalogSource"]["properties"]["maxItems"]["anyOf"][0]
    assert max_items["maximum"] == 25
    assert schemas["ItemUrlsSource"]["properties"]["urls"]["maxItems"] == 25
    assert "8192 bytes" in schemas["InlineItemsSource"]["properties"]["items"]["description"]


def test_the_endpoint_serves_the_document_of_the_configured_limits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GEOCATALOG_URL", "https://catalog.example")
    monkeypatch.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    monkeypatch.setenv("INGEST_MAX_ITEMS", "25")
    set_queue_names(monkeypatch)
    reset()
    try:
        response = openapi(func.HttpRequest("GET", "http://localhost/api/openapi.json", body=b""))
    finally:
        reset()
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    limits = PipelineSettings(max_items_ceiling=25)
    assert json.loads(response.get_body()) == openapi_document(limits)
