"""No secret reaches the logs, the job records or an error message, over a full run.

One local stack (Azurite, the GeoCatalog and Planetary Computer emulators, the local Functions
host running the real function_app with function keys enforced), all in this process. Every log
record of the process is captured (root logger at DEBUG and every named logger opened up:
azure.core, the storage SDKs, urllib3, uvicorn, the host, the emulators, the service), with its
arguments and `extra` fields, together with what reaches stdout/stderr. Then:

- the tutorial's ingest through POST /api/ingest (Sentinel-2 L2A from the PC emulator, bbox
  [8.0, 79.5, 16.0, 80.2], 2024-05-10/2024-05-20, maxItems 6, createCollection from the PC
  sentinel-2-l2a template), run to the end;
- a signed search of the new collection, through the service's GeoCatalog client;
- the maintenance timer, with PC tokens short-lived enough that it renews every source;
- a 503 burst from the GeoCatalog while items are posted (the host retries them);
- item URLs that carry the caller's own SAS, and invalid requests (one with a SAS in a URL).

Secrets searched for, verbatim: every SAS token either emulator issued (collected as issued) and
its signature (URL-encoded and decoded), the caller's SAS signature, the GeoCatalog client's
placeholder bearer token and any `Bearer ` credential, the Azurite account key, the function and
master keys; and any `sig=` followed by a value that is not a redaction marker. Searched in: the
captured output, every host invocation's error, the job and item JSON of every job, every problem
response, and every row of the job table. Not searched: the payload blob that keeps each request
as sent (the planner fetches the caller's URLs from it, SAS included; it is private storage), and
the test's own httpx client log, which shows the URLs this test calls, `?code=` included.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from azure.data.tables import TableServiceClient

from local.azurite import ACCOUNT_KEY
from local.host.auth import FUNCTION_KEY_SETTING, MASTER_KEY_SETTING
from local.stack import LocalStack, StackConfig
from shared.geocatalog.auth import PLACEHOLDER_TOKEN
from shared.runtime import runtime

pytestmark = pytest.mark.integration

FUNCTION_KEY = "no-secrets-function-key-5b0f2e"
MASTER_KEY = "no-secrets-master-key-93c1d7"
# A caller's own SAS on an item URL (as for a private static catalog): never issued by an
# emulator, and the service must not show it either.
CALLER_SIG = "Q2FsbGVyT3duU2lnbmF0dXJlMDEyMzQ1Njc4OWFiY2RlZg%3D%3D"
CALLER_SAS = f"sv=2024-05-04&se=2099-01-01T00%3A00%3A00Z&sr=c&sp=rl&sig={CALLER_SIG}"
COLLECTION = "s2-secrets"
TEST_CLIENT_LOGGERS = ("httpx", "httpcore")
TERMINAL = {"succeeded", "partially_succeeded", "failed", "canceled"}
# `sig=` and a value, unless it is what a logger writes in place of one: ours (`<redacted>`),
# the storage SDKs' (`*****`), azure-core's (`REDACTED`).
SIGNATURE = re.compile(r"sig=(?!(?:<redacted>|\*+|REDACTED)(?:[&\s\"'<>]|$))[^&\s\"'<>]+", re.I)


class Everything(logging.Handler):
    """Every record, as text with its arguments, `extra` fields and exception."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []
        self.text: list[str] = []
        self._formatter = logging.Formatter("%(levelname)s %(name)s [%(threadName)s] %(message)s")
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(TEST_CLIENT_LOGGERS) and record.threadName == "MainThread":
            # This test's own HTTP client (the service does not use httpx) logs the URLs it
            # calls, `?code=` included: the caller's log, not the service's.
            return
        try:
            line = self._formatter.format(record)
        except Exception as exc:  # noqa: BLE001 - a record that cannot be formatted is kept raw
            line = f"unformattable record {record.msg!r} {record.args!r}: {exc!r}"
        with self._guard:
            self.records.append(record)
            self.text.append(f"{line} {record.__dict__!r}")


class OpenLogging:
    """Root at DEBUG, every logger at NOTSET (inherits DEBUG) and enabled, and captured where it
    writes to its own handlers instead of propagating; `close()` puts everything back.

    A logger that neither propagates nor has a handler writes nothing, and stays that way:
    uvicorn switches its access log off like that (the local host and the emulators run with
    access logs off), and reads "has a handler" as "log each request".
    """

    def __init__(self, handler: logging.Handler) -> None:
        self.handler = handler
        self._saved: list[tuple[logging.Logger, int, bool, bool]] = []
        self._root_level = logging.root.level
        logging.root.addHandler(handler)
        logging.root.setLevel(logging.DEBUG)
        self.open_all()

    def open_all(self) -> None:
        """Again after servers start: uvicorn configures its loggers when a server starts."""
        for name in list(logging.root.manager.loggerDict):
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.level, logger.propagate, logger.disabled))
            logger.setLevel(logging.NOTSET)
            logger.disabled = False
            if not logger.propagate and logger.handlers and self.handler not in logger.handlers:
                logger.addHandler(self.handler)

    def close(self) -> None:
        for logger, level, _propagate, disabled in reversed(self._saved):
            logger.setLevel(level)
            logger.disabled = disabled
            if self.handler in logger.handlers:
                logger.removeHandler(self.handler)
        logging.root.removeHandler(self.handler)
        logging.root.setLevel(self._root_level)


