"""Queue triggers against real Azurite: the host's receive/retry/poison algorithm."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from local.host import Outcome
from tests.integration.host import sample_app
from tests.integration.host.conftest import FAST_HOST_JSON, MakeHost, Queues

MAX_DEQUEUE = FAST_HOST_JSON["extensions"]["queues"]["maxDequeueCount"]


def _host_json(**queues: object) -> dict[str, object]:
    config: dict[str, Any] = json.loads(json.dumps(FAST_HOST_JSON))
    config["extensions"]["queues"].update(queues)
    return config


def test_success_invokes_once_with_the_full_message_and_deletes_it(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    host = make_host({"flaky"})
    queue = names["FLAKY_QUEUE"]
    message_id = queues.send(queue, {"itemId": "S2B_MSIL2A_20220612"})

    host.drain(timeout=30)

    (call,) = sample_app.calls("flaky")
    assert call["body"] == '{"itemId": "S2B_MSIL2A_20220612"}'
    assert (call["dequeue_count"], call["id"], call["type"]) == (1, message_id, "QueueMessage")
    inserted, expires, visible = call["times"]
    assert inserted.tzinfo is not None
    # The storage default TTL, and the host's 10-minute lease while the function runs.
    assert expires - inserted == dt.timedelta(days=7)
    assert dt.timedelta(minutes=9) < visible - inserted <= dt.timedelta(minutes=11)
    assert call["pop_receipt"]
    assert queues.count(queue) == 0
    (invocation,) = host.invocations_of("flaky")
    assert invocation.outcome is Outcome.SUCCEEDED
    assert invocation.details["message_id"] == message_id


def test_failing_message_is_retried_max_dequeue_count_times_then_poisoned_intact(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    host = make_host({"flaky"})
    queue = names["FLAKY_QUEUE"]
    body = json.dumps({"itemId": "a", "please": "fail", "text": "ü"})
    queues.send(queue, body)

    host.drain(timeout=30)

    calls = sample_app.calls("flaky")
    assert [c["dequeue_count"] for c in calls] == list(range(1, MAX_DEQUEUE + 1))
    assert {c["body"] for c in calls} == {body}
    assert [i.outcome for i in host.invocations_of("flaky")] == [Outcome.FAILED] * MAX_DEQUEUE
    assert queues.count(queue) == 0
    # The poison copy keeps the stored (base64) text byte for byte.
    assert queues.peek_raw(f"{queue}-poison") == [base64.b64encode(body.encode()).decode()]
    actions = [e.action for e in host.queue_events]
    assert actions == ["released"] * (MAX_DEQUEUE - 1) + ["poisoned"]


def test_a_write_to_the_poison_queue_wakes_its_listener(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    # A long polling interval: only the wake-up gets the poison message handled quickly.
    host = make_host({"flaky", "flaky_poison"}, host_json=_host_json(maxPollingInterval="00:01:00"))
    queues.send(names["FLAKY_QUEUE"], "fail please")

    host.wait_for_invocations("flaky_poison", 1, timeout=30)

    assert sample_app.calls("flaky_poison") == [{"body": "fail please"}]
    assert host.listener("flaky_poison").stats.woken_by_writes >= 1


def test_invalid_base64_goes_to_poison_without_invoking(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    host = make_host({"flaky"})
    queue = names["FLAKY_QUEUE"]
    queues.send(queue, "plain text, not base64", base64=False)

    host.drain(timeout=30)

    assert sample_app.calls("flaky") == []
    assert host.invocations_of("flaky") == []
    assert queues.peek_raw(f"{queue}-poison") == ["plain text, not base64"]
    (event,) = host.queue_events
    assert (event.action, event.reason) == ("poisoned", "the message is not valid base64")


def test_a_message_already_dequeued_too_often_is_poisoned_without_invoking(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    queue = names["FLAKY_QUEUE"]
    queues.send(queue, "seen before")
    # Another consumer received it MAX times; the host's receive makes it MAX + 1.
    queues.receive_and_release(queue, MAX_DEQUEUE)
    host = make_host({"flaky"})

    host.drain(timeout=30)

    assert sample_app.calls("flaky") == []
    assert queues.peek_raw(f"{queue}-poison") == [base64.b64encode(b"seen before").decode()]
    (event,) = host.queue_events
    assert event.reason == f"dequeue count {MAX_DEQUEUE + 1} exceeds maxDequeueCount {MAX_DEQUEUE}"


def test_without_a_poison_queue_a_failed_message_stays_invisible(
    make_host: MakeHost, queues: Queues, names: dict[str, str], unique_name: str
) -> None:
    # "<name>-poison" would be longer than 63 characters, so there is no poison queue.
    long_name = (unique_name + "-" + "x" * 63)[:60]
    host = make_host({"flaky"}, settings={"FLAKY_QUEUE": long_name})
    queues.send(long_name, "fail, with nowhere to go")

    report = host.drain(timeout=30)

    assert [c["dequeue_count"] for c in sample_app.calls("flaky")] == [1]
    # Not released for a fast retry: invisible until the 10-minute lease runs out.
    assert queues.count(long_name) == 1
    assert queues.peek_raw(long_name) == []
    assert report.parked == {long_name: 1}
    (event,) = host.queue_events
    assert event.action == "left-invisible"


def test_a_queue_that_does_not_exist_yet_is_polled_with_back_off_not_an_error(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    host = make_host({"flaky"})
    stats = host.listener("flaky").stats
    host.wait_until(lambda: stats.missing_queue_polls >= 2, what="polls of a missing queue")
    assert stats.current_delay > 0.1

    queues.send(names["FLAKY_QUEUE"], "now it exists")
    host.drain(timeout=30)

    assert [c["body"] for c in sample_app.calls("flaky")] == ["now it exists"]


def test_message_encoding_none_reads_and_writes_plain_text(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    host = make_host({"relay", "sink"}, host_json=_host_json(messageEncoding="none"))
    queues.send(names["RELAY_QUEUE"], {"text": "plain", "copies": 1}, base64=False)

    host.wait_for_invocations("sink", 1, timeout=30)
    host.drain(timeout=30)

    assert [c["data"] for c in sample_app.calls("relay")] == [{"text": "plain", "copies": 1}]
    assert [c["body"] for c in sample_app.calls("sink")] == ["plain-0"]


def test_polling_pauses_above_new_batch_threshold_and_caps_in_flight(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    # batchSize 1, newBatchThreshold 2: polls at 0, 1 and 2 in flight, then waits at 3.
    host = make_host({"slow"}, host_json=_host_json(batchSize=1, newBatchThreshold=2))
    sample_app.RELEASE_SLOW.clear()
    for n in range(6):
        queues.send(names["SLOW_QUEUE"], {"n": n, "hold": 25})
    stats = host.listener("slow").stats

    host.wait_until(lambda: stats.waiting_for_capacity, timeout=30, what="listener at capacity")
    assert (stats.in_flight, stats.received) == (3, 3)
    assert len(host.wait_for_invocations("slow", 3, finished=False)) == 3
    sample_app.RELEASE_SLOW.set()
    host.drain(timeout=30)

    assert len(sample_app.calls("slow")) == 6
    assert sample_app.max_concurrent("slow") == 3


def test_the_lease_is_renewed_while_the_function_runs(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    # A 2-second lease (renewed every second) and a 3-second run: without renewal the message
    # would become visible mid-run and be delivered a second time.
    host = make_host({"slow"}, message_lease_seconds=2)
    queues.send(names["SLOW_QUEUE"], {"sleep": True, "hold": 3})

    host.drain(timeout=30)

    assert [c["dequeue_count"] for c in sample_app.calls("slow")] == [1]
    assert queues.count(names["SLOW_QUEUE"]) == 0


def test_function_timeout_is_a_failure(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    config = _host_json(maxDequeueCount=1)
    config["functionTimeout"] = "00:00:01"
    host = make_host({"slow", "slow_async"}, host_json=config)
    sample_app.RELEASE_SLOW.clear()
    queues.send(names["SLOW_QUEUE"], {"hold": 20})
    queues.send(names["SLOW_ASYNC_QUEUE"], "sleeps")

    host.drain(timeout=30)

    for name, queue in (("slow", "SLOW_QUEUE"), ("slow_async", "SLOW_ASYNC_QUEUE")):
        (invocation,) = host.invocations_of(name)
        assert invocation.outcome is Outcome.TIMED_OUT
        assert "Timeout value of 0:00:01 was exceeded" in (invocation.error or "")
        assert len(queues.peek_raw(f"{names[queue]}-poison")) == 1
