"""`GET /` of the local host: where to go next (the job pages, the OpenAPI document, the CLI).

Azure's host answers its own placeholder page here; locally the first thing a new user opens
should say what the app offers. Links are listed only for the functions the app has.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

_HEADLINE = "Your local Functions host is running."


def landing_page(
    request: Request, route_prefix: str, has_function: Callable[[str], bool], strict: bool
) -> Response:
    base = f"{request.url.scheme}://{request.url.netloc}"
    api = f"{base}/{route_prefix}" if route_prefix else base
    key = "?code=<function key>" if strict else ""
    links: list[tuple[str, str]] = []
    if has_function("jobs_page"):
        links.append(("The job pages: every job, live progress, errors by cause", f"{api}/ui/jobs"))
    if has_function("openapi"):
        links.append(("The OpenAPI document of the HTTP API", f"{api}/openapi.json"))
    if has_function("list_jobs"):
        links.append(("Every job as JSON", f"{api}/jobs"))
    if has_function("health"):
        links.append(("Health", f"{api}/health"))
    cli = f"geocatalog-ingest --url {base} jobs"
    needs_key = "function keys are enforced (--strict-auth): " if strict else ""
    if "text/html" in request.headers.get("accept", ""):
        items = "".join(
            f'<li>{html.escape(text)}: <a href="{html.escape(url)}">{html.escape(url)}</a></li>'
            for text, url in links
        )
        body = (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<title>geocatalog-ingest (local)</title></head><body>"
            f"<h1>geocatalog-ingest</h1><p>{_HEADLINE}</p><ul>{items}</ul>"
            f"<p>The CLI: <code>{html.escape(cli)}</code> (see <code>geocatalog-ingest "
            "--help</code>).</p>"
            + (
                f"<p>{html.escape(needs_key)}add <code>{html.escape(key)}</code>.</p>"
                if strict
                else ""
            )
            + "</body></html>"
        )
        return HTMLResponse(body)
    lines = [_HEADLINE, ""]
    lines += [f"{text}:\n  {url}" for text, url in links]
    lines += ["", f"The CLI:\n  {cli}\n  geocatalog-ingest --help"]
    if strict:
        lines += ["", f"{needs_key}add {key} (or the x-functions-key header)"]
    return PlainTextResponse("\n".join(lines) + "\n")
