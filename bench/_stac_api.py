"""A STAC API whose search returns any number of real Sentinel-2 L2A items: the `stac-search`
source of the benchmarks, for jobs larger than the Planetary Computer emulator's 290 recorded items.

The items are the recorded 250-item search page in turn, ids made unique past the first round
(`bench._common.sentinel2_item`), built page by page when asked for, so 100,000 of them cost no
memory. The search is POST only, paged by `token` (`next:<offset>`) in the next link's body, as the
Planetary Computer pages a POST search. Filters are accepted and ignored: it serves one collection.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench._common import SENTINEL2_PAGE, fixture_features, sentinel2_item
from local.process import ServerProcess
from local.server import ThreadedServer

CONFORMS_TO = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/item-search",
]
MAX_LIMIT = 1000


class GeneratedStacApi:
    """`count` Sentinel-2 L2A items behind a STAC API search, served from a background thread."""

    def __init__(self, count: int, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.count = count
        self._features = fixture_features(SENTINEL2_PAGE)
        self.searches = 0
        app = Starlette(
            routes=[
                Route("/", self._landing, methods=["GET"]),
                Route("/conformance", self._conformance, methods=["GET"]),
                Route("/search", self._search, methods=["POST"]),
            ]
        )
        self._server = ThreadedServer(app, host=host, port=port)

    @property
    def url(self) -> str:
        """The landing page: what a `stac-search` source's `url` names."""
        return f"{self._server.base_url}/"

    def start(self) -> GeneratedStacApi:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> GeneratedStacApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _landing(self, request: Request) -> JSONResponse:
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "type": "Catalog",
                "id": "bench-sentinel-2",
                "stac_version": "1.0.0",
                "description": "Recorded Sentinel-2 L2A items, made unique per id",
                "conformsTo": CONFORMS_TO,
                "links": [
                    {"rel": "self", "href": f"{base}/", "type": "application/json"},
                    {"rel": "root", "href": f"{base}/", "type": "application/json"},
                    {"rel": "conformance", "href": f"{base}/conformance"},
                    {
                        "rel": "search",
                        "href": f"{base}/search",
                        "type": "application/geo+json",
                        "method": "POST",
                    },
                ],
            }
        )

    async def _conformance(self, request: Request) -> JSONResponse:
        return JSONResponse({"conformsTo": CONFORMS_TO})

    async def _search(self, request: Request) -> JSONResponse:
        body: dict[str, Any] = await request.json()
        limit = min(int(body.get("limit") or 10), MAX_LIMIT)
        token = str(body.get("token") or "next:0")
        start = int(token.removeprefix("next:"))
        end = min(start + limit, self.count)
        self.searches += 1
        features = [sentinel2_item(self._features, n) for n in range(start, end)]
        links = []
        if end < self.count:
            links.append(
                {
                    "rel": "next",
                    "href": f"{str(request.base_url).rstrip('/')}/search",
                    "type": "application/geo+json",
                    "method": "POST",
                    "body": {**body, "token": f"next:{end}"},
                }
            )
        return JSONResponse({"type": "FeatureCollection", "features": features, "links": links})


class StacApiProcess:
    """The same STAC API in its own process (`python -m bench._stac_api`), so that building
    100,000 items' JSON is not charged to the process that runs the app."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._server = ServerProcess(
            ["-m", "bench._stac_api", str(count)], what="the bench STAC API process"
        )

    @property
    def url(self) -> str:
        return f"{self._server.base_url}/"

    @property
    def pid(self) -> int:
        return self._server.pid

    def start(self) -> StacApiProcess:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> StacApiProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench._stac_api", description="Serve the bench STAC API until SIGTERM."
    )
    parser.add_argument("count", type=int, help="items the search returns in all")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    with GeneratedStacApi(args.count, host=args.host, port=args.port) as api:
        print(f"bench STAC API on {api.url} ({args.count} items)", flush=True)
        done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
