"""Read the recorded responses the emulator serves, to compare its answers with them."""

from __future__ import annotations

import json
from typing import Any

from local.emulator.planetary_computer.config import DEFAULT_FIXTURES_DIR

PC_DIR = DEFAULT_FIXTURES_DIR / "planetary-computer"


def recorded(*parts: str) -> Any:
    with PC_DIR.joinpath(*parts).open() as handle:
        return json.load(handle)


def recorded_ids(*parts: str) -> list[str]:
    return [f["id"] for f in recorded(*parts)["features"]]
