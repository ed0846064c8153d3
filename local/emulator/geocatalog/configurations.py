"""Collection configuration: render options, mosaics, tile settings, partition type,
queryables, and the combined `/configurations` document."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from local.emulator.geocatalog.config import GeoCatalogConfig
from local.emulator.geocatalog.errors import ApiError, bad_request, collection_not_found, not_found
from local.emulator.geocatalog.http import RequestContext, RouteSpec, empty_response, json_response

if TYPE_CHECKING:
    from local.emulator.geocatalog.store import CollectionRecord

# 1-30 letters, digits, '_' or '-', not starting or ending with '_' or '-' (docs/reference/geocatalog-api.md §9).
CONFIG_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,28}[A-Za-z0-9])?$")
RENDER_TYPES = ("raster-tile", "vt-polygon", "vt-line")
LEGEND_TYPES = ("continuous", "classmap", "interval", "none")
RENDER_FIELDS = (
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
MOSAIC_FIELDS = ("id", "name", "description", "cql")
PARTITION_SCHEMES = ("none", "year", "month")


def default_mosaics(config: GeoCatalogConfig) -> dict[str, dict[str, Any]]:
    # A live catalog's configuration lists a service-made "default" mosaic first.
    if not config.default_mosaic:
        return {}
    return {"default": {"id": "default", "name": "Default", "description": "", "cql": []}}


def default_tile_settings() -> dict[str, Any]:
    return {"minZoom": 12, "maxItemsPerTile": 35, "defaultLocation": None}


def validate_config_id(value: Any, kind: str) -> str:
    if not isinstance(value, str) or not CONFIG_ID.match(value):
        raise bad_request(
            f"{kind} id {value!r} is invalid: 1-30 letters, digits, '_' or '-', not starting or "
            "ending with '_' or '-'.",
            "InvalidParameter",
        )
    return value


def _int_in_range(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise bad_request(f"'{name}' must be an integer from {low} to {high}.", "InvalidParameter")
    return value


def validate_render_option(body: dict[str, Any]) -> dict[str, Any]:
    """Check the rules of docs/reference/geocatalog-api.md §9; return the option as stored (type
    defaulted, known fields only)."""
    validate_config_id(body.get("id"), "Render option")
    name = body.get("name")
    if not isinstance(name, str) or not name or len(name) > 40:
        raise bad_request(
            "Render option 'name' is required, at most 40 characters.", "InvalidParameter"
        )
    option: dict[str, Any] = {"id": body["id"], "name": name}
    if body.get("description") is not None:
        if not isinstance(body["description"], str):
            raise bad_request("Render option 'description' must be a string.", "InvalidParameter")
        option["description"] = body["description"]
    render_type = body.get("type") or "raster-tile"
    if render_type not in RENDER_TYPES:
        raise bad_request(
            f"Render option 'type' must be one of {list(RENDER_TYPES)}.", "InvalidParameter"
        )
    option["type"] = render_type
    if body.get("options") is not None:
        if not isinstance(body["options"], str):
            raise bad_request("Render option 'options' must be a query string.", "InvalidParameter")
        option["options"] = body["options"]
    vector = body.get("vectorOptions")
    if vector is not None:
        if not isinstance(vector, dict):
            raise bad_request("'vectorOptions' must be an object.", "InvalidParameter")
        for required in ("tilejsonKey", "sourceLayer"):
            if not isinstance(vector.get(required), str):
                raise bad_request(f"'vectorOptions.{required}' is required.", "InvalidParameter")
        flt = vector.get("filter")
        if flt is not None and not (
            isinstance(flt, list) and all(isinstance(part, str) for part in flt)
        ):
            raise bad_request(
                "'vectorOptions.filter' must be a list of strings.", "InvalidParameter"
            )
        option["vectorOptions"] = vector
    if body.get("minZoom") is not None:
        option["minZoom"] = _int_in_range(body["minZoom"], "minZoom", 0, 24)
    legend = body.get("legend")
    if legend is not None:
        if not isinstance(legend, dict):
            raise bad_request("'legend' must be an object.", "InvalidParameter")
        if legend.get("type") is not None and legend["type"] not in LEGEND_TYPES:
            raise bad_request(
                f"'legend.type' must be one of {list(LEGEND_TYPES)}.", "InvalidParameter"
            )
        option["legend"] = legend
    conditions = body.get("conditions")
    if conditions is not None:
        if not isinstance(conditions, list):
            raise bad_request("'conditions' must be a list.", "InvalidParameter")
        for condition in conditions:
            if not isinstance(condition, dict) or not isinstance(condition.get("property"), str):
                raise bad_request("Each condition needs a 'property'.", "InvalidParameter")
            if condition.get("value") is not None and not isinstance(condition["value"], str):
                raise bad_request("A condition 'value' must be a string.", "InvalidParameter")
        option["conditions"] = conditions
    return option


def validate_mosaic(body: dict[str, Any]) -> dict[str, Any]:
    validate_config_id(body.get("id"), "Mosaic")
    name = body.get("name")
    if not isinstance(name, str) or not name or len(name) > 30:
        raise bad_request("Mosaic 'name' is required, at most 30 characters.", "InvalidParameter")
    cql = body.get("cql")
    if not isinstance(cql, list) or not all(isinstance(part, dict) for part in cql):
        raise bad_request(
            "Mosaic 'cql' is required: a list of CQL2-JSON objects.", "InvalidParameter"
        )
    mosaic: dict[str, Any] = {"id": body["id"], "name": name}
    if body.get("description") is not None:
        mosaic["description"] = body["description"]
    mosaic["cql"] = cql
    return mosaic


def validate_tile_settings(body: dict[str, Any]) -> dict[str, Any]:
    if "minZoom" not in body or "maxItemsPerTile" not in body:
        raise bad_request("Tile settings need 'minZoom' and 'maxItemsPerTile'.", "InvalidParameter")
    settings: dict[str, Any] = {
        "minZoom": _int_in_range(body["minZoom"], "minZoom", 0, 24),
        "maxItemsPerTile": _int_in_range(body["maxItemsPerTile"], "maxItemsPerTile", 1, 10_000),
        "defaultLocation": None,
    }
    location = body.get("defaultLocation")
    if location is not None:
        if not isinstance(location, dict):
            raise bad_request("'defaultLocation' must be an object.", "InvalidParameter")
        zoom = _int_in_range(location.get("zoom"), "defaultLocation.zoom", 0, 23)
        coordinates = location.get("coordinates")
        if (
            not isinstance(coordinates, list)
            or len(coordinates) != 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates)
            or not -90 <= coordinates[0] <= 90
            or not -180 <= coordinates[1] <= 180
        ):
            raise bad_request(
                "'defaultLocation.coordinates' must be [latitude, longitude].", "InvalidParameter"
            )
        settings["defaultLocation"] = {"zoom": zoom, "coordinates": coordinates}
    return settings


def _record(ctx: RequestContext) -> CollectionRecord:
    collection_id = ctx.path("collectionId")
    record = ctx.emulator.state.collections.get(collection_id)
    if record is None:
        raise collection_not_found(collection_id)
    return record


def _full_render_option(option: dict[str, Any]) -> dict[str, Any]:
    return {name: option.get(name) for name in RENDER_FIELDS}


# -- render options ------------------------------------------------------------------------


async def list_render_options(ctx: RequestContext) -> Response:
    with ctx.emulator.lock:
        return json_response(list(_record(ctx).render_options.values()))


async def create_render_option(ctx: RequestContext) -> Response:
    option = validate_render_option(await ctx.json_object())
    with ctx.emulator.lock:
        record = _record(ctx)
        if option["id"] in record.render_options:
            raise ApiError(
                409,
                "Conflict",
                f"Render option '{option['id']}' already exists in collection '{record.id}'.",
            )
        record.render_options[option["id"]] = option
        return json_response(option, 201)


def _existing(mapping: dict[str, Any], key: str, kind: str, record: CollectionRecord) -> Any:
    if key not in mapping:
        raise not_found(f"{kind} '{key}' not found in collection '{record.id}'.")
    return mapping[key]


async def get_render_option(ctx: RequestContext) -> Response:
    with ctx.emulator.lock:
        record = _record(ctx)
        option_id = ctx.path("renderOptionId")
        return json_response(_existing(record.render_options, option_id, "Render option", record))


async def replace_render_option(ctx: RequestContext) -> Response:
    option_id = ctx.path("renderOptionId")
    body = await ctx.json_object()
    if body.get("id", option_id) != option_id:
        raise bad_request(f"Render option id '{body.get('id')}' does not match '{option_id}'.")
    option = validate_render_option({**body, "id": option_id})
    with ctx.emulator.lock:
        record = _record(ctx)
        _existing(record.render_options, option_id, "Render option", record)
        record.render_options[option_id] = option
        return json_response(option)


async def delete_render_option(ctx: RequestContext) -> Response:
    with ctx.emulator.lock:
        record = _record(ctx)
        option_id = ctx.path("renderOptionId")
        _existing(record.render_options, option_id, "Render option", record)
        del record.render_options[option_id]
    return empty_response(200)


# -- mosaics -------------------------------------------------------------------------------


async def list_mosaics(ctx: RequestContext) -> Response:
    with ctx.emulator.lock:
        return json_response(list(_record(ctx).mosaics.values()))


async def create_mosaic(ctx: RequestContext) -> Response:
    mosaic = validate_mosaic(await ctx.json_object())
    with ctx.emulator.lock:
        record = _record(ctx)
        if mosaic["id"] in record.mosaics:
            raise ApiError(
                409,
                "Conflict",
                f"Mosaic '{mosaic['id']}' already exists in collection '{record.id}'.",
            )
        record.mosaics[mosaic["id"]] = mosaic
        return json_response(mosaic, 201)


async def get_mosaic(ctx: RequestContext) -> Response:
    with ctx.emulator.lock:
        record = _record(ctx)
        return json_response(_existing(record.mosaics, ctx.path("mosaicId"), "Mosaic", record))


async def replace_mosaic(ctx: RequestContext) -> Response:
    mosaic_id = ctx.path("mosaicId")
    body = await ctx.json_object()
    if body.get("id", mosaic_id) != mosaic_id:
        raise bad_request(f"Mosaic id '{body.get('id')}' does not match '{mosaic_id}'.")
    mosaic = validate_mosaic({**body, "id": mosaic_id})
    with ctx.emulator.lock:
        record = _record(ctx)
        _existing(record.mosaics, mosaic_id, "Mosaic", record)
        record.mosaics[mosaic_id] = mosaic
        return json_response(mosaic)


async def delete_mosaic(ctx: RequestContext) -> Response:
    with ctx.emulator.lock:
        record = _record(ctx)
        mosaic_id = ctx.path("mosaicId")
        _existing(record.mosaics, mosaic_id, "Mosaic", record)
        del record.mosaics[mosaic_id]
    return empty_response(200)


# -- tile settings, partition type, configuration --------------------------------------------


async def get_tile_settings(ctx: RequestContext) -> Response:
    with ctx.emulator.lock:
        return json_response(_record(ctx).tile_settings)


async def replace_tile_settings(ctx: RequestContext) -> Response:
    settings = validate_tile_settings(await ctx.json_object())
    with ctx.emulator.lock:
        record = _record(ctx)
        record.tile_settings = settings
        return json_response(settings)


async def get_partition_type(ctx: RequestContext) -> Response:
    with ctx.emulator.lock:
        return json_response({"scheme": _record(ctx).partition_scheme})


async def replace_partition_type(ctx: RequestContext) -> Response:
    body = await ctx.json_object()
    scheme = body.get("scheme", "none")
    if scheme not in PARTITION_SCHEMES:
        raise bad_request(f"'scheme' must be one of {list(PARTITION_SCHEMES)}.", "InvalidParameter")
    with ctx.emulator.lock:
        record = _record(ctx)
        if record.items and scheme != record.partition_scheme:
            raise bad_request(
                "The partition type can only be set before any items are loaded.",
                "InvalidOperation",
            )
        record.partition_scheme = scheme
    return empty_response(200)


async def get_configuration(ctx: RequestContext) -> Response:
    with ctx.emulator.lock:
        record = _record(ctx)
        return json_response(
            {
                "tileSettings": record.tile_settings,
                "mosaicInfo": {
                    "mosaics": list(record.mosaics.values()),
                    "renderOptions": [
                        _full_render_option(option) for option in record.render_options.values()
                    ],
                    "defaultLocation": record.tile_settings.get("defaultLocation"),
                    "defaultCustomQuery": None,
                },
            }
        )


# -- queryables ----------------------------------------------------------------------------

_CORE_QUERYABLES: dict[str, Any] = {
    "id": {"title": "Item ID", "type": "string"},
    "datetime": {"title": "Acquired", "type": "string", "format": "date-time"},
    "geometry": {"$ref": "https://geojson.org/schema/Feature.json"},
}


def _queryables_document(base_url: str, path: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{base_url}{path}",
        "type": "object",
        "title": "STAC Queryables.",
        "properties": {**_CORE_QUERYABLES, **extra},
        "additionalProperties": True,
    }


async def get_queryables(ctx: RequestContext) -> Response:
    return json_response(_queryables_document(ctx.base_url, "/stac/queryables", {}))


async def get_collection_queryables(ctx: RequestContext) -> Response:
    with ctx.emulator.lock:
        record = _record(ctx)
        extra = {name: q.get("definition", {}) for name, q in record.queryables.items()}
        return json_response(
            _queryables_document(ctx.base_url, f"/stac/collections/{record.id}/queryables", extra)
        )


def _validate_queryable(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
        raise bad_request("A queryable needs a 'name'.", "InvalidParameter")
    if not isinstance(body.get("definition", {}), dict):
        raise bad_request("A queryable 'definition' must be an object.", "InvalidParameter")
    return {k: body[k] for k in ("name", "definition", "create_index", "data_type") if k in body}


async def create_queryables(ctx: RequestContext) -> Response:
    body = await ctx.json()
    if not isinstance(body, list):
        raise bad_request("The body must be a list of queryables.", "InvalidParameter")
    queryables = [_validate_queryable(entry) for entry in body]
    with ctx.emulator.lock:
        record = _record(ctx)
        for queryable in queryables:
            if queryable["name"] in record.queryables:
                raise ApiError(409, "Conflict", f"Queryable '{queryable['name']}' already exists.")
        for queryable in queryables:
            record.queryables[queryable["name"]] = queryable
    return json_response(queryables, 201)


async def replace_queryable(ctx: RequestContext) -> Response:
    name = ctx.path("queryableName")
    queryable = _validate_queryable({**(await ctx.json_object()), "name": name})
    with ctx.emulator.lock:
        record = _record(ctx)
        _existing(record.queryables, name, "Queryable", record)
        record.queryables[name] = queryable
    return json_response(queryable)


async def delete_queryable(ctx: RequestContext) -> Response:
    name = ctx.path("queryableName")
    with ctx.emulator.lock:
        record = _record(ctx)
        _existing(record.queryables, name, "Queryable", record)
        del record.queryables[name]
    return empty_response(200)


def routes() -> list[RouteSpec]:
    base = "/stac/collections/{collectionId}/configurations"
    return [
        RouteSpec(base, ("GET",), get_configuration),
        RouteSpec(f"{base}/render-options", ("GET",), list_render_options),
        RouteSpec(f"{base}/render-options", ("POST",), create_render_option),
        RouteSpec(f"{base}/render-options/{{renderOptionId}}", ("GET",), get_render_option),
        RouteSpec(f"{base}/render-options/{{renderOptionId}}", ("PUT",), replace_render_option),
        RouteSpec(f"{base}/render-options/{{renderOptionId}}", ("DELETE",), delete_render_option),
        RouteSpec(f"{base}/mosaics", ("GET",), list_mosaics),
        RouteSpec(f"{base}/mosaics", ("POST",), create_mosaic),
        RouteSpec(f"{base}/mosaics/{{mosaicId}}", ("GET",), get_mosaic),
        RouteSpec(f"{base}/mosaics/{{mosaicId}}", ("PUT",), replace_mosaic),
        RouteSpec(f"{base}/mosaics/{{mosaicId}}", ("DELETE",), delete_mosaic),
        RouteSpec(f"{base}/tile-settings", ("GET",), get_tile_settings),
        RouteSpec(f"{base}/tile-settings", ("PUT",), replace_tile_settings),
        RouteSpec(f"{base}/partition-type", ("GET",), get_partition_type),
        RouteSpec(f"{base}/partition-type", ("PUT",), replace_partition_type),
        RouteSpec("/stac/queryables", ("GET",), get_queryables),
        RouteSpec(
            "/stac/collections/{collectionId}/queryables", ("GET",), get_collection_queryables
        ),
        RouteSpec("/stac/collections/{collectionId}/queryables", ("POST",), create_queryables),
        RouteSpec(
            "/stac/collections/{collectionId}/queryables/{queryableName}",
            ("PUT",),
            replace_queryable,
        ),
        RouteSpec(
            "/stac/collections/{collectionId}/queryables/{queryableName}",
            ("DELETE",),
            delete_queryable,
        ),
    ]
