"""Item predicates of the STAC API search: the query extension and CQL2-JSON filters.

Covers what the PC's own configs and the project's clients send (comparisons, logical operators,
`in`, `between`, `like`, `isNull`, `s_intersects`, `anyinteracts`/`t_intersects`); anything else is
answered 400, never silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from local.emulator.planetary_computer.data import IndexedItem
from local.emulator.planetary_computer.geometry import (
    GeometryError,
    intersects,
    shape_from_bbox,
    shape_from_geojson,
)
from local.emulator.planetary_computer.timeutil import parse_rfc3339

Predicate = Callable[[IndexedItem], bool]

_MISSING = object()


class FilterError(ValueError):
    pass


def item_value(indexed: IndexedItem, name: str) -> Any:
    """A queryable's value: top-level id/collection/geometry, else a property (`properties.` optional)."""
    if name in ("id", "collection", "geometry", "bbox"):
        return indexed.item.get(name, _MISSING)
    if name in ("datetime", "properties.datetime"):
        return indexed.start
    name = name.removeprefix("properties.")
    return (indexed.item.get("properties") or {}).get(name, _MISSING)


# --- query extension -----------------------------------------------------------------------------

_QUERY_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "startsWith": lambda a, b: isinstance(a, str) and a.startswith(b),
    "endsWith": lambda a, b: isinstance(a, str) and a.endswith(b),
    "contains": lambda a, b: isinstance(a, str) and b in a,
    "in": lambda a, b: a in b,
}


def query_predicate(query: Any) -> Predicate:
    """`{"eo:cloud_cover": {"lt": 10}}`: every condition on every property must hold."""
    if not isinstance(query, dict):
        raise FilterError("query must be an object of property -> {operator: value}")
    conditions: list[tuple[str, str, Any]] = []
    for name, ops in query.items():
        if not isinstance(ops, dict) or not ops:
            raise FilterError(f"query for {name!r} must be an object of operator -> value")
        for op, expected in ops.items():
            if op not in _QUERY_OPS:
                raise FilterError(f"unsupported query operator {op!r}")
            if op == "in" and not isinstance(expected, list):
                raise FilterError("query operator 'in' needs a list")
            conditions.append((name, op, expected))

    def predicate(indexed: IndexedItem) -> bool:
        for name, op, expected in conditions:
            actual = item_value(indexed, name)
            if actual is _MISSING:
                return False
            actual, wanted = _comparable(actual, expected)
            try:
                if not _QUERY_OPS[op](actual, wanted):
                    return False
            except TypeError:
                return False
        return True

    return predicate


def _comparable(actual: Any, expected: Any) -> tuple[Any, Any]:
    """Datetimes compare with timestamps given as strings, as pgstac casts them."""
    if isinstance(actual, datetime):
        if isinstance(expected, str):
            return actual, _timestamp(expected)
        if isinstance(expected, list):
            return actual, [_timestamp(e) if isinstance(e, str) else e for e in expected]
    return actual, expected


def _timestamp(text: str) -> datetime:
    try:
        return parse_rfc3339(text)
    except ValueError as exc:
        raise FilterError(f"invalid timestamp {text!r}") from exc


# --- CQL2-JSON -----------------------------------------------------------------------------------

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def cql2_predicate(expression: Any) -> Predicate:
    """Compile a CQL2-JSON boolean expression; FilterError for anything not supported."""
    if not isinstance(expression, dict) or "op" not in expression:
        raise FilterError("filter must be a CQL2-JSON object with an 'op'")
    op = _normalized_op(expression["op"])
    args = expression.get("args")
    if not isinstance(args, list):
        raise FilterError(f"CQL2 operator {op!r} needs an 'args' list")

    if op in ("and", "or"):
        parts = [cql2_predicate(a) for a in args]
        if op == "and":
            return lambda i: all(p(i) for p in parts)
        return lambda i: any(p(i) for p in parts)
    if op == "not":
        _arity(op, args, 1)
        inner = cql2_predicate(args[0])
        return lambda i: not inner(i)
    if op in _COMPARISONS:
        _arity(op, args, 2)
        left, right = _operand(args[0]), _operand(args[1])
        compare = _COMPARISONS[op]
        return lambda i: _safe(compare, left(i), right(i))
    if op == "in":
        _arity(op, args, 2)
        value = _operand(args[0])
        if not isinstance(args[1], list):
            raise FilterError("CQL2 'in' needs a list as its second argument")
        members = [_operand(m) for m in args[1]]
        return lambda i: any(_safe(_COMPARISONS["="], value(i), m(i)) for m in members)
    if op == "between":
        _arity(op, args, 3)
        value, low, high = (_operand(a) for a in args)
        return lambda i: (
            _safe(_COMPARISONS[">="], value(i), low(i))
            and _safe(_COMPARISONS["<="], value(i), high(i))
        )
    if op == "like":
        _arity(op, args, 2)
        value = _operand(args[0])
        if not isinstance(args[1], str):
            raise FilterError("CQL2 'like' needs a string pattern")
        pattern = _like_regex(args[1])
        return lambda i: isinstance(v := value(i), str) and pattern.fullmatch(v) is not None
    if op == "isNull":
        _arity(op, args, 1)
        value = _operand(args[0])
        return lambda i: value(i) in (None, _MISSING)
    if op in ("s_intersects", "intersects"):
        _arity(op, args, 2)
        return _spatial(args)
    if op in ("anyinteracts", "t_intersects"):
        _arity(op, args, 2)
        return _temporal(args)
    raise FilterError(f"CQL2 operator {op!r} is not supported by the emulator")


