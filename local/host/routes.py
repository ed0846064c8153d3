"""HTTP route templates as the Functions host reads them (ASP.NET Core route template syntax).

Supported: literal segments (case-insensitive), `{name}`, `{name?}`, `{name=default}`,
`{*rest}`/`{**rest}` (catch-all), complex segments such as `{file}.{ext}`, and the inline
constraints int, long, bool, guid, alpha, double, float, decimal, datetime, required, min, max,
range, minlength, maxlength, length and regex, chained as in `{id:int:min(1)}`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import unquote

T = TypeVar("T")


class RouteTemplateError(ValueError):
    """A route template the host would refuse at start-up."""


Constraint = Callable[[str], bool]


def _int_in(bits: int) -> Constraint:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def check(value: str) -> bool:
        return re.fullmatch(r"[+-]?\d+", value.strip()) is not None and low <= int(value) <= high

    return check


def _float(value: str) -> bool:
    try:
        number = float(value)
    except ValueError:
        return False
    return math.isfinite(number)


def _guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _datetime(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


_SIMPLE: dict[str, Constraint] = {
    "int": _int_in(32),
    "long": _int_in(64),
    "bool": lambda v: v.lower() in ("true", "false"),
    "guid": _guid,
    "alpha": lambda v: re.fullmatch(r"[A-Za-z]+", v) is not None,
    "double": _float,
    "float": _float,
    "decimal": _float,
    "datetime": _datetime,
    "required": lambda v: v != "",
}


def _numbers(args: str, name: str, count: int) -> list[float]:
    parts = [p.strip() for p in args.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise RouteTemplateError(f"constraint {name}({args}) needs numbers") from None
    if len(values) != count:
        raise RouteTemplateError(f"constraint {name}({args}) needs {count} argument(s)")
    return values


def _constraint(spec: str) -> Constraint:
    match = re.fullmatch(r"(?P<name>[A-Za-z]+)(?:\((?P<args>.*)\))?", spec, re.DOTALL)
    if match is None:
        raise RouteTemplateError(f"invalid route constraint {spec!r}")
    name, args = match["name"].lower(), match["args"]
    if args is None:
        if name in _SIMPLE:
            return _SIMPLE[name]
        raise RouteTemplateError(f"unknown route constraint {spec!r}")
    if name == "regex":
        try:
            # Route templates escape braces by doubling them.
            pattern = re.compile(args.replace("{{", "{").replace("}}", "}"), re.IGNORECASE)
        except re.error as exc:
            raise RouteTemplateError(f"invalid regex in route constraint: {exc}") from None
        return lambda v: pattern.search(v) is not None
    if name in ("min", "max"):
        (bound,) = _numbers(args, name, 1)
        is_long = _int_in(64)
        if name == "min":
            return lambda v: is_long(v) and int(v) >= bound
        return lambda v: is_long(v) and int(v) <= bound
    if name == "range":
        low, high = _numbers(args, name, 2)
        return lambda v: _int_in(64)(v) and low <= int(v) <= high
    if name in ("minlength", "maxlength"):
        (length,) = _numbers(args, name, 1)
        if name == "minlength":
            return lambda v: len(v) >= length
        return lambda v: len(v) <= length
    if name == "length":
        bounds = [float(p) for p in args.split(",")] if args else []
        if len(bounds) == 1:
            return lambda v: len(v) == bounds[0]
        if len(bounds) == 2:
            return lambda v: bounds[0] <= len(v) <= bounds[1]
        raise RouteTemplateError(f"constraint length({args}) needs one or two numbers")
    raise RouteTemplateError(f"unknown route constraint {spec!r}")


@dataclass(frozen=True)
class Parameter:
    name: str
    constraints: tuple[Constraint, ...] = ()
    optional: bool = False
    catch_all: bool = False
    default: str | None = None

    def accepts(self, value: str) -> bool:
        return all(check(value) for check in self.constraints)


@dataclass(frozen=True)
class _Segment:
    parts: tuple[str | Parameter, ...]

    @property
    def is_single_parameter(self) -> bool:
        return len(self.parts) == 1 and isinstance(self.parts[0], Parameter)

    def precedence(self) -> int:
        # ASP.NET Core's inbound precedence digits: lower is more specific.
        if all(isinstance(p, str) for p in self.parts):
            return 1
        if not self.is_single_parameter:
            return 2
        param = self.parts[0]
        if isinstance(param, Parameter) and param.catch_all:
            return 5 if param.constraints else 6
        return 3 if isinstance(param, Parameter) and param.constraints else 4


def _split_constraints(body: str) -> list[str]:
    """Split `name:int:regex(a:b)` on the colons that are not inside parentheses."""
    pieces, depth, current = [], 0, ""
    for char in body:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == ":" and depth == 0:
            pieces.append(current)
            current = ""
        else:
            current += char
    pieces.append(current)
    return pieces


def _parse_parameter(body: str, template: str) -> Parameter:
    catch_all = body.startswith("*")
    body = body.lstrip("*")
    optional = body.endswith("?")
    if optional:
        body = body[:-1]
    pieces = _split_constraints(body)
    default = None
    last = pieces[-1]
    depth = 0
    for index, char in enumerate(last):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "=" and depth == 0:
            pieces[-1], default = last[:index], last[index + 1 :]
            break
    name = pieces[0]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise RouteTemplateError(f"route {template!r}: invalid parameter name {name!r}")
    if optional and default is not None:
        raise RouteTemplateError(f"route {template!r}: {{{name}}} cannot be optional and default")
    return Parameter(
        name=name,
        constraints=tuple(_constraint(spec) for spec in pieces[1:] if spec),
        optional=optional or default is not None,
        catch_all=catch_all,
        default=default,
    )


def _parse_segment(text: str, template: str) -> _Segment:
    parts: list[str | Parameter] = []
    pos = 0
    while pos < len(text):
        start = text.find("{", pos)
        if start < 0:
            parts.append(text[pos:])
            break
        if start > pos:
            parts.append(text[pos:start])
        end = text.find("}", start)
        # A regex constraint may contain braces: take the brace that closes the parameter.
        depth = 0
        for index in range(start, len(text)):
            if text[index] == "(":
                depth += 1
            elif text[index] == ")":
                depth -= 1
            elif text[index] == "}" and depth == 0:
                end = index
                break
        if end < 0:
            raise RouteTemplateError(f"route {template!r}: unclosed '{{'")
        parts.append(_parse_parameter(text[start + 1 : end], template))
        pos = end + 1
    for index in range(1, len(parts)):
        if isinstance(parts[index], Parameter) and isinstance(parts[index - 1], Parameter):
            raise RouteTemplateError(
                f"route {template!r}: two parameters must be separated by literal text"
            )
    return _Segment(tuple(parts))


@dataclass(frozen=True)
class RouteTemplate:
    template: str
    segments: tuple[_Segment, ...]
    pattern: re.Pattern[str]
    parameters: tuple[Parameter, ...]

    @classmethod
    def parse(cls, template: str) -> RouteTemplate:
        text = template.strip().strip("/")
        raw_segments = text.split("/") if text else []
        segments = tuple(_parse_segment(s, template) for s in raw_segments)
        if any(s.parts == () for s in segments):
            raise RouteTemplateError(f"route {template!r}: empty segment")
        parameters: list[Parameter] = []
        regex = ""
        for index, segment in enumerate(segments):
            last = index == len(segments) - 1
            sep = "/" if index else ""
            param = segment.parts[0]
            if segment.is_single_parameter and isinstance(param, Parameter):
                group = f"g{len(parameters)}"
                parameters.append(param)
                if param.catch_all:
                    if not last:
                        raise RouteTemplateError(
                            f"route {template!r}: a catch-all parameter must be the last segment"
                        )
                    regex += f"(?:{sep}(?P<{group}>.*))?" if sep else f"(?P<{group}>.*)"
                elif param.optional:
                    if not last:
                        raise RouteTemplateError(
                            f"route {template!r}: only the last segment may be optional"
                        )
                    regex += f"(?:{sep}(?P<{group}>[^/]+))?"
                else:
                    regex += f"{sep}(?P<{group}>[^/]+)"
                continue
            regex += sep
            for part in segment.parts:
                if isinstance(part, str):
                    regex += re.escape(part)
                    continue
                if part.catch_all or part.optional:
                    raise RouteTemplateError(
                        f"route {template!r}: {{{part.name}}} cannot be optional or catch-all "
                        "inside a segment with literal text"
                    )
                group = f"g{len(parameters)}"
                parameters.append(part)
                # Greedy, so the rightmost literal splits the segment, as ASP.NET Core matches
                # complex segments right to left: {file}.{ext} on a.b.json gives a.b and json.
                regex += f"(?P<{group}>[^/]+)"
        names = [p.name.lower() for p in parameters]
        if len(set(names)) != len(names):
            raise RouteTemplateError(f"route {template!r}: a parameter name is used twice")
        return cls(
            template=template,
            segments=segments,
            pattern=re.compile(f"^{regex}$", re.IGNORECASE),
            parameters=tuple(parameters),
        )

    def match(self, path: str) -> dict[str, str] | None:
        """Route values for `path` (relative to the route prefix, still percent-encoded), or
        None. Values are percent-decoded; a missing optional parameter is left out."""
        candidate = path.strip("/") if path not in ("", "/") else ""
        found = self.pattern.match(candidate)
        if found is None:
            return None
        values: dict[str, str] = {}
        for index, param in enumerate(self.parameters):
            raw = found.group(f"g{index}")
            if raw is None or (param.catch_all and raw == ""):
                if param.default is not None:
                    values[param.name] = param.default
                elif not (param.optional or param.catch_all):
                    return None
                continue
            value = unquote(raw)
            if not param.accepts(value):
                return None
            values[param.name] = value
        return values

    def precedence(self) -> tuple[int, ...]:
        return tuple(s.precedence() for s in self.segments)


@dataclass
class Route(Generic[T]):
    template: RouteTemplate
    methods: frozenset[str] | None
    target: T

    def allows(self, method: str) -> bool:
        return self.methods is None or method.upper() in self.methods


@dataclass
class RouteMatch(Generic[T]):
    target: T | None
    values: dict[str, str] = field(default_factory=dict)
    # The methods the path would accept, when it matched only with another method (405).
    allowed: frozenset[str] = frozenset()


class RouteTable(Generic[T]):
    """Routes in ASP.NET Core precedence order: literal segments beat parameters, constrained
    parameters beat unconstrained ones, catch-alls come last."""

    def __init__(self) -> None:
        self._routes: list[Route[T]] = []

    def add(self, template: str, methods: Iterable[str] | None, target: T) -> Route[T]:
        route = Route(
            template=RouteTemplate.parse(template),
            methods=frozenset(m.upper() for m in methods) if methods else None,
            target=target,
        )
        self._routes.append(route)
        self._routes.sort(key=lambda r: r.template.precedence())
        return route

    @property
    def routes(self) -> Sequence[Route[T]]:
        return tuple(self._routes)

    def match(self, method: str, path: str) -> RouteMatch[T]:
        allowed: set[str] = set()
        for route in self._routes:
            values = route.template.match(path)
            if values is None:
                continue
            if route.allows(method):
                return RouteMatch(target=route.target, values=values)
            allowed |= route.methods or set()
        return RouteMatch(target=None, allowed=frozenset(allowed))
