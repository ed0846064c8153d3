"""python -m local.emulator planetary-computer [options]: serve the emulator in the foreground."""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from local.emulator.planetary_computer.app import create_app
from local.emulator.planetary_computer.config import (
    DEFAULT_FIXTURES_DIR,
    DEFAULT_PORT,
    PlanetaryComputerConfig,
)
from local.server import serve_foreground


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.emulator planetary-computer",
        description="Emulate the public Planetary Computer STAC, SAS and mosaic-info APIs "
        "over recorded real responses.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--public-base-url",
        default=None,
        help="base of the links the emulator writes (default: the host each request came in on)",
    )
    parser.add_argument("--fixtures-dir", type=Path, default=DEFAULT_FIXTURES_DIR)
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay added to every /api/ call"
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=None,
        metavar="N",
        help="requests per second and client IP before 429 (default: no limit)",
    )
    parser.add_argument("--sas-lifetime-minutes", type=float, default=45.0)
    parser.add_argument(
        "--sas-expired", action="store_true", help="hand out SAS tokens that have already expired"
    )
    parser.add_argument(
        "--sas-signing-key", default=None, help="HMAC key of the SAS signatures (development only)"
    )
    parser.add_argument(
        "--mosaic-info-nulls",
        choices=("keep", "omit"),
        default="keep",
        help="keep unset mosaic-info fields as null (as the live service) or omit them",
    )
    parser.add_argument(
        "--no-mirror-public-assets",
        action="store_true",
        help="leave collection thumbnails pointing at the real public-assets host",
    )
    parser.add_argument("--log-level", default="info")
    return parser


def config_from_args(args: argparse.Namespace) -> PlanetaryComputerConfig:
    if args.latency_ms < 0 or args.sas_lifetime_minutes < 0:
        raise SystemExit("--latency-ms and --sas-lifetime-minutes must not be negative")
    if args.rate_limit is not None and args.rate_limit < 1:
        raise SystemExit("--rate-limit must be at least 1")
    config = PlanetaryComputerConfig(
        fixtures_dir=args.fixtures_dir,
        public_base_url=args.public_base_url,
        latency_seconds=args.latency_ms / 1000.0,
        rate_limit_per_second=args.rate_limit,
        sas_lifetime=timedelta(minutes=args.sas_lifetime_minutes),
        sas_expired=args.sas_expired,
        mosaic_info_nulls=args.mosaic_info_nulls,
        mirror_public_assets=not args.no_mirror_public_assets,
    )
    if args.sas_signing_key:
        config = replace(config, sas_signing_key=args.sas_signing_key.encode("utf-8"))
    return config


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    serve_foreground(create_app(config), host=args.host, port=args.port, log_level=args.log_level)
    return 0
