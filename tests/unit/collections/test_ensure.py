"""createCollection of a job: a missing collection is bootstrapped, an existing one left alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses

from shared.collections.ensure import ensure_collection
from shared.collections.errors import UrlNotAllowed
from shared.collections.template_fetch import UrlPolicy
from shared.planetary_computer import PlanetaryComputer
from tests.unit.collections.fake_geocatalog import FakeCollection, FakeGeoCatalog

DATA = Path(__file__).parent / "data"
PC = "https://planetarycomputer.microsoft.com"
TEMPLATE_URL = f"{PC}/api/stac/v1/collections/sentinel-2-l2a"
POLICY = UrlPolicy(frozenset({"planetarycomputer.microsoft.com"}))


def test_a_missing_collection_is_created_from_its_template() -> None:
    gc = FakeGeoCatalog(polls_until_done=0)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(TEMPLATE_URL, json=json.loads((DATA / "sentinel-2-l2a.json").read_text()))
        mock.get(f"{PC}/api/data/v1/mosaic/info", status=404, json="no mosaic info")
        ensure_collection(
            "s2-copy",
            TEMPLATE_URL,
            geocatalog=gc,
            planetary_computer=PlanetaryComputer(PC),
            policy=POLICY,
        )
    assert gc.collections["s2-copy"].body["title"] == "s2-copy"
    assert "most-recent-available" in gc.collections["s2-copy"].mosaics


def test_an_existing_collection_is_left_as_its_owner_configured_it() -> None:
    gc = FakeGeoCatalog()
    gc.collections["s2-copy"] = FakeCollection(body={"id": "s2-copy", "type": "Collection"})
    with responses.RequestsMock() as mock:  # nothing is fetched
        ensure_collection(
            "s2-copy",
            TEMPLATE_URL,
            geocatalog=gc,
            planetary_computer=PlanetaryComputer(PC),
            policy=POLICY,
        )
        assert len(mock.calls) == 0
    assert gc.writes == []


def test_a_template_the_policy_refuses_is_a_domain_error() -> None:
    with pytest.raises(UrlNotAllowed) as refused:
        ensure_collection(
            "s2-copy",
            "https://evil.example/c.json",
            geocatalog=FakeGeoCatalog(),
            planetary_computer=PlanetaryComputer(PC),
            policy=POLICY,
        )
    assert refused.value.field == "templateUrl"
