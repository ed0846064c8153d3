"""Properties of decoded JSON values that Python's decoder lets through: NaN and infinities (not
JSON, but `json.loads` accepts them), and nesting deep enough to exhaust the interpreter's stack.
No imports from the service: requests, items and events all use it.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

# Deeper JSON than any STAC item, GeoJSON geometry or CQL2 filter needs; deeper is refused as a
# whole (Python's JSON decoder would otherwise hit the interpreter's recursion limit).
MAX_JSON_DEPTH: Final = 100
# Sub-paths reported for one value: enough to find the pattern.
MAX_PATHS: Final = 20


def non_finite_paths(value: object, limit: int = MAX_PATHS) -> list[str]:
    """Sub-paths (`.a.b`, `[3]`) of NaN and infinite numbers within `value`, at most `limit`.

    Iterative: the value may be nested as deeply as the decoder allowed.
    """
    found: list[str] = []
    stack: list[tuple[str, object]] = [("", value)]
    while stack and len(found) < limit:
        path, current = stack.pop()
        if isinstance(current, float) and not math.isfinite(current):
            found.append(path)
        elif isinstance(current, dict):
            stack.extend((f"{path}.{key}", child) for key, child in reversed(current.items()))
        elif isinstance(current, list | tuple):
            stack.extend((f"{path}[{i}]", child) for i, child in reversed(list(enumerate(current))))
    return found


def json_depth_exceeds(value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    stack: list[tuple[int, object]] = [(1, value)]
    while stack:
        depth, current = stack.pop()
        if isinstance(current, dict | list):
            if depth > limit:
                return True
            children = current.values() if isinstance(current, dict) else current
            stack.extend((depth + 1, child) for child in children)
    return False


class JsonTooDeep(ValueError):
    """Nested deeper than MAX_JSON_DEPTH."""


def loads_json(data: str | bytes) -> Any:
    """`json.loads` for text nobody vouched for: a document nested deeper than MAX_JSON_DEPTH
    (which makes the decoder itself recurse until RecursionError) is a ValueError like any other
    malformed JSON. UnicodeDecodeError (bytes that are not UTF-8) is a ValueError already."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise JsonTooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    if json_depth_exceeds(value):
        raise JsonTooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value
