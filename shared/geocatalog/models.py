"""Typed results of the GeoCatalog client, parsed tolerantly from the service's JSON."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

# GeoCatalog documents collection ids as 3-32 characters with hyphen and underscore. The managed
# storage container of a collection is named after its id, so the service's own rule is narrowed
# to what a blob container name also accepts: lower-case letters and digits, `-` and `_` inside.
COLLECTION_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,30}[a-z0-9]$")


COLLECTION_ID_RULE = (
    "must be 3-32 characters of lowercase letters, digits, '-' and '_', "
    "starting and ending with a letter or digit, without '--'"
)


def is_valid_collection_id(value: str) -> bool:
    """GeoCatalog names the collection's managed-storage container after its id
    (`<collectionId>-<8 hex>`), so the id must also be a valid Azure container name: lowercase,
    starting with a letter or digit, no consecutive hyphens. Refused here, a bad id costs the
    caller one 400; refused inside the asynchronous collection operation, it costs a whole job."""
    return bool(COLLECTION_ID_PATTERN.fullmatch(value)) and "--" not in value


class OperationStatus(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELING = "Canceling"
    CANCELED = "Canceled"
    # A value this client does not know yet; treated as still in progress.
    UNKNOWN = "Unknown"

    @classmethod
    def parse(cls, value: object) -> OperationStatus:
        if not isinstance(value, str):
            return cls.UNKNOWN
        lowered = value.strip().lower()
        # A successful operation's last history entry says "Finished", a bulk run's (in the spec
        # example) "Success"; "Cancelled" is the British spelling.
        aliases = {
            "finished": cls.SUCCEEDED,
            "success": cls.SUCCEEDED,
            "cancelled": cls.CANCELED,
            "cancelling": cls.CANCELING,
        }
        if lowered in aliases:
            return aliases[lowered]
        for member in cls:
            if member.value.lower() == lowered:
                return member
        return cls.UNKNOWN


_TERMINAL = frozenset({OperationStatus.SUCCEEDED, OperationStatus.FAILED, OperationStatus.CANCELED})


def parse_datetime(value: object) -> datetime | None:
    """An aware UTC datetime from RFC 3339 text (any fraction length, `Z` or offset), else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Older Pythons and some producers disagree on fraction lengths: keep at most microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Operation:
    """A GeoCatalog asynchronous operation (`/inma/operations/{id}`)."""

    id: str
    status: OperationStatus
    type: str | None = None
    collection_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    creation_time: datetime | None = None
    start_time: datetime | None = None
    finish_time: datetime | None = None
    additional_information: dict[str, str] = field(default_factory=dict)
    # The status exactly as the service wrote it (useful when it is not one this client knows).
    raw_status: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in _TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.status is OperationStatus.SUCCEEDED

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Operation:
        history = body.get("statusHistory")
        entries = (
            [e for e in history if isinstance(e, Mapping)] if isinstance(history, list) else []
        )
        raw_status = _text(body.get("status"))
        if raw_status is None and entries:
            raw_status = _text(entries[-1].get("status"))
        error_code = error_message = None
        for entry in reversed(entries):
            if entry.get("errorCode") or entry.get("errorMessage"):
                error_code = _text(entry.get("errorCode"))
                error_message = _text(entry.get("errorMessage"))
                break
        if error_code is None and error_message is None:
            error_code, error_message = _nested_error(body.get("error"))
        info = body.get("additionalInformation")
        return cls(
            id=_text(body.get("id")) or "",
            status=OperationStatus.parse(raw_status),
            type=_text(body.get("type")),
            collection_id=_text(body.get("collectionId")),
            error_code=error_code,
            error_message=error_message,
            creation_time=parse_datetime(body.get("creationTime")),
            start_time=parse_datetime(body.get("startTime")),
            finish_time=parse_datetime(body.get("finishTime")),
            additional_information=(
                {str(k): str(v) for k, v in info.items() if v is not None}
                if isinstance(info, Mapping)
                else {}
            ),
            raw_status=raw_status,
        )


