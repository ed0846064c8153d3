"""A server of the local stack run as a child process (its own interpreter, its own GIL).

Benchmarks use it so that a part's CPU (the GeoCatalog emulator parses and validates every posted
item) is not charged to the app, which the in-process stack runs in the same interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from local.ports import free_port, wait_for_port

REPO_ROOT = Path(__file__).resolve().parent.parent


class ServerProcess:
    """`python <args> --port P` on a free loopback port, until stop()."""

    def __init__(
        self, args: Sequence[str], *, what: str, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.what = what
        self.host = host
        self.port = port or free_port(host)
        self._args = [sys.executable, *args, "--host", host, "--port", str(self.port)]
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError(f"{self.what} is not running")
        return self._process.pid

    def start(self, timeout: float = 60.0) -> ServerProcess:
        # Its output goes to this process's stderr: a crash of the child is then visible.
        self._process = subprocess.Popen(
            self._args,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            stdout=subprocess.DEVNULL,
        )
        if not wait_for_port(self.host, self.port, timeout) or self._process.poll() is not None:
            self.stop()
            raise RuntimeError(f"{self.what} did not start on {self.base_url}")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
