from __future__ import annotations

import base64
import json

import pytest

from shared.messages import (
    BatchMessage,
    MalformedMessage,
    PlanMessage,
    StatusMessage,
    peek_job_id,
)

QUEUE_LIMIT = 64 * 1024


def test_every_message_kind_round_trips() -> None:
    plan = PlanMessage("job-1", page=3, cursor={"href": "https://x/search?token=abc"}, planned=250)
    batch = BatchMessage("job-1", "p00000003-001", throttled=2)
    status = StatusMessage("job-1", "p00000003-001", ("op-1", "op-2"), check=4, throttled=1)
    assert PlanMessage.from_json(plan.to_json()) == plan
    assert BatchMessage.from_json(batch.to_json()) == batch
    assert StatusMessage.from_json(status.to_json()) == status


def test_a_status_message_for_a_batch_of_single_puts_stays_below_the_queue_limit() -> None:
    # Upsert replaces each existing item with its own PUT: up to 99 operations per batch.
    operations = tuple(f"{n:08d}-1111-2222-3333-444444444444" for n in range(99))
    message = StatusMessage("j" * 32, "h" + "0" * 64 + "-000", operations, check=199)
    encoded = base64.b64encode(message.to_json().encode())
    assert len(encoded) < QUEUE_LIMIT / 8


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"v":2,"kind":"plan","jobId":"j"}', "expected a items message"),
        ('{"v":1,"kind":"items","jobId":"j","itemIds":["a"]}', "version"),
        ('{"v":2,"kind":"items","batch":"b"}', "no jobId"),
        ('{"v":2,"kind":"items","jobId":"j"}', "batch key"),
        ('{"v":2,"kind":"items","jobId":"j","batch":""}', "batch key"),
        ('{"v":2,"kind":"items","jobId":"j","batch":"b","throttled":-1}', "throttled"),
    ],
)
def test_malformed_batch_messages_say_why_without_quoting_the_body(text: str, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason) as info:
        BatchMessage.from_json(text)
    assert '"batch":"' not in str(info.value)


@pytest.mark.parametrize(
    "ids",
    [None, [], [""], [1], "op-1"],
)
def test_status_messages_need_operation_ids(ids: object) -> None:
    bad = json.dumps({"v": 2, "kind": "status", "jobId": "j", "batch": "b", "operationIds": ids})
    with pytest.raises(MalformedMessage, match="operationIds"):
        StatusMessage.from_json(bad)


def test_peek_job_id_finds_the_job_of_any_of_our_messages_and_nothing_else() -> None:
    assert peek_job_id(BatchMessage("job-9", "b").to_json()) == "job-9"
    assert peek_job_id(b"\xff\xfe") is None
    assert peek_job_id('{"jobId": 5}') is None
    assert peek_job_id("plain text") is None
