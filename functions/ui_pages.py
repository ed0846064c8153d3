"""GET /api/ui/jobs and GET /api/ui/jobs/{jobId}: the job pages (HTML), function-key protected."""

from __future__ import annotations

import azure.functions as func

from functions.http_responses import handle_api, route_job_id
from shared.problems import NotFound
from shared.runtime import runtime
from shared.ui.pages import PAGE_HEADERS, job_page, jobs_page

bp = func.Blueprint()


def _html(text: str) -> func.HttpResponse:
    return func.HttpResponse(
        text, status_code=200, headers=PAGE_HEADERS, mimetype="text/html", charset="utf-8"
    )


@bp.function_name("jobs_page")
@bp.route(route="ui/jobs", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def jobs(req: func.HttpRequest) -> func.HttpResponse:
    return handle_api(req, lambda: _html(jobs_page()))


@bp.function_name("job_page")
@bp.route(route="ui/jobs/{jobId}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def job(req: func.HttpRequest) -> func.HttpResponse:
    def call() -> func.HttpResponse:
        job_id = route_job_id(req)
        if runtime().pipeline.store.get_job(job_id) is None:
            raise NotFound(f"no job {job_id[:64]}", field="jobId")
        return _html(job_page(job_id))

    return handle_api(req, call)
