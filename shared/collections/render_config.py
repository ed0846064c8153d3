"""Planetary Computer mosaic info → GeoCatalog render options, mosaics and tile settings.

The tutorial posts the PC's render options with an id cut from the name, which the GeoCatalog
refuses or silently merges as soon as names are long, alike, or not plain ASCII. The rules this
module satisfies (docs/reference/geocatalog-api.md §9, §13):

- ids: 1-30 characters, letters, digits, `_` and `-`, neither first nor last a `-` or `_`; unique.
  Derived as the tutorial does (punctuation dropped, lower case, spaces to `-`) so a collection
  configured by the tutorial keeps its ids, then made valid and unique.
- render option names within 40 characters, mosaic names within 30, unique after shortening.
- `conditions[].value` and `vectorOptions.filter[]` are strings; `minZoom` (≤ 24) and `legend` kept.
- mosaics: the PC's, plus "Most recent available" (`cql: []`) unless one already has that name.
- tile settings: `minZoom`, `maxItemsPerTile` (35), `defaultLocation` {zoom < 24, [lat, lon]}.

Input is the camelCase mosaic info the PC data API serves, or the snake_case `mosaic_info` of the
PC's own dataset configs (both are in the fixtures); GeoCatalog-shaped options keep their valid ids.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.geocatalog.models import DefaultLocation, Mosaic, RenderOption, TileSettings

CONFIG_ID_MAX = 30
RENDER_NAME_MAX = 40
MOSAIC_NAME_MAX = 30
MAX_ZOOM = 24
DEFAULT_MIN_ZOOM = 12
DEFAULT_MAX_ITEMS_PER_TILE = 35
RENDER_TYPES = frozenset({"raster-tile", "vt-polygon", "vt-line"})
DEFAULT_RENDER_TYPE = "raster-tile"
CONFIG_ID_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,28}[A-Za-z0-9])?$")

MOST_RECENT_AVAILABLE: Mosaic = {
    "id": "most-recent-available",
    "name": "Most recent available",
    "description": "Most recent available imagery in this collection",
    "cql": [],
}

_ELLIPSIS = "…"
_RENDER_FIELDS = (
    "id",
    "name",
    "description",
    "type",
    "options",
    "vectorOptions",
    "minZoom",
    "legend",
    "conditions",
)
_SNAKE = re.compile(r"_([a-z])")


@dataclass(frozen=True)
class RenderConfig:
    render_options: tuple[RenderOption, ...]
    mosaics: tuple[Mosaic, ...]
    tile_settings: TileSettings
    # Entries of the source that could not be carried over, said in words.
    warnings: tuple[str, ...] = ()


def _camel(key: str) -> str:
    return _SNAKE.sub(lambda m: m.group(1).upper(), key)


def _camelize(value: Any) -> Any:
    """Keys of nested mappings to camelCase (the PC's dataset configs are snake_case)."""
    if isinstance(value, Mapping):
        return {_camel(str(k)): _camelize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camelize(v) for v in value]
    return value


def mosaic_info_of(document: Mapping[str, Any]) -> dict[str, Any]:
    """The camelCase mosaic info in a document: the info itself or a PC dataset config."""
    info = document.get("mosaic_info", document.get("mosaicInfo", document))
    if not isinstance(info, Mapping):
        return {}
    # `cql` bodies are CQL2 JSON and must stay as written; only the envelope is camelized.
    mosaics = info.get("mosaics")
    result: dict[str, Any] = _camelize({k: v for k, v in info.items() if k != "mosaics"})
    if isinstance(mosaics, list):
        result["mosaics"] = [
            {**_camelize({k: v for k, v in m.items() if k != "cql"}), "cql": m.get("cql")}
            for m in mosaics
            if isinstance(m, Mapping)
        ]
    return result


# -- ids and names ---------------------------------------------------------------------------


def is_valid_config_id(value: object) -> bool:
    return isinstance(value, str) and bool(CONFIG_ID_PATTERN.fullmatch(value))


def slug(name: str) -> str:
    """The tutorial's id rule (drop punctuation, lower case, spaces to `-`), made ASCII."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    kept = "".join(ch for ch in folded if ch.isalnum() or ch.isspace())
    return "-".join(kept.lower().split())


def _cut_id(text: str, limit: int) -> str:
    return text[:limit].rstrip("-_")


def _tail_words(text: str, separator: str, budget: int) -> str:
    words = text.split(separator)
    tail: list[str] = []
    while words and len(separator.join([words[-1], *tail])) <= budget:
        tail.insert(0, words.pop())
    return separator.join(tail)


def unique_id(name_slug: str, taken: set[str], *, limit: int = CONFIG_ID_MAX, fallback: str) -> str:
    """A valid id from a slug, not in `taken`: cut, else head + tail, else numbered."""
    base = name_slug or fallback
    candidate = _cut_id(base, limit)
    if is_valid_config_id(candidate) and candidate not in taken:
        return candidate
    # Names that differ only at the end ("... for all species" / "... for vertebrates") collide
    # when cut; keeping the last words apart keeps the ids telling.
    tail = _tail_words(base, "-", limit // 2)
    if tail and tail != base:
        head = _cut_id(base, limit - len(tail) - 1)
        candidate = f"{head}-{tail}" if head else _cut_id(tail, limit)
        if is_valid_config_id(candidate) and candidate not in taken:
            return candidate
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = _cut_id(base, limit - len(suffix)) + suffix
        if is_valid_config_id(candidate) and candidate not in taken:
            return candidate
        number += 1


def _cut_words(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-(\u2013")


def _ellipsized(clean: str, limit: int) -> str:
    return clean if len(clean) <= limit else _cut_words(clean, limit - 1) + _ELLIPSIS


def _head_and_tail(clean: str, limit: int) -> str | None:
    tail = _tail_words(clean, " ", limit // 2)
    if not tail or tail == clean:
        return None
    candidate = f"{_cut_words(clean, limit - len(tail) - 2)}{_ELLIPSIS} {tail}"
    return candidate if len(candidate) <= limit else None


def unique_name(name: str, taken: set[str], *, limit: int, keep_tail: bool = False) -> str:
    """`name` within `limit` characters, not in `taken`.

    Cut at a word with an ellipsis; `keep_tail` (for names whose cuts would look alike) or a
    collision keeps the last words instead ("Available water storage… aws0_150 (mm)").
    """
    clean = " ".join(name.split())
    candidates = [_ellipsized(clean, limit), _head_and_tail(clean, limit)]
    if keep_tail:
        candidates.reverse()
    for candidate in candidates:
        if candidate is not None and candidate not in taken:
            return candidate
    number = 2
    while True:
        suffix = f" ({number})"
        candidate = _ellipsized(clean, limit - len(suffix)) + suffix
        if candidate not in taken:
            return candidate
        number += 1


def alike_when_cut(names: Iterable[str], limit: int) -> set[str]:
    """The names whose plain cut to `limit` would equal another's."""
    cuts: dict[str, list[str]] = {}
    for name in names:
        clean = " ".join(name.split())
        cuts.setdefault(_ellipsized(clean, limit), []).append(name)
    return {n for group in cuts.values() if len(group) > 1 for n in group}


# -- field conversions -----------------------------------------------------------------------


def as_text(value: Any) -> str:
    """A JSON value as the string the GeoCatalog wants (`10`, `true`, `["a"]`; strings as is)."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _zoom(value: Any, *, upper: int = MAX_ZOOM) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(0, min(upper, round(value)))


def _conditions(value: Any) -> list[dict[str, str]] | None:
    if not isinstance(value, list):
        return None
    conditions: list[dict[str, str]] = []
    for entry in value:
        if not isinstance(entry, Mapping) or not entry.get("property"):
            continue
        condition = {"property": str(entry["property"])}
        if entry.get("value") is not None:
            condition["value"] = as_text(entry["value"])
        conditions.append(condition)
    return conditions or None


def _vector_options(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        return None
    options = {k: v for k, v in _camelize(value).items() if v is not None}
    if isinstance(options.get("filter"), list):
        options["filter"] = [as_text(f) for f in options["filter"]]
    elif "filter" in options:
        options["filter"] = [as_text(options["filter"])]
    return options or None


def _legend(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        return None
    legend = {k: v for k, v in _camelize(value).items() if v is not None}
    if isinstance(legend.get("labels"), list):
        legend["labels"] = [as_text(label) for label in legend["labels"]]
    return legend or None


def convert_render_option(
    source: Mapping[str, Any],
    *,
    taken_ids: set[str],
    taken_names: set[str],
    alike_names: frozenset[str] | set[str] = frozenset(),
) -> tuple[RenderOption | None, str | None]:
    """(GeoCatalog render option, None) or (None, why it was skipped); fills the taken sets."""
    src = _camelize(source)
    raw_name = src.get("name")
    if not isinstance(raw_name, str) or not raw_name.strip():
        return None, "a render option without a name was skipped"
    kind = src.get("type")
    if kind is not None and kind not in RENDER_TYPES:
        return None, f"render option {raw_name!r} has type {kind!r}, which GeoCatalog lacks"
    given_id = src.get("id")
    if is_valid_config_id(given_id) and given_id not in taken_ids:
        option_id = str(given_id)
    else:
        option_id = unique_id(slug(raw_name), taken_ids, fallback="render-option")
    name = unique_name(
        raw_name, taken_names, limit=RENDER_NAME_MAX, keep_tail=raw_name in alike_names
    )
    option: RenderOption = {"id": option_id, "name": name}
    if isinstance(src.get("description"), str) and src["description"]:
        option["description"] = src["description"]
    if kind is not None:
        option["type"] = kind
    if isinstance(src.get("options"), str) and src["options"]:
        option["options"] = src["options"]
    vector = _vector_options(src.get("vectorOptions"))
    if vector is not None:
        option["vectorOptions"] = vector
    zoom = _zoom(src.get("minZoom"))
    if zoom is not None:
        option["minZoom"] = zoom
    legend = _legend(src.get("legend"))
    if legend is not None:
        option["legend"] = legend
    conditions = _conditions(src.get("conditions"))
    if conditions is not None:
        option["conditions"] = conditions
    taken_ids.add(option_id)
    taken_names.add(name)
    return option, None


def convert_mosaic(
    source: Mapping[str, Any],
    *,
    taken_ids: set[str],
    taken_names: set[str],
    alike_names: frozenset[str] | set[str] = frozenset(),
) -> tuple[Mosaic | None, str | None]:
    raw_name = source.get("name")
    if not isinstance(raw_name, str) or not raw_name.strip():
        return None, "a mosaic without a name was skipped"
    cql = source.get("cql", [])
    if not isinstance(cql, list):
        return None, f"mosaic {raw_name!r} has a `cql` that is not a list"
    given_id = source.get("id")
    if is_valid_config_id(given_id) and given_id not in taken_ids:
        mosaic_id = str(given_id)
    else:
        mosaic_id = unique_id(slug(raw_name), taken_ids, fallback="mosaic")
    name = unique_name(
        raw_name, taken_names, limit=MOSAIC_NAME_MAX, keep_tail=raw_name in alike_names
    )
    mosaic: Mosaic = {"id": mosaic_id, "name": name, "cql": cql}
    if isinstance(source.get("description"), str) and source["description"]:
        mosaic["description"] = source["description"]
    taken_ids.add(mosaic_id)
    taken_names.add(name)
    return mosaic, None


def default_location(value: Any) -> DefaultLocation | None:
    """`{zoom, coordinates: [lat, lon]}` when the source's is usable, else None."""
    if not isinstance(value, Mapping):
        return None
    zoom = _zoom(value.get("zoom"), upper=MAX_ZOOM - 1)
    coordinates = value.get("coordinates")
    if zoom is None or not isinstance(coordinates, list) or len(coordinates) != 2:
        return None
    if not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates):
        return None
    lat, lon = float(coordinates[0]), float(coordinates[1])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return {"zoom": zoom, "coordinates": [lat, lon]}


