"""The GeoCatalog data-plane client: the service's one choke point to the GeoCatalog.

Every call goes through `_request()`, which adds the `api-version`, the timeout and the bearer token,
waits for the shared rate limiter and tells it how the call went, maps failures onto the few error
types of `shared.geocatalog.errors`, and logs method, path, status and duration (never headers, never
a query string, so neither tokens nor SAS signatures reach the logs). The client does not retry:
queue-triggered callers let the host retry, synchronous callers use `shared.retry`.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import requests

from shared.geocatalog.auth import TokenProvider, token_provider_for
from shared.geocatalog.container_urls import container_key
from shared.geocatalog.errors import (
    NotFoundError,
    PermanentError,
    ThrottledError,
    error_from_exception,
    error_from_response,
)
from shared.geocatalog.models import (
    IngestionSource,
    IngestionSourceSummary,
    Operation,
    OperationPage,
    OperationStatus,
)
from shared.outbound.session import new_session
from shared.ratelimit import AdaptiveRateLimiter
from shared.settings import CredentialMode, GeoCatalogSettings, SettingsError

logger = logging.getLogger(__name__)

_OPERATION_ID_IN_URL = re.compile(r"/operations/([^/?#]+)")
# Paging is bounded so a service that keeps answering `nextLink` cannot spin a caller forever;
# stopping there with a next link still offered is logged (a WARNING), never silent.
MAX_PAGES = 1000


def _body(body: Mapping[str, Any] | bytes) -> dict[str, Any]:
    return {"raw_json": body} if isinstance(body, bytes) else {"json_body": body}


def _segment(value: str) -> str:
    return quote(value, safe="")


class GeoCatalogClient:
    def __init__(
        self,
        settings: GeoCatalogSettings,
        *,
        session: requests.Session | None = None,
        token_provider: TokenProvider | None = None,
        limiter: AdaptiveRateLimiter | None = None,
    ) -> None:
        parts = urlsplit(settings.url)
        if settings.credential is not CredentialMode.NONE and parts.scheme != "https":
            # A real bearer token must never travel in clear text.
            raise SettingsError(
                "GEOCATALOG_URL", "must be https unless GEOCATALOG_CREDENTIAL is none"
            )
        self.settings = settings
        self.base_url = settings.url.rstrip("/")
        self._origin = (parts.scheme.lower(), parts.netloc.lower())
        self.session = session or new_session()
        self._tokens = token_provider or token_provider_for(settings)
        self.limiter = limiter

    def close(self) -> None:
        self.session.close()

    # -- the choke point -------------------------------------------------------------------------

    def _target(self, path_or_url: str) -> tuple[str, str, dict[str, str]]:
        """(url, path for logs, query carried by a next link) for a path or a same-origin URL."""
        if "://" not in path_or_url:
            if path_or_url.startswith("/") and "?" in path_or_url:
                path, _, query = path_or_url.partition("?")
                return self.base_url + path, path, dict(parse_qsl(query))
            return self.base_url + path_or_url, path_or_url, {}
        parts = urlsplit(path_or_url)
        if (parts.scheme.lower(), parts.netloc.lower()) != self._origin:
            # Next links are followed with our bearer token attached: never to another host.
            raise PermanentError(f"refusing to follow a link to another host ({parts.netloc})")
        return (
            f"{parts.scheme}://{parts.netloc}{parts.path}",
            parts.path,
            dict(parse_qsl(parts.query)),
        )

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        raw_json: bytes | None = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        accept: str = "application/json",
        timeout: float | None = None,
        ids: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url, log_path, query = self._target(path)
        query.update(params or {})
        query["api-version"] = self.settings.api_version
        what = f"{method} {log_path}"
        request_id = str(uuid.uuid4())
        headers = {
            "Authorization": f"Bearer {self._tokens.token()}",
            "Accept": accept,
            "x-ms-client-request-id": request_id,
        }
        if raw_json is not None:
            headers["Content-Type"] = "application/json"
        extra: dict[str, Any] = {
            "http_method": method,
            "http_path": log_path,
            "client_request_id": request_id,
            **(ids or {}),
        }
        if self.limiter is not None:
            self.limiter.acquire()
        started = time.perf_counter()
        try:
            response = self.session.request(
                method,
                url,
                params=query,
                json=json_body,
                data=raw_json if raw_json is not None else data,
                files=files,
                headers=headers,
                timeout=timeout or self.settings.timeout_seconds,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            error = error_from_exception(exc, what=what)
            extra["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
            logger.info("GeoCatalog %s %s failed: %s", method, log_path, error.message, extra=extra)
            # `from None`: requests' own exception text carries the full URL with its query.
            raise error from None
        extra["http_status"] = response.status_code
        extra["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        if response.status_code < 300:
            if self.limiter is not None:
                self.limiter.on_success()
            logger.debug(
                "GeoCatalog %s %s -> %s in %.0f ms",
                method,
                log_path,
                response.status_code,
                extra["duration_ms"],
                extra=extra,
            )
            return response
        error = (
            error_from_response(response, what=what)
            if response.status_code >= 400
            else PermanentError(
                f"{what} answered an unexpected {response.status_code}", status=response.status_code
            )
        )
        if isinstance(error, ThrottledError) and self.limiter is not None:
            self.limiter.on_throttled(error.retry_after)
        if response.status_code == 401:
            self._tokens.invalidate()
        extra["error_code"] = error.code
        logger.info(
            "GeoCatalog %s %s -> %s in %.0f ms",
            method,
            log_path,
            response.status_code,
            extra["duration_ms"],
            extra=extra,
        )
        raise error

    @staticmethod
    def _json(response: requests.Response, what: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise PermanentError(
                f"{what} answered {response.status_code} with a body that is not JSON",
                status=response.status_code,
            ) from None

    def _object(self, response: requests.Response, what: str) -> dict[str, Any]:
        body = self._json(response, what)
        if not isinstance(body, dict):
            raise PermanentError(
                f"{what} answered {response.status_code} without a JSON object",
                status=response.status_code,
            )
        return body

    def _list(self, response: requests.Response, what: str) -> list[dict[str, Any]]:
        body = self._json(response, what)
        if isinstance(body, dict) and isinstance(body.get("value"), list):
            body = body["value"]
        if not isinstance(body, list):
            raise PermanentError(
                f"{what} answered {response.status_code} without a JSON array",
                status=response.status_code,
            )
        return [entry for entry in body if isinstance(entry, dict)]

    def _operation(self, response: requests.Response, what: str) -> Operation:
        """The operation a 202 starts: from the body, its id also from `operation-location`."""
        body = self._json(response, what)
        operation = Operation.from_json(body if isinstance(body, dict) else {})
        if not operation.id:
            for header in ("operation-location", "Location"):
                match = _OPERATION_ID_IN_URL.search(response.headers.get(header, ""))
                if match:
                    operation = replace(operation, id=match.group(1))
                    break
        if operation.raw_status is None:
            if response.status_code == 202:
                operation = replace(operation, status=OperationStatus.PENDING)
            else:
                # Answered synchronously (200/201): the work is done, there is nothing to follow.
                operation = replace(operation, status=OperationStatus.SUCCEEDED)
        if not operation.id and not operation.is_terminal:
            raise PermanentError(f"{what} answered {response.status_code} without an operation id")
        return operation

    def _pages(
        self, first_path: str, *, params: Mapping[str, str] | None, what: str
    ) -> Iterator[dict[str, Any]]:
        """Pages of an `{value, nextLink}` listing, following `nextLink` on the same host."""
        path: str | None = first_path
        query: Mapping[str, str] | None = params
        for _ in range(MAX_PAGES):
            if path is None:
                return
            body = self._object(self._request("GET", path, params=query), what)
            yield body
            next_link = body.get("nextLink")
            path = next_link if isinstance(next_link, str) and next_link else None
            query = None
        if path is not None:
            _stopped_paging(what, MAX_PAGES)

    # -- collections -----------------------------------------------------------------------------

    def get_collection(self, collection_id: str, *, sign: bool = False) -> dict[str, Any]:
        path = f"/stac/collections/{_segment(collection_id)}"
        response = self._request(
            "GET", path, params=_sign(sign), ids={"collection_id": collection_id}
        )
        return self._object(response, f"GET {path}")

    def create_collection(self, collection: Mapping[str, Any]) -> Operation:
        collection_id = str(collection.get("id", ""))
        response = self._request(
            "POST",
            "/stac/collections",
            json_body=collection,
            ids={"collection_id": collection_id},
        )
        return self._operation(response, "POST /stac/collections")

    def replace_collection(
        self, collection_id: str, collection: Mapping[str, Any]
    ) -> dict[str, Any]:
        path = f"/stac/collections/{_segment(collection_id)}"
        response = self._request(
            "PUT", path, json_body=collection, ids={"collection_id": collection_id}
        )
        return self._object(response, f"PUT {path}")

    def delete_collection(self, collection_id: str) -> Operation:
        path = f"/stac/collections/{_segment(collection_id)}"
        response = self._request("DELETE", path, ids={"collection_id": collection_id})
        return self._operation(response, f"DELETE {path}")

    # -- collection assets -----------------------------------------------------------------------

    @staticmethod
    def _asset_form(
        key: str, title: str, roles: Sequence[str], content_type: str, description: str | None
    ) -> dict[str, str]:
        # The service's model requires a description; a thumbnail's title is the best we have.
        meta = {
            "key": key,
            "type": content_type,
            "roles": list(roles),
            "title": title,
            "description": description if description is not None else title,
        }
        return {"data": json.dumps(meta)}

    def add_collection_asset(
        self,
        collection_id: str,
        *,
        key: str,
        data: bytes,
        filename: str,
        content_type: str,
        title: str,
        roles: Sequence[str],
        description: str | None = None,
    ) -> dict[str, Any]:
        path = f"/stac/collections/{_segment(collection_id)}/assets"
        return self._upload_asset(
            "POST",
            path,
            collection_id,
            key,
            data,
            filename,
            content_type,
            title,
            roles,
            description,
        )

    def replace_collection_asset(
        self,
        collection_id: str,
        *,
        key: str,
        data: bytes,
        filename: str,
        content_type: str,
        title: str,
        roles: Sequence[str],
        description: str | None = None,
    ) -> dict[str, Any]:
        path = f"/stac/collections/{_segment(collection_id)}/assets/{_segment(key)}"
        return self._upload_asset(
            "PUT", path, collection_id, key, data, filename, content_type, title, roles, description
        )

    def _upload_asset(
        self,
        method: str,
        path: str,
        collection_id: str,
        key: str,
        data: bytes,
        filename: str,
        content_type: str,
        title: str,
        roles: Sequence[str],
        description: str | None,
    ) -> dict[str, Any]:
        """The multipart form GeoCatalog takes: `data` (the asset's JSON) and `file`."""
        response = self._request(
            method,
            path,
            data=self._asset_form(key, title, roles, content_type, description),
            files={"file": (filename, data, content_type)},
            ids={"collection_id": collection_id, "asset_key": key},
        )
        return self._object(response, f"{method} {path}")

    def get_collection_thumbnail(self, collection_id: str) -> bytes:
        path = f"/stac/collections/{_segment(collection_id)}/thumbnail"
        response = self._request("GET", path, accept="*/*", ids={"collection_id": collection_id})
        return response.content

    # -- configuration: render options, mosaics, tile settings -----------------------------------

    def _config_path(self, collection_id: str, *rest: str) -> str:
        tail = "".join(f"/{_segment(part)}" for part in rest)
        return f"/stac/collections/{_segment(collection_id)}/configurations{tail}"

    def get_collection_configuration(self, collection_id: str) -> dict[str, Any]:
        path = self._config_path(collection_id)
        response = self._request("GET", path, ids={"collection_id": collection_id})
        return self._object(response, f"GET {path}")

    def _list_config(self, collection_id: str, kind: str) -> list[dict[str, Any]]:
        path = self._config_path(collection_id, kind)
        response = self._request("GET", path, ids={"collection_id": collection_id})
        return self._list(response, f"GET {path}")

    def _create_config(
        self, collection_id: str, kind: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        path = self._config_path(collection_id, kind)
        ids = {"collection_id": collection_id, "config_id": str(body.get("id", ""))}
        response = self._request("POST", path, json_body=body, ids=ids)
        return self._object(response, f"POST {path}")

    def _replace_config(
        self, collection_id: str, kind: str, config_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        path = self._config_path(collection_id, kind, config_id)
        ids = {"collection_id": collection_id, "config_id": config_id}
        response = self._request("PUT", path, json_body=body, ids=ids)
        return self._object(response, f"PUT {path}")

    def list_render_options(self, collection_id: str) -> list[dict[str, Any]]:
        return self._list_config(collection_id, "render-options")

    def create_render_option(self, collection_id: str, option: Mapping[str, Any]) -> dict[str, Any]:
        return self._create_config(collection_id, "render-options", option)

    def replace_render_option(
        self, collection_id: str, option_id: str, option: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._replace_config(collection_id, "render-options", option_id, option)

    def list_mosaics(self, collection_id: str) -> list[dict[str, Any]]:
        return self._list_config(collection_id, "mosaics")

    def create_mosaic(self, collection_id: str, mosaic: Mapping[str, Any]) -> dict[str, Any]:
        return self._create_config(collection_id, "mosaics", mosaic)

    def replace_mosaic(
        self, collection_id: str, mosaic_id: str, mosaic: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._replace_config(collection_id, "mosaics", mosaic_id, mosaic)

    def get_tile_settings(self, collection_id: str) -> dict[str, Any]:
        path = self._config_path(collection_id, "tile-settings")
        response = self._request("GET", path, ids={"collection_id": collection_id})
        return self._object(response, f"GET {path}")

    def replace_tile_settings(
        self, collection_id: str, tile_settings: Mapping[str, Any]
    ) -> dict[str, Any]:
        path = self._config_path(collection_id, "tile-settings")
        response = self._request(
            "PUT", path, json_body=tile_settings, ids={"collection_id": collection_id}
        )
        return self._object(response, f"PUT {path}")

    # -- items and search --------------------------------------------------------------------------

    def create_items(
        self, collection_id: str, item_or_feature_collection: Mapping[str, Any] | bytes
    ) -> Operation:
        """POST an Item or a FeatureCollection; given as bytes (JSON text), it is sent as it is
        (a batch of a hundred items need not be parsed and serialised again)."""
        path = f"/stac/collections/{_segment(collection_id)}/items"
        ids = {"collection_id": collection_id}
        body = item_or_feature_collection
        if not isinstance(body, bytes) and body.get("type") == "Feature":
            ids["item_id"] = str(body.get("id", ""))
        response = self._request("POST", path, ids=ids, **_body(body))
        return self._operation(response, f"POST {path}")

    def replace_item(
        self, collection_id: str, item_id: str, item: Mapping[str, Any] | bytes
    ) -> Operation:
        path = f"/stac/collections/{_segment(collection_id)}/items/{_segment(item_id)}"
        response = self._request(
            "PUT", path, ids={"collection_id": collection_id, "item_id": item_id}, **_body(item)
        )
        return self._operation(response, f"PUT {path}")

    def delete_item(self, collection_id: str, item_id: str) -> Operation:
        path = f"/stac/collections/{_segment(collection_id)}/items/{_segment(item_id)}"
        response = self._request(
            "DELETE", path, ids={"collection_id": collection_id, "item_id": item_id}
        )
        return self._operation(response, f"DELETE {path}")

    def search(self, body: Mapping[str, Any], *, sign: bool = False) -> dict[str, Any]:
        """One page of `POST /stac/search` (a FeatureCollection)."""
        response = self._request("POST", "/stac/search", params=_sign(sign), json_body=body)
        return self._object(response, "POST /stac/search")

    def iter_search(
        self, body: Mapping[str, Any], *, sign: bool = False, max_pages: int = MAX_PAGES
    ) -> Iterator[dict[str, Any]]:
        """Every page of a search, following `links[rel=next]` (POST bodies or GET hrefs)."""
        page = self.search(body, sign=sign)
        current = dict(body)
        for pages in range(1, max_pages + 1):
            yield page
            link = _next_link(page)
            if link is None:
                return
            if pages == max_pages:
                _stopped_paging("POST /stac/search", max_pages)
                return
            if str(link.get("method", "GET")).upper() == "POST":
                # STAC API next links carry the body to send; merged over the original so a link
                # that only carries the paging token keeps the query.
                link_body = link.get("body")
                current = {**current, **(link_body if isinstance(link_body, dict) else {})}
                page = self.search(current, sign=sign)
            else:
                response = self._request("GET", str(link["href"]), params=_sign(sign))
                page = self._object(response, "GET /stac/search")

    # -- operations --------------------------------------------------------------------------------

    def get_operation(self, operation_id: str) -> Operation:
        path = f"/inma/operations/{_segment(operation_id)}"
        response = self._request("GET", path, ids={"operation_id": operation_id})
        return Operation.from_json(self._object(response, f"GET {path}"))

    def list_operations(
        self,
        *,
        collection_id: str | None = None,
        status: OperationStatus | str | None = None,
        top: int | None = None,
        skip: int | None = None,
        next_link: str | None = None,
    ) -> OperationPage:
        """One page of operations (newest first); pass `next_link` to read the following page."""
        params: dict[str, str] = {}
        if next_link is None:
            if collection_id is not None:
                params["collectionId"] = collection_id
            if status is not None:
                params["status"] = str(status)
            if top is not None:
                params["$top"] = str(top)
            if skip is not None:
                params["$skip"] = str(skip)
        response = self._request("GET", next_link or "/inma/operations", params=params)
        body = self._object(response, "GET /inma/operations")
        values = body.get("value", [])
        link = body.get("nextLink")
        return OperationPage(
            operations=[Operation.from_json(v) for v in values if isinstance(v, dict)],
            next_link=link if isinstance(link, str) and link else None,
        )

    def iter_operations(
        self,
        *,
        collection_id: str | None = None,
        status: OperationStatus | str | None = None,
        top: int | None = None,
    ) -> Iterator[Operation]:
        page = self.list_operations(collection_id=collection_id, status=status, top=top)
        for pages in range(1, MAX_PAGES + 1):
            yield from page.operations
            if page.next_link is None:
                return
            if pages == MAX_PAGES:
                _stopped_paging("GET /inma/operations", MAX_PAGES)
                return
            page = self.list_operations(next_link=page.next_link)

    def cancel_operation(self, operation_id: str) -> None:
        path = f"/inma/operations/{_segment(operation_id)}"
        self._request("DELETE", path, ids={"operation_id": operation_id})

    # -- ingestion sources -----------------------------------------------------------------------

    def list_ingestion_sources(self) -> list[IngestionSourceSummary]:
        summaries: list[IngestionSourceSummary] = []
        for page in self._pages(
            "/inma/ingestion-sources", params=None, what="GET /inma/ingestion-sources"
        ):
            values = page.get("value", [])
            summaries.extend(
                IngestionSourceSummary.from_json(v) for v in values if isinstance(v, dict)
            )
        return summaries

    def get_ingestion_source(self, source_id: str) -> IngestionSource:
        path = f"/inma/ingestion-sources/{_segment(source_id)}"
        response = self._request("GET", path, ids={"ingestion_source_id": source_id})
        return IngestionSource.from_json(self._object(response, f"GET {path}"))

    def find_ingestion_source(self, container_url: str) -> IngestionSource | None:
        """The source registered for a container, if any (the listing omits URLs: get each);
        URLs are compared by `container_key`, as the ingestion-source manager does."""
        wanted = container_key(container_url)
        for summary in self.list_ingestion_sources():
            try:
                source = self.get_ingestion_source(summary.id)
            except NotFoundError:
                # Deleted between the listing and the read.
                continue
            if source.container_url and container_key(source.container_url) == wanted:
                return source
        return None

    def create_ingestion_source(self, container_url: str, sas_token: str) -> IngestionSource:
        """Register a SAS-token source; ConflictError when the container already has one."""
        body = _sas_source_body(str(uuid.uuid4()), container_url, sas_token)
        response = self._request("POST", "/inma/ingestion-sources", json_body=body)
        return IngestionSource.from_json(self._object(response, "POST /inma/ingestion-sources"))

    def create_managed_identity_source(self, container_url: str, object_id: str) -> IngestionSource:
        """Register a BlobManagedIdentity source: the GeoCatalog reads the container as its
        own user-assigned identity (`object_id`); ConflictError when the container has one."""
        body = {
            "id": str(uuid.uuid4()),
            "kind": "BlobManagedIdentity",
            "connectionInfo": {"containerUrl": container_url.rstrip("/"), "objectId": object_id},
        }
        response = self._request("POST", "/inma/ingestion-sources", json_body=body)
        return IngestionSource.from_json(self._object(response, "POST /inma/ingestion-sources"))

    def replace_ingestion_source(
        self, source_id: str, container_url: str, sas_token: str
    ) -> IngestionSource:
        path = f"/inma/ingestion-sources/{_segment(source_id)}"
        body = _sas_source_body(source_id, container_url, sas_token)
        response = self._request(
            "PUT", path, json_body=body, ids={"ingestion_source_id": source_id}
        )
        return IngestionSource.from_json(self._object(response, f"PUT {path}"))

    def delete_ingestion_source(self, source_id: str) -> None:
        path = f"/inma/ingestion-sources/{_segment(source_id)}"
        self._request("DELETE", path, ids={"ingestion_source_id": source_id})

    # -- health ----------------------------------------------------------------------------------

    def probe(self, *, timeout: float = 5.0) -> str:
        """A cheap authenticated call for health checks; a short description of the answer."""
        response = self._request("GET", "/stac/collections", timeout=timeout)
        body = self._object(response, "GET /stac/collections")
        count = len(body.get("collections", []))
        return f"{count} collection(s) on the first page"


def _stopped_paging(what: str, pages: int) -> None:
    logger.warning(
        "%s: stopped after %d pages although the service offers more (the rest is not read)",
        what,
        pages,
        extra={"http_path": what.split(" ", 1)[-1], "pages": pages},
    )


def _sign(sign: bool) -> dict[str, str] | None:
    return {"sign": "true"} if sign else None


def _next_link(page: Mapping[str, Any]) -> dict[str, Any] | None:
    for link in page.get("links", []) or []:
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
            return link
    return None


def _sas_source_body(source_id: str, container_url: str, sas_token: str) -> dict[str, Any]:
    return {
        "id": source_id,
        "kind": "SasToken",
        "connectionInfo": {
            # The service wants the container URL without a trailing slash and the token bare.
            "containerUrl": container_url.rstrip("/"),
            "sasToken": sas_token.lstrip("?"),
        },
    }


__all__ = ["MAX_PAGES", "GeoCatalogClient"]
