"""One reading of Retry-After: delta-seconds or HTTP-date, Azure's milliseconds first, bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests.structures

from shared.outbound import MAX_RETRY_AFTER_SECONDS, parse_retry_after

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def at(delta: timedelta) -> str:
    return format_datetime(NOW + delta, usegmt=True)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-5", 0.0),  # never a negative delay
        (at(timedelta(seconds=30)), 30.0),
        (at(-timedelta(hours=1)), 0.0),  # a date in the past means now
        ("Fri, 01 May 2026 12:00:45 -0000", 45.0),  # a date without a zone is GMT
        ("Friday, 01-May-26 12:00:10 GMT", 10.0),  # the obsolete RFC 850 form
        ("99999999", MAX_RETRY_AFTER_SECONDS),
        (at(timedelta(days=400)), MAX_RETRY_AFTER_SECONDS),
        ("soon", None),
        ("", None),
        ("inf", None),
        ("nan", None),
    ],
)
def test_retry_after_forms(value: str, seconds: float | None) -> None:
    assert parse_retry_after({"Retry-After": value}, now=NOW.timestamp()) == seconds


def test_no_header_says_nothing() -> None:
    assert parse_retry_after({}) is None
    assert parse_retry_after({"Content-Type": "application/json"}) is None


def test_a_date_is_read_against_the_clock_when_no_now_is_given() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(minutes=10), usegmt=True)
    seconds = parse_retry_after({"Retry-After": later})
    assert seconds is not None
    assert 0 < seconds <= 600


@pytest.mark.parametrize("header", ["retry-after-ms", "x-ms-retry-after-ms", "Retry-After-Ms"])
def test_milliseconds_win_over_seconds(header: str) -> None:
    assert parse_retry_after({header: "1500", "Retry-After": "9"}) == 1.5


def test_unreadable_milliseconds_fall_back_to_seconds() -> None:
    assert parse_retry_after({"retry-after-ms": "abc", "Retry-After": "9"}) == 9.0
    assert parse_retry_after({"retry-after-ms": "abc"}) is None
    assert parse_retry_after({"x-ms-retry-after-ms": "1e12"}) == MAX_RETRY_AFTER_SECONDS


def test_header_names_match_in_any_case_and_mapping() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after(requests.structures.CaseInsensitiveDict({"RETRY-AFTER": "4"})) == 4.0
