"""The commands of `geocatalog-ingest` (typer), each one or a few calls of the app's HTTP API.

Exit codes: 0 done (a watched job: every item succeeded or was skipped); 1 a watched job ended
otherwise (partially succeeded, failed, canceled); 2 bad usage; 3 the app refused the request
(4xx: bad input, unknown job, no key); 4 the app is unreachable or failed (5xx).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from cli import output
from cli.client import DEFAULT_URL, Api, BadInput, CliError
from cli.progress import exit_code_of, watch
from cli.requests import ingest_request, stac_search_source, static_catalog_source

URL_ENV = "GEOCATALOG_INGEST_URL"
KEY_ENV = "GEOCATALOG_INGEST_KEY"
PLANETARY_COMPUTER_STAC = "https://planetarycomputer.microsoft.com/api/stac/v1"

app = typer.Typer(
    name="geocatalog-ingest",
    help="Submit, follow and act on ingest jobs of a geocatalog-ingest app (over its HTTP API).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
collections_app = typer.Typer(help="Collections of the GeoCatalog.", no_args_is_help=True)
app.add_typer(collections_app, name="collections")

# Where requests go instead of the network when set: the unit tests' fake API.
TRANSPORT: httpx.BaseTransport | None = None

P = ParamSpec("P")
R = TypeVar("R")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the API's JSON (for scripts).")]
WaitFlag = Annotated[
    bool, typer.Option("--wait", help="Then watch the job until it ends (exit code as `watch`).")
]
JobArg = Annotated[str, typer.Argument(help="The job id (32 hex digits).", show_default=False)]


class Context:
    def __init__(self, url: str, key: str | None, timeout: float) -> None:
        self.url = url
        self.key = key
        self.timeout = timeout
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)

    def api(self) -> Api:
        return Api(self.url, self.key, timeout=self.timeout, transport=TRANSPORT)


# Set by the app's callback before any command runs (one invocation per process, or per
# CliRunner call in tests).
_current: Context | None = None


def _ctx() -> Context:
    if _current is None:
        raise RuntimeError("geocatalog-ingest commands run under its app")
    return _current


def handled(command: Callable[P, R]) -> Callable[P, R]:
    """Failures the user should read: one message on stderr and the documented exit code."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except CliError as error:
            _ctx().err.print(f"[red]error:[/] {escape(str(error))}", markup=True)
            raise typer.Exit(error.exit_code) from None
        except TimeoutError as error:
            _ctx().err.print(f"[red]error:[/] {escape(str(error))}")
            raise typer.Exit(4) from None

    return run


@app.callback()
def main_options(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Option("--url", envvar=URL_ENV, help="The app's base URL.")
    ] = DEFAULT_URL,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            envvar=KEY_ENV,
            help="A function key of the app (not needed on the local stack). Never printed.",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 30.0,
) -> None:
    global _current
    _current = ctx.obj = Context(url, key, timeout)


# ---- submitting ---------------------------------------------------------------------------


def _submitted(request: dict[str, Any], *, wait: bool, as_json: bool) -> None:
    ctx = _ctx()
    with ctx.api() as api:
        accepted = api.submit(request)
        if not wait:
            if as_json:
                output.print_json(ctx.out, accepted)
            else:
                ctx.out.print(f"job {accepted['jobId']} accepted")
                ctx.out.print(f"follow it: geocatalog-ingest watch {accepted['jobId']}")
            return
        if not as_json:
            ctx.out.print(f"job {accepted['jobId']} accepted; watching it")
        _watch_and_exit(api, accepted["jobId"], as_json=as_json)


def _watch_and_exit(
    api: Api, job_id: str, *, as_json: bool, interval: float = 1.0, timeout: float | None = None
) -> None:
    ctx = _ctx()
    job = watch(api, job_id, ctx.err if as_json else ctx.out, interval=interval, timeout=timeout)
    if as_json:
        output.print_json(ctx.out, job)
    else:
        output.show_job(ctx.out, job)
    raise typer.Exit(exit_code_of(job))


