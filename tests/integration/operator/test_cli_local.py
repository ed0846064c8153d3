"""Every CLI command against the local stack (real HTTP, function keys enforced), and the
progress display on real jobs: the counts reach the end, the exit code says how the job ended."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from cli import app as cli_app
from tests.integration.e2e.conftest import (
    DEMO_SEARCH,
    E2E,
    ITEMS_ROUTE,
    MAX_DEQUEUE_COUNT,
    naip_items,
)
from tests.integration.operator.conftest import FUNCTION_KEY

LINE = re.compile(r"^(\w+)\s+(\d+)/(\d+) \| ")


def cli(op: E2E, *args: str, key: str = FUNCTION_KEY) -> Any:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        cli_app.app, ["--url", op.stack.base_url, "--key", key, *args]
    )
    assert key not in result.output
    return result


def progress_lines(output: str) -> list[tuple[str, int, int]]:
    return [
        (m.group(1), int(m.group(2)), int(m.group(3)))
        for m in map(LINE.match, output.splitlines())
        if m
    ]


def private_item() -> dict[str, Any]:
    [item] = naip_items(1)
    item["id"] = "private-asset-item"
    item["assets"] = {
        "image": {
            "href": "https://someoneelse.blob.core.windows.net/private/x.tif",
            "type": "image/tiff; application=geotiff",
            "roles": ["data"],
        }
    }
    return item


def test_stac_search_wait_follows_a_real_job_to_the_end(op: E2E, collection_id: str) -> None:
    result = cli(
        op,
        "stac-search",
        "-c",
        collection_id,
        "--stac-url",
        op.pc.stac_url,
        "-s",
        "sentinel-2-l2a",
        "--bbox",
        ",".join(str(v) for v in DEMO_SEARCH["bbox"]),
        "--datetime",
        DEMO_SEARCH["datetime"],
        "--create-collection",
        f"{op.pc.stac_url}/collections/sentinel-2-l2a",
        "--wait",
    )
    assert result.exit_code == 0, result.output
    lines = progress_lines(result.output)
    assert lines, result.output
    finished = [done for _, done, _ in lines]
    assert finished == sorted(finished)
    assert lines[-1] == ("succeeded", 8, 8)
    job_id = re.search(r"job ([0-9a-f]{32}) accepted", result.output)
    assert job_id is not None
    assert op.job(job_id.group(1))["counts"]["succeeded"] == 8


def test_watch_exit_codes_partial_failure_and_unknown_job(op: E2E, collection_id: str) -> None:
    op.create_collection(collection_id)
    job_id = op.submit(
        {
            "collection": collection_id,
            "source": {"type": "items", "items": [*naip_items(2), private_item()]},
        }
    )
    result = cli(op, "watch", job_id, "--interval", "0.2")
    assert result.exit_code == 1, result.output
    assert progress_lines(result.output)[-1] == ("partially_succeeded", 3, 3)
    assert "IngestionResourceForbidden" in result.output

    unknown = cli(op, "watch", uuid.uuid4().hex)
    assert unknown.exit_code == 3
    assert "404" in unknown.output
    assert "field jobId" in unknown.output

    # The same job read back by the other commands.
    shown = cli(op, "show", job_id, "--json")
    assert json.loads(shown.stdout)["state"] == "partially_succeeded"
    failed = json.loads(cli(op, "items", job_id, "--state", "failed", "--json").stdout)
    assert [i["itemId"] for i in failed["items"]] == ["private-asset-item"]
    table = cli(op, "items", job_id, "--state", "failed")
    assert "private-asset-item" in table.output
    errors = cli(op, "errors", job_id)
    assert errors.exit_code == 0
    assert "1 items in error, by cause" in errors.output
    assert "IngestionResourceForbidden" in errors.output
    assert json.loads(cli(op, "errors", job_id, "--json").stdout)["total"] == 1
    listed = json.loads(cli(op, "jobs", "--collection", collection_id, "--json").stdout)
    assert [j["jobId"] for j in listed["jobs"]] == [job_id]
    assert job_id in cli(op, "jobs", "--collection", collection_id).output


def test_retry_wait_redrives_a_dead_lettered_item(op: E2E, collection_id: str) -> None:
    op.create_collection(collection_id)
    op.geocatalog.fault(status=503, count=MAX_DEQUEUE_COUNT, method="POST", route=ITEMS_ROUTE)
    job_id = op.submit(
        {"collection": collection_id, "source": {"type": "items", "items": naip_items(1)}}
    )
    first = cli(op, "watch", job_id, "--interval", "0.2")
    assert first.exit_code == 1
    assert progress_lines(first.output)[-1] == ("failed", 1, 1)

    again = cli(op, "retry", job_id, "--wait")
    assert again.exit_code == 0, again.output
    assert "retrying: " in again.output
    assert progress_lines(again.output)[-1] == ("succeeded", 1, 1)
    nothing = cli(op, "retry", job_id)
    assert "nothing to retry" in nothing.output


def test_cancel_a_running_job(op: E2E, collection_id: str) -> None:
    op.create_collection(collection_id)
    op.geocatalog.configure(operation_duration_seconds=(20.0, 30.0))
    job_id = op.submit(
        {"collection": collection_id, "source": {"type": "items", "items": naip_items(10)}}
    )
    op.wait_for("items submitted", lambda: op.job(job_id)["counts"]["submitted"] >= 2)
    result = cli(op, "cancel", job_id, "--wait")
    assert result.exit_code == 1, result.output
    assert "cancel requested" in result.output
    assert progress_lines(result.output)[-1][0] == "canceled"
    refused = cli(op, "cancel", job_id)
    assert refused.exit_code == 3
    assert "409" in refused.output


def test_submit_a_file_and_the_static_catalog_shortcut(
    op: E2E, collection_id: str, tmp_path: Path
) -> None:
    op.create_collection(collection_id)
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps(
            {"collection": collection_id, "source": {"type": "items", "items": naip_items(2)}}
        )
    )
    submitted = cli(op, "submit", str(request), "--wait")
    assert submitted.exit_code == 0, submitted.output
    assert progress_lines(submitted.output)[-1] == ("succeeded", 2, 2)

    catalog = f"{op.pc.base_url}/static/mpcpro-sample-naip-sea/catalog.json"
    walked = cli(op, "static-catalog", catalog, "-c", collection_id, "--max-items", "3", "--json")
    assert walked.exit_code == 0, walked.output
    job_id = json.loads(walked.stdout)["jobId"]
    assert cli(op, "watch", job_id, "--interval", "0.2").exit_code == 0

    refused = cli(op, "submit", str(request).replace("request", "missing"))
    assert refused.exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"collection": collection_id, "source": {"type": "nope"}}))
    problem = cli(op, "submit", str(bad))
    assert problem.exit_code == 3
    assert "400" in problem.output
    assert "field source.type" in problem.output


def test_collections_create(op: E2E) -> None:
    collection_id = f"op-col-{uuid.uuid4().hex[:8]}"
    template = f"{op.pc.stac_url}/collections/sentinel-2-l2a"
    created = cli(op, "collections", "create", collection_id, "--template", template)
    assert created.exit_code == 0, created.output
    assert f"collection {collection_id} created" in created.output
    again = cli(op, "collections", "create", collection_id, "--template", template, "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["created"] is False


def test_a_wrong_key_and_a_stopped_app(op: E2E) -> None:
    refused = cli(op, "jobs", key="not-the-key")
    assert refused.exit_code == 3
    assert "401 Unauthorized" in refused.output
    down = CliRunner().invoke(cli_app.app, ["--url", "http://127.0.0.1:9", "jobs"])
    assert down.exit_code == 4
    assert "cannot reach the app" in down.output


def test_the_installed_console_script(op: E2E, collection_id: str) -> None:
    script = Path(sys.executable).parent / "geocatalog-ingest"
    assert script.exists(), "`make install` installs the project's console script"
    op.create_collection(collection_id)
    job_id = op.submit(
        {"collection": collection_id, "source": {"type": "items", "items": naip_items(1)}}
    )
    env = {
        **os.environ,
        "GEOCATALOG_INGEST_URL": op.stack.base_url,
        "GEOCATALOG_INGEST_KEY": FUNCTION_KEY,
    }
    done = subprocess.run(
        [str(script), "watch", job_id, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["state"] == "succeeded"
    assert FUNCTION_KEY not in done.stdout + done.stderr
