"""Queue message bodies under host.json `messageEncoding` (base64 or none)."""

from __future__ import annotations

import base64
import binascii
import re

from local.host.host_config import MessageEncoding

# .NET's Convert.FromBase64String skips these; Python's strict decoder does not.
_BASE64_WHITESPACE = re.compile(r"[ \t\r\n]")


class UndecodableMessage(ValueError):
    """The stored text is not valid base64 (the host sends such a message to the poison queue)."""


def decode_body(stored_text: str, encoding: MessageEncoding) -> bytes:
    """The message body bytes from the text the queue stores."""
    if encoding is MessageEncoding.NONE:
        return stored_text.encode("utf-8")
    compact = _BASE64_WHITESPACE.sub("", stored_text)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise UndecodableMessage("the message is not valid base64") from None


def encode_body(body: str | bytes, encoding: MessageEncoding) -> str:
    """The text to store for a message body."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if encoding is MessageEncoding.BASE64:
        return base64.b64encode(raw).decode("ascii")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(
            "a binary queue message needs messageEncoding base64 (the queue stores text)"
        ) from None
