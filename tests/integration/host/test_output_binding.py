"""Queue output bindings: written only after success, one message per list element, and the
listener of the target queue is woken."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from local.host import Outcome
from tests.integration.host import sample_app
from tests.integration.host.conftest import FAST_HOST_JSON, MakeHost, Queues


def _slow_polling() -> dict[str, object]:
    config: dict[str, Any] = json.loads(json.dumps(FAST_HOST_JSON))
    config["extensions"]["queues"]["maxPollingInterval"] = "00:01:00"
    return config


def test_outputs_are_sent_after_success_one_message_per_element(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    host = make_host({"relay", "sink"}, host_json=_slow_polling())
    queues.send(names["RELAY_QUEUE"], {"text": "item", "copies": 3})

    host.wait_for_invocations("sink", 3, timeout=30)
    host.drain(timeout=30)

    assert sorted(c["body"] for c in sample_app.calls("sink")) == ["item-0", "item-1", "item-2"]
    (relay,) = host.invocations_of("relay")
    sinks = host.invocations_of("sink")
    assert relay.outcome is Outcome.SUCCEEDED
    assert relay.finished_at is not None
    assert all(s.started_at >= relay.finished_at for s in sinks)
    # The sink's listener was woken by the write instead of waiting for its next poll.
    assert host.listener("sink").stats.woken_by_writes >= 1
    # The function saw a context with its own invocation id.
    assert sample_app.calls("relay")[0]["invocation_id"] == relay.id


def test_a_failed_function_sends_nothing_even_though_it_set_the_output(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    host = make_host({"relay", "sink"})
    queues.send(names["RELAY_QUEUE"], {"text": "never", "fail": True})

    host.drain(timeout=30)

    assert [i.outcome for i in host.invocations_of("relay")] == [Outcome.FAILED] * 3
    assert sample_app.calls("sink") == []
    assert host.invocations_of("sink") == []
    assert queues.count(names["RELAY_OUT_QUEUE"]) == 0


def test_output_messages_are_base64_and_the_queue_is_created(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    host = make_host({"enqueue"})
    out = names["RELAY_OUT_QUEUE"]
    assert queues.count(out) == 0

    response = httpx.post(f"{host.base_url}/api/enqueue", content="from http ü")

    assert response.status_code == 202
    assert queues.peek_raw(out) == [base64.b64encode("from http ü".encode()).decode()]