class Issued:
    """Tokens as the emulators issue them (their signers wrapped, nothing else changed)."""

    def __init__(self, stack: LocalStack) -> None:
        assert stack.planetary_computer is not None
        assert stack.geocatalog is not None
        self.planetary_computer: list[str] = []
        self.geocatalog: list[str] = []
        pc_signer = stack.planetary_computer.context.signer
        gc_signer = stack.geocatalog.emulator.signer
        pc_signer.issue = self._recording(pc_signer.issue, self.planetary_computer, _pc_token)
        gc_signer.issue = self._recording(gc_signer.issue, self.geocatalog, str)

    @staticmethod
    def _recording(
        issue: Callable[..., Any], into: list[str], token_of: Callable[[Any], str]
    ) -> Callable[..., Any]:
        def recording(*args: Any, **kwargs: Any) -> Any:
            issued = issue(*args, **kwargs)
            into.append(token_of(issued))
            return issued

        return recording


def _pc_token(issued: Any) -> str:
    return str(issued.token)


def signature_forms(token: str) -> set[str]:
    """The token itself, and its signature as sent in a URL and decoded."""
    token = token.lstrip("?")
    forms = {token}
    for part in token.split("&"):
        if part.startswith("sig="):
            raw = part.removeprefix("sig=")
            forms |= {raw, unquote(raw), re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), raw)}
    return forms


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    config = StackConfig(
        strict_auth=True,
        settings_overrides={FUNCTION_KEY_SETTING: FUNCTION_KEY, MASTER_KEY_SETTING: MASTER_KEY},
    )
    with LocalStack(config) as running:
        yield running


class Api:
    def __init__(self, stack: LocalStack) -> None:
        self.base = f"{stack.base_url}/api"
        self.client = httpx.Client(timeout=120)
        self.responses: list[str] = []

    def call(
        self, method: str, path: str, *, key_in_query: bool = False, **kwargs: Any
    ) -> httpx.Response:
        # Both ways the host accepts a key; the query string is the one URL loggers would show.
        if key_in_query:
            kwargs["params"] = {**kwargs.get("params", {}), "code": FUNCTION_KEY}
        else:
            kwargs["headers"] = {**kwargs.get("headers", {}), "x-functions-key": FUNCTION_KEY}
        response = self.client.request(method, self.base + path, **kwargs)
        self.responses.append(f"{method} {path} {response.status_code} {response.text}")
        return response

    def job_records(self, job_id: str) -> str:
        """The job and every item page, as a client reads them."""
        job = self.call("GET", f"/jobs/{job_id}", key_in_query=True)
        assert job.status_code == 200
        pages = [job.text]
        cursor: str | None = None
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = self.call("GET", f"/jobs/{job_id}/items", params=params)
            assert page.status_code == 200
            pages.append(page.text)
            cursor = page.json()["nextCursor"]
            if cursor is None:
                return "\n".join(pages)


def run_to_the_end(stack: LocalStack, api: Api, body: dict[str, Any]) -> dict[str, Any]:
    started = api.call("POST", "/ingest", json=body)
    assert started.status_code == 202, started.text
    assert stack.host is not None
    stack.host.drain(timeout=180)
    job = api.call("GET", f"/jobs/{started.json()['jobId']}").json()
    assert job["state"] in TERMINAL, job
    return job


