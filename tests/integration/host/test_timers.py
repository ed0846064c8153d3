"""Timer triggers with an injected clock: schedule, no overlap, past-due catch-up, run on
start-up, no retry, and the singleton lock between two hosts sharing storage."""

from __future__ import annotations

import datetime as dt

from local.host import ManualClock, Outcome
from tests.integration.host import sample_app
from tests.integration.host.conftest import MakeHost


def at(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2030, 1, 1, hour, minute, second, tzinfo=dt.UTC)


EVERY_10_SECONDS = {"TICK_SCHEDULE": "*/10 * * * * *"}
EVERY_5_MINUTES = {"TICK_SCHEDULE": "0 */5 * * * *"}


def test_fires_on_schedule_and_never_overlaps_a_long_run(make_host: MakeHost) -> None:
    clock = ManualClock(at(0, 0, 5))
    host = make_host({"tick"}, settings=EVERY_10_SECONDS, clock=clock)
    state = host.timer_state("tick")
    host.wait_until(lambda: state.next_occurrence == at(0, 0, 10), what="first occurrence armed")

    sample_app.RELEASE_TICK.clear()
    clock.set(at(0, 0, 10))
    host.wait_for_invocations("tick", 1, finished=False)
    # 00:00:20, :30 and :40 pass while the first run is still going.
    clock.set(at(0, 0, 45))
    assert state.running
    sample_app.RELEASE_TICK.set()
    host.wait_for_invocations("tick", 1)
    # The next occurrence is computed when the run ends: the missed ones are skipped.
    host.wait_until(lambda: state.next_occurrence == at(0, 0, 50), what="next occurrence armed")
    clock.set(at(0, 0, 50))

    first, second = host.wait_for_invocations("tick", 2)
    assert [first.details["scheduled_for"], second.details["scheduled_for"]] == [
        at(0, 0, 10),
        at(0, 0, 50),
    ]
    assert sample_app.max_concurrent("tick") == 1
    calls = sample_app.calls("tick")
    assert [c["past_due"] for c in calls] == [False, False]
    assert {c["type"] for c in calls} == {"TimerRequest"}
    # The monitor's status as the second run saw it: Last is the first run's occurrence.
    assert calls[1]["status"]["Last"] == at(0, 0, 10).isoformat()
    assert calls[1]["status"]["Next"] == at(0, 0, 50).isoformat()


def test_downtime_is_caught_up_with_one_past_due_run(make_host: MakeHost) -> None:
    clock = ManualClock(at(0, 3))
    first = make_host({"tick"}, settings=EVERY_5_MINUTES, clock=clock)
    state = first.timer_state("tick")
    first.wait_until(lambda: state.next_occurrence == at(0, 5), what="occurrence armed")
    first.stop()
    assert sample_app.calls("tick") == []

    # The host was down from 00:03 to 01:02: twelve occurrences missed.
    clock.set(at(1, 2))
    second = make_host({"tick"}, settings=EVERY_5_MINUTES, clock=clock)
    later = second.timer_state("tick")
    second.wait_until(lambda: later.next_occurrence == at(1, 5), what="next occurrence armed")

    (run,) = second.wait_for_invocations("tick", 1)
    assert run.details["past_due"] is True
    assert [c["past_due"] for c in sample_app.calls("tick")] == [True]
    assert sample_app.calls("tick")[0]["status"]["Next"] == at(0, 5).isoformat()


def test_run_on_startup_runs_once_at_start(make_host: MakeHost) -> None:
    host = make_host({"on_startup"}, clock=ManualClock(at(6, 0)))
    (run,) = host.wait_for_invocations("on_startup", 1)
    assert run.outcome is Outcome.SUCCEEDED
    assert sample_app.calls("on_startup") == [{"past_due": False}]
    # Yearly schedule: armed for next New Year, nothing else runs.
    state = host.timer_state("on_startup")
    host.wait_until(lambda: state.next_occurrence is not None, what="armed")
    assert state.next_occurrence == dt.datetime(2031, 1, 1, tzinfo=dt.UTC)


def test_a_failed_run_is_not_retried(make_host: MakeHost) -> None:
    clock = ManualClock(at(0, 0, 5))
    host = make_host({"tock"}, settings=EVERY_10_SECONDS, clock=clock)
    state = host.timer_state("tock")
    host.wait_until(lambda: state.next_occurrence == at(0, 0, 10), what="armed")
    clock.set(at(0, 0, 10))
    (run,) = host.wait_for_invocations("tock", 1)
    assert run.outcome is Outcome.FAILED
    # Straight on to the next occurrence, with no retry in between.
    host.wait_until(lambda: state.next_occurrence == at(0, 0, 20), what="re-armed")
    assert len(host.invocations_of("tock")) == 1


def test_only_the_lock_holder_runs_a_timer(make_host: MakeHost) -> None:
    clock = ManualClock(at(0, 0, 5))
    hosts = [
        make_host({"tick"}, settings=EVERY_10_SECONDS, clock=clock, lock_retry_seconds=0.2)
        for _ in range(2)
    ]
    states = [h.timer_state("tick") for h in hosts]
    hosts[0].wait_until(
        lambda: any(s.next_occurrence == at(0, 0, 10) for s in states), what="one host armed"
    )
    holder, waiter = (0, 1) if states[0].lock_held else (1, 0)
    assert not states[waiter].lock_held
    assert states[waiter].next_occurrence is None

    clock.set(at(0, 0, 10))
    hosts[holder].wait_for_invocations("tick", 1)
    hosts[holder].wait_until(lambda: states[holder].next_occurrence == at(0, 0, 20))
    assert hosts[waiter].invocations_of("tick") == []

    # When the holder stops it releases the lease and the other host takes over.
    hosts[holder].stop()
    hosts[waiter].wait_until(lambda: states[waiter].lock_held, what="lock taken over")
    hosts[waiter].wait_until(lambda: states[waiter].next_occurrence == at(0, 0, 20))
    clock.set(at(0, 0, 20))
    hosts[waiter].wait_for_invocations("tick", 1)
    assert len(sample_app.calls("tick")) == 2
