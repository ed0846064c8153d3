"""The body of POST /api/collections, refused naming the field, before anything is fetched."""

from __future__ import annotations

from typing import Any

import pytest

from shared.collection_request import parse_collection_request
from shared.collections.bootstrap import BootstrapRequest
from shared.collections.template_fetch import UrlPolicy
from shared.problems import InvalidRequest

PC = "https://planetarycomputer.microsoft.com"
TEMPLATE_URL = f"{PC}/api/stac/v1/collections/sentinel-2-l2a"
POLICY = UrlPolicy(frozenset({"planetarycomputer.microsoft.com"}))


def test_a_valid_request() -> None:
    request = parse_collection_request(
        {"id": "s2-copy", "templateUrl": f" {TEMPLATE_URL} ", "title": " Demo "}, POLICY
    )
    assert request == BootstrapRequest("s2-copy", TEMPLATE_URL, "Demo")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"templateUrl": TEMPLATE_URL}, "id"),
        ({"id": 7, "templateUrl": TEMPLATE_URL}, "id"),
        ({"id": "ab", "templateUrl": TEMPLATE_URL}, "id"),
        ({"id": "Has Spaces", "templateUrl": TEMPLATE_URL}, "id"),
        ({"id": "-leading", "templateUrl": TEMPLATE_URL}, "id"),
        ({"id": "x" * 33, "templateUrl": TEMPLATE_URL}, "id"),
        ({"id": "s2-copy"}, "templateUrl"),
        ({"id": "s2-copy", "templateUrl": ""}, "templateUrl"),
        ({"id": "s2-copy", "templateUrl": "not a url"}, "templateUrl"),
        ({"id": "s2-copy", "templateUrl": TEMPLATE_URL + "?" + "q" * 3000}, "templateUrl"),
        ({"id": "s2-copy", "templateUrl": "https://[planetarycomputer/x"}, "templateUrl"),
        ({"id": "s2-copy", "templateUrl": "https://evil.example/c.json"}, "templateUrl"),
        ({"id": "s2-copy", "templateUrl": TEMPLATE_URL.replace("https", "http")}, "templateUrl"),
        ({"id": "s2-copy", "templateUrl": TEMPLATE_URL, "title": ""}, "title"),
        ({"id": "s2-copy", "templateUrl": TEMPLATE_URL, "title": 3}, "title"),
        ({"id": "s2-copy", "templateUrl": TEMPLATE_URL, "title": "t" * 257}, "title"),
        ({"id": "s2-copy", "templateUrl": TEMPLATE_URL, "templateURL": "x"}, "templateURL"),
    ],
)
def test_invalid_requests_name_the_field(body: Any, field: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_collection_request(body, POLICY)
    assert caught.value.field == field
    assert caught.value.status == 400


def test_a_collection_id_with_two_hyphens_in_a_row_is_refused_saying_so() -> None:
    # The managed-storage container is named after the id, and a container name has no `--`;
    # the refusal says the rule it applies (the same words as POST /api/ingest's).
    with pytest.raises(InvalidRequest) as caught:
        parse_collection_request({"id": "s2--copy", "templateUrl": TEMPLATE_URL}, POLICY)
    assert caught.value.field == "id"
    assert "without '--'" in caught.value.detail


def test_a_template_host_outside_the_policy_names_the_setting() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_collection_request({"id": "s2-copy", "templateUrl": "https://evil.example/"}, POLICY)
    assert caught.value.field == "templateUrl"
    assert "SOURCE_ALLOWED_HOSTS" in caught.value.detail
