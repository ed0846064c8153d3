"""SAS parsing (foreign tokens) and the emulator's own signing and verification."""

from __future__ import annotations

import pytest

from local.emulator.geocatalog.clock import parse_timestamp
from local.emulator.geocatalog.errors import BlobError
from local.emulator.geocatalog.sas import carries_sas, new_signer, parse_sas

# The shape the Planetary Computer's SAS API returns (docs example): URL-encoded, no `st`.
PC_TOKEN = (
    "se=2021-04-08T18%3A49%3A29Z&sp=rl&sv=2020-02-10&sr=c&skoid=cccccccc-dddd-4444-aaaa-"
    "eeeeeeeeeeee&sktid=***&skt=2021-04-08T17%3A47%3A29Z&ske=2021-04-09T17%3A49%3A29Z&sks=b"
    # The docs' placeholder signature, 43 x "b" (built here so no committed line reads as a secret).
    "&skv=2020-02-10&sig=" + "b" * 43 + "%3D"
)
NOW = parse_timestamp("2026-01-01T00:00:00Z")


def test_parse_foreign_token_decodes_expiry() -> None:
    token = parse_sas(PC_TOKEN)
    assert token.expiry == parse_timestamp("2021-04-08T18:49:29Z")
    assert token.start is None
    assert token.permissions == "rl"
    assert token.is_signed
    assert not token.is_account_sas
    assert token.expired(NOW)
    assert not token.expired(parse_timestamp("2021-04-08T18:00:00Z"))


def test_parse_accepts_a_leading_question_mark_and_detects_account_sas() -> None:
    token = parse_sas("?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&sig=x")
    assert token.is_account_sas
    assert token.expiry == parse_timestamp("2030-01-01T00:00:00Z")


@pytest.mark.parametrize("bad", ["", "   ", "se=not-a-date&sig=x", "novalue"])
def test_parse_rejects_malformed_tokens(bad: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_sas(bad)


def test_carries_sas_needs_a_signature() -> None:
    assert carries_sas("sp=r&sig=abc")
    assert not carries_sas("")
    assert not carries_sas("format=png&assets=image")


@pytest.fixture
def signer():  # type: ignore[no-untyped-def]
    return new_signer("secret", "acct", b"seed")


def test_issued_token_verifies_for_its_container_until_expiry(signer) -> None:  # type: ignore[no-untyped-def]
    token = signer.issue("coll-12345678", NOW, NOW + 3600)
    params = parse_sas(token).params
    assert params["sr"] == "c"
    assert params["sp"] == "rl"
    assert params["se"] == "2026-01-01T01:00:00Z"
    signer.verify("coll-12345678", token, NOW + 10)  # no error

    with pytest.raises(BlobError) as expired:
        signer.verify("coll-12345678", token, NOW + 3600)
    assert expired.value.status == 403
    assert expired.value.code == "AuthenticationFailed"
    assert "time frame" in (expired.value.detail or "")

    with pytest.raises(BlobError) as other:
        signer.verify("other-12345678", token, NOW + 10)
    assert other.value.code == "AuthenticationFailed"
    assert "Signature did not match" in (other.value.detail or "")


def test_tampered_or_missing_signature_is_refused(signer) -> None:  # type: ignore[no-untyped-def]
    token = signer.issue("c-1", NOW, NOW + 3600)
    longer = token.replace("se=2026-01-01T01%3A00%3A00Z", "se=2027-01-01T01%3A00%3A00Z")
    assert longer != token
    with pytest.raises(BlobError) as tampered:
        signer.verify("c-1", longer, NOW + 10)
    assert tampered.value.code == "AuthenticationFailed"
    with pytest.raises(BlobError) as missing:
        signer.verify("c-1", "", NOW)
    assert missing.value.code == "NoAuthenticationInformation"


def test_a_write_only_token_cannot_read(signer) -> None:  # type: ignore[no-untyped-def]
    token = signer.issue("c-1", NOW, NOW + 3600, permissions="w")
    with pytest.raises(BlobError) as denied:
        signer.verify("c-1", token, NOW + 1)
    assert denied.value.code == "AuthorizationPermissionMismatch"


def test_revoking_the_key_invalidates_earlier_tokens(signer) -> None:  # type: ignore[no-untyped-def]
    before = signer.issue("c-1", NOW, NOW + 3600)
    signer.revoke()
    after = signer.issue("c-1", NOW, NOW + 3600)
    signer.verify("c-1", after, NOW + 1)
    with pytest.raises(BlobError):
        signer.verify("c-1", before, NOW + 1)


def test_signers_with_different_secrets_disagree() -> None:
    one = new_signer("a", "acct", b"")
    two = new_signer("b", "acct", b"")
    with pytest.raises(BlobError):
        two.verify("c-1", one.issue("c-1", NOW, NOW + 60), NOW + 1)


def test_blob_error_xml_has_azures_shape() -> None:
    error = BlobError(403, "AuthenticationFailed", "Server failed.", "detail here")
    xml = error.xml("req-1", "2026-01-01T00:00:00.0000000Z").decode("utf-8-sig")
    assert xml.startswith(
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>'
    )
    assert "RequestId:req-1" in xml
    assert "<AuthenticationErrorDetail>detail here</AuthenticationErrorDetail>" in xml
