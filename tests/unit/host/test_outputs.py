"""What a queue output value turns into."""

from __future__ import annotations

import pytest

from local.host.outputs import HostOut, output_payloads
from tests.triggers import queue_message


def test_single_values_and_lists() -> None:
    assert output_payloads(None) == []
    assert output_payloads("one") == ["one"]
    assert output_payloads(b"\x00") == [b"\x00"]
    assert output_payloads(["a", "b"]) == ["a", "b"]
    assert output_payloads(("a", b"b")) == ["a", b"b"]
    assert output_payloads([]) == []
    assert output_payloads(queue_message("body")) == [b"body"]
    assert output_payloads([queue_message("x"), "y"]) == [b"x", "y"]


@pytest.mark.parametrize("value", [{"a": 1}, 5, 1.5, [{"a": 1}], ["ok", 3]])
def test_values_the_worker_cannot_send_fail_the_invocation(value: object) -> None:
    with pytest.raises(TypeError, match="queue output"):
        output_payloads(value)


def test_out_keeps_only_the_last_value_like_the_worker() -> None:
    out = HostOut()
    assert out.get() is None
    out.set("first")
    out.set("second")
    assert out.get() == "second"
    assert out.set_count == 2
