"""Azure Storage's BlobCreated / BlobDeleted events, in either delivery schema, as one shape.

Event Grid and CloudEvents 1.0 deliveries carry the same `data` (`url`, `eTag`, `sequencer`,
`api`, `contentLength`); only the envelope differs, and the function adapter has already turned
both envelopes into an IncomingEvent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

BLOB_CREATED: Final = "Microsoft.Storage.BlobCreated"
BLOB_DELETED: Final = "Microsoft.Storage.BlobDeleted"
STORAGE_EVENT_TYPES: Final = frozenset({BLOB_CREATED, BLOB_DELETED})

# Data Lake Storage announces a file at CreateFile, before any content is flushed; the content
# arrives with the FlushWithClose event that follows (Microsoft's guidance is to filter on it).
IGNORED_APIS: Final = frozenset({"CreateFile"})


class NotABlobEvent(ValueError):
    """The event's data lacks what a storage event must carry; the reason names the field."""


@dataclass(frozen=True)
class BlobEvent:
    event_id: str
    event_type: str
    url: str
    # Comparable (as fixed-width hex) between events of the same blob name; empty when absent.
    sequencer: str
    etag: str | None
    api: str | None
    content_length: int | None
    event_time: datetime | None

    @property
    def created(self) -> bool:
        return self.event_type == BLOB_CREATED


def blob_event(
    event_id: str, event_type: str, data: object, event_time: datetime | None
) -> BlobEvent:
    if not isinstance(data, Mapping):
        raise NotABlobEvent("data is not an object")
    url = data.get("url")
    if not isinstance(url, str) or not url:
        raise NotABlobEvent("data.url is missing")
    sequencer = data.get("sequencer")
    if sequencer is not None and not isinstance(sequencer, str):
        raise NotABlobEvent("data.sequencer is not a string")
    return BlobEvent(
        event_id=event_id,
        event_type=event_type,
        url=url,
        sequencer=sequencer or "",
        etag=_optional_text(data, "eTag"),
        api=_optional_text(data, "api"),
        content_length=_optional_int(data, "contentLength"),
        event_time=event_time,
    )


def sequencer_key(sequencer: str) -> str:
    """A form that compares correctly as text: Storage pads sequencers to a fixed width, but
    a shorter one (another producer's) must not sort after a longer, larger one."""
    return sequencer.lower().rjust(64, "0")


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _optional_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None
