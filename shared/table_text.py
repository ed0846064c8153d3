"""A text longer than one Azure Table property holds, kept in several.

A string property holds at most 64 KiB of UTF-16 (32 K code units) and an entity at most 1 MiB.
The text is cut into `<name>0`, `<name>1`, ... of `CHUNK_CHARS` each and `<name>Chunks` says how
many count: a MERGE that writes fewer chunks than an earlier one leaves the old ones behind, and
only the counted ones are read. Write ASCII (json.dumps' default) so that a character is one
code unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

CHUNK_CHARS: Final = 32_000


def split_text(name: str, text: str) -> dict[str, Any]:
    chunks = [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]
    props: dict[str, Any] = {f"{name}{n}": chunk for n, chunk in enumerate(chunks)}
    props[f"{name}Chunks"] = len(chunks)
    return props


def joined_text(entity: Mapping[str, Any], name: str) -> str:
    count = int(entity.get(f"{name}Chunks", 0) or 0)
    return "".join(entity.get(f"{name}{n}", "") for n in range(count))
