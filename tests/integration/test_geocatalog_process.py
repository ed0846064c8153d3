"""The GeoCatalog emulator in its own process, as benchmarks run it: started with its CLI, reached
over HTTP only, and stopped with nothing left behind."""

from __future__ import annotations

import os

import httpx
import pytest

from local.emulator.geocatalog.config import GeoCatalogConfig
from local.emulator.geocatalog.process import GeoCatalogProcess

API = {"api-version": "2026-04-15"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_process_serves_its_config_and_counts_calls_over_http() -> None:
    config = GeoCatalogConfig(seed=3, budget_per_second=7, auth_token="bench-token")
    with GeoCatalogProcess(config) as emulator:
        assert emulator.pid != os.getpid()
        served = httpx.get(f"{emulator.base_url}/_emulator/config").json()
        assert served["budget_per_second"] == 7
        assert served["seed"] == 3
        # The token went over the control route, not the command line, and is enforced.
        with httpx.Client(base_url=emulator.base_url, params=API) as http:
            refused = http.get("/stac/collections", headers={"Authorization": "Bearer other"})
            accepted = http.get(
                "/stac/collections", headers={"Authorization": "Bearer bench-token"}
            )
        assert refused.status_code == 401
        assert accepted.status_code == 200
        stats = emulator.stats()
        assert sum(stats["routes"]["GET /stac/collections"].values()) == 2
        emulator.configure(budget_per_second=9)
        assert httpx.get(f"{emulator.base_url}/_emulator/config").json()["budget_per_second"] == 9
        pid = emulator.pid
    assert not _alive(pid)
    with pytest.raises(RuntimeError):
        emulator.stats()


def test_a_stack_can_run_the_emulator_out_of_process() -> None:
    from local.stack import LocalStack, StackConfig

    config = StackConfig(geocatalog=GeoCatalogConfig(seed=1), geocatalog_process=True)
    with LocalStack(config) as stack:
        assert stack.geocatalog is None
        emulator = stack.geocatalog_api
        assert isinstance(emulator, GeoCatalogProcess)
        before = emulator.stats()["dataPlane"]
        health = httpx.get(f"{stack.base_url}/api/health", timeout=60)
        assert health.status_code == 200
        assert emulator.base_url in health.text
        # The app creates a collection in the process, over HTTP.
        assert stack.planetary_computer is not None
        template = f"{stack.planetary_computer.base_url}/api/stac/v1/collections/sentinel-2-l2a"
        created = httpx.post(
            f"{stack.base_url}/api/collections",
            json={"id": "out-of-process", "templateUrl": template},
            timeout=120,
        )
        assert created.status_code in (200, 201), created.text
        held = httpx.get(
            f"{emulator.base_url}/stac/collections/out-of-process",
            params=API,
            headers={"Authorization": "Bearer test"},
        )
        assert held.status_code == 200
        assert emulator.stats()["dataPlane"] > before
        pid = emulator.pid
    assert not _alive(pid)
