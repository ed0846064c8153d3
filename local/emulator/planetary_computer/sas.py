"""The PC SAS API: container-scoped read/list user-delegation SAS tokens, signed by the emulator.

Token layout and lifetime follow a real PC token quoted in microsoft/PlanetaryComputer#295: parameters
`st, se, sp=rl, sv, sr=c, skoid, sktid, skt, ske, sks=b, skv, sig`, the start backdated by a day, the
expiry 45 minutes after issue, `msft:expiry` equal to `se`. The signature is an HMAC-SHA256 over the
Azure user-delegation string-to-sign with the emulator's key in place of the delegation key, so a
local verifier holding that key (`SasSigner.verify`) can tell a genuine, unaltered token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote

from local.emulator.planetary_computer.timeutil import format_rfc3339, parse_rfc3339

SAS_VERSION = "2021-06-08"
PERMISSIONS = "rl"
# The tenant id in the real token quoted above (Microsoft's public tenant).
SIGNED_KEY_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
START_BACKDATE = timedelta(days=1)
DELEGATION_KEY_LIFETIME = timedelta(days=7)
TOKEN_PARAMS = ("st", "se", "sp", "sv", "sr", "skoid", "sktid", "skt", "ske", "sks", "skv", "sig")


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expiry: datetime

    @property
    def expiry_text(self) -> str:
        return format_rfc3339(self.expiry)


class SasSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key
        # Stable per key, as the real service signs with one identity.
        self.key_object_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "pc-emulator:" + key.hex()))

    def issue(
        self,
        account: str,
        container: str,
        *,
        now: datetime,
        lifetime: timedelta,
        expired: bool = False,
    ) -> IssuedToken:
        issued = now.astimezone(UTC).replace(microsecond=0)
        start = issued - START_BACKDATE
        expiry = issued - timedelta(minutes=1) if expired else issued + lifetime
        key_start = issued.replace(hour=0, minute=0, second=0)
        fields = {
            "st": format_rfc3339(start),
            "se": format_rfc3339(expiry),
            "sp": PERMISSIONS,
            "sv": SAS_VERSION,
            "sr": "c",
            "skoid": self.key_object_id,
            "sktid": SIGNED_KEY_TENANT,
            "skt": format_rfc3339(key_start),
            "ske": format_rfc3339(key_start + DELEGATION_KEY_LIFETIME),
            "sks": "b",
            "skv": SAS_VERSION,
        }
        fields["sig"] = self._signature(account, container, fields)
        token = "&".join(f"{name}={quote(fields[name], safe='')}" for name in TOKEN_PARAMS)
        return IssuedToken(token=token, expiry=expiry)

    def verify(self, token: str, account: str, container: str) -> bool:
        """True when `token` was issued by this signer for this container and is unaltered.

        Says nothing about expiry: read that with `token_expiry`.
        """
        fields = _fields_of(token)
        if fields is None or "sig" not in fields:
            return False
        expected = self._signature(account, container, fields)
        return hmac.compare_digest(expected, fields["sig"])

    def _signature(self, account: str, container: str, fields: dict[str, str]) -> str:
        # Azure's user-delegation string-to-sign (service version 2020-12-06 and later).
        string_to_sign = "\n".join(
            [
                fields.get("sp", ""),
                fields.get("st", ""),
                fields.get("se", ""),
                f"/blob/{account}/{container}",
                fields.get("skoid", ""),
                fields.get("sktid", ""),
                fields.get("skt", ""),
                fields.get("ske", ""),
                fields.get("sks", ""),
                fields.get("skv", ""),
                "",  # saoid
                "",  # suoid
                "",  # scid
                "",  # sip
                "",  # spr
                fields.get("sv", ""),
                fields.get("sr", ""),
                "",  # snapshot time
                "",  # encryption scope
                "",  # rscc
                "",  # rscd
                "",  # rsce
                "",  # rscl
                "",  # rsct
            ]
        )
        digest = hmac.new(self._key, string_to_sign.encode("utf-8"), hashlib.sha256).digest()
        return base64.b64encode(digest).decode("ascii")


def _fields_of(token: str) -> dict[str, str] | None:
    parsed = parse_qs(token.lstrip("?"), keep_blank_values=True, strict_parsing=False)
    if any(len(values) != 1 for values in parsed.values()):
        return None
    return {name: values[0] for name, values in parsed.items()}


def token_expiry(token: str) -> datetime | None:
    """The `se` of a SAS query string, None when absent or unreadable."""
    fields = _fields_of(token)
    if not fields or "se" not in fields:
        return None
    try:
        return parse_rfc3339(fields["se"])
    except ValueError:
        return None
