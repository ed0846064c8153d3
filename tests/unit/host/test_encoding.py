"""Message bodies under messageEncoding base64 and none."""

from __future__ import annotations

import base64

import pytest

from local.host.encoding import UndecodableMessage, decode_body, encode_body
from local.host.host_config import MessageEncoding

B64 = MessageEncoding.BASE64
NONE = MessageEncoding.NONE


def test_base64_round_trip_of_text_and_bytes() -> None:
    assert encode_body("plain text ü", B64) == "cGxhaW4gdGV4dCDDvA=="
    assert decode_body("cGxhaW4gdGV4dCDDvA==", B64) == "plain text ü".encode()
    raw = bytes(range(256))
    assert decode_body(encode_body(raw, B64), B64) == raw


def test_base64_like_dotnet_ignores_whitespace_and_accepts_empty() -> None:
    assert decode_body("cGxh\r\naW4=", B64) == b"plain"
    assert decode_body("", B64) == b""


@pytest.mark.parametrize("text", ["not base64 at all", '{"itemId": "a"}', "abc", "YQ=", "Y*=="])
def test_invalid_base64_is_recognised(text: str) -> None:
    with pytest.raises(UndecodableMessage):
        decode_body(text, B64)


def test_text_that_happens_to_be_base64_decodes_like_in_azure() -> None:
    # "abcd" is valid base64: the host decodes it (to three odd bytes), it does not poison it.
    assert decode_body("abcd", B64) == base64.b64decode("abcd")


def test_none_encoding_stores_text_as_is() -> None:
    assert encode_body('{"a": 1}', NONE) == '{"a": 1}'
    assert decode_body('{"a": 1}', NONE) == b'{"a": 1}'
    assert decode_body("not base64 at all", NONE) == b"not base64 at all"
    with pytest.raises(ValueError, match="base64"):
        encode_body(b"\xff\xfe", NONE)
