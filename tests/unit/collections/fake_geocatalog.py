"""An in-memory GeoCatalog for the bootstrap tests: the client methods the bootstrap uses.

It holds state like the service (collections, assets, configuration, operations that finish after
a number of polls) and refuses what the service refuses (docs/reference/geocatalog-api.md §3,
§9), raising the client's own error types, so orchestration bugs surface as they would against the emulator.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.geocatalog.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    UpstreamError,
)
from shared.geocatalog.models import Operation, OperationStatus

_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,28}[A-Za-z0-9])?$")


@dataclass
class FakeCollection:
    body: dict[str, Any]
    thumbnails: dict[str, bytes] = field(default_factory=dict)
    render_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    mosaics: dict[str, dict[str, Any]] = field(default_factory=dict)
    tile_settings: dict[str, Any] = field(
        default_factory=lambda: {"minZoom": 12, "maxItemsPerTile": 35}
    )


class FakeGeoCatalog:
    def __init__(self, *, polls_until_done: int = 2, fail_create_with: str | None = None) -> None:
        self.collections: dict[str, FakeCollection] = {}
        self.operations: dict[str, tuple[Operation, int]] = {}
        self.polls_until_done = polls_until_done
        self.fail_create_with = fail_create_with
        self.calls: list[str] = []
        # Errors to raise, in order, before the named method does its work.
        self.faults: dict[str, list[UpstreamError]] = {}

    # -- bookkeeping -------------------------------------------------------------------------

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        queued = self.faults.get(name)
        if queued:
            raise queued.pop(0)

    @property
    def writes(self) -> list[str]:
        prefixes = ("create", "replace", "add", "delete")
        return [c for c in self.calls if c.startswith(prefixes)]

    def _collection(self, collection_id: str) -> FakeCollection:
        found = self.collections.get(collection_id)
        if found is None:
            raise NotFoundError(
                f"Collection '{collection_id}' not found.", status=404, code="ResourceNotFound"
            )
        return found

    # -- collections -------------------------------------------------------------------------

    def get_collection(self, collection_id: str, *, sign: bool = False) -> dict[str, Any]:
        self._enter("get_collection")
        found = self._collection(collection_id)
        body = copy.deepcopy(found.body)
        body["links"] = [
            {"rel": "self", "href": f"https://gc.test/stac/collections/{collection_id}"}
        ]
        body["msft:_created"] = "2026-01-01T00:00:00Z"
        if found.thumbnails:
            body["assets"] = {
                key: {"href": f"https://store.test/{collection_id}/{key}", "roles": ["thumbnail"]}
                for key in found.thumbnails
            }
        return body

    def create_collection(self, collection: Mapping[str, Any]) -> Operation:
        self._enter("create_collection")
        if "assets" in collection:
            raise InvalidRequestError("collection-level assets", status=400, code="InvalidInput")
        for key in ("msft:storage_account", "msft:container"):
            if key in collection:
                raise InvalidRequestError(f"{key} not allowed", status=400, code="InvalidInput")
        collection_id = str(collection["id"])
        if collection_id in self.collections:
            raise ConflictError("exists", status=409, code="Conflict")
        op_id = f"op-{len(self.operations) + 1}"
        op = Operation(id=op_id, status=OperationStatus.PENDING, type="AddCollection")
        self.operations[op_id] = (op, 0)
        if self.fail_create_with is None:
            body = copy.deepcopy(dict(collection))
            body.pop("links", None)
            self.collections[collection_id] = FakeCollection(body=body)
        return op

    def get_operation(self, operation_id: str) -> Operation:
        self._enter("get_operation")
        op, polls = self.operations[operation_id]
        polls += 1
        self.operations[operation_id] = (op, polls)
        if polls < self.polls_until_done:
            return Operation(id=op.id, status=OperationStatus.RUNNING, type=op.type)
        if self.fail_create_with:
            return Operation(
                id=op.id,
                status=OperationStatus.FAILED,
                type=op.type,
                error_code=self.fail_create_with,
                error_message="the service said no",
            )
        return Operation(id=op.id, status=OperationStatus.SUCCEEDED, type=op.type)

    def replace_collection(
        self, collection_id: str, collection: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._enter("replace_collection")
        found = self._collection(collection_id)
        body = copy.deepcopy(dict(collection))
        body.pop("links", None)
        found.body = body
        return self.get_collection(collection_id)

    # -- assets ------------------------------------------------------------------------------

    def _put_asset(
        self, collection_id: str, key: str, data: bytes, content_type: str, roles: list[str]
    ) -> dict[str, Any]:
        if not content_type.startswith("image/") or roles != ["thumbnail"]:
            raise InvalidRequestError("unexpected thumbnail metadata", status=400)
        self._collection(collection_id).thumbnails[key] = data
        return self.get_collection(collection_id)

    def add_collection_asset(
        self,
        collection_id: str,
        *,
        key: str,
        data: bytes,
        filename: str,
        content_type: str,
        title: str,
        roles: list[str],
        description: str | None = None,
    ) -> dict[str, Any]:
        self._enter("add_collection_asset")
        if key in self._collection(collection_id).thumbnails:
            raise ConflictError("asset exists", status=409)
        return self._put_asset(collection_id, key, data, content_type, list(roles))

    def replace_collection_asset(
        self,
        collection_id: str,
        *,
        key: str,
        data: bytes,
        filename: str,
        content_type: str,
        title: str,
        roles: list[str],
        description: str | None = None,
    ) -> dict[str, Any]:
        self._enter("replace_collection_asset")
        return self._put_asset(collection_id, key, data, content_type, list(roles))

    def get_collection_thumbnail(self, collection_id: str) -> bytes:
        self._enter("get_collection_thumbnail")
        thumbnails = self._collection(collection_id).thumbnails
        if "thumbnail" not in thumbnails:
            raise NotFoundError("no thumbnail", status=404)
        return thumbnails["thumbnail"]

    # -- configuration -----------------------------------------------------------------------

    @staticmethod
    def _check_render_option(option: Mapping[str, Any]) -> None:
        if not _ID.fullmatch(str(option.get("id", ""))):
            raise InvalidRequestError(f"invalid render option id {option.get('id')!r}", status=400)
        if not 1 <= len(str(option.get("name", ""))) <= 40:
            raise InvalidRequestError("render option name longer than 40", status=400)
        for condition in option.get("conditions") or []:
            if not isinstance(condition.get("value", ""), str):
                raise InvalidRequestError("condition values must be strings", status=400)
        if option.get("minZoom", 12) > 24:
            raise InvalidRequestError("minZoom above 24", status=400)

    @staticmethod
    def _check_mosaic(mosaic: Mapping[str, Any]) -> None:
        if not _ID.fullmatch(str(mosaic.get("id", ""))):
            raise InvalidRequestError(f"invalid mosaic id {mosaic.get('id')!r}", status=400)
        if not 1 <= len(str(mosaic.get("name", ""))) <= 30:
            raise InvalidRequestError("mosaic name longer than 30", status=400)
        if not isinstance(mosaic.get("cql"), list):
            raise InvalidRequestError("cql required", status=400)

    def list_render_options(self, collection_id: str) -> list[dict[str, Any]]:
        self._enter("list_render_options")
        return [copy.deepcopy(o) for o in self._collection(collection_id).render_options.values()]

    def create_render_option(self, collection_id: str, option: Mapping[str, Any]) -> dict[str, Any]:
        self._enter("create_render_option")
        self._check_render_option(option)
        options = self._collection(collection_id).render_options
        if option["id"] in options:
            raise ConflictError("render option exists", status=409)
        # The service fills its defaults and answers what it stores.
        stored = {"type": "raster-tile", "minZoom": 12, **copy.deepcopy(dict(option))}
        options[option["id"]] = stored
        return copy.deepcopy(stored)

    def replace_render_option(
        self, collection_id: str, option_id: str, option: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._enter("replace_render_option")
        self._check_render_option(option)
        options = self._collection(collection_id).render_options
        if option_id not in options:
            raise NotFoundError("no such render option", status=404)
        stored = {"type": "raster-tile", "minZoom": 12, **copy.deepcopy(dict(option))}
        options[option_id] = stored
        return copy.deepcopy(stored)

    def list_mosaics(self, collection_id: str) -> list[dict[str, Any]]:
        self._enter("list_mosaics")
        return [copy.deepcopy(m) for m in self._collection(collection_id).mosaics.values()]

    def create_mosaic(self, collection_id: str, mosaic: Mapping[str, Any]) -> dict[str, Any]:
        self._enter("create_mosaic")
        self._check_mosaic(mosaic)
        mosaics = self._collection(collection_id).mosaics
        if mosaic["id"] in mosaics:
            raise ConflictError("mosaic exists", status=409)
        mosaics[mosaic["id"]] = copy.deepcopy(dict(mosaic))
        return copy.deepcopy(dict(mosaic))

    def replace_mosaic(
        self, collection_id: str, mosaic_id: str, mosaic: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._enter("replace_mosaic")
        self._check_mosaic(mosaic)
        mosaics = self._collection(collection_id).mosaics
        if mosaic_id not in mosaics:
            raise NotFoundError("no such mosaic", status=404)
        mosaics[mosaic_id] = copy.deepcopy(dict(mosaic))
        return copy.deepcopy(dict(mosaic))

    def get_tile_settings(self, collection_id: str) -> dict[str, Any]:
        self._enter("get_tile_settings")
        return copy.deepcopy(self._collection(collection_id).tile_settings)

    def replace_tile_settings(
        self, collection_id: str, tile_settings: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._enter("replace_tile_settings")
        if tile_settings.get("minZoom", 0) > 24 or "maxItemsPerTile" not in tile_settings:
            raise InvalidRequestError("bad tile settings", status=400)
        self._collection(collection_id).tile_settings = copy.deepcopy(dict(tile_settings))
        return copy.deepcopy(dict(tile_settings))
