"""The GeoCatalog emulator in its own process, started with its CLI and reached over HTTP only,
as the app reaches the real service: what benchmarks use (`StackConfig(geocatalog_process=True)`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

from local.emulator.geocatalog.config import GeoCatalogConfig
from local.process import ServerProcess

# Secrets are set over the control route once it runs: a command line is visible to every user.
SECRET_FIELDS = frozenset({"auth_token", "sas_secret"})


def cli_args(config: GeoCatalogConfig) -> list[str]:
    """The emulator CLI's flags that give `config` (the non-secret fields that differ from the
    defaults)."""
    default = GeoCatalogConfig()
    args: list[str] = []
    for config_field in dataclasses.fields(GeoCatalogConfig):
        value = getattr(config, config_field.name)
        if config_field.name in SECRET_FIELDS or value == getattr(default, config_field.name):
            continue
        flag = "--" + config_field.name.replace("_", "-")
        if isinstance(value, bool):
            args.append(flag if value else "--no-" + flag[2:])
        elif value is None:
            args += [flag, "none"]
        elif isinstance(value, tuple):
            args += [flag, *(str(v) for v in value)]
        else:
            args += [flag, str(value)]
    return args


class GeoCatalogProcess:
    """`python -m local.emulator geocatalog` as a child process, with RunningEmulator's HTTP-able
    methods (stats, configure, fault, reset) going through its `/_emulator` control routes."""

    def __init__(self, config: GeoCatalogConfig, port: int = 0) -> None:
        self.config = config
        self._server = ServerProcess(
            ["-m", "local.emulator", "geocatalog", *cli_args(config)],
            what="the GeoCatalog emulator process",
            port=port,
        )
        self._http: httpx.Client | None = None

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def pid(self) -> int:
        return self._server.pid

    def start(self) -> GeoCatalogProcess:
        self._server.start()
        self._http = httpx.Client(base_url=self.base_url, timeout=120)
        secrets = {
            name: getattr(self.config, name)
            for name in SECRET_FIELDS
            if getattr(self.config, name) is not None
        }
        if secrets:
            self.configure(**secrets)
        return self

    def _control(self) -> httpx.Client:
        if self._http is None:
            raise RuntimeError("the GeoCatalog emulator process is not running")
        return self._http

    def stats(self) -> dict[str, Any]:
        """GET /_emulator/stats (calls by route and status, and the emulator's state)."""
        response = self._control().get("/_emulator/stats")
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats

    def configure(self, **changes: Any) -> dict[str, Any]:
        response = self._control().patch("/_emulator/config", json=changes)
        response.raise_for_status()
        config: dict[str, Any] = response.json()
        return config

    def fault(self, **spec: Any) -> None:
        self._control().post("/_emulator/faults", json=spec).raise_for_status()

    def reset(self) -> None:
        self._control().post("/_emulator/reset").raise_for_status()

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        self._server.stop()

    def __enter__(self) -> GeoCatalogProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
