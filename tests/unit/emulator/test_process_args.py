"""The flags GeoCatalogProcess passes to the emulator's CLI give back the config it was given."""

from __future__ import annotations

from local.emulator.geocatalog.cli import build_parser, config_from_args
from local.emulator.geocatalog.config import GeoCatalogConfig
from local.emulator.geocatalog.process import cli_args


def _round_trip(config: GeoCatalogConfig) -> GeoCatalogConfig:
    return config_from_args(build_parser().parse_args(cli_args(config)))


def test_defaults_need_no_flags() -> None:
    assert cli_args(GeoCatalogConfig()) == []


def test_every_kind_of_field_survives_the_command_line() -> None:
    config = GeoCatalogConfig(
        seed=1,
        budget_per_second=50.0,
        latency_seconds=0.08,
        operation_duration_seconds=(1.0, 5.0),
        throttle_retry_after=False,
        reject_storage_fields=True,
        managed_storage="blob",
        api_versions=("2026-04-15",),
        max_items_per_request=7,
        throttle_retry_after_seconds=2.0,
    )
    assert _round_trip(config) == config


def test_secrets_stay_off_the_command_line() -> None:
    config = GeoCatalogConfig(auth_token="a-bench-token", sas_secret="a-signing-secret")
    args = cli_args(config)
    assert "a-bench-token" not in args
    assert "a-signing-secret" not in args
    assert _round_trip(config) == GeoCatalogConfig()
