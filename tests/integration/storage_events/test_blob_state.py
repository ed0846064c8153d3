"""Per-blob records on real Azurite: of concurrent deliveries of one version exactly one acts,
an older version never replaces a newer one, and an update of a superseded version is refused."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from azure.data.tables import TableServiceClient

from local.azurite import Azurite
from shared.storage_events.blob_events import sequencer_key
from shared.storage_events.blob_state import BlobRecord, BlobStateStore

pytestmark = pytest.mark.integration

URL = "https://stdrop.blob.core.windows.net/stac/items/a.json"


@pytest.fixture
def state(azurite: Azurite, unique_name: str) -> Iterator[BlobStateStore]:
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    table = service.create_table(unique_name)
    try:
        yield BlobStateStore(table)
    finally:
        service.delete_table(unique_name)


def fresh(previous: BlobRecord | None) -> BlobRecord:
    generation = previous.generation + 1 if previous else 0
    return BlobRecord("r", URL, "", "2026-12-05", generation, outcome="claimed")


def test_concurrent_deliveries_of_one_version_claim_it_once(state: BlobStateStore) -> None:
    seq = sequencer_key("0000000000000000000000000001A5D3000000000006c2a1")
    with ThreadPoolExecutor(max_workers=8) as pool:
        claims = list(
            pool.map(
                lambda i: state.claim("r", URL, sequencer=seq, event_id=f"e{i}", next_record=fresh),
                range(16),
            )
        )
    assert Counter(c.verdict for c in claims) == {"new": 1, "same": 15}


def test_versions_in_any_order_keep_the_newest(state: BlobStateStore) -> None:
    older, newer = sequencer_key("0a"), sequencer_key("0b")
    assert state.claim("r", URL, sequencer=newer, event_id="n", next_record=fresh).verdict == "new"
    late = state.claim("r", URL, sequencer=older, event_id="o", next_record=fresh)
    assert late.verdict == "older"
    assert late.record.sequencer == newer
    # The older delivery may not write its outcome over the newer version's record.
    assert state.update("r", URL, older, lambda r: replace(r, outcome="registered")) is None
    done = state.update("r", URL, newer, lambda r: replace(r, outcome="registered"))
    assert done is not None
    assert done.outcome == "registered"
    again = state.claim("r", URL, sequencer=sequencer_key("0c"), event_id="c", next_record=fresh)
    assert again.verdict == "new"
    assert again.record.generation == 1


def test_a_blob_of_thousands_of_items_keeps_every_id(state: BlobStateStore) -> None:
    """A FeatureCollection blob may hold more item ids than one Table property (32 K chars)."""
    seq = sequencer_key("0d")
    assert state.claim("r", URL, sequencer=seq, event_id="big", next_record=fresh).verdict == "new"
    ids = tuple(f"S2B_MSIL2A_20240516T144749_R082_T33XWK_{n:05d}" for n in range(3000))
    collections = dict.fromkeys(ids[::2], "sentinel-2-l2a")
    done = state.update(
        "r",
        URL,
        seq,
        lambda r: replace(r, item_ids=ids, collections=collections, outcome="registered"),
    )
    assert done is not None
    stored = state.get("r", URL)
    assert stored is not None
    assert stored.item_ids == ids
    assert stored.collections == collections
    # Fewer ids later (a new version): the old chunks left behind by a merge are not read.
    smaller = state.update("r", URL, seq, lambda r: replace(r, item_ids=ids[:2], collections={}))
    assert smaller is not None
    again = state.get("r", URL)
    assert again is not None
    assert again.item_ids == ids[:2]
