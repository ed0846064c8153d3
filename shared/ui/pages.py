"""The HTML of the job pages: one skeleton, the page's body, the stylesheet and script inline.

Inline, so that a page is one response behind one function key; the Content-Security-Policy
that goes with it lets the page run its own script and call its own origin, and load nothing
else from anywhere.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


@cache
def _asset(name: str) -> str:
    return (_HERE / name).read_text(encoding="utf-8")


def _render(*, title: str, page: str, job_id: str, body: str) -> str:
    parts = {
        "{{title}}": html.escape(title),
        "{{page}}": page,
        "{{job_id}}": html.escape(job_id),
        "{{style}}": _asset("page.css"),
        "{{body}}": body,
        # A script element ends at the first "</": the script has none.
        "{{script}}": _asset("page.js"),
    }
    text = _asset("page.html")
    for marker, value in parts.items():
        text = text.replace(marker, value)
    return text


def jobs_page() -> str:
    return _render(title="Jobs", page="jobs", job_id="", body=_asset("jobs_body.html"))


def job_page(job_id: str) -> str:
    return _render(title=f"Job {job_id}", page="job", job_id=job_id, body=_asset("job_body.html"))
