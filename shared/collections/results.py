"""What a bootstrap did: one change per thing it compared, and the result the API answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CREATED, UPDATED, UNCHANGED, SKIPPED = "created", "updated", "unchanged", "skipped"


@dataclass(frozen=True)
class Change:
    kind: str  # collection, thumbnail, render-option, mosaic, tile-settings
    id: str
    action: str  # created, updated, unchanged, skipped

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id, "action": self.action}


@dataclass(frozen=True)
class BootstrapResult:
    collection_id: str
    created: bool
    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return any(c.action in (CREATED, UPDATED) for c in self.changes)

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    def to_dict(self) -> dict[str, Any]:
        return {
            "collectionId": self.collection_id,
            "created": self.created,
            "changed": self.changed,
            "summary": {a: self.count(a) for a in (CREATED, UPDATED, UNCHANGED, SKIPPED)},
            "changes": [c.to_dict() for c in self.changes],
            "warnings": list(self.warnings),
        }


__all__ = ["CREATED", "SKIPPED", "UNCHANGED", "UPDATED", "BootstrapResult", "Change"]
