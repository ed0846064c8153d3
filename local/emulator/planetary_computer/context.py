"""What every route needs: the loaded fixtures, the settings, the switches, the SAS signer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from local.emulator.planetary_computer.config import PlanetaryComputerConfig, SwitchBoard
from local.emulator.planetary_computer.data import PC_STAC_ROOT, FixtureData
from local.emulator.planetary_computer.middleware import CallStats
from local.emulator.planetary_computer.sas import SasSigner

STAC_PATH = "/api/stac/v1"


@dataclass(frozen=True)
class EmulatorContext:
    config: PlanetaryComputerConfig
    data: FixtureData
    switches: SwitchBoard
    signer: SasSigner
    stats: CallStats

    def base_url(self, request: Request) -> str:
        if self.config.public_base_url:
            return self.config.public_base_url.rstrip("/")
        return f"{request.url.scheme}://{request.url.netloc}"

    def stac_root(self, request: Request) -> str:
        return self.base_url(request) + STAC_PATH


def context_of(request: Request) -> EmulatorContext:
    ctx: EmulatorContext = request.app.state.pc
    return ctx


def rewrite_links(document: Any, stac_root: str) -> Any:
    """A copy with every STAC API URL of the real service moved onto the emulator's root."""
    if isinstance(document, dict):
        return {k: rewrite_links(v, stac_root) for k, v in document.items()}
    if isinstance(document, list):
        return [rewrite_links(v, stac_root) for v in document]
    if isinstance(document, str) and document.startswith(PC_STAC_ROOT):
        return stac_root + document[len(PC_STAC_ROOT) :]
    return document


def rewrite_links_in_text(text: str, stac_root: str) -> str:
    """The same for serialized JSON: only strings that start with the real root are touched."""
    return text.replace(f'"{PC_STAC_ROOT}', f'"{stac_root}')


class RawJSONResponse(Response):
    """A body already serialized (pages are joined from the recorded items' JSON text)."""

    media_type = "application/json"


def json_text(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)