_WORD_OPS = {
    "and": "and",
    "or": "or",
    "not": "not",
    "in": "in",
    "between": "between",
    "like": "like",
    "isnull": "isNull",
    "s_intersects": "s_intersects",
    "intersects": "intersects",
    "anyinteracts": "anyinteracts",
    "t_intersects": "t_intersects",
}


def _normalized_op(op: Any) -> str:
    """Word operators in any case, as cql2-text converters write them upper-case."""
    if not isinstance(op, str):
        raise FilterError("CQL2 'op' must be a string")
    return _WORD_OPS.get(op.lower(), op)


def _arity(op: str, args: list[Any], count: int) -> None:
    if len(args) != count:
        raise FilterError(f"CQL2 operator {op!r} takes {count} argument(s)")


def _safe(compare: Callable[[Any, Any], bool], left: Any, right: Any) -> bool:
    if left is _MISSING or right is _MISSING or left is None or right is None:
        return False
    if isinstance(left, datetime) and isinstance(right, str):
        right = _timestamp(right)
    elif isinstance(right, datetime) and isinstance(left, str):
        left = _timestamp(left)
    try:
        return compare(left, right)
    except TypeError:
        return False


def _operand(node: Any) -> Callable[[IndexedItem], Any]:
    if isinstance(node, dict):
        if "property" in node:
            name = node["property"]
            return lambda i: item_value(i, name)
        if "timestamp" in node:
            moment = _timestamp(node["timestamp"])
            return lambda _i: moment
        if "date" in node:
            day = _timestamp(node["date"])
            return lambda _i: day
        raise FilterError(f"unsupported CQL2 operand {node!r}")
    if isinstance(node, list):
        raise FilterError("a list is only allowed as the second argument of 'in'")
    return lambda _i: node


def _like_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def _spatial(args: list[Any]) -> Predicate:
    target = next((a for a in args if not (isinstance(a, dict) and "property" in a)), None)
    if target is None:
        raise FilterError("s_intersects needs a geometry literal")
    try:
        if isinstance(target, dict) and "bbox" in target:
            shape = shape_from_bbox(target["bbox"])
        else:
            shape = shape_from_geojson(target)
    except GeometryError as exc:
        raise FilterError(str(exc)) from exc
    return lambda i: i.shape is not None and intersects(i.shape, shape)


def _temporal(args: list[Any]) -> Predicate:
    target = next((a for a in args if not (isinstance(a, dict) and "property" in a)), None)
    if isinstance(target, dict) and "interval" in target:
        low_text, high_text = target["interval"]
        low = None if low_text in ("..", None) else _timestamp(low_text)
        high = None if high_text in ("..", None) else _timestamp(high_text)
    elif isinstance(target, dict) and "timestamp" in target:
        low = high = _timestamp(target["timestamp"])
    elif isinstance(target, dict) and "date" in target:
        # A date is the whole day.
        low = _timestamp(target["date"])
        high = low + timedelta(days=1) - timedelta(microseconds=1)
    elif isinstance(target, str):
        low = high = _timestamp(target)
    else:
        raise FilterError("anyinteracts needs an interval, timestamp or date")
    return lambda i: (low is None or i.end >= low) and (high is None or i.start <= high)
