"""The CLI against a fake API (httpx.MockTransport): requests sent, output, exit codes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner

from cli import app as cli_app
from cli.client import Api
from cli.progress import watch

KEY = "s3cret-function-key"
JOB = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"
STATES = (
    "pending",
    "submitting",
    "submitted",
    "succeeded",
    "failed",
    "skipped",
    "invalid",
    "deadLettered",
    "canceled",
)


def counts(**given: int) -> dict[str, int]:
    values = dict.fromkeys(STATES, 0) | given
    return {"total": sum(values.values()), **values}


def job(state: str, job_id: str = JOB, done: bool = True, **given: int) -> dict[str, Any]:
    return {
        "jobId": job_id,
        "state": state,
        "collection": "naip-demo",
        "mode": "create",
        "dryRun": False,
        "cancelRequested": False,
        "source": {"type": "stac-search", "url": "https://example.test/stac", "collections": ["x"]},
        "dropAssets": [],
        "counts": counts(**given),
        "createdAt": "2026-03-01T08:00:00Z",
        "updatedAt": "2026-03-01T08:00:05Z",
        "completedAt": "2026-03-01T08:00:05Z" if state not in ("running", "planning") else None,
        "planning": {"done": done, "pages": 1},
        "containers": [
            {"containerUrl": "https://a.blob.core.windows.net/c", "ingestionSource": "created"}
        ],
        "errors": [],
        "links": {"self": f"http://app/api/jobs/{job_id}", "items": ""},
    }


def summary(full: dict[str, Any]) -> dict[str, Any]:
    keys = ("jobId", "state", "collection", "mode", "dryRun", "cancelRequested", "counts")
    return {k: full[k] for k in keys} | {
        "sourceType": "stac-search",
        "createdAt": full["createdAt"],
        "updatedAt": full["updatedAt"],
        "completedAt": full["completedAt"],
        "links": {"self": ""},
    }


def problem(status: int, detail: str, field: str | None = None, **extra: Any) -> httpx.Response:
    body: dict[str, Any] = {"type": "x", "title": "Bad", "status": status, "detail": detail}
    if field:
        body["field"] = field
    body.update(extra)
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


@dataclass
class FakeApi:
    """The app's routes the CLI calls, answering from scripted state; records each request."""

    polls: list[dict[str, Any]] = field(default_factory=list)
    listing: list[dict[str, Any]] = field(default_factory=list)
    # What a source gave: an item's id and the GeoCatalog's message, shown as they are.
    item_id: str = "a"
    message: str = "no access"
    requests: list[httpx.Request] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)
    down: bool = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.bodies.append(json.loads(request.content) if request.content else None)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        path, method = request.url.path, request.method
        params = dict(request.url.params)
        if request.headers.get("x-functions-key") not in (None, KEY):
            return httpx.Response(401)
        if path == "/api/jobs" and method == "GET":
            start = int(params.get("cursor") or 0)
            limit = int(params.get("limit") or 20)
            page = self.listing[start : start + limit]
            more = start + limit < len(self.listing)
            return httpx.Response(
                200, json={"jobs": page, "nextCursor": str(start + limit) if more else None}
            )
        if path == "/api/ingest" and method == "POST":
            if "collection" not in (self.bodies[-1] or {}):
                return problem(
                    400,
                    "the request is invalid",
                    "collection",
                    errors=[{"field": "collection", "detail": "is required"}],
                )
            return httpx.Response(
                202, json={"jobId": JOB, "statusUrl": f"http://app/api/jobs/{JOB}"}
            )
        match = re.fullmatch(r"/api/jobs/([^/]+)(/[a-z]+)?", path)
        if match is None:
            return httpx.Response(404)
        job_id, tail = match.group(1), match.group(2) or ""
        if job_id != JOB:
            return problem(404, f"no job {job_id}", "jobId")
        if tail == "" and method == "GET":
            current = self.polls.pop(0) if len(self.polls) > 1 else self.polls[0]
            return httpx.Response(200, json=current)
        if tail == "/items":
            item = {
                "itemId": self.item_id,
                "state": "failed",
                "operationId": "op-1",
                "attempts": 2,
                "updatedAt": None,
                "lastError": {"code": "IngestionResourceForbidden", "message": self.message},
            }
            return httpx.Response(200, json={"jobId": JOB, "items": [item], "nextCursor": None})
        if tail == "/errors":
            groups = [
                {
                    "code": "IngestionResourceForbidden",
                    "count": 3000,
                    "states": {"failed": 3000},
                    "message": self.message,
                    "exampleItemIds": [self.item_id, "b"],
                }
            ]
            return httpx.Response(200, json={"jobId": JOB, "total": 3000, "groups": groups})
        if tail == "/retry":
            body = {"jobId": JOB, "reposted": 3, "rechecked": 0, "planningRedriven": False}
            return httpx.Response(202, json=body | {"statusUrl": ""})
        if tail == "/cancel":
            return httpx.Response(202, json=job("running") | {"cancelRequested": True})
        return httpx.Response(405)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    api = FakeApi(polls=[job("succeeded", succeeded=6)])
    monkeypatch.setattr(cli_app, "TRANSPORT", httpx.MockTransport(api))
    monkeypatch.delenv("GEOCATALOG_INGEST_URL", raising=False)
    monkeypatch.delenv("GEOCATALOG_INGEST_KEY", raising=False)
    return api


