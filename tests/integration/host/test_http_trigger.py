"""HTTP triggers over real HTTP: routing, request and response mapping, errors, auth."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from local.host import HostStartError, LocalHost
from tests.integration.host import sample_app
from tests.integration.host.conftest import MakeHost

HTTP = {"greet", "item_by_id", "latest_item", "files", "tags", "nothing", "boom"}


@pytest.fixture
def client(make_host: MakeHost) -> Iterator[httpx.Client]:
    host = make_host(HTTP)
    with httpx.Client(base_url=host.base_url + "/api", timeout=30) as c:
        yield c


def test_route_params_query_headers_and_url_reach_the_function(client: httpx.Client) -> None:
    response = client.get("/greet/ada%20l?x=1&x=2", headers={"X-Trace": "abc"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-greeted"] == "ada l"
    body = response.json()
    assert body["name"] == "ada l"
    assert body["params"] == {"x": "1,2"}
    assert body["trace"] == "abc"
    assert body["url"].endswith("/api/greet/ada%20l?x=1&x=2")


def test_int_constraint_literal_precedence_and_methods(client: httpx.Client) -> None:
    assert client.get("/items/41").json() == {"id": 41, "method": "GET", "body": None}
    put = client.put("/items/7", json={"title": "x"})
    assert put.status_code == 201
    assert put.json()["body"] == {"title": "x"}
    latest = client.get("/items/latest")
    assert (latest.status_code, latest.text) == (200, "latest")
    assert latest.headers["content-type"] == "text/plain; charset=utf-8"
    assert client.get("/items/not-a-number").status_code == 404


def test_unknown_route_is_404_and_wrong_method_is_405(client: httpx.Client) -> None:
    assert client.get("/nowhere").status_code == 404
    assert client.get("/greet").status_code == 404
    wrong = client.post("/items/1")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, PUT"
    assert (
        httpx.get(str(client.base_url).removesuffix("/api") + "/other/greet/x").status_code == 404
    )


def test_catch_all_optional_async_and_empty_responses(client: httpx.Client) -> None:
    assert client.get("/files/a/b/item.json").text == "a/b/item.json"
    assert client.get("/files").text == ""
    assert client.get("/tags").json() == {}
    assert client.get("/tags/red").json() == {"tag": "red"}
    nothing = client.post("/nothing", content=b"payload")
    assert nothing.status_code == 204
    assert sample_app.calls("nothing") == [{"body": "payload"}]


def test_an_exception_is_a_500_without_details(client: httpx.Client) -> None:
    response = client.get("/boom")
    assert response.status_code == 500
    assert "failed" not in response.text


def test_disabled_functions_have_no_route(client: httpx.Client) -> None:
    # `secret` is disabled in this host (AzureWebJobs.secret.Disabled).
    assert client.get("/secret").status_code == 404


def test_auth_is_skipped_by_default_like_func_start(make_host: MakeHost) -> None:
    host = make_host({"secret", "operator"})
    assert httpx.get(f"{host.base_url}/api/secret").status_code == 200
    assert httpx.get(f"{host.base_url}/api/operator").status_code == 200


def test_strict_auth_checks_function_and_master_keys(make_host: MakeHost) -> None:
    keys = {"FUNCTIONS_LOCAL_FUNCTION_KEY": "fn-key", "FUNCTIONS_LOCAL_MASTER_KEY": "master-key"}
    host = make_host({"secret", "operator", "greet"}, settings=keys, strict_auth=True)
    base = f"{host.base_url}/api"
    assert httpx.get(f"{base}/greet/anyone").status_code == 200
    assert httpx.get(f"{base}/secret").status_code == 401
    assert httpx.get(f"{base}/secret?code=wrong").status_code == 401
    assert httpx.get(f"{base}/secret?code=fn-key").status_code == 200
    assert httpx.get(f"{base}/secret", headers={"x-functions-key": "master-key"}).status_code == 200
    assert httpx.get(f"{base}/operator?code=fn-key").status_code == 401
    assert httpx.get(f"{base}/operator?code=master-key").status_code == 200
    admin = httpx.post(f"{host.base_url}/admin/functions/greet", json={"input": ""})
    assert admin.status_code == 401


def test_strict_auth_without_keys_refuses_to_start(make_host: MakeHost, azurite: object) -> None:
    with pytest.raises(HostStartError, match="FUNCTIONS_LOCAL_MASTER_KEY"):
        make_host({"secret"}, strict_auth=True)


def test_a_function_in_error_stops_the_in_process_host_with_its_reason(
    make_host: MakeHost,
) -> None:
    with pytest.raises(HostStartError, match="flaky: invalid queue name 'Not_A_Valid_Queue'"):
        make_host({"flaky"}, settings={"FLAKY_QUEUE": "Not_A_Valid_Queue"})


def test_the_host_reports_what_it_loaded(make_host: MakeHost) -> None:
    host: LocalHost = make_host({"greet", "flaky", "on_blob"})
    text = host.describe()
    assert f"listening on {host.base_url}" in text
    assert "greet: [GET]" in text
    assert f"flaky: queueTrigger {host.functions['flaky'].queue.queue_name}" in text  # type: ignore[union-attr]
    assert "eventgrid?functionName=on_blob" in text
    assert "Disabled:" in text
