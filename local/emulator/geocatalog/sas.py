"""Shared access signatures: parse foreign tokens, issue and verify the emulator's own.

Ingestion sources hold tokens issued by other storage accounts (e.g. the Planetary Computer's
SAS API); the emulator cannot check their signature, only their shape and expiry, as GeoCatalog
itself finds out only when it reads. Managed-storage tokens are issued here and fully verified.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from local.emulator.geocatalog.clock import format_seconds, parse_timestamp
from local.emulator.geocatalog.errors import BlobError

SERVICE_VERSION = "2024-05-04"


@dataclass(frozen=True)
class SasToken:
    """A SAS query string split into its (URL-decoded) parameters."""

    params: dict[str, str]

    @property
    def expiry(self) -> float | None:
        value = self.params.get("se")
        return parse_timestamp(value) if value else None

    @property
    def start(self) -> float | None:
        value = self.params.get("st")
        return parse_timestamp(value) if value else None

    @property
    def permissions(self) -> str:
        return self.params.get("sp", "")

    @property
    def is_account_sas(self) -> bool:
        return "ss" in self.params or "srt" in self.params

    @property
    def is_signed(self) -> bool:
        return "sig" in self.params

    def expired(self, now: float) -> bool:
        expiry = self.expiry
        return expiry is not None and expiry <= now


def parse_sas(token: str) -> SasToken:
    """Parse a SAS query string (with or without a leading `?`); raise ValueError if malformed."""
    text = token.strip().removeprefix("?")
    if not text:
        raise ValueError("empty SAS token")
    pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    params = dict(pairs)
    for key in ("se", "st"):
        if key in params:
            parse_timestamp(params[key])
    return SasToken(params)


def carries_sas(query: str) -> bool:
    """True when a URL query holds a SAS signature."""
    if not query:
        return False
    return any(key == "sig" for key, _ in parse_qsl(query, keep_blank_values=True))


class SasSigner:
    """Issues and verifies container-scoped user-delegation-style SAS tokens for managed storage.

    Revoking the user delegation key (POST /sas/token/revoke) bumps the key version, which
    invalidates every token issued before, as Azure does.
    """

    def __init__(self, secret: bytes, account: str, tenant_id: str, object_id: str) -> None:
        self._secret = secret
        self._account = account
        self._tenant_id = tenant_id
        self._object_id = object_id
        self._key_version = 0

    def revoke(self) -> None:
        self._key_version += 1

    def _signature(self, container: str, params: dict[str, str]) -> str:
        string_to_sign = "\n".join(
            [
                params.get("sp", ""),
                params.get("st", ""),
                params.get("se", ""),
                f"/blob/{self._account}/{container}",
                params.get("skoid", ""),
                params.get("sktid", ""),
                params.get("skt", ""),
                params.get("ske", ""),
                params.get("sks", ""),
                params.get("skv", ""),
                params.get("sv", ""),
                params.get("sr", ""),
            ]
        )
        key = hmac.new(self._secret, str(self._key_version).encode(), hashlib.sha256).digest()
        digest = hmac.new(key, string_to_sign.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def issue(self, container: str, start: float, expiry: float, permissions: str = "rl") -> str:
        """A token query string (no leading `?`) for one container."""
        params = {
            "st": format_seconds(start),
            "se": format_seconds(expiry),
            "sp": permissions,
            "sv": SERVICE_VERSION,
            "sr": "c",
            "skoid": self._object_id,
            "sktid": self._tenant_id,
            "skt": format_seconds(start),
            "ske": format_seconds(expiry),
            "sks": "b",
            "skv": SERVICE_VERSION,
        }
        params["sig"] = self._signature(container, params)
        return urlencode(params)

    def verify(self, container: str, query: str, now: float) -> None:
        """Raise BlobError (403, Azure's codes) unless `query` grants read on `container` now."""
        if not carries_sas(query):
            raise BlobError(
                403,
                "NoAuthenticationInformation",
                "Server failed to authenticate the request. Please refer to the information in "
                "the www-authenticate header.",
            )
        try:
            token = parse_sas(query)
        except ValueError as exc:
            raise _auth_failed(f"The SAS token could not be parsed: {exc}") from exc
        params = token.params
        expected = self._signature(container, params)
        if not hmac.compare_digest(expected, params.get("sig", "")):
            raise _auth_failed("Signature did not match. String to sign used was not valid.")
        if params.get("sr") != "c" or "r" not in token.permissions:
            raise BlobError(
                403,
                "AuthorizationPermissionMismatch",
                "This request is not authorized to perform this operation using this permission.",
            )
        start, expiry = token.start, token.expiry
        if expiry is None or now >= expiry or (start is not None and now < start):
            raise _auth_failed(
                "Signature not valid in the specified time frame: "
                f"Start [{params.get('st', '')}] - Expiry [{params.get('se', '')}] - "
                f"Current [{format_seconds(now)}]"
            )


def _auth_failed(detail: str) -> BlobError:
    return BlobError(
        403,
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization header "
        "is formed correctly including the signature.",
        detail,
    )


def new_signer(secret: str | None, account: str, seed_bytes: bytes) -> SasSigner:
    key = (
        secret.encode() if secret else hashlib.sha256(b"geocatalog-emulator" + seed_bytes).digest()
    )
    tenant = str(uuid.UUID(bytes=hashlib.md5(key + b"tenant").digest()))  # noqa: S324 - id, not security
    object_id = str(uuid.UUID(bytes=hashlib.md5(key + b"object").digest()))  # noqa: S324
    return SasSigner(key, account, tenant, object_id)
