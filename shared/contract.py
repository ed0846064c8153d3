"""The typed contract of the HTTP API: pydantic models, their refusals as RFC 9457 field errors.

Every request body is a pydantic v2 model (`ApiModel`) whose fields carry the service's own rules
(before-validators that say exactly what is wrong) and the JSON Schema the OpenAPI document shows
(`shared.openapi` derives its schemas from the models). A refusal keeps the field paths the API has
always used: `source.bbox`, `source.urls[3]`, `createCollection.templateUrl`.

A rule raises `fail(detail)` for the field it validates, or `fail(detail, errors=[...])` to name
several sub-fields at once (`[3]`, `.intersects`), which `field_errors` expands into one
`FieldError` each. `settings_of(info)` is the service's settings when the caller passed them as
validation context; without them (a model built in code from trusted values) the rules that depend
on configuration (host allow-list, item ceiling) are skipped.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from pydantic import BaseModel, ConfigDict, ValidationInfo
from pydantic_core import ErrorDetails, PydanticCustomError

from shared.json_values import non_finite_paths
from shared.settings import Settings


@dataclass(frozen=True)
class FieldError:
    """One invalid field, named by its dotted path in the request body (e.g. `source.bbox`); the
    HTTP edge (`shared.problems`) sends them as the `errors` of a problem."""

    field: str
    detail: str


# Per-element problems reported for one list; enough to fix a pattern, not a 10,000-entry wall.
MAX_ELEMENT_ERRORS: Final = 20
NON_FINITE: Final = "must be a finite number: NaN, Infinity and -Infinity are not JSON"
_ERROR_TYPE: Final = "geocatalog_ingest"


class ApiModel(BaseModel):
    """A request or response body: immutable, closed (unknown members are refused), camelCase on
    the wire through explicit aliases, snake_case in Python."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


def fail(detail: str, *, errors: Sequence[tuple[str, str]] = ()) -> PydanticCustomError:
    """The refusal (to raise) of the field being validated; `errors` are (sub-path, detail)
    pairs that name parts of it instead."""
    return PydanticCustomError(_ERROR_TYPE, "{detail}", {"detail": detail, "errors": list(errors)})


def settings_of(info: ValidationInfo) -> Settings | None:
    context = info.context
    settings = context.get("settings") if isinstance(context, Mapping) else None
    return settings if isinstance(settings, Settings) else None


def element_errors(bad: Sequence[tuple[int, str]], noun: str) -> list[tuple[str, str]]:
    """`[i]` errors for the first MAX_ELEMENT_ERRORS bad elements, then one line for the rest."""
    errors = [(f"[{index}]", detail) for index, detail in bad[:MAX_ELEMENT_ERRORS]]
    if len(bad) > MAX_ELEMENT_ERRORS:
        errors.append(("", f"{len(bad) - MAX_ELEMENT_ERRORS} more {noun} are invalid"))
    return errors


def refuse_non_finite(value: object) -> None:
    """Refuse a free-form JSON member holding NaN or an infinity, naming where."""
    paths = non_finite_paths(value)
    if paths:
        raise fail(NON_FINITE, errors=[(path, NON_FINITE) for path in paths])


def field_errors(
    lines: Iterable[ErrorDetails],
    *,
    members: Callable[[tuple[str | int, ...]], Sequence[str]],
    required: Mapping[str, str] | None = None,
    refused_members: Mapping[str, str] | None = None,
    tags: frozenset[str] = frozenset(),
) -> list[FieldError]:
    """The API's field errors for the `errors()` of a pydantic ValidationError of an `ApiModel`.

    `members(loc)` lists the members allowed in the object at `loc` (for the "did you mean" hint);
    `required` gives a fuller "is required" detail per path; `refused_members` a reason for members
    that are deliberately not accepted (instead of "unknown field"); `tags` are the discriminator
    values pydantic puts after a top-level tagged union member in the location (not part of the
    path).
    """
    required = required or {}
    refused_members = refused_members or {}
    result: list[FieldError] = []
    for line in lines:
        loc = tuple(line["loc"])
        path = dotted(loc, tags)
        kind = line["type"]
        context = line.get("ctx") or {}
        if kind == _ERROR_TYPE:
            expanded: Iterable[tuple[str, str]] = context.get("errors") or [("", context["detail"])]
            result.extend(FieldError(_join(path, sub), detail) for sub, detail in expanded)
        elif kind == "extra_forbidden":
            key = str(loc[-1])
            reason = refused_members.get(key)
            result.append(FieldError(path, reason or _unknown(key, members(loc[:-1]))))
        elif kind == "missing":
            result.append(FieldError(path, required.get(path, "is required")))
        else:
            # Not reached by the service's own models (their rules run first); kept readable.
            result.append(FieldError(path or "body", str(line["msg"])))
    return result


def dotted(loc: Sequence[str | int], tags: frozenset[str] = frozenset()) -> str:
    """`("source", "item-urls", "urls", 3)` -> `source.urls[3]` (the tag `item-urls` dropped)."""
    path = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        elif index == 1 and part in tags:
            continue
        else:
            path += f".{part}" if path else part
    return path


def _join(path: str, sub: str) -> str:
    if not sub:
        return path or "body"
    if sub.startswith("["):
        return f"{path}{sub}"
    return f"{path}{sub}" if path else sub.lstrip(".")


def _unknown(key: str, allowed: Sequence[str]) -> str:
    hint = difflib.get_close_matches(key, allowed, n=1)
    detail = "unknown field" + (f"; did you mean {hint[0]!r}?" if hint else "")
    return f"{detail} (allowed: {', '.join(allowed)})"


def wire_names(model: type[BaseModel]) -> list[str]:
    """The members of `model` as they are spelled in JSON."""
    return [field.alias or name for name, field in model.model_fields.items()]
