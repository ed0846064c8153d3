"""NCRONTAB schedules and the timer's schedule status (pure: no storage, no clock).

The Functions host reads six fields, `{second} {minute} {hour} {day} {month} {day-of-week}`, in
UTC; a five-field expression is read without seconds, as the host's `CronSchedule` does.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from croniter import croniter

# The host turns the monitor on by default only for schedules at least this far apart.
_MONITOR_MIN_INTERVAL = dt.timedelta(minutes=1)


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class NCrontabSchedule:
    expression: str

    @classmethod
    def parse(cls, expression: str) -> NCrontabSchedule:
        text = " ".join(expression.split())
        fields = text.split(" ")
        if ":" in text and len(fields) == 1:
            raise ScheduleError(
                f"schedule {expression!r} is a TimeSpan; Consumption and Flex plans accept "
                "NCRONTAB only, e.g. '0 */5 * * * *'"
            )
        if len(fields) not in (5, 6):
            raise ScheduleError(
                f"schedule {expression!r} must have six NCRONTAB fields: "
                "{second} {minute} {hour} {day} {month} {day-of-week}"
            )
        schedule = cls(text)
        try:
            schedule.next_after(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        except (ValueError, KeyError, TypeError) as exc:
            raise ScheduleError(f"schedule {expression!r} is not valid NCRONTAB: {exc}") from None
        return schedule

    @property
    def has_seconds(self) -> bool:
        return len(self.expression.split(" ")) == 6

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first occurrence strictly after `moment` (UTC)."""
        start = moment.astimezone(dt.UTC)
        iterator = croniter(self.expression, start, second_at_beginning=self.has_seconds)
        following: dt.datetime = iterator.get_next(dt.datetime)
        return following.astimezone(dt.UTC)

    def default_use_monitor(self, moment: dt.datetime) -> bool:
        first = self.next_after(moment)
        second = self.next_after(first)
        return second - first >= _MONITOR_MIN_INTERVAL


def _time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class ScheduleStatus:
    """What the host stores per timer when the monitor is on: Last, Next, LastUpdated."""

    last: dt.datetime | None
    next: dt.datetime
    last_updated: dt.datetime

    def to_json(self) -> str:
        return json.dumps(
            {
                "Last": self.last.isoformat() if self.last else None,
                "Next": self.next.isoformat(),
                "LastUpdated": self.last_updated.isoformat(),
            }
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> ScheduleStatus:
        data = json.loads(text)
        next_time, updated = _time(data.get("Next")), _time(data.get("LastUpdated"))
        if next_time is None or updated is None:
            raise ValueError("schedule status without Next or LastUpdated")
        return cls(last=_time(data.get("Last")), next=next_time, last_updated=updated)

    def for_function(self) -> dict[str, str | None]:
        """The `ScheduleStatus` object the worker receives."""
        return {
            "Last": self.last.isoformat() if self.last else None,
            "Next": self.next.isoformat(),
            "LastUpdated": self.last_updated.isoformat(),
        }


@dataclass(frozen=True)
class PastDueCheck:
    """The status to keep and how late the recorded next occurrence is (zero: not past due)."""

    status: ScheduleStatus
    past_due_by: dt.timedelta
    changed: bool


def check_past_due(
    now: dt.datetime, schedule: NCrontabSchedule, status: ScheduleStatus | None
) -> PastDueCheck:
    """The WebJobs `ScheduleMonitor.CheckPastDueAsync` rules.

    No status yet: record the next occurrence from now; not past due. A status whose Next no
    longer fits the schedule (the schedule changed) keeps whichever is earlier. Past due when
    now is later than the recorded Next.
    """
    if status is None:
        fresh = ScheduleStatus(last=None, next=schedule.next_after(now), last_updated=now)
        return PastDueCheck(fresh, dt.timedelta(0), changed=True)
    basis = status.last or status.last_updated
    expected = schedule.next_after(basis)
    changed = False
    if expected != status.next:
        status = ScheduleStatus(last=status.last, next=min(expected, status.next), last_updated=now)
        changed = True
    late = now - status.next if now > status.next else dt.timedelta(0)
    return PastDueCheck(status, late, changed)