def run(*args: str, stdin: str | None = None) -> Any:
    # A wide terminal, so that table cells are not folded across lines.
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        cli_app.app, ["--url", "http://app.test", "--key", KEY, *args], input=stdin
    )
    # The key goes in a header, never to the screen, whatever happened.
    assert KEY not in result.output
    return result


def test_watch_follows_the_job_to_success(fake: FakeApi) -> None:
    fake.polls = [
        job("planning", done=False),
        job("running", pending=4, submitted=2),
        job("running", pending=1, submitted=2, succeeded=3),
        job("succeeded", succeeded=6),
    ]
    result = run("watch", JOB, "--interval", "0")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("planning")
    assert any(re.match(r"running\s+3/6 \| pending 1 posting 2 succeeded 3", x) for x in lines)
    assert any(line.startswith("succeeded           6/6") for line in lines)
    assert f"Job {JOB}: succeeded" in result.output
    sent = fake.requests[0]
    assert sent.headers["x-functions-key"] == KEY
    assert "code" not in sent.url.params
    assert sent.url.path == f"/api/jobs/{JOB}"


@pytest.mark.parametrize("state", ["partially_succeeded", "failed", "canceled"])
def test_watch_exits_1_unless_every_item_succeeded_or_was_skipped(
    fake: FakeApi, state: str
) -> None:
    fake.polls = [job(state, succeeded=4, failed=2)]
    result = run("watch", JOB, "--interval", "0")
    assert result.exit_code == 1


def test_skipped_items_count_as_success(fake: FakeApi) -> None:
    fake.polls = [job("succeeded", succeeded=2, skipped=4)]
    assert run("watch", JOB).exit_code == 0


def test_watch_of_an_unknown_job_says_so_and_exits_3(fake: FakeApi) -> None:
    result = run("watch", OTHER)
    assert result.exit_code == 3
    assert f"404 Bad: no job {OTHER}" in result.output
    assert "field jobId" in result.output


def test_watch_json_prints_the_final_job(fake: FakeApi) -> None:
    fake.polls = [job("running", pending=1, succeeded=1), job("succeeded", succeeded=2)]
    result = CliRunner().invoke(
        cli_app.app, ["--url", "http://app.test", "watch", JOB, "--interval", "0", "--json"]
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["state"] == "succeeded"


def test_the_bar_on_a_terminal_reaches_the_end() -> None:
    polls = [job("running", pending=5, succeeded=1), job("succeeded", succeeded=6)]
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=polls.pop(0)))
    screen = StringIO()
    console = Console(file=screen, force_terminal=True, width=200, color_system=None)
    with Api("http://app.test", transport=transport) as api:
        final = watch(api, JOB, console, interval=0)
    assert final["state"] == "succeeded"
    text = screen.getvalue()
    assert "6/6" in text
    assert "100%" in text
    assert "succeeded 6" in text


def test_jobs_table_follows_pages_to_the_limit(fake: FakeApi) -> None:
    fake.listing = [
        summary(job("succeeded", job_id=f"{n:032x}", succeeded=n)) for n in range(1, 30)
    ]
    result = run("jobs", "--limit", "25", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)["jobs"]
    assert [j["jobId"] for j in listed] == [f"{n:032x}" for n in range(1, 26)]
    table = run("jobs", "--state", "succeeded", "--collection", "naip-demo", "--limit", "3")
    assert table.exit_code == 0
    assert f"{1:032x}" in table.output
    assert "Jobs (newest first)" in table.output
    last = fake.requests[-1].url.params
    assert (last["state"], last["collection"], last["limit"]) == ("succeeded", "naip-demo", "3")


def test_submit_a_request_file_and_a_refusal_names_the_field(fake: FakeApi, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"collection": "c", "source": {"type": "items", "items": []}}))
    result = run("submit", str(good))
    assert result.exit_code == 0
    assert f"job {JOB} accepted" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"source": {}}))
    refused = run("submit", str(bad))
    assert refused.exit_code == 3
    assert "400 Bad: the request is invalid" in refused.output
    assert "field collection: is required" in refused.output
    assert run("submit", str(tmp_path / "missing.json")).exit_code == 2
    (tmp_path / "broken.json").write_text("{")
    assert run("submit", str(tmp_path / "broken.json")).exit_code == 2


