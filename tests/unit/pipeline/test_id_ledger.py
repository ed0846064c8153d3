"""The id ledger: places by id, kept across a round trip through bytes, exact on digests."""

from __future__ import annotations

from shared.pipeline.id_ledger import Ledger, Place, digest


def test_places_survive_a_round_trip_and_are_updated_in_place() -> None:
    ledger = Ledger()
    ids = [f"S2B_MSIL2A_{n:05d}" for n in range(500)]
    for n, item_id in enumerate(ids):
        ledger.put(digest(item_id), Place(n // 198, n % 198))
    ledger.put(digest(ids[3]), Place(7, 42))
    again = Ledger(ledger.to_bytes(), etag="x")
    assert len(again) == 500
    assert again.etag == "x"
    assert not again.changed
    assert again.find(digest(ids[3])) == Place(7, 42)
    assert again.find(digest(ids[499])) == Place(2, 499 - 2 * 198)
    assert again.find(digest("not-listed")) is None


def test_putting_the_same_place_changes_nothing() -> None:
    ledger = Ledger()
    ledger.put(digest("a"), Place(0, 1))
    saved = Ledger(ledger.to_bytes())
    saved.put(digest("a"), Place(0, 1))
    assert not saved.changed
    saved.put(digest("a"), Place(1, 0))
    assert saved.changed


def test_ids_sharing_the_first_64_bits_stay_apart() -> None:
    ledger = Ledger()
    ledger.put((5, 1), Place(0, 0))
    ledger.put((5, 2), Place(1, 1))
    ledger.put((6, 1), Place(2, 2))
    again = Ledger(ledger.to_bytes())
    assert again.find((5, 2)) == Place(1, 1)
    assert again.find((5, 1)) == Place(0, 0)
    assert again.find((5, 3)) is None
    assert len(again) == 3


def test_digests_are_stable_and_take_any_string() -> None:
    assert digest("a") == digest("a") != digest("b")
    assert digest("\udcff-lone-surrogate") != digest("")


def test_the_last_page_that_wrote_is_kept_and_only_grows() -> None:
    ledger = Ledger()
    assert ledger.last_page == -1
    ledger.mark_page(3)
    again = Ledger(ledger.to_bytes())
    assert again.last_page == 3
    again.mark_page(2)  # a redelivered earlier page
    assert (again.last_page, again.changed) == (3, False)
