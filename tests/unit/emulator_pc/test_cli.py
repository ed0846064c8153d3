"""The CLI turns its flags into the emulator's configuration."""

from __future__ import annotations

from datetime import timedelta

import pytest

from local.emulator.planetary_computer.cli import build_parser, config_from_args


def test_flags_become_config_fields() -> None:
    args = build_parser().parse_args(
        [
            "--port",
            "9999",
            "--latency-ms",
            "250",
            "--rate-limit",
            "5",
            "--sas-lifetime-minutes",
            "2",
            "--sas-expired",
            "--sas-signing-key",
            "abc",
            "--mosaic-info-nulls",
            "omit",
        ]
    )
    config = config_from_args(args)
    assert args.port == 9999
    assert config.latency_seconds == 0.25
    assert config.rate_limit_per_second == 5
    assert config.sas_lifetime == timedelta(minutes=2)
    assert config.sas_expired is True
    assert config.sas_signing_key == b"abc"
    assert config.mosaic_info_nulls == "omit"


def test_defaults_match_the_real_service() -> None:
    config = config_from_args(build_parser().parse_args([]))
    assert config.sas_lifetime == timedelta(minutes=45)
    assert config.rate_limit_per_second is None
    assert build_parser().parse_args([]).port == 8701


def test_a_zero_rate_limit_is_refused() -> None:
    with pytest.raises(SystemExit):
        config_from_args(build_parser().parse_args(["--rate-limit", "0"]))