def test_submit_from_stdin_and_wait(fake: FakeApi) -> None:
    body = {"collection": "c", "source": {"type": "items", "items": []}}
    fake.polls = [job("running", pending=2), job("partially_succeeded", succeeded=1, failed=1)]
    result = run("submit", "-", "--wait", stdin=json.dumps(body))
    assert result.exit_code == 1
    assert fake.bodies[0] == body
    assert "partially_succeeded" in result.output


def test_stac_search_builds_the_request_from_flags(fake: FakeApi) -> None:
    result = run(
        "stac-search",
        "-c",
        "s2-demo",
        "-s",
        "sentinel-2-l2a",
        "--stac-url",
        "http://pc.test/api/stac/v1",
        "--bbox",
        "8,79.5,16,80.2",
        "--datetime",
        "2024-05-10/2024-05-20",
        "--max-items",
        "6",
        "--create-collection",
        "http://pc.test/api/stac/v1/collections/sentinel-2-l2a",
        "--dry-run",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["jobId"] == JOB
    assert fake.bodies[0] == {
        "collection": "s2-demo",
        "mode": "create",
        "dryRun": True,
        "source": {
            "type": "stac-search",
            "url": "http://pc.test/api/stac/v1",
            "collections": ["sentinel-2-l2a"],
            "bbox": [8.0, 79.5, 16.0, 80.2],
            "datetime": "2024-05-10/2024-05-20",
            "maxItems": 6,
        },
        "createCollection": {
            "templateUrl": "http://pc.test/api/stac/v1/collections/sentinel-2-l2a"
        },
    }
    bad = run("stac-search", "-c", "x", "-s", "y", "--bbox", "1,2,3")
    assert bad.exit_code == 2
    assert "--bbox takes 4 numbers" in bad.output


def test_static_catalog_shortcut(fake: FakeApi) -> None:
    result = run("static-catalog", "http://c.test/catalog.json", "-c", "naip", "--max-items", "3")
    assert result.exit_code == 0
    assert fake.bodies[0]["source"] == {
        "type": "static-catalog",
        "url": "http://c.test/catalog.json",
        "maxItems": 3,
    }


def test_items_errors_show_retry_cancel(fake: FakeApi) -> None:
    items = run("items", JOB, "--state", "failed")
    assert items.exit_code == 0
    assert "IngestionResourceForbidden" in items.output
    assert fake.requests[-1].url.params["state"] == "failed"
    as_json = json.loads(run("items", JOB, "--json").stdout)
    assert as_json["items"][0]["itemId"] == "a"
    errors = run("errors", JOB)
    assert errors.exit_code == 0
    assert "3000 items in error, by cause" in errors.output
    assert "IngestionResourceForbidden" in errors.output
    shown = run("show", JOB)
    assert "ingestion source for https://a.blob.core.windows.net/c: created" in shown.output
    retried = run("retry", JOB)
    assert retried.exit_code == 0
    assert "3 items re-posted" in retried.output
    canceled = run("cancel", JOB, "--json")
    assert json.loads(canceled.stdout)["cancelRequested"] is True


def test_a_wrong_key_and_an_unreachable_app_are_explained(fake: FakeApi) -> None:
    result = CliRunner().invoke(
        cli_app.app, ["--url", "http://app.test", "--key", "wrong-key", "show", JOB]
    )
    assert result.exit_code == 3
    assert "401 Unauthorized" in result.output
    assert "wrong-key" not in result.output
    fake.down = True
    down = run("jobs")
    assert down.exit_code == 4
    assert "cannot reach the app at http://app.test" in down.output


def test_a_url_with_a_key_in_it_is_never_echoed(fake: FakeApi) -> None:
    fake.down = True
    result = CliRunner().invoke(
        cli_app.app, ["--url", f"http://user:pw@app.test/api?code={KEY}", "jobs"]
    )
    assert result.exit_code == 4
    assert KEY not in result.output
    assert "pw" not in result.output
    assert "http://app.test" in result.output


def test_the_console_script_is_declared() -> None:
    import tomllib

    project = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["geocatalog-ingest"] == "cli.app:main"


def test_text_from_the_server_or_the_user_prints_as_it_is_not_as_markup(
    fake: FakeApi, tmp_path: Path
) -> None:
    fake.item_id, fake.message = "S2[/x]A", "bad [bold]ring[/bold] [/]"
    for command in ("items", "errors"):
        result = run(command, JOB)
        assert result.exit_code == 0, result.output
        assert "S2[/x]A" in result.output
        assert "[/]" in result.output
    missing = run("submit", str(tmp_path / "[/x]" / "body.json"))
    assert missing.exit_code != 0
    assert "[/x]" in missing.output
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\x80\x81 not text")
    assert "is not UTF-8 text" in run("submit", str(binary)).output
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert "nested too deeply" in run("submit", str(deep)).output
