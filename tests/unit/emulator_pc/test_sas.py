"""SAS tokens: the shape of the PC SAS API's tokens, real UTC times, a verifiable signature."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from local.emulator.planetary_computer.sas import SasSigner, token_expiry
from local.emulator.planetary_computer.timeutil import parse_rfc3339
from tests.unit.emulator_pc.recordings import recorded

NOW = datetime(2025, 7, 31, 15, 7, 28, 512000, tzinfo=UTC)
ACCOUNT, CONTAINER = "sentinel2l2a01", "sentinel2-l2"


def fields_of(token: str) -> dict[str, str]:
    parsed = parse_qs(token, strict_parsing=True)
    assert all(len(v) == 1 for v in parsed.values())
    return {k: v[0] for k, v in parsed.items()}


def test_token_has_the_pc_parameters_in_the_pc_order() -> None:
    issued = SasSigner(b"k").issue(ACCOUNT, CONTAINER, now=NOW, lifetime=timedelta(minutes=45))
    assert not issued.token.startswith("?")
    names = [part.split("=", 1)[0] for part in issued.token.split("&")]
    assert names == [
        "st",
        "se",
        "sp",
        "sv",
        "sr",
        "skoid",
        "sktid",
        "skt",
        "ske",
        "sks",
        "skv",
        "sig",
    ]
    # The documented example (placeholder values) has the same parameters but for the start time.
    documented = fields_of(recorded("sas", "token.naip.docs-example.json")["token"])
    assert set(documented) == set(names) - {"st"}
    fields = fields_of(issued.token)
    assert (fields["sp"], fields["sr"], fields["sks"]) == ("rl", "c", "b")
    # Times are written with escaped colons, as the real tokens write them.
    assert "se=2025-07-31T15%3A52%3A28Z" in issued.token


def test_times_are_real_utc_times_around_the_issue() -> None:
    issued = SasSigner(b"k").issue(ACCOUNT, CONTAINER, now=NOW, lifetime=timedelta(minutes=45))
    fields = fields_of(issued.token)
    issued_at = NOW.replace(microsecond=0)
    assert parse_rfc3339(fields["se"]) == issued_at + timedelta(minutes=45)
    assert parse_rfc3339(fields["st"]) == issued_at - timedelta(days=1)
    assert issued.expiry == parse_rfc3339(fields["se"])
    assert issued.expiry_text == "2025-07-31T15:52:28Z"
    assert parse_rfc3339(fields["skt"]) <= issued_at < parse_rfc3339(fields["ske"])


def test_expired_tokens_expire_before_they_are_issued() -> None:
    issued = SasSigner(b"k").issue(
        ACCOUNT, CONTAINER, now=NOW, lifetime=timedelta(minutes=45), expired=True
    )
    assert issued.expiry < NOW
    assert token_expiry(issued.token) == issued.expiry


def test_signature_verifies_only_for_its_container_key_and_fields() -> None:
    signer = SasSigner(b"k")
    token = signer.issue(ACCOUNT, CONTAINER, now=NOW, lifetime=timedelta(minutes=45)).token
    assert signer.verify(token, ACCOUNT, CONTAINER)
    assert not signer.verify(token, ACCOUNT, "other-container")
    assert not SasSigner(b"other key").verify(token, ACCOUNT, CONTAINER)
    stretched = token.replace("se=2025-07-31T15%3A52%3A28Z", "se=2025-08-31T15%3A52%3A28Z")
    assert stretched != token
    assert not signer.verify(stretched, ACCOUNT, CONTAINER)


def test_signatures_differ_between_issues() -> None:
    signer = SasSigner(b"k")
    first = signer.issue(ACCOUNT, CONTAINER, now=NOW, lifetime=timedelta(minutes=45))
    later = signer.issue(
        ACCOUNT, CONTAINER, now=NOW + timedelta(seconds=1), lifetime=timedelta(minutes=45)
    )
    assert fields_of(first.token)["sig"] != fields_of(later.token)["sig"]


@pytest.mark.parametrize("token", ["", "sp=rl", "se=soon", "se=1&se=2"])
def test_token_expiry_of_unreadable_tokens_is_none(token: str) -> None:
    assert token_expiry(token) is None
