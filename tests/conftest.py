"""Fixtures shared by every test tier."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from local.azurite import Azurite, start_azurite


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """A real Azurite on free loopback ports for the whole session; tests use unique names.

    If Azurite is not installed this errors (never skips): `make test` installs it.
    """
    instance = start_azurite()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def unique_name() -> str:
    """A fresh lowercase name valid for queues, tables (letters/digits) and containers."""
    return "t" + uuid.uuid4().hex[:16]
