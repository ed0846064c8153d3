"""Bootstrap orchestration: a fake GeoCatalog, the template and the PC answered by `responses`."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import responses

from shared.collections.bootstrap import BootstrapOptions, BootstrapRequest, bootstrap_collection
from shared.collections.errors import CollectionNotCreated, FetchFailed, TemplateUnusable
from shared.collections.results import BootstrapResult
from shared.collections.template_fetch import TemplateFetcher, UrlPolicy
from shared.geocatalog.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    OperationTimeoutError,
    ThrottledError,
    TransientError,
)
from shared.geocatalog.models import Operation
from shared.planetary_computer import PlanetaryComputer
from tests.fake_time import FakeTime
from tests.unit.collections.fake_geocatalog import FakeCollection, FakeGeoCatalog

HERE = Path(__file__).parent
PC = "https://planetarycomputer.microsoft.com"
TEMPLATE_URL = f"{PC}/api/stac/v1/collections/sentinel-2-l2a"
THUMBNAIL_URL = (
    "https://ai4edatasetspublicassets.blob.core.windows.net/assets/pc_thumbnails/sentinel-2.png"
)
OTHER_TEMPLATE_URL = "https://raw.example.org/naip/collection.json"
PNG = b"\x89PNG\r\n\x1a\n" + b"sentinel-thumbnail" * 10
POLICY = UrlPolicy(
    frozenset(
        {
            "planetarycomputer.microsoft.com",
            "ai4edatasetspublicassets.blob.core.windows.net",
            "raw.example.org",
        }
    )
)


def template() -> dict[str, Any]:
    return json.loads((HERE / "data" / "sentinel-2-l2a.json").read_text())


def mosaic_info() -> dict[str, Any]:
    configs = json.loads(
        (HERE.parents[1] / "fixtures" / "render" / "pc-apis.collection_config.json").read_text()
    )
    info: dict[str, Any] = configs["sentinel-2-l2a"]["mosaic_info"]
    return info


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(TEMPLATE_URL, json=template())
        mock.get(THUMBNAIL_URL, body=PNG, content_type="image/png")
        mock.get(f"{PC}/api/data/v1/mosaic/info", json=mosaic_info())
        yield mock


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def gc() -> FakeGeoCatalog:
    return FakeGeoCatalog()


def run(
    gc: FakeGeoCatalog,
    clock: FakeTime,
    request: BootstrapRequest | None = None,
    **options: Any,
) -> BootstrapResult:
    with TemplateFetcher(POLICY) as fetcher:
        return bootstrap_collection(
            request or BootstrapRequest("s2-copy", TEMPLATE_URL),
            geocatalog=gc,
            planetary_computer=PlanetaryComputer(PC),
            fetcher=fetcher,
            options=BootstrapOptions(sleep=clock.sleep, clock=clock.clock, **options),
        )


def actions(result: BootstrapResult, kind: str) -> dict[str, str]:
    return {c.id: c.action for c in result.changes if c.kind == kind}


# -- first run ---------------------------------------------------------------------------------


def test_a_first_run_creates_everything(
    gc: FakeGeoCatalog, clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    result = run(gc, clock)

    assert result.created
    assert result.changed
    stored = gc.collections["s2-copy"]
    assert stored.body["id"] == "s2-copy"
    assert stored.body["title"] == "s2-copy"
    assert "msft:storage_account" not in stored.body
    assert stored.body["item_assets"] == template()["item_assets"]
    assert stored.thumbnails == {"thumbnail": PNG}
    names = [o["name"] for o in mosaic_info()["renderOptions"]]
    assert sorted(o["name"] for o in stored.render_options.values()) == sorted(names)
    assert "normalized-difference-veg-inde" in stored.render_options
    mosaic_names = [m["name"] for m in stored.mosaics.values()]
    assert "Most recent available" in mosaic_names
    assert len(stored.mosaics) == len(mosaic_info()["mosaics"]) + 1
    assert stored.tile_settings == {
        "minZoom": 9,
        "maxItemsPerTile": 35,
        "defaultLocation": {"zoom": 9, "coordinates": [-16.494, 124.0274]},
    }
    # The AddCollection operation was followed to its end, without a real sleep.
    assert gc.calls.count("get_operation") == 2
    assert clock.slept == [2.0]

    assert actions(result, "collection") == {"s2-copy": "created"}
    assert actions(result, "thumbnail") == {"thumbnail": "created"}
    assert set(actions(result, "render-option").values()) == {"created"}
    assert len(actions(result, "render-option")) == len(names)
    assert set(actions(result, "mosaic").values()) == {"created"}
    assert actions(result, "tile-settings") == {"s2-copy": "updated"}
    body = result.to_dict()
    assert body["collectionId"] == "s2-copy"
    assert body["created"] is True
    assert body["summary"]["unchanged"] == 0
    assert body["warnings"] == []


def test_the_given_title_is_used(
    gc: FakeGeoCatalog, clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    run(gc, clock, BootstrapRequest("s2-copy", TEMPLATE_URL, "Sentinel-2 for the demo"))
    assert gc.collections["s2-copy"].body["title"] == "Sentinel-2 for the demo"


# -- second run: idempotent ------------------------------------------------------------------------


def test_a_second_run_changes_nothing_and_says_so(
    gc: FakeGeoCatalog, clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    run(gc, clock)
    gc.calls.clear()

    result = run(gc, clock)

    assert not result.created
    assert not result.changed
    assert gc.writes == []
    assert {c.action for c in result.changes} == {"unchanged"}
    assert result.to_dict()["summary"] == {
        "created": 0,
        "updated": 0,
        "unchanged": len(result.changes),
        "skipped": 0,
    }


def test_a_rerun_repairs_drift_and_only_drift(
    gc: FakeGeoCatalog, clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    run(gc, clock)
    stored = gc.collections["s2-copy"]
    stored.body["description"] = "edited by hand"
    stored.render_options["color-infrared"]["options"] = "assets=B01"
    del stored.mosaics["most-recent-available"]
    stored.thumbnails["thumbnail"] = b"another picture"
    stored.tile_settings["maxItemsPerTile"] = 10
    stored.render_options["my-own"] = {"id": "my-own", "name": "Mine"}
    gc.calls.clear()

    result = run(gc, clock)

    assert sorted(gc.writes) == sorted(
        [
            "replace_collection",
            "replace_collection_asset",
            "replace_render_option",
            "create_mosaic",
            "replace_tile_settings",
        ]
    )
    assert stored.body["description"] == template()["description"]
    assert stored.render_options["color-infrared"]["options"].startswith("assets=B08")
    assert stored.thumbnails["thumbnail"] == PNG
    assert "my-own" in stored.render_options  # what the bootstrap did not make stays
    assert actions(result, "render-option")["color-infrared"] == "updated"
    assert actions(result, "render-option")["natural-color"] == "unchanged"
    assert actions(result, "mosaic")["most-recent-available"] == "created"
    assert actions(result, "collection") == {"s2-copy": "updated"}
    assert not result.created


def test_entries_made_by_the_tutorial_under_other_ids_are_updated_not_duplicated(
    gc: FakeGeoCatalog, clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    run(gc, clock)
    mosaics = gc.collections["s2-copy"].mosaics
    mosaics.pop("most-recent-available")
    mosaics["mos1"] = {"id": "mos1", "name": "Most recent available", "cql": []}
    gc.calls.clear()

    result = run(gc, clock)

    assert "most-recent-available" not in mosaics
    assert mosaics["mos1"]["description"] == "Most recent available imagery in this collection"
    assert actions(result, "mosaic")["mos1"] == "updated"


# -- bad input touches nothing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"body": "<html>not json</html>"}, TemplateUnusable),
        (
            {"json": {"type": "Catalog", "id": "c", "description": "d", "links": []}},
            TemplateUnusable,
        ),
        ({"status": 404, "json": {"detail": "Not found"}}, TemplateUnusable),
        ({"status": 502, "body": "bad gateway"}, FetchFailed),
    ],
)
def test_an_unusable_template_leaves_the_catalog_untouched(
    gc: FakeGeoCatalog,
    clock: FakeTime,
    rsps: responses.RequestsMock,
    answer: dict[str, Any],
    error: type[TemplateUnusable | FetchFailed],
) -> None:
    rsps.replace(responses.GET, TEMPLATE_URL, **answer)
    with pytest.raises(error) as caught:
        run(gc, clock)
    assert caught.value.field == "templateUrl"
    assert gc.calls == []


def test_a_planetary_computer_outage_fails_before_the_catalog_is_touched(
    gc: FakeGeoCatalog, clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    rsps.replace(responses.GET, f"{PC}/api/data/v1/mosaic/info", status=503, body="down")
    with pytest.raises(TransientError) as caught:
        run(gc, clock)
    assert caught.value.service == "Planetary Computer"
    assert gc.calls == []


# -- partial sources ---------------------------------------------------------------------------------


def test_a_template_outside_the_planetary_computer_gets_only_the_default_mosaic(
    gc: FakeGeoCatalog, clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    rsps.get(
        OTHER_TEMPLATE_URL,
        json=json.loads((HERE / "data" / "naip-sample-datasets.collection.json").read_text()),
    )
    result = run(gc, clock, BootstrapRequest("naip-copy", OTHER_TEMPLATE_URL))

    stored = gc.collections["naip-copy"]
    assert stored.render_options == {}
    assert list(stored.mosaics) == ["most-recent-available"]
    assert stored.mosaics["most-recent-available"]["cql"] == []
    assert actions(result, "thumbnail") == {"thumbnail": "skipped"}
    assert any("not a Planetary Computer collection" in w for w in result.warnings)
    assert any("no thumbnail" in w for w in result.warnings)
    assert not any(c.request.url.startswith(f"{PC}/api/data") for c in rsps.calls)


def test_no_mosaic_info_at_the_planetary_computer_is_a_warning(
    gc: FakeGeoCatalog, clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    rsps.replace(
        responses.GET, f"{PC}/api/data/v1/mosaic/info", status=404, json="No such collection"
    )
    result = run(gc, clock)
    assert gc.collections["s2-copy"].render_options == {}
    assert list(gc.collections["s2-copy"].mosaics) == ["most-recent-available"]
    assert any("no mosaic info" in w for w in result.warnings)


def test_an_unreachable_thumbnail_is_a_warning_and_the_rest_is_done(
    gc: FakeGeoCatalog, clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    rsps.replace(responses.GET, THUMBNAIL_URL, status=500, body="oops")
    result = run(gc, clock)
    assert gc.collections["s2-copy"].thumbnails == {}
    assert actions(result, "thumbnail") == {"thumbnail": "skipped"}
    assert any(w.startswith("thumbnail not copied") for w in result.warnings)
    assert len(gc.collections["s2-copy"].render_options) == len(mosaic_info()["renderOptions"])


def test_a_thumbnail_host_outside_the_allow_list_is_not_fetched(
    gc: FakeGeoCatalog, clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    with TemplateFetcher(UrlPolicy(frozenset({"planetarycomputer.microsoft.com"}))) as fetcher:
        result = bootstrap_collection(
            BootstrapRequest("s2-copy", TEMPLATE_URL),
            geocatalog=gc,
            planetary_computer=PlanetaryComputer(PC),
            fetcher=fetcher,
            options=BootstrapOptions(sleep=clock.sleep, clock=clock.clock),
        )
    assert not any(c.request.url.startswith(THUMBNAIL_URL) for c in rsps.calls)
    assert any(
        "ai4edatasetspublicassets" in w and "SOURCE_ALLOWED_HOSTS" in w for w in result.warnings
    )


# -- GeoCatalog failures -----------------------------------------------------------------------------


def test_a_failed_create_operation_is_passed_on_with_its_code(
    clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    gc = FakeGeoCatalog(fail_create_with="StacValidationFailed")
    with pytest.raises(CollectionNotCreated) as caught:
        run(gc, clock)
    assert caught.value.code == "StacValidationFailed"
    assert caught.value.operation_id == "op-1"
    assert "create_render_option" not in gc.calls


def test_a_create_operation_that_never_finishes_times_out(
    clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    gc = FakeGeoCatalog(polls_until_done=1000)
    with pytest.raises(OperationTimeoutError):
        run(gc, clock, operation_timeout=10.0, poll_interval=2.0)
    assert clock.now <= 10.0


def test_throttled_calls_are_retried_after_the_delay_asked_for(
    gc: FakeGeoCatalog, clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    gc.faults["create_render_option"] = [ThrottledError("slow", status=429, retry_after=4.0)]
    gc.faults["list_mosaics"] = [TransientError("blip", status=503)]
    result = run(gc, clock)
    assert result.changed
    assert 4.0 in clock.slept
    assert len(gc.collections["s2-copy"].render_options) == len(mosaic_info()["renderOptions"])


def test_a_refusal_mid_way_is_raised_and_a_rerun_finishes_the_job(
    gc: FakeGeoCatalog, clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    gc.faults["create_mosaic"] = [
        InvalidRequestError("bad mosaic", status=400, code="InvalidInput")
    ]
    with pytest.raises(InvalidRequestError):
        run(gc, clock)
    result = run(gc, clock)
    assert not result.created
    assert len(gc.collections["s2-copy"].mosaics) == len(mosaic_info()["mosaics"]) + 1
    assert "created" in set(actions(result, "mosaic").values())


def test_a_collection_created_concurrently_is_updated_instead(
    gc: FakeGeoCatalog, clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    gc.faults["create_collection"] = [ConflictError("exists", status=409)]
    gc.collections["s2-copy"] = FakeCollection(body={"id": "s2-copy", "type": "Collection"})
    # The read before the create saw nothing: the other request created it in between.
    gc.faults["get_collection"] = [NotFoundError("none", status=404)]
    result = run(gc, clock)
    assert not result.created
    assert actions(result, "collection") == {"s2-copy": "updated"}


class RacedGeoCatalog(FakeGeoCatalog):
    """Another request creates the same id while ours is queued: ours fails in its operation."""

    def create_collection(self, collection: Mapping[str, Any]) -> Operation:
        operation = super().create_collection(collection)
        collection_id = str(collection["id"])
        self.collections[collection_id] = FakeCollection(
            body={"id": collection_id, "type": "Collection"}
        )
        return operation


def test_a_create_that_loses_a_race_in_its_operation_is_updated_instead(
    clock: FakeTime, rsps: responses.RequestsMock
) -> None:
    # Seen on the local stack: concurrent jobs with createCollection for one new collection.
    gc = RacedGeoCatalog(fail_create_with="CollectionAlreadyExists")
    result = run(gc, clock)
    assert not result.created
    assert actions(result, "collection") == {"s2-copy": "updated"}
    assert len(gc.collections["s2-copy"].render_options) == len(mosaic_info()["renderOptions"])


def test_a_signed_template_url_is_logged_without_its_query(
    gc: FakeGeoCatalog,
    clock: FakeTime,
    rsps: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    signed = f"{TEMPLATE_URL}?sv=2024-05-04&sig=SECRETSIGNATURE"
    rsps.get(signed, json=template())
    with caplog.at_level(logging.DEBUG):
        run(gc, clock, BootstrapRequest("s2-copy", signed))
    logged = [f"{r.getMessage()} {vars(r)}" for r in caplog.records]
    assert any("bootstrapped" in line for line in logged)
    assert not any("SECRETSIGNATURE" in line for line in logged)
