"""Ingestion sources, managed identities, operations listing and cancelling, SAS endpoints."""

from __future__ import annotations

from typing import Any

from local.emulator.geocatalog.clock import format_seconds, parse_timestamp

from .conftest import Api, make_item

CONTAINER = "https://naipeuwest.blob.core.windows.net/naip"


def sas_body(container_url: str, token: str) -> dict[str, Any]:
    return {
        "kind": "SasToken",
        "connectionInfo": {"containerUrl": container_url, "sasToken": token},
    }


def test_create_source_parses_expiry_and_never_echoes_the_token(api: Api) -> None:
    token = (
        "st=2024-01-01T00%3A00%3A00Z&se=2099-12-31T23%3A59%3A59Z&sp=rl&sv=2021-06-08&sr=c&sig=abc"
    )
    created = api.post(
        "/inma/ingestion-sources",
        json={"id": "00000000-0000-0000-0000-000000000000", **sas_body(CONTAINER, token)},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["id"] != "00000000-0000-0000-0000-000000000000"  # server-generated
    assert body["kind"] == "SasToken"
    assert body["connectionInfo"] == {
        "containerUrl": CONTAINER,
        "expiration": "2099-12-31T23:59:59.0000000Z",
    }
    assert len(body["created"].split(".")[1]) == 8  # 7 digits and Z
    assert created.headers["location"].endswith(
        f"/inma/ingestion-sources/{body['id']}?api-version=2026-04-15"
    )
    fetched = api.get(f"/inma/ingestion-sources/{body['id']}").json()
    assert fetched == body
    assert "sasToken" not in created.text
    listed = api.get("/inma/ingestion-sources").json()
    assert listed == {"value": [{"id": body["id"], "kind": "SasToken", "created": body["created"]}]}


def test_one_source_per_container(api: Api) -> None:
    first = api.post(
        "/inma/ingestion-sources", json=sas_body(CONTAINER, "se=2099-01-01T00:00:00Z&sp=rl&sig=a")
    ).json()
    second = api.post(
        "/inma/ingestion-sources",
        json=sas_body(
            CONTAINER.upper().replace("HTTPS", "https"), "se=2099-01-01T00:00:00Z&sp=rl&sig=b"
        ),
    )
    assert second.status_code == 409
    assert second.json()["error"]["message"] == (
        f"Container url {CONTAINER.upper().replace('HTTPS', 'https')} already contains a SAS token ingestion source with id {first['id']}"
    )


def test_source_validation(api: Api) -> None:
    good_token = "se=2099-01-01T00:00:00Z&sp=rl&sig=a"
    for body in (
        sas_body(CONTAINER + "/", good_token),  # trailing slash
        sas_body("https://naipeuwest.blob.core.windows.net", good_token),  # account level
        sas_body("https://example.com/naip", good_token),  # not a blob container
        sas_body(CONTAINER, "sp=rl&sig=a"),  # no expiry
        sas_body(CONTAINER, "ss=b&srt=co&sp=rl&se=2099-01-01T00:00:00Z&sig=a"),  # account SAS
        sas_body(CONTAINER, "sp=w&se=2099-01-01T00:00:00Z&sig=a"),  # cannot read
        {"kind": "Sas", "connectionInfo": {"containerUrl": CONTAINER, "sasToken": good_token}},
        {"kind": "SasToken"},
    ):
        response = api.post("/inma/ingestion-sources", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "InvalidParameter"


def test_replace_rotates_the_token_and_delete_is_204(api: Api) -> None:
    created = api.post(
        "/inma/ingestion-sources", json=sas_body(CONTAINER, "se=2030-01-01T00:00:00Z&sp=rl&sig=a")
    ).json()
    replaced = api.put(
        f"/inma/ingestion-sources/{created['id']}",
        json=sas_body(CONTAINER, "se=2031-06-01T00:00:00Z&sp=rl&sig=b"),
    )
    assert replaced.status_code == 200
    assert replaced.json()["connectionInfo"]["expiration"] == "2031-06-01T00:00:00.0000000Z"
    assert replaced.json()["id"] == created["id"]
    assert (
        api.put(
            "/inma/ingestion-sources/5b0b7b46-0000-0000-0000-000000000000",
            json=sas_body(CONTAINER, "se=2031-06-01T00:00:00Z&sig=b"),
        ).status_code
        == 404
    )
    deleted = api.delete(f"/inma/ingestion-sources/{created['id']}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert api.get(f"/inma/ingestion-sources/{created['id']}").status_code == 404
    assert api.delete(f"/inma/ingestion-sources/{created['id']}").status_code == 404


def test_managed_identity_sources(api: Api) -> None:
    identities = api.get("/inma/ingestion-sources/managed-identities").json()["value"]
    assert len(identities) == 1
    object_id = identities[0]["objectId"]
    body = {
        "kind": "BlobManagedIdentity",
        "connectionInfo": {"containerUrl": CONTAINER, "objectId": object_id},
    }
    created = api.post("/inma/ingestion-sources", json=body)
    assert created.status_code == 201
    assert created.json()["connectionInfo"] == {"containerUrl": CONTAINER, "objectId": object_id}
    unknown = {
        "kind": "BlobManagedIdentity",
        "connectionInfo": {"containerUrl": CONTAINER + "2", "objectId": "nobody"},
    }
    assert api.post("/inma/ingestion-sources", json=unknown).status_code == 400
    api.create_collection("mi-items")
    item = make_item("mi-1", "mi-items", hrefs={"image": f"{CONTAINER}/v002/a.tif"})
    assert (
        api.finished(api.post("/stac/collections/mi-items/items", json=item))["status"]
        == "Succeeded"
    )


def test_list_sources_pages(api: Api) -> None:
    for index in range(3):
        api.post(
            "/inma/ingestion-sources",
            json=sas_body(f"{CONTAINER}{index}", "se=2099-01-01T00:00:00Z&sig=a"),
        )
    first = api.get("/inma/ingestion-sources", params={"$top": 2}).json()
    assert len(first["value"]) == 2
    assert "%24top=2" in first["nextLink"] or "$top=2" in first["nextLink"]
    second = api.client.get(first["nextLink"], headers=api.headers).json()
    assert len(second["value"]) == 1
    assert "nextLink" not in second


def test_operations_list_newest_first_with_filters_and_paging(api: Api) -> None:
    api.create_collection("ops-a")
    api.create_collection("ops-b")
    for index in range(3):
        api.post("/stac/collections/ops-a/items", json=make_item(f"o{index}", "ops-a"))
        api.clock.advance(0.001)
    api.post("/stac/collections/ops-b/items", json=make_item("x", "ops-b"))
    listed = api.get("/inma/operations", params={"collectionId": "ops-a"}).json()["value"]
    assert [op["type"] for op in listed] == ["AddItem", "AddItem", "AddItem", "AddCollection"]
    times = [parse_timestamp(op["creationTime"]) for op in listed]
    assert times == sorted(times, reverse=True)
    pending = api.get("/inma/operations", params={"status": "Pending"}).json()["value"]
    assert len(pending) == 4
    page = api.get("/inma/operations", params={"$top": 2, "collectionId": "ops-a"}).json()
    assert len(page["value"]) == 2
    assert "collectionId=ops-a" in page["nextLink"]
    rest = api.client.get(page["nextLink"], headers=api.headers).json()
    assert [op["id"] for op in rest["value"]] == [op["id"] for op in listed[2:]]
    assert api.get("/inma/operations", params={"status": "Sleeping"}).status_code == 400


def test_cancel_one_and_all(api: Api) -> None:
    api.create_collection("cancel-a")
    one = api.post("/stac/collections/cancel-a/items", json=make_item("c1", "cancel-a"))
    two = api.post("/stac/collections/cancel-a/items", json=make_item("c2", "cancel-a"))
    three = api.post("/stac/collections/cancel-a/items", json=make_item("c3", "cancel-a"))
    cancel = api.delete(f"/inma/operations/{one.json()['id']}")
    assert cancel.status_code == 204
    canceled = api.operation(one)
    assert canceled["status"] == "Canceled"
    assert canceled["statusHistory"][-1]["errorCode"] == "CanceledOperation"
    assert "startTime" not in canceled
    assert api.delete("/inma/operations").status_code == 204
    api.settle()
    assert api.operation(two)["status"] == "Canceled"
    assert api.operation(three)["status"] == "Canceled"
    assert api.get("/stac/collections/cancel-a/items/c2").status_code == 404  # never ingested
    assert api.delete("/inma/operations/not-an-operation").status_code == 404


def test_sas_token_sign_and_revoke(api: Api) -> None:
    api.create_collection("sas-a")
    api.finished(api.post("/stac/collections/sas-a/items", json=make_item("s1", "sas-a")))
    token = api.get("/sas/token/sas-a", params={"duration": 30}).json()
    assert set(token) == {"msft:expiry", "token"}
    assert parse_timestamp(token["msft:expiry"]) == int(api.clock()) + 1800
    href = api.get("/stac/collections/sas-a/items/s1").json()["assets"]["data"]["href"]
    assert api.client.get(f"{href}?{token['token']}").status_code == 200
    signed = api.get("/sas/sign", params={"href": href}).json()
    assert signed["href"].startswith(href + "?")
    assert api.client.get(signed["href"]).status_code == 200
    outside = api.get("/sas/sign", params={"href": "https://example.com/a.tif"}).json()
    assert outside == {"href": "https://example.com/a.tif"}
    assert api.get("/sas/sign").status_code == 400
    assert api.get("/sas/token/missing-collection").status_code == 404
    revoked = api.post("/sas/token/revoke")
    assert revoked.status_code == 200
    assert api.client.get(signed["href"]).status_code == 403
    fresh = api.get("/sas/token/sas-a").json()["token"]
    assert api.client.get(f"{href}?{fresh}").status_code == 200


def test_expiry_format_of_tokens(api: Api) -> None:
    api.create_collection("sas-b")
    expiry = api.get("/sas/token/sas-b").json()["msft:expiry"]
    assert expiry == format_seconds(parse_timestamp(expiry))