def _nested_error(error: object) -> tuple[str | None, str | None]:
    # The real service nests twice ({"error": {"error": {code, message}}}); one spec example once.
    if not isinstance(error, Mapping):
        return None, None
    inner = error.get("error")
    source = inner if isinstance(inner, Mapping) else error
    return _text(source.get("code")), _text(source.get("message"))


@dataclass(frozen=True)
class OperationPage:
    operations: list[Operation]
    next_link: str | None = None


@dataclass(frozen=True)
class IngestionSourceSummary:
    id: str
    kind: str | None = None
    created: datetime | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> IngestionSourceSummary:
        return cls(
            id=_text(body.get("id")) or "",
            kind=_text(body.get("kind")),
            created=parse_datetime(body.get("created")),
        )


@dataclass(frozen=True)
class IngestionSource:
    id: str
    kind: str | None
    container_url: str | None
    expiration: datetime | None = None
    created: datetime | None = None
    # BlobManagedIdentity sources name the catalog identity that reads the container.
    object_id: str | None = None

    def expires_within(self, margin: timedelta, *, now: datetime | None = None) -> bool:
        """True when the source's SAS expires within `margin` (unknown expiry: False)."""
        if self.expiration is None:
            return False
        return self.expiration <= (now or datetime.now(UTC)) + margin

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> IngestionSource:
        info = body.get("connectionInfo")
        connection = info if isinstance(info, Mapping) else {}
        return cls(
            id=_text(body.get("id")) or "",
            kind=_text(body.get("kind")),
            container_url=_text(connection.get("containerUrl")),
            expiration=parse_datetime(connection.get("expiration")),
            created=parse_datetime(body.get("created")),
            object_id=_text(connection.get("objectId")),
        )


@dataclass(frozen=True)
class SasToken:
    """A SAS query string (without `?`) and when it stops working. Never logged: repr hides it."""

    token: str = field(repr=False)
    expires_at: datetime

    def expires_within(self, margin: timedelta, *, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or datetime.now(UTC)) + margin

    def sign(self, href: str) -> str:
        """`href` with this token as its query (an existing query is kept, the token appended)."""
        separator = "&" if "?" in href else "?"
        return f"{href}{separator}{self.token}"

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> SasToken:
        token = body.get("token")
        expiry = parse_datetime(body.get("msft:expiry"))
        if not isinstance(token, str) or not token or expiry is None:
            raise ValueError("a SAS token response needs `token` and `msft:expiry`")
        return cls(token=token.lstrip("?"), expires_at=expiry)


# What the service writes to a collection's configuration (render options, mosaics, tile
# settings): typed so that mypy checks each key the GeoCatalog expects (`minZoom`, not `minzoom`).


class RenderOption(TypedDict):
    id: str
    name: str
    description: NotRequired[str]
    type: NotRequired[str]
    options: NotRequired[str]
    vectorOptions: NotRequired[dict[str, Any]]
    minZoom: NotRequired[int]
    legend: NotRequired[dict[str, Any]]
    conditions: NotRequired[list[dict[str, str]]]


class Mosaic(TypedDict):
    id: str
    name: str
    description: NotRequired[str]
    cql: list[dict[str, Any]]


class DefaultLocation(TypedDict):
    zoom: int
    coordinates: list[float]


class TileSettings(TypedDict):
    minZoom: int
    maxItemsPerTile: int
    defaultLocation: NotRequired[DefaultLocation]


__all__ = [
    "COLLECTION_ID_PATTERN",
    "DefaultLocation",
    "IngestionSource",
    "IngestionSourceSummary",
    "Mosaic",
    "Operation",
    "OperationPage",
    "OperationStatus",
    "RenderOption",
    "SasToken",
    "TileSettings",
    "is_valid_collection_id",
    "parse_datetime",
]
