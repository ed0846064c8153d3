"""Operation and other result parsing, from the shapes the real service sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.geocatalog.models import (
    IngestionSource,
    IngestionSourceSummary,
    Operation,
    OperationStatus,
    SasToken,
    is_valid_collection_id,
    parse_datetime,
)

SUCCEEDED = {
    "id": "0e2b5a9c-1111-4222-8333-944445555666",
    "status": "Succeeded",
    "type": "AddItem",
    "creationTime": "2025-03-04T10:00:00.1234567Z",
    "startTime": "2025-03-04T10:00:00.1234567Z",
    "finishTime": "2025-03-04T10:00:03.5000000Z",
    "collectionId": "sentinel-2-l2a-tutorial-7",
    "statusHistory": [
        {"status": "Pending", "timestamp": "2025-03-04T10:00:00.1234567Z"},
        {"status": "Running", "timestamp": "2025-03-04T10:00:01.0000000Z"},
        {"status": "Finished", "timestamp": "2025-03-04T10:00:03.5000000Z"},
    ],
    "additionalInformation": {
        "TotalItems": "1",
        "TotalPendingItems": "0",
        "TotalSuccessfulItems": "1",
        "TotalFailedItems": "0",
    },
}

FAILED = {
    "id": "op-failed",
    "status": "Failed",
    "type": "AddItem",
    "collectionId": "c",
    "statusHistory": [
        {"status": "Pending", "timestamp": "2025-03-04T10:00:00Z"},
        {"status": "Running", "timestamp": "2025-03-04T10:00:01Z"},
        {
            "status": "Failed",
            "timestamp": "2025-03-04T10:00:02Z",
            "errorCode": "ItemAlreadyExistsInCollection",
            "errorMessage": "Item 'a' already exists in collection 'c'",
        },
    ],
    "error": {
        "error": {
            "code": "ItemAlreadyExistsInCollection",
            "message": "Item 'a' already exists in collection 'c'",
        }
    },
}


def test_a_succeeded_operation_whose_history_says_finished() -> None:
    op = Operation.from_json(SUCCEEDED)
    assert op.status is OperationStatus.SUCCEEDED
    assert op.succeeded
    assert op.is_terminal
    assert op.id == "0e2b5a9c-1111-4222-8333-944445555666"
    assert op.type == "AddItem"
    assert op.collection_id == "sentinel-2-l2a-tutorial-7"
    assert op.error_code is None
    assert op.creation_time == datetime(2025, 3, 4, 10, 0, 0, 123456, tzinfo=UTC)
    assert op.finish_time == datetime(2025, 3, 4, 10, 0, 3, 500000, tzinfo=UTC)
    assert op.additional_information["TotalSuccessfulItems"] == "1"


def test_a_failed_operation_reads_its_code_from_the_last_history_entry() -> None:
    op = Operation.from_json(FAILED)
    assert op.status is OperationStatus.FAILED
    assert op.is_terminal
    assert not op.succeeded
    assert op.error_code == "ItemAlreadyExistsInCollection"
    assert op.error_message == "Item 'a' already exists in collection 'c'"


def test_the_last_entry_with_an_error_wins_over_earlier_ones() -> None:
    body = {
        "id": "x",
        "status": "Failed",
        "statusHistory": [
            {"status": "Running", "errorCode": "InternalIntermitentError", "errorMessage": "blip"},
            {"status": "Failed", "errorCode": "IngestionResourceForbidden", "errorMessage": "no"},
            {"status": "Failed", "timestamp": "2025-03-04T10:00:02Z"},
        ],
    }
    op = Operation.from_json(body)
    assert op.error_code == "IngestionResourceForbidden"


def test_a_failed_operation_without_history_codes_falls_back_to_the_doubly_nested_error() -> None:
    body = {
        "id": "x",
        "status": "Failed",
        "statusHistory": [{"status": "Failed", "timestamp": "2025-03-04T10:00:02Z"}],
        "error": {"error": {"code": "NoRecordsToDelete", "message": "Item 'a' does not exist"}},
    }
    op = Operation.from_json(body)
    assert op.error_code == "NoRecordsToDelete"
    assert op.error_message == "Item 'a' does not exist"


def test_a_single_level_error_is_tolerated() -> None:
    op = Operation.from_json(
        {"id": "x", "status": "Failed", "error": {"code": "C", "message": "m"}}
    )
    assert (op.error_code, op.error_message) == ("C", "m")


def test_a_canceled_operation() -> None:
    body = {
        "id": "x",
        "status": "Canceled",
        "finishTime": "2025-03-04T10:00:02Z",
        "statusHistory": [
            {"status": "Pending", "timestamp": "2025-03-04T10:00:00Z"},
            {
                "status": "Canceled",
                "timestamp": "2025-03-04T10:00:02Z",
                "errorCode": "CanceledOperation",
                "errorMessage": "Operation 'x' for collection 'c' has been cancelled",
            },
        ],
    }
    op = Operation.from_json(body)
    assert op.status is OperationStatus.CANCELED
    assert op.is_terminal
    assert not op.succeeded
    assert op.error_code == "CanceledOperation"
    assert op.start_time is None


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("pending", OperationStatus.PENDING),
        ("RUNNING", OperationStatus.RUNNING),
        ("Canceling", OperationStatus.CANCELING),
        ("Cancelled", OperationStatus.CANCELED),
        ("Success", OperationStatus.SUCCEEDED),
    ],
)
def test_statuses_parse_case_insensitively(raw: str, status: OperationStatus) -> None:
    assert Operation.from_json({"id": "x", "status": raw}).status is status


def test_an_unknown_status_is_tolerated_and_not_terminal() -> None:
    op = Operation.from_json({"id": "x", "status": "Throttling"})
    assert op.status is OperationStatus.UNKNOWN
    assert op.raw_status == "Throttling"
    assert not op.is_terminal


def test_missing_fields_are_tolerated() -> None:
    op = Operation.from_json({})
    assert op.id == ""
    assert op.status is OperationStatus.UNKNOWN
    assert op.additional_information == {}
    assert op.creation_time is None


def test_status_falls_back_to_the_history_when_the_top_level_is_missing() -> None:
    op = Operation.from_json({"id": "x", "statusHistory": [{"status": "Finished"}]})
    assert op.status is OperationStatus.SUCCEEDED


def test_additional_information_values_become_strings() -> None:
    op = Operation.from_json({"id": "x", "additionalInformation": {"TotalItems": 3, "N": None}})
    assert op.additional_information == {"TotalItems": "3"}


def test_parse_datetime_forms() -> None:
    assert parse_datetime("2099-12-31T23:59:59.0000000Z") == datetime(
        2099, 12, 31, 23, 59, 59, tzinfo=UTC
    )
    assert parse_datetime("2025-01-01T01:00:00+01:00") == datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_datetime("2025-01-01T00:00:00") == datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_datetime("yesterday") is None
    assert parse_datetime(None) is None


def test_ingestion_source_from_the_spec_example() -> None:
    source = IngestionSource.from_json(
        {
            "id": "00000000-0000-0000-0000-000000000000",
            "kind": "SasToken",
            "created": "2025-10-28T18:41:14.9763916Z",
            "connectionInfo": {
                "containerUrl": "https://SANITIZED.blob.core.windows.net/sample-container",
                "expiration": "2099-12-31T23:59:59.0000000Z",
            },
        }
    )
    assert source.kind == "SasToken"
    assert source.container_url == "https://SANITIZED.blob.core.windows.net/sample-container"
    assert source.expiration == datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)
    now = datetime(2099, 12, 31, 23, 50, tzinfo=UTC)
    assert source.expires_within(timedelta(minutes=15), now=now)
    assert not source.expires_within(timedelta(minutes=5), now=now)
    summary = IngestionSourceSummary.from_json({"id": "s", "kind": "SasToken"})
    assert summary == IngestionSourceSummary(id="s", kind="SasToken", created=None)


def test_sas_token_hides_its_secret_from_repr() -> None:
    token = SasToken.from_json(
        {"msft:expiry": "2021-04-08T18:49:29Z", "token": "?se=2021&sp=rl&sig=SECRET%3D"}
    )
    assert token.token == "se=2021&sp=rl&sig=SECRET%3D"
    assert "SECRET" not in repr(token)
    assert token.sign("https://a.blob.core.windows.net/c/x.tif") == (
        "https://a.blob.core.windows.net/c/x.tif?se=2021&sp=rl&sig=SECRET%3D"
    )
    with pytest.raises(ValueError, match="msft:expiry"):
        SasToken.from_json({"token": "abc"})


@pytest.mark.parametrize("value", ["abc", "sentinel-2-l2a-tutorial-7", "s2_l2a", "a" * 32, "0abc"])
def test_valid_collection_ids(value: str) -> None:
    assert is_valid_collection_id(value)


@pytest.mark.parametrize(
    "value",
    ["ab", "a" * 33, "-abc", "abc-", "_abc", "Sentinel", "a b c", "abc.d", "abc/d", "ábc", ""],
)
def test_invalid_collection_ids(value: str) -> None:
    assert not is_valid_collection_id(value)
