"""`/api/data/v1/mosaic/info` documents built from the recorded PC render configs.

The live endpoint (planetary-computer-apis, pctiler `pg_mosaic.py`) returns
`MosaicInfo.model_dump(by_alias=True, exclude_unset=True)` of a config read back from a table where
pccommon stored it with `.json()`, i.e. with every model field written out. So every field of the
models below is present, camelCase, unset ones as null; `omit_nulls` gives the variant without them.
Values the models type as free JSON (`cql`, `defaultCustomQuery`, `filter`, condition `value`) are
passed through untouched.
"""

from __future__ import annotations

from typing import Any

# model field (snake_case) -> (camelCase alias, default, nested model or None)
_Model = list[tuple[str, str, Any, str | None]]

_MODELS: dict[str, _Model] = {
    "MosaicInfo": [
        ("mosaics", "mosaics", None, "Mosaics[]"),
        ("render_options", "renderOptions", None, "RenderOptions[]"),
        ("default_location", "defaultLocation", None, "DefaultLocation"),
        ("default_custom_query", "defaultCustomQuery", None, None),
        ("animation_hint", "animationHint", None, "AnimationHint"),
    ],
    "Mosaics": [
        ("name", "name", None, None),
        ("description", "description", None, None),
        ("cql", "cql", None, None),
    ],
    "RenderOptions": [
        ("name", "name", None, None),
        ("description", "description", None, None),
        ("type", "type", "raster-tile", None),
        ("options", "options", None, None),
        ("vector_options", "vectorOptions", None, "VectorTileOptions"),
        ("min_zoom", "minZoom", None, None),
        ("legend", "legend", None, "LegendConfig"),
        ("conditions", "conditions", None, "RenderOptionCondition[]"),
    ],
    "VectorTileOptions": [
        ("tilejson_key", "tilejsonKey", None, None),
        ("source_layer", "sourceLayer", None, None),
        ("fill_color", "fillColor", None, None),
        ("stroke_color", "strokeColor", None, None),
        ("stroke_width", "strokeWidth", None, None),
        ("filter", "filter", None, None),
    ],
    "LegendConfig": [
        ("type", "type", None, None),
        ("labels", "labels", None, None),
        ("trim_start", "trimStart", None, None),
        ("trim_end", "trimEnd", None, None),
        ("scale_factor", "scaleFactor", None, None),
    ],
    "RenderOptionCondition": [
        ("property", "property", None, None),
        ("value", "value", None, None),
    ],
    "AnimationHint": [
        ("unit", "unit", None, None),
        ("step", "step", None, None),
        ("duration", "duration", None, None),
        ("frame_count", "frameCount", None, None),
    ],
    "DefaultLocation": [
        ("zoom", "zoom", None, None),
        ("coordinates", "coordinates", None, None),
    ],
}


def mosaic_info_document(source: dict[str, Any], *, omit_nulls: bool = False) -> dict[str, Any]:
    """The served JSON for a stored mosaic_info, snake_case (pctasks) or camelCase (pccommon)."""
    return _dump("MosaicInfo", source, omit_nulls)


def _dump(model: str, source: dict[str, Any], omit_nulls: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, alias, default, nested in _MODELS[model]:
        # pydantic's populate_by_name: the field name or its alias.
        value = source.get(field, source.get(alias, default))
        if value is not None and nested is not None:
            if nested.endswith("[]"):
                value = [_dump(nested[:-2], v, omit_nulls) for v in value]
            else:
                value = _dump(nested, value, omit_nulls)
        if value is None and omit_nulls:
            continue
        out[alias] = value
    return out