def test_no_secret_reaches_logs_records_or_errors(
    stack: LocalStack, capfd: pytest.CaptureFixture[str]
) -> None:
    assert stack.geocatalog is not None
    assert stack.planetary_computer is not None
    assert stack.host is not None
    assert stack.azurite is not None
    # The app's runtime quiets azure-core's per-request log when it is built (once per process,
    # on first use): build it now, before every logger is opened, so that the capture sees the
    # whole run whichever test built (or reset) a runtime before this one.
    runtime()
    captured = Everything()
    logs = OpenLogging(captured)
    try:
        issued = Issued(stack)
        api = Api(stack)
        pc = stack.planetary_computer.stac_url
        template = f"{pc}/collections/sentinel-2-l2a"
        # Tokens that maintenance must renew: inside its margin (15 min + the 5 min interval)
        # but outside the one planning renews at (15 min).
        stack.planetary_computer.set_switches(sas_lifetime=timedelta(minutes=18))

        # 1. The tutorial's ingest, to the end.
        demo = run_to_the_end(
            stack,
            api,
            {
                "collection": COLLECTION,
                "source": {
                    "type": "stac-search",
                    "url": pc,
                    "collections": ["sentinel-2-l2a"],
                    "bbox": [8.0, 79.5, 16.0, 80.2],
                    "datetime": "2024-05-10/2024-05-20",
                    "maxItems": 6,
                },
                "createCollection": {"templateUrl": template},
            },
        )
        assert demo["state"] == "succeeded", demo
        assert demo["counts"]["succeeded"] == 6
        assert issued.planetary_computer, "the ingest registered no SAS ingestion source"

        # 2. A signed search through the service's client.
        geocatalog = runtime().geocatalog
        found = geocatalog.search({"collections": [COLLECTION], "limit": 10}, sign=True)
        hrefs = [
            asset["href"]
            for feature in found["features"]
            for asset in feature["assets"].values()
            if "sig=" in asset["href"]
        ]
        assert len(found["features"]) == 6
        assert hrefs, "the signed search signed nothing"
        assert issued.geocatalog

        # 3. The maintenance timer renews every source (new PC tokens, sources replaced).
        before = len(issued.planetary_computer)
        assert stack.host.run_function("maintenance", None).succeeded
        assert len(issued.planetary_computer) > before, "maintenance renewed nothing"

        # 4. A 503 burst while items are posted: the host retries them until they go through.
        stack.geocatalog.fault(status=503, count=3, route=f"/stac/collections/{COLLECTION}/items")
        item_urls = [
            f"{pc}/collections/sentinel-2-l2a/items/{item['id']}?{CALLER_SAS}"
            for item in found["features"][:2]
        ]
        burst = run_to_the_end(
            stack,
            api,
            {
                "collection": COLLECTION,
                "source": {"type": "item-urls", "urls": item_urls},
                "mode": "upsert",
            },
        )
        assert burst["state"] == "succeeded", burst
        failed_posts = [
            i
            for i in stack.host.invocations
            if i.function_name == "ingest_items" and not i.succeeded and i.done
        ]
        assert failed_posts, "the 503 burst did not reach the item posts"

        # 5. Invalid requests, one with a SAS on a URL the service may not fetch.
        refused = [
            api.call("POST", "/ingest", content=b"{not json", key_in_query=True),
            api.call(
                "POST",
                "/ingest",
                json={
                    "collection": COLLECTION,
                    "source": {
                        "type": "static-catalog",
                        "url": f"https://elsewhere.example/catalog.json?{CALLER_SAS}",
                    },
                },
            ),
            api.call("GET", "/jobs/" + "0" * 32, key_in_query=True),
        ]
        assert [r.status_code for r in refused] == [400, 400, 404]

        # Everything a person could read afterwards.
        records = [api.job_records(job["jobId"]) for job in (demo, burst)]
        table = TableServiceClient.from_connection_string(stack.azurite.connection_string)
        rows = [
            json.dumps(dict(row), default=str)
            for row in table.get_table_client(runtime().settings.jobs_table).list_entities()
        ]
    finally:
        logs.close()
    out, err = capfd.readouterr()
    errors = [
        f"{i.function_name} {i.error}" for i in stack.host.invocations if i.error is not None
    ] + [repr(event) for event in stack.host.queue_events]
    haystack = {
        "logs": "\n".join(captured.text),
        "stdout": out,
        "stderr": err,
        "invocation errors": "\n".join(errors),
        "job records": "\n".join(records),
        "responses": "\n".join(api.responses),
        "job table": "\n".join(rows),
    }

    # The capture really saw the run, at every level that matters.
    names = {record.name for record in captured.records}
    assert "urllib3.connectionpool" in names
    assert "azure.core.pipeline.policies.http_logging_policy" in names
    assert any(n.startswith("shared.geocatalog") for n in names)
    assert any(n.startswith("local.host") for n in names)
    assert demo["jobId"] in haystack["logs"]
    assert any(r.levelno == logging.DEBUG for r in captured.records)
    assert errors, "no failed invocation was recorded"

    secrets: dict[str, str] = {
        "GeoCatalog placeholder bearer token": PLACEHOLDER_TOKEN,
        "Azurite account key": ACCOUNT_KEY,
        "function key": FUNCTION_KEY,
        "master key": MASTER_KEY,
    }
    for token in set(issued.planetary_computer) | set(issued.geocatalog) | {CALLER_SAS}:
        for form in signature_forms(token):
            secrets[f"SAS {form[:12]}…"] = form
    secrets["caller's signature, decoded"] = base64.b64decode(unquote(CALLER_SIG)).decode()
    leaks = [
        f"{what} in {where}: ...{_around(text, text.index(secret))}..."
        for where, text in haystack.items()
        for what, secret in secrets.items()
        if secret in text
    ]
    leaks += [
        f"a signature in {where}: ...{_around(text, found.start())}..."
        for where, text in haystack.items()
        for found in SIGNATURE.finditer(text)
    ]
    leaks += [
        f"a bearer credential in {where}: ...{_around(text, text.index('Bearer '))}..."
        for where, text in haystack.items()
        if "Bearer " in text
    ]
    assert not leaks, "\n".join(sorted(set(leaks))[:40])


def _around(text: str, at: int) -> str:
    return text[max(0, at - 160) : at + 80].replace("\n", " ")
