"""The Microsoft Planetary Computer's public endpoints the tutorial uses (or the local emulator's).

STAC API collections, SAS tokens for a collection or a container, and the data API's mosaic info.
Anonymous. Failures map onto the same `UpstreamError` types as the GeoCatalog client's (a 429 with
`Retry-After` is a ThrottledError, and so on) with `service` set to "Planetary Computer".
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from shared.geocatalog.errors import (
    PermanentError,
    error_from_exception,
    error_from_response,
)
from shared.geocatalog.models import SasToken
from shared.outbound.session import new_session

logger = logging.getLogger(__name__)

SERVICE = "Planetary Computer"
STAC_API_PATH = "/api/stac/v1"


class PlanetaryComputer:
    def __init__(
        self,
        base_url: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or new_session(pool_size=8)
        self.timeout = timeout

    @property
    def stac_api_url(self) -> str:
        return self.base_url + STAC_API_PATH

    def collection_id_for(self, url: str) -> str | None:
        """The collection id when `url` is this Planetary Computer's STAC collection URL, else None."""
        ours, theirs = urlsplit(self.stac_api_url), urlsplit(url)
        if (ours.scheme.lower(), ours.netloc.lower()) != (
            theirs.scheme.lower(),
            theirs.netloc.lower(),
        ):
            return None
        prefix = ours.path.rstrip("/") + "/collections/"
        path = theirs.path.rstrip("/")
        if not path.startswith(prefix):
            return None
        rest = path[len(prefix) :]
        return rest if rest and "/" not in rest else None

    def _get(self, path: str, *, params: dict[str, str] | None = None) -> Any:
        what = f"GET {path}"
        started = time.perf_counter()
        try:
            response = self.session.get(
                self.base_url + path,
                params=params,
                timeout=self.timeout,
                headers={"Accept": "application/json"},
            )
        except requests.RequestException as exc:
            raise error_from_exception(exc, what=what, service=SERVICE) from None
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        logger.debug(
            "Planetary Computer GET %s -> %s in %.0f ms",
            path,
            response.status_code,
            duration_ms,
            extra={"http_path": path, "http_status": response.status_code},
        )
        if response.status_code >= 400:
            raise error_from_response(response, what=what, service=SERVICE)
        try:
            return response.json()
        except ValueError:
            raise PermanentError(
                f"{what} answered a body that is not JSON",
                status=response.status_code,
                service=SERVICE,
            ) from None

    def _object(self, path: str, *, params: dict[str, str] | None = None) -> dict[str, Any]:
        body = self._get(path, params=params)
        if not isinstance(body, dict):
            raise PermanentError(f"GET {path} answered without a JSON object", service=SERVICE)
        return body

    def _token(self, path: str) -> SasToken:
        try:
            return SasToken.from_json(self._object(path))
        except ValueError as exc:
            raise PermanentError(
                f"GET {path} answered an unusable token: {exc}", service=SERVICE
            ) from None

    def get_collection(self, collection_id: str) -> dict[str, Any]:
        return self._object(f"{STAC_API_PATH}/collections/{quote(collection_id, safe='')}")

    def get_collection_sas_token(self, collection_id: str) -> SasToken:
        return self._token(f"/api/sas/v1/token/{quote(collection_id, safe='')}")

    def get_container_sas_token(self, account: str, container: str) -> SasToken:
        return self._token(
            f"/api/sas/v1/token/{quote(account, safe='')}/{quote(container, safe='')}"
        )

    def get_mosaic_info(self, collection_id: str) -> dict[str, Any]:
        """`/api/data/v1/mosaic/info`: mosaics, render options, default location (NotFoundError)."""
        return self._object("/api/data/v1/mosaic/info", params={"collection": collection_id})


__all__ = ["SERVICE", "STAC_API_PATH", "PlanetaryComputer"]