@app.command()
@handled
def submit(
    request: Annotated[
        str, typer.Argument(help="An ingest request (JSON file; - for standard input).")
    ],
    wait: WaitFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Start a job from an ingest request (the body of POST /api/ingest)."""
    try:
        text = sys.stdin.read() if request == "-" else Path(request).read_text(encoding="utf-8")
    except OSError as error:
        raise BadInput(f"cannot read {request}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{request} is not UTF-8 text") from None
    try:
        body = json.loads(text)
    except RecursionError:
        raise BadInput(f"{request} is JSON nested too deeply to read") from None
    except ValueError as error:
        raise BadInput(f"{request} is not JSON: {error}") from None
    _submitted(body, wait=wait, as_json=as_json)


Collection = Annotated[
    str, typer.Option("--collection", "-c", help="The target GeoCatalog collection.")
]
Template = Annotated[
    str | None,
    typer.Option(
        "--create-collection",
        metavar="TEMPLATE_URL",
        help="Create the target from this STAC collection template if it does not exist.",
    ),
]
Mode = Annotated[str, typer.Option(help="create (existing items skipped) or upsert.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Validate and plan; post nothing.")]
MaxItems = Annotated[int | None, typer.Option("--max-items", help="At most this many items.")]
DropAsset = Annotated[
    list[str] | None,
    typer.Option("--drop-asset", help="Asset keys to remove (repeat; default: the service's)."),
]


@app.command("stac-search")
@handled
def stac_search(
    collection: Collection,
    source_collection: Annotated[
        list[str],
        typer.Option("--source-collection", "-s", help="Collections to search (repeat)."),
    ],
    stac_url: Annotated[str, typer.Option(help="The STAC API.")] = PLANETARY_COMPUTER_STAC,
    bbox: Annotated[str | None, typer.Option(help="west,south,east,north")] = None,
    datetime: Annotated[str | None, typer.Option(help="RFC 3339 instant or a/b.")] = None,
    max_items: MaxItems = None,
    create_collection: Template = None,
    mode: Mode = "create",
    dry_run: DryRun = False,
    drop_asset: DropAsset = None,
    wait: WaitFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Start a job that ingests the items of a STAC API search."""
    source = stac_search_source(
        url=stac_url,
        collections=source_collection,
        bbox=bbox,
        datetime=datetime,
        max_items=max_items,
    )
    request = ingest_request(
        collection=collection,
        source=source,
        template=create_collection,
        mode=mode,
        dry_run=dry_run,
        drop_assets=drop_asset,
    )
    _submitted(request, wait=wait, as_json=as_json)


@app.command("static-catalog")
@handled
def static_catalog(
    url: Annotated[str, typer.Argument(help="The catalog.json of a static STAC catalog.")],
    collection: Collection,
    max_items: MaxItems = None,
    create_collection: Template = None,
    mode: Mode = "create",
    dry_run: DryRun = False,
    drop_asset: DropAsset = None,
    wait: WaitFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Start a job that ingests the items of a static STAC catalog."""
    request = ingest_request(
        collection=collection,
        source=static_catalog_source(url=url, max_items=max_items),
        template=create_collection,
        mode=mode,
        dry_run=dry_run,
        drop_assets=drop_asset,
    )
    _submitted(request, wait=wait, as_json=as_json)


# ---- following ----------------------------------------------------------------------------


@app.command("watch")
@handled
def watch_job(
    job_id: JobArg,
    interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 1.0,
    timeout: Annotated[
        float | None, typer.Option(help="Give up after this many seconds (exit 4).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Follow a job until it ends: progress, counts by state, rate and time left.

    Exit code 0 only if every item succeeded or was skipped; 1 if the job ended otherwise.
    """
    with _ctx().api() as api:
        _watch_and_exit(api, job_id, as_json=as_json, interval=interval, timeout=timeout)


@app.command()
@handled
def jobs(
    state: Annotated[str | None, typer.Option(help="Only jobs in this state.")] = None,
    collection: Annotated[str | None, typer.Option(help="Only jobs into this collection.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only jobs created since (RFC 3339 or a date).")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many jobs.")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """Every job, newest first, with its state and counts."""
    ctx = _ctx()
    with ctx.api() as api:
        found = list(api.all_jobs(limit, state=state, collection=collection, since=since))
    if as_json:
        output.print_json(ctx.out, {"jobs": found})
    elif not found:
        ctx.out.print("no jobs")
    else:
        ctx.out.print(output.jobs_table(found))


@app.command()
@handled
def show(job_id: JobArg, as_json: JsonFlag = False) -> None:
    """One job: state, counts, sources, ingestion sources, first errors."""
    ctx = _ctx()
    with ctx.api() as api:
        job = api.job(job_id)
    if as_json:
        output.print_json(ctx.out, job)
    else:
        output.show_job(ctx.out, job)


@app.command()
@handled
def items(
    job_id: JobArg,
    state: Annotated[str | None, typer.Option(help="Only items in this state.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many items.")] = 100,
    as_json: JsonFlag = False,
) -> None:
    """The job's items (id order), e.g. `--state failed`."""
    ctx = _ctx()
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    with ctx.api() as api:
        while len(found) < limit:
            page = api.items(
                job_id, state=state, limit=min(1000, limit - len(found)), cursor=cursor
            )
            found += page["items"]
            cursor = page["nextCursor"]
            if cursor is None:
                break
    if as_json:
        output.print_json(ctx.out, {"jobId": job_id, "items": found, "more": cursor is not None})
        return
    ctx.out.print(output.items_table(found))
    if cursor is not None:
        ctx.out.print(f"(first {len(found)}; more with --limit)")


@app.command()
@handled
def errors(
    job_id: JobArg,
    examples: Annotated[int, typer.Option(help="Example item ids per cause.")] = 5,
    as_json: JsonFlag = False,
) -> None:
    """The job's failed, invalid and dead-lettered items grouped by error code."""
    ctx = _ctx()
    with ctx.api() as api:
        found = api.errors(job_id, examples)
    if as_json:
        output.print_json(ctx.out, found)
    elif not found["groups"]:
        ctx.out.print("no errors")
    else:
        ctx.out.print(output.errors_table(found))


# ---- acting -------------------------------------------------------------------------------


@app.command()
@handled
def retry(job_id: JobArg, wait: WaitFlag = False, as_json: JsonFlag = False) -> None:
    """Redrive the job's failed and dead-lettered items (and a dead-lettered plan page)."""
    ctx = _ctx()
    with ctx.api() as api:
        status, result = api.retry(job_id)
        if as_json and not wait:
            output.print_json(ctx.out, result)
        elif not as_json:
            if status == 202:
                ctx.out.print(
                    f"retrying: {result['reposted']} items re-posted, {result['rechecked']} "
                    f"re-checked" + (", planning redriven" if result["planningRedriven"] else "")
                )
            else:
                ctx.out.print("nothing to retry")
        if wait:
            _watch_and_exit(api, job_id, as_json=as_json)


@app.command()
@handled
def cancel(job_id: JobArg, wait: WaitFlag = False, as_json: JsonFlag = False) -> None:
    """Stop a job: nothing more is posted; operations in flight are canceled."""
    ctx = _ctx()
    with ctx.api() as api:
        job = api.cancel(job_id)
        if as_json and not wait:
            output.print_json(ctx.out, job)
        elif not as_json:
            ctx.out.print(f"cancel requested; the job is {job['state']}")
        if wait:
            _watch_and_exit(api, job_id, as_json=as_json)


@collections_app.command("create")
@handled
def create_collection(
    collection_id: Annotated[str, typer.Argument(help="The new collection's id.")],
    template: Annotated[
        str, typer.Option("--template", help="A STAC collection to copy (its URL).")
    ],
    title: Annotated[str | None, typer.Option(help="A title instead of the template's.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a collection from a template, or bring it up to date."""
    ctx = _ctx()
    body: dict[str, Any] = {"id": collection_id, "templateUrl": template}
    if title:
        body["title"] = title
    with ctx.api() as api:
        status, result = api.create_collection(body)
    if as_json:
        output.print_json(ctx.out, result)
        return
    verb = "created" if status == 201 else ("updated" if result["changed"] else "up to date")
    ctx.out.print(f"collection {result['collectionId']} {verb}")
    for change in result["changes"]:
        if change["action"] != "unchanged":
            ctx.out.print(f"  {change['kind']} {change['id']}: {change['action']}", markup=False)
    for warning in result["warnings"]:
        ctx.out.print(f"  [yellow]warning[/]: {escape(warning)}")


def main() -> None:
    app()
