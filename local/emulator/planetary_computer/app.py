"""The Planetary Computer emulator: app factory and an in-process runner for tests and the demo."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from local.emulator.planetary_computer import public_assets, sas_api, stac_api
from local.emulator.planetary_computer.config import (
    PlanetaryComputerConfig,
    SwitchBoard,
    Switches,
)
from local.emulator.planetary_computer.context import STAC_PATH, EmulatorContext, context_of
from local.emulator.planetary_computer.data import load_fixtures
from local.emulator.planetary_computer.middleware import CallStats, ServiceBehaviour
from local.emulator.planetary_computer.sas import SasSigner
from local.emulator.planetary_computer.static_files import STATIC_PREFIX, make_static_endpoint
from local.server import ThreadedServer

logger = logging.getLogger(__name__)


async def _stats(request: Request) -> Response:
    return JSONResponse(context_of(request).stats.snapshot())


async def _reset_stats(request: Request) -> Response:
    context_of(request).stats.reset()
    return Response(status_code=204)


async def _get_switches(request: Request) -> Response:
    return JSONResponse(context_of(request).switches.current.to_json())


async def _patch_switches(request: Request) -> Response:
    ctx = context_of(request)
    try:
        body = json.loads(await request.body())
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        current = ctx.switches.update_from_json(body)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        return JSONResponse({"detail": str(exc)}, status_code=400)
    return JSONResponse(current.to_json())


async def _http_error(request: Request, exc: Exception) -> Response:
    # FastAPI's shape for unrouted paths and wrong methods, as the real service answers them.
    if not isinstance(exc, HTTPException):
        raise exc
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def create_app(config: PlanetaryComputerConfig | None = None) -> Starlette:
    config = config or PlanetaryComputerConfig()
    data = load_fixtures(config.fixtures_dir)
    context = EmulatorContext(
        config=config,
        data=data,
        switches=SwitchBoard(Switches.from_config(config)),
        signer=SasSigner(config.sas_signing_key),
        stats=CallStats(),
    )
    routes: list[BaseRoute] = [
        *stac_api.routes(),
        *sas_api.routes(),
        *public_assets.routes(),
        Route(
            f"{STATIC_PREFIX}/{{path:path}}",
            make_static_endpoint(data.static_catalogs_dir),
            methods=["GET"],
        ),
        Route("/_emulator/stats", _stats, methods=["GET"]),
        Route("/_emulator/stats", _reset_stats, methods=["DELETE"]),
        Route("/_emulator/switches", _get_switches, methods=["GET"]),
        Route("/_emulator/switches", _patch_switches, methods=["PATCH"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                ServiceBehaviour, switches=context.switches, stats=context.stats, routes=routes
            )
        ],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.pc = context
    logger.info(
        "Planetary Computer emulator: %d collections, %d items",
        len(data.collections),
        len(data.by_id),
    )
    return app


@dataclass
class RunningEmulator:
    server: ThreadedServer
    app: Starlette

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def stac_url(self) -> str:
        return self.base_url + STAC_PATH

    @property
    def context(self) -> EmulatorContext:
        ctx: EmulatorContext = self.app.state.pc
        return ctx

    def set_switches(self, **changes: Any) -> Switches:
        """Flip switches of the running emulator (fields of `Switches`)."""
        return self.context.switches.update(**changes)

    def stats(self) -> dict[str, Any]:
        return self.context.stats.snapshot()

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_planetary_computer_emulator(
    config: PlanetaryComputerConfig | None = None, port: int = 0, host: str = "127.0.0.1"
) -> RunningEmulator:
    """Serve the emulator from a background thread on loopback; port 0 picks a free port."""
    app = create_app(config)
    server = ThreadedServer(app, host=host, port=port).start()
    return RunningEmulator(server=server, app=app)
