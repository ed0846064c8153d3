"""The recorded fixtures, loaded once for the emulator's unit tests."""

from __future__ import annotations

import pytest

from local.emulator.planetary_computer.config import DEFAULT_FIXTURES_DIR
from local.emulator.planetary_computer.data import FixtureData, load_fixtures


@pytest.fixture(scope="session")
def data() -> FixtureData:
    return load_fixtures(DEFAULT_FIXTURES_DIR)
