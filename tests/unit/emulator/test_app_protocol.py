"""The envelope every call goes through: auth, api-version, errors, budget, faults, stats,
and the `/_emulator` control routes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from local.emulator.geocatalog import GeoCatalogConfig

from .conftest import Api


def test_bearer_token_is_required(api: Api) -> None:
    response = api.client.get("/stac/collections", params={"api-version": "2026-04-15"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "Unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer ")
    basic = api.client.get(
        "/stac/collections",
        params={"api-version": "2026-04-15"},
        headers={"Authorization": "Basic dXNlcjpwdw=="},
    )
    assert basic.status_code == 401


def test_a_fixed_token_can_be_required(make_api: Callable[..., Api]) -> None:
    api = make_api(auth_token="s3cret")
    assert api.get("/stac/collections").status_code == 401
    assert (
        api.get("/stac/collections", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    )


@pytest.mark.parametrize("version", ["2025-04-30-preview", "2026-04-15", "2026-08-01-preview"])
def test_supported_api_versions(api: Api, version: str) -> None:
    assert api.get("/stac/collections", params={"api-version": version}).status_code == 200


def test_api_version_errors_have_azures_codes(api: Api) -> None:
    missing = api.client.get("/inma/operations", headers=api.headers)
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "MissingApiVersionParameter"
    old = api.get("/inma/operations", params={"api-version": "2024-01-31-preview"})
    assert old.status_code == 400
    assert old.json()["error"]["code"] == "UnsupportedApiVersion"
    assert "2024-01-31-preview" in old.json()["error"]["message"]


def test_unknown_routes_and_methods_answer_json(api: Api) -> None:
    unknown = api.get("/stac/nowhere")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "NotFound"
    wrong_method = api.patch("/stac/search", json={})
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "MethodNotAllowed"


def test_missing_resources_use_resource_not_found(api: Api) -> None:
    response = api.get("/stac/collections/nope-123")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "ResourceNotFound",
            "message": "Collection 'nope-123' not found. Please verify the collection ID and try again.",
        }
    }
    assert response.headers["x-request-id"]


def test_invalid_json_is_400(api: Api) -> None:
    response = api.post(
        "/stac/search", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidRequestContent"


def test_budget_answers_429_with_retry_after_until_the_window_moves(
    make_api: Callable[..., Api],
) -> None:
    api = make_api(budget_per_second=2)
    assert api.get("/stac/collections").status_code == 200
    assert api.get("/inma/operations").status_code == 200
    throttled = api.get("/stac/collections")
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    assert throttled.headers["retry-after"] == "1"
    # Control routes are free and never throttled.
    assert api.client.get("/_emulator/stats").status_code == 200
    api.clock.advance(1.0)
    assert api.get("/stac/collections").status_code == 200


def test_budget_without_retry_after(make_api: Callable[..., Api]) -> None:
    api = make_api(budget_per_second=1, throttle_retry_after=False)
    api.get("/stac/collections")
    throttled = api.get("/stac/collections")
    assert throttled.status_code == 429
    assert "retry-after" not in throttled.headers


def test_scripted_faults_fire_once_per_count_on_matching_routes(api: Api) -> None:
    added = api.client.post(
        "/_emulator/faults",
        json={
            "status": 503,
            "count": 2,
            "method": "POST",
            "route": "/stac/search",
            "retryAfter": 2,
        },
    )
    assert added.status_code == 201
    assert api.get("/stac/collections").status_code == 200  # other routes unaffected
    first = api.post("/stac/search", json={})
    assert first.status_code == 503
    assert first.headers["retry-after"] == "2"
    assert first.json()["error"]["code"] == "ServiceUnavailable"
    assert api.post("/stac/search", json={}).status_code == 503
    assert api.post("/stac/search", json={}).status_code == 200
    assert api.client.get("/_emulator/faults").json() == {"value": []}


def test_a_fault_after_the_effect_loses_the_response_but_not_the_write(api: Api) -> None:
    api.create_collection("lost-response")
    api.client.post(
        "/_emulator/faults",
        json={"status": 500, "route": "/stac/collections/{collectionId}/items", "phase": "after"},
    )
    from .conftest import make_item

    lost = api.post("/stac/collections/lost-response/items", json=make_item("i1", "lost-response"))
    assert lost.status_code == 500
    api.settle()
    # The item was created anyway: a retry by the client now hits a duplicate.
    assert api.get("/stac/collections/lost-response/items/i1").status_code == 200


def test_random_faults_follow_their_rate(make_api: Callable[..., Api]) -> None:
    always = make_api(fault_429_rate=1.0, fault_retry_after_seconds=3)
    response = always.get("/stac/collections")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    never = make_api(fault_500_rate=0.0)
    assert never.get("/stac/collections").status_code == 200


def test_stats_count_calls_by_route_method_and_status(api: Api) -> None:
    api.get("/stac/collections")
    api.get("/stac/collections/x-12")
    api.get("/stac/collections/y-12")
    api.client.get("/_emulator/config")
    stats = api.client.get("/_emulator/stats").json()
    assert stats["routes"]["GET /stac/collections"] == {"200": 1}
    assert stats["routes"]["GET /stac/collections/{collectionId}"] == {"404": 2}
    assert stats["dataPlane"] == 3
    assert not any(route.startswith("GET /_emulator") for route in stats["routes"])


def test_config_is_readable_and_changeable_over_http(api: Api) -> None:
    config = api.client.get("/_emulator/config").json()
    assert config["budget_per_second"] == 0.0
    assert config["operation_duration_seconds"] == [1.0, 2.0]
    changed = api.client.put(
        "/_emulator/config",
        json={"missing_collection_items": "404", "operation_duration_seconds": [0, 0.5]},
    )
    assert changed.status_code == 200
    assert api.emulator.config.missing_collection_items == "404"
    assert api.emulator.config.operation_duration_seconds == (0.0, 0.5)
    for bad in (
        {"nope": 1},
        {"budget_per_second": "fast"},
        {"put_missing_item": "maybe"},
        {"fault_500_rate": 2},
    ):
        response = api.client.put("/_emulator/config", json=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "InvalidConfig"


def test_reset_clears_state_and_stats(api: Api) -> None:
    api.create_collection("before-reset")
    assert api.client.post("/_emulator/reset").status_code == 200
    assert api.get("/stac/collections").json()["collections"] == []
    assert api.client.get("/_emulator/stats").json()["routes"] == {
        "GET /stac/collections": {"200": 1}
    }
    replaced = api.client.post("/_emulator/reset", json={"config": {"budget_per_second": 7}})
    assert replaced.json()["budget_per_second"] == 7
    assert (
        api.emulator.config.operation_duration_seconds
        == GeoCatalogConfig().operation_duration_seconds
    )