def _entries(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _names(entries: Iterable[Mapping[str, Any]]) -> list[str]:
    return [e["name"] for e in entries if isinstance(e.get("name"), str)]


def convert_mosaic_info(info: Mapping[str, Any] | None) -> RenderConfig:
    """Everything the GeoCatalog needs from PC mosaic info (None: no info, only the defaults)."""
    normalized = mosaic_info_of(info) if info is not None else {}
    warnings: list[str] = []

    options: list[RenderOption] = []
    ids: set[str] = set()
    names: set[str] = set()
    sources = _entries(normalized.get("renderOptions"))
    alike = alike_when_cut(_names(sources), RENDER_NAME_MAX)
    for source in sources:
        option, why = convert_render_option(
            source, taken_ids=ids, taken_names=names, alike_names=alike
        )
        if option is not None:
            options.append(option)
        elif why:
            warnings.append(why)

    mosaics: list[Mosaic] = []
    ids, names = set(), set()
    sources = _entries(normalized.get("mosaics"))
    alike = alike_when_cut(_names(sources), MOSAIC_NAME_MAX)
    for source in sources:
        mosaic, why = convert_mosaic(source, taken_ids=ids, taken_names=names, alike_names=alike)
        if mosaic is not None:
            mosaics.append(mosaic)
        elif why:
            warnings.append(why)
    if MOST_RECENT_AVAILABLE["name"] not in names:
        most_recent, _ = convert_mosaic(MOST_RECENT_AVAILABLE, taken_ids=ids, taken_names=names)
        if most_recent is not None:
            mosaics.append(most_recent)

    location = default_location(normalized.get("defaultLocation"))
    zooms = [o["minZoom"] for o in options if "minZoom" in o]
    if location is not None:
        zooms.append(location["zoom"])
    tile_settings: TileSettings = {
        "minZoom": min(zooms) if zooms else DEFAULT_MIN_ZOOM,
        "maxItemsPerTile": DEFAULT_MAX_ITEMS_PER_TILE,
    }
    if location is not None:
        tile_settings["defaultLocation"] = location
    return RenderConfig(tuple(options), tuple(mosaics), tile_settings, tuple(warnings))


# -- comparison (what the GeoCatalog holds vs what the template wants) --------------------------


def _without_empty(body: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    return {k: body[k] for k in fields if k in body and body[k] not in (None, "", [], {})}


def normalized_render_option(option: Mapping[str, Any]) -> dict[str, Any]:
    """A render option as the GeoCatalog would hold it (service defaults filled in)."""
    normalized = _without_empty(option, _RENDER_FIELDS)
    normalized.setdefault("type", DEFAULT_RENDER_TYPE)
    normalized.setdefault("minZoom", DEFAULT_MIN_ZOOM)
    return normalized


def normalized_mosaic(mosaic: Mapping[str, Any]) -> dict[str, Any]:
    normalized = _without_empty(mosaic, ("id", "name", "description"))
    normalized["cql"] = list(mosaic.get("cql") or [])
    return normalized


def normalized_tile_settings(tile_settings: Mapping[str, Any]) -> dict[str, Any]:
    normalized = _without_empty(tile_settings, ("minZoom", "maxItemsPerTile"))
    location = default_location(tile_settings.get("defaultLocation"))
    if location is not None:
        normalized["defaultLocation"] = location
    return normalized


__all__ = [
    "CONFIG_ID_MAX",
    "CONFIG_ID_PATTERN",
    "DEFAULT_MAX_ITEMS_PER_TILE",
    "DEFAULT_MIN_ZOOM",
    "MOSAIC_NAME_MAX",
    "MOST_RECENT_AVAILABLE",
    "RENDER_NAME_MAX",
    "RenderConfig",
    "alike_when_cut",
    "as_text",
    "convert_mosaic",
    "convert_mosaic_info",
    "convert_render_option",
    "default_location",
    "is_valid_config_id",
    "mosaic_info_of",
    "normalized_mosaic",
    "normalized_render_option",
    "normalized_tile_settings",
    "slug",
    "unique_id",
    "unique_name",
]
