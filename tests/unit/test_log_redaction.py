"""SAS signatures and bearer tokens never reach a log record, urllib3's included."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from shared import log_redaction
from shared.log_redaction import URL_LOGGERS, RedactSecrets, redact_secrets

REPO = Path(__file__).resolve().parents[2]

SIG = "placeholder-signature-that-must-never-be-logged"
PATH = f"/catalog/items/a.json?sv=2024-05-04&se=2099-01-01&sr=c&sp=rl&sig={SIG}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"GET {PATH} 200", "GET /catalog/items/a.json?<redacted-sas> 200"),
        (f"token sv=1&sig={SIG}", "token sv=1&sig=<redacted>"),
        ("Authorization: Bearer eyJ0eXAi.abc-def_1", "Authorization: Bearer <redacted>"),
        ("GET /catalog/items/a.json?page=2 200", "GET /catalog/items/a.json?page=2 200"),
    ],
)
def test_redact_secrets(text: str, expected: str) -> None:
    assert redact_secrets(text) == expected


def test_urllib3_request_lines_are_redacted_once_installed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log_redaction.install()
    pool = logging.getLogger("urllib3.connectionpool")
    retry = logging.getLogger("urllib3.util.retry")
    with caplog.at_level(logging.DEBUG):
        # The calls urllib3 makes, with its own format strings.
        pool.debug(
            '%s://%s:%s "%s %s %s" %s %s',
            "https",
            "h.example",
            443,
            "GET",
            PATH,
            "HTTP/1.1",
            200,
            10,
        )
        pool.debug("Redirecting %s -> %s", "https://h.example/a", f"https://h.example{PATH}")
        retry.debug("Incremented Retry for (url='%s'): %r", PATH, "Retry(total=0)")
    assert len(caplog.records) == 3
    text = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert SIG not in text
    assert "sig=" not in text
    assert '"GET /catalog/items/a.json?<redacted-sas> HTTP/1.1" 200' in caplog.text


def test_the_filter_keeps_every_record_and_leaves_other_arguments_alone() -> None:
    record = logging.LogRecord(
        "urllib3.connectionpool", logging.DEBUG, __file__, 1, "%s %d %r", ("x", 3, None), None
    )
    assert RedactSecrets().filter(record)
    assert record.getMessage() == "x 3 None"


def test_installing_twice_adds_one_filter() -> None:
    log_redaction.install()
    log_redaction.install()
    for name in URL_LOGGERS:
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, RedactSecrets) for f in filters) == 1


def test_the_app_installs_the_filter_when_it_starts() -> None:
    # A fresh interpreter: importing the app is what the Functions host (and the local host) do.
    probe = (
        "import logging, function_app\n"
        "from shared.log_redaction import URL_LOGGERS, RedactSecrets\n"
        "print(all(any(isinstance(f, RedactSecrets) for f in logging.getLogger(n).filters)"
        " for n in URL_LOGGERS))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "True"
