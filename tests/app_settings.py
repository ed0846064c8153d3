"""The required app settings tests set in the environment when they build the app's settings
from it: the queue names, as the committed local.settings.example.json has them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

import pytest

from shared.settings import QUEUE_SETTINGS

_EXAMPLE = Path(__file__).resolve().parent.parent / "local.settings.example.json"
QUEUE_NAMES: Final[dict[str, str]] = {
    name: json.loads(_EXAMPLE.read_text())["Values"][name] for name in QUEUE_SETTINGS
}


def set_queue_names(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in QUEUE_NAMES.items():
        monkeypatch.setenv(name, value)
