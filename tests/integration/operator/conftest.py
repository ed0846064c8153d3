"""The operator's seat on the local stack: the job listing, errors by code, the CLI, the pages.

One stack for the package, with function keys enforced (as in Azure), so that every route and page
is proved to need its key. Helpers are the end-to-end package's (`E2E`), over an HTTP client that
sends the function key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from local.emulator.planetary_computer import PlanetaryComputerConfig
from local.host.auth import FUNCTION_KEY_SETTING, MASTER_KEY_SETTING
from local.stack import LocalStack, StackConfig
from tests.integration.e2e.conftest import (
    E2E,
    GEOCATALOG_CONFIG,
    JOB_TIMEOUT,
    PC_SWITCHES,
    SETTINGS_OVERRIDES,
)

pytestmark = pytest.mark.integration

FUNCTION_KEY = "operator-function-key"
MASTER_KEY = "operator-master-key"


@pytest.fixture(scope="package")
def op() -> Iterator[E2E]:
    stack = LocalStack(
        StackConfig(
            geocatalog=GEOCATALOG_CONFIG,
            planetary_computer=PlanetaryComputerConfig(),
            strict_auth=True,
            settings_overrides={
                **SETTINGS_OVERRIDES,
                FUNCTION_KEY_SETTING: FUNCTION_KEY,
                MASTER_KEY_SETTING: MASTER_KEY,
            },
        )
    ).start()
    try:
        with httpx.Client(timeout=60, headers={"x-functions-key": FUNCTION_KEY}) as http:
            yield E2E(stack, http)
    finally:
        stack.stop()


@pytest.fixture(autouse=True)
def _restore_emulators(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test that used the stack leaves it as configured, with a quiet host."""
    yield
    if "op" not in request.fixturenames:
        return
    op: E2E = request.getfixturevalue("op")
    op.geocatalog.emulator.faults.clear()
    switches = GEOCATALOG_CONFIG.to_dict()
    del switches["seed"]
    op.geocatalog.configure(**switches)
    op.pc.set_switches(**PC_SWITCHES)
    op.host.drain(timeout=JOB_TIMEOUT)


@pytest.fixture
def collection_id() -> str:
    return f"op-{uuid.uuid4().hex[:12]}"
