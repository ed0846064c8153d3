"""Switches (constructor, CLI flags, JSON), the budget window and scripted faults."""

from __future__ import annotations

import pytest

from local.emulator.geocatalog.budget import Budget
from local.emulator.geocatalog.cli import build_parser, config_from_args
from local.emulator.geocatalog.config import GeoCatalogConfig
from local.emulator.geocatalog.faults import Faults


def test_defaults_match_the_brief() -> None:
    config = GeoCatalogConfig()
    assert config.budget_per_second == 50
    assert config.operation_duration_seconds == (0.2, 1.0)
    assert config.missing_collection_items == "operation"
    assert config.put_missing_item == "create"
    assert config.managed_storage == "emulator"
    assert config.api_versions == ("2025-04-30-preview", "2026-04-15", "2026-08-01-preview")


def test_cli_flags_map_to_config_fields() -> None:
    args = build_parser().parse_args(
        [
            "--port",
            "8799",
            "--budget-per-second",
            "0",
            "--operation-duration-seconds",
            "0",
            "0.5",
            "--no-throttle-retry-after",
            "--missing-collection-items",
            "404",
            "--seed",
            "3",
            "--fault-503-rate",
            "0.25",
            "--public-url",
            "none",
        ]
    )
    config = config_from_args(args)
    assert args.port == 8799
    assert config.budget_per_second == 0
    assert config.operation_duration_seconds == (0.0, 0.5)
    assert config.throttle_retry_after is False
    assert config.missing_collection_items == "404"
    assert config.seed == 3
    assert config.fault_503_rate == 0.25
    assert config.public_url is None


def test_invalid_values_are_refused() -> None:
    with pytest.raises(ValueError, match="operation_duration_seconds"):
        GeoCatalogConfig(operation_duration_seconds=(2.0, 1.0))
    with pytest.raises(ValueError, match="fault_500_rate"):
        GeoCatalogConfig().updated({"fault_500_rate": 1.5})
    with pytest.raises(ValueError, match="must be one of"):
        GeoCatalogConfig().updated({"managed_storage": "s3"})
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--managed-storage", "s3"])


def test_budget_is_a_sliding_one_second_window() -> None:
    budget = Budget()
    assert budget.try_acquire(100.0, 2) is None
    assert budget.try_acquire(100.4, 2) is None
    wait = budget.try_acquire(100.5, 2)
    assert wait == pytest.approx(0.5)
    assert budget.try_acquire(100.99, 2) == pytest.approx(0.01)
    assert budget.try_acquire(101.0, 2) is None  # the call of 100.0 has left the window
    assert budget.try_acquire(101.01, 2) == pytest.approx(0.39)  # 100.4 leaves at 101.4
    assert budget.try_acquire(101.02, 0) is None  # 0 = unlimited


def test_scripted_fault_validation_and_matching() -> None:
    faults = Faults()
    for bad in ({"status": 200}, {"status": 503, "count": 0}, {"status": 503, "phase": "during"}):
        with pytest.raises(ValueError, match=r"."):
            faults.script(bad)
    faults.script(
        {"status": 429, "count": 1, "method": "GET", "route": "/inma/operations/{operationId}"}
    )
    assert (
        faults.take_scripted("POST", "/inma/operations/{operationId}", "/inma/operations/x") is None
    )
    fault = faults.take_scripted("GET", "/inma/operations/{operationId}", "/inma/operations/x")
    assert fault is not None
    assert fault.status == 429
    assert (
        faults.take_scripted("GET", "/inma/operations/{operationId}", "/inma/operations/x") is None
    )
