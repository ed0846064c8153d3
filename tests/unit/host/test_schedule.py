"""NCRONTAB next occurrences and the schedule monitor's past-due rules."""

from __future__ import annotations

import datetime as dt

import pytest

from local.host.schedule import NCrontabSchedule, ScheduleError, ScheduleStatus, check_past_due

UTC = dt.UTC


def at(hour: int, minute: int, second: int = 0, day: int = 1) -> dt.datetime:
    return dt.datetime(2024, 1, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # Every five minutes, at second 0.
        ("0 */5 * * * *", at(0, 3), at(0, 5)),
        ("0 */5 * * * *", at(0, 5), at(0, 10)),
        # Every 10 seconds: the first field is seconds.
        ("*/10 * * * * *", at(0, 0, 10), at(0, 0, 20)),
        # 09:30:00 every day.
        ("0 30 9 * * *", at(10, 0), at(9, 30, day=2)),
        # Weekdays at 08:00 (2024-01-06 is a Saturday, so the next is Monday the 8th).
        ("0 0 8 * * 1-5", at(9, 0, day=5), at(8, 0, day=8)),
        # Sunday is 0, as in NCRONTAB.
        ("0 0 0 * * 0", at(12, 0, day=1), at(0, 0, day=7)),
        # A five-field expression is read without seconds, as the host does.
        ("*/15 * * * *", at(0, 1), at(0, 15)),
    ],
)
def test_next_occurrence(expression: str, after: dt.datetime, expected: dt.datetime) -> None:
    assert NCrontabSchedule.parse(expression).next_after(after) == expected


def test_occurrences_are_utc_even_from_another_zone() -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    local = dt.datetime(2024, 1, 1, 2, 3, tzinfo=plus_two)
    assert NCrontabSchedule.parse("0 */5 * * * *").next_after(local) == at(0, 5)


@pytest.mark.parametrize("expression", ["00:05:00", "* * * *", "61 * * * * *", "0 0 25 * * *"])
def test_invalid_schedules(expression: str) -> None:
    with pytest.raises(ScheduleError):
        NCrontabSchedule.parse(expression)


def test_monitor_default_depends_on_the_interval() -> None:
    assert NCrontabSchedule.parse("0 */5 * * * *").default_use_monitor(at(0, 0))
    assert not NCrontabSchedule.parse("*/30 * * * * *").default_use_monitor(at(0, 0))


def test_first_start_records_the_next_occurrence_and_is_not_past_due() -> None:
    schedule = NCrontabSchedule.parse("0 */5 * * * *")
    check = check_past_due(at(0, 3), schedule, None)
    assert check.past_due_by == dt.timedelta(0)
    assert check.changed
    assert check.status == ScheduleStatus(last=None, next=at(0, 5), last_updated=at(0, 3))


def test_downtime_past_the_recorded_next_is_past_due_once() -> None:
    schedule = NCrontabSchedule.parse("0 */5 * * * *")
    status = ScheduleStatus(last=at(0, 5), next=at(0, 10), last_updated=at(0, 5))
    on_time = check_past_due(at(0, 9), schedule, status)
    assert on_time.past_due_by == dt.timedelta(0)
    assert not on_time.changed
    late = check_past_due(at(1, 2), schedule, status)
    assert late.past_due_by == dt.timedelta(minutes=52)


def test_a_changed_schedule_keeps_the_earlier_next() -> None:
    hourly = NCrontabSchedule.parse("0 0 * * * *")
    status = ScheduleStatus(last=at(0, 5), next=at(0, 10), last_updated=at(0, 5))
    check = check_past_due(at(0, 7), hourly, status)
    # Hourly after 00:05 is 01:00; the recorded 00:10 is earlier and kept.
    assert check.changed
    assert check.status.next == at(0, 10)
    assert check.past_due_by == dt.timedelta(0)


def test_status_round_trips_through_json() -> None:
    status = ScheduleStatus(last=None, next=at(0, 5), last_updated=at(0, 3))
    assert ScheduleStatus.from_json(status.to_json()) == status
    assert status.for_function() == {
        "Last": None,
        "Next": "2024-01-01T00:05:00+00:00",
        "LastUpdated": "2024-01-01T00:03:00+00:00",
    }
    with pytest.raises(ValueError, match="Next"):
        ScheduleStatus.from_json('{"Last": null}')
