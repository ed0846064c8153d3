from __future__ import annotations

import base64
import json

import pytest

from shared.messages import (
    ItemsMessage,
    MalformedMessage,
    PlanMessage,
    StatusEntry,
    StatusMessage,
    peek_job_id,
)

QUEUE_LIMIT = 64 * 1024


def test_every_message_kind_round_trips() -> None:
    plan = PlanMessage("job-1", page=3, cursor={"href": "https://x/search?token=abc"}, planned=250)
    items = ItemsMessage("job-1", ("a", "b"), throttled=2, method="PUT")
    status = StatusMessage("job-1", (StatusEntry("a", "op-1"),), check=4, throttled=1)
    assert PlanMessage.from_json(plan.to_json()) == plan
    assert ItemsMessage.from_json(items.to_json()) == items
    assert StatusMessage.from_json(status.to_json()) == status


def test_messages_stay_far_below_the_queue_limit_after_base64() -> None:
    ids = tuple(f"S2B_MSIL2A_20220612T182919_R027_T24XWR_{n:04d}" for n in range(100))
    encoded = base64.b64encode(ItemsMessage("j" * 32, ids).to_json().encode())
    assert len(encoded) < QUEUE_LIMIT / 8


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"v":1,"kind":"plan","jobId":"j"}', "expected a items message"),
        ('{"v":2,"kind":"items","jobId":"j","itemIds":["a"]}', "version"),
        ('{"v":1,"kind":"items","itemIds":["a"]}', "no jobId"),
        ('{"v":1,"kind":"items","jobId":"j","itemIds":[]}', "non-empty itemIds"),
        ('{"v":1,"kind":"items","jobId":"j","itemIds":["a"],"throttled":-1}', "throttled"),
        ('{"v":1,"kind":"items","jobId":"j","itemIds":["a"],"method":"PATCH"}', "POST or PUT"),
    ],
)
def test_malformed_items_messages_say_why_without_quoting_the_body(text: str, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason) as info:
        ItemsMessage.from_json(text)
    assert 'itemIds":[' not in str(info.value)


def test_status_entries_must_name_item_and_operation() -> None:
    bad = json.dumps({"v": 1, "kind": "status", "jobId": "j", "entries": [{"itemId": "a"}]})
    with pytest.raises(MalformedMessage, match="operationId"):
        StatusMessage.from_json(bad)


def test_peek_job_id_finds_the_job_of_any_of_our_messages_and_nothing_else() -> None:
    assert peek_job_id(ItemsMessage("job-9", ("a",)).to_json()) == "job-9"
    assert peek_job_id(b"\xff\xfe") is None
    assert peek_job_id('{"jobId": 5}') is None
    assert peek_job_id("plain text") is None
