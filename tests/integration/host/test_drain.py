"""drain(): returns when the watched queues are empty and nothing is in flight, waits for
messages scheduled to become visible, and says what is left when it gives up."""

from __future__ import annotations

import pytest

from local.host import DrainTimeout
from tests.integration.host import sample_app
from tests.integration.host.conftest import MakeHost, Queues


def test_drain_waits_for_a_delayed_message_and_the_chain_it_starts(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    host = make_host({"relay", "sink"})
    # Invisible for 2 s when drain starts: drain must wait for it, then for its output.
    queues.send(names["RELAY_QUEUE"], {"text": "later", "copies": 2}, delay=2)

    host.drain(timeout=30)

    assert sorted(c["body"] for c in sample_app.calls("sink")) == ["later-0", "later-1"]
    assert queues.count(names["RELAY_QUEUE"]) == 0
    assert queues.count(names["RELAY_OUT_QUEUE"]) == 0


def test_drain_of_an_idle_host_returns(make_host: MakeHost) -> None:
    report = make_host({"flaky", "sink"}).drain(timeout=30)
    assert report.parked == {}


def test_drain_timeout_says_what_is_left(
    make_host: MakeHost, queues: Queues, names: dict[str, str]
) -> None:
    host = make_host({"slow"})
    sample_app.RELEASE_SLOW.clear()
    queues.send(names["SLOW_QUEUE"], {"hold": 20})
    host.wait_for_invocations("slow", 1, finished=False)

    with pytest.raises(DrainTimeout) as caught:
        host.drain(timeout=1)

    assert caught.value.remaining["in_flight"] == {"slow": 1}
    assert caught.value.remaining["running_invocations"] == ["slow"]
    sample_app.RELEASE_SLOW.set()
    host.drain(timeout=30)
