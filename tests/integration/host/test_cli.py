"""`python -m local.host` as a process: settings file, port, start-up inventory, Ctrl+C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from local.azurite import Azurite
from local.ports import free_port, wait_for_port
from tests.integration.host.conftest import ALL_FUNCTIONS, FAST_HOST_JSON, SAMPLE_APP

REPO = Path(__file__).resolve().parents[3]


def test_cli_serves_the_app_and_stops_cleanly_on_sigint(
    azurite: Azurite, tmp_path: Path, names: dict[str, str]
) -> None:
    (tmp_path / "host.json").write_text(json.dumps(FAST_HOST_JSON))
    enabled = {"greet", "flaky"}
    values = {
        "AzureWebJobsStorage": azurite.connection_string,
        **names,
        **{f"AzureWebJobs.{n}.Disabled": "true" for n in ALL_FUNCTIONS if n not in enabled},
    }
    settings = tmp_path / "local.settings.json"
    port = free_port()
    settings.write_text(json.dumps({"Values": values, "Host": {"LocalHttpPort": port}}))
    env = {k: v for k, v in os.environ.items() if k not in values}
    process = subprocess.Popen(
        [sys.executable, "-m", "local.host", "--app", SAMPLE_APP, "--project-dir", str(tmp_path)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # No --port: the port comes from Host.LocalHttpPort, as with func start.
        assert wait_for_port("127.0.0.1", port, 30), process.stderr and process.stderr.read()
        response = httpx.get(f"http://127.0.0.1:{port}/api/greet/cli", timeout=30)
        assert response.status_code == 200
        assert response.json()["name"] == "cli"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert f"listening on http://127.0.0.1:{port}" in out
    assert "greet: [GET]" in out
    assert f"flaky: queueTrigger {names['FLAKY_QUEUE']}" in out
    assert "Executed 'Functions.greet' (Succeeded" in err
