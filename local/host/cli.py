"""`python -m local.host`: run the function app on this machine, like `func start`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from local.host.host import DEFAULT_PORT, HostStartError, LocalHost


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.host",
        description="Run a v2-model Azure Functions app locally (HTTP, queue, timer, Event Grid).",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"HTTP port (default: Host.LocalHttpPort of the settings file, else {DEFAULT_PORT})",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    parser.add_argument("--app", default="function_app", help="module that defines the app")
    parser.add_argument(
        "--project-dir", default=".", type=Path, help="folder with host.json (default: .)"
    )
    parser.add_argument(
        "--settings",
        type=Path,
        default=None,
        help="settings file (default: local.settings.json, else local.settings.example.json)",
    )
    parser.add_argument(
        "--strict-auth",
        action="store_true",
        help="check function keys (FUNCTIONS_LOCAL_FUNCTION_KEY / FUNCTIONS_LOCAL_MASTER_KEY)",
    )
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    return parser.parse_args(argv)


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # The SDKs log every request at INFO, with URLs; that drowns the invocation log.
    logging.getLogger("azure").setLevel(logging.WARNING)
    logging.getLogger("uvicorn").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(args.verbose)
    host = LocalHost(
        args.project_dir,
        app_module=args.app,
        settings_path=args.settings,
        http_host=args.host,
        http_port=args.port,
        strict_auth=args.strict_auth,
        # Like the real host: a function in error is reported, the others still run.
        fail_on_function_errors=False,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        host.start()
    except HostStartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(host.describe(), flush=True)
    try:
        stop.wait()
    finally:
        print("Stopping the host (waiting for running functions)...", file=sys.stderr, flush=True)
        host.stop()
    return 0
