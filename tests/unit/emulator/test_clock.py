"""Timestamp formats of the service and RFC 3339 parsing."""

from __future__ import annotations

import pytest

from local.emulator.geocatalog.clock import (
    ManualClock,
    format_micros,
    format_seconds,
    format_ticks,
    parse_timestamp,
)

EPOCH_2025 = 1_761_676_874.9763916  # 2025-10-28T18:41:14.9763916Z


def test_formats_match_the_services_shapes() -> None:
    assert format_ticks(EPOCH_2025) == "2025-10-28T18:41:14.9763916Z"
    assert format_micros(EPOCH_2025) == "2025-10-28T18:41:14.976392Z"
    assert format_seconds(EPOCH_2025) == "2025-10-28T18:41:14Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-10-28T18:41:14Z", 1_761_676_874.0),
        ("2025-10-28T18:41:14.9763916Z", EPOCH_2025),
        ("2025-10-28T20:41:14+02:00", 1_761_676_874.0),
        ("2025-10-28T18:41:14", 1_761_676_874.0),
        ("2025-10-28", 1_761_609_600.0),
    ],
)
def test_parse_timestamp(text: str, expected: float) -> None:
    assert parse_timestamp(text) == pytest.approx(expected, abs=1e-6)


def test_a_bare_date_can_mean_its_last_instant() -> None:
    assert parse_timestamp("2025-10-28", end_of_day=True) == pytest.approx(
        1_761_609_600.0 + 86_400 - 1e-6, abs=1e-6
    )


@pytest.mark.parametrize("text", ["", "yesterday", "2025-13-01", "2025-10-28T25:00:00Z"])
def test_parse_timestamp_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_timestamp(text)


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(100.0)
    assert clock() == 100.0
    assert clock.advance(2.5) == 102.5
    assert clock() == 102.5
