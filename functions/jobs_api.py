"""GET /api/jobs, GET /api/jobs/{jobId}, GET .../items, GET .../errors, POST .../retry,
POST .../cancel."""

from __future__ import annotations

import azure.functions as func

from functions.http_responses import base_url, handle_api, json_response, route_job_id
from shared.jobs.error_groups import group_errors
from shared.jobs.store import InvalidContinuation
from shared.pipeline.control import cancel_job, retry_job
from shared.pipeline.operator_views import (
    decode_list_cursor,
    encode_list_cursor,
    error_groups_json,
    job_summary_json,
    parse_examples,
    parse_job_filter,
    parse_list_limit,
)
from shared.pipeline.views import (
    decode_cursor,
    encode_cursor,
    item_json,
    job_json,
    parse_limit,
    parse_state,
)
from shared.problems import InvalidRequest, NotFound
from shared.runtime import runtime

bp = func.Blueprint()


def _status_url(req: func.HttpRequest, job_id: str) -> str:
    return f"{base_url(req)}/api/jobs/{job_id}"


@bp.function_name("list_jobs")
@bp.route(route="jobs", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def list_jobs(req: func.HttpRequest) -> func.HttpResponse:
    def call() -> func.HttpResponse:
        where = parse_job_filter(dict(req.params))
        limit = parse_list_limit(req.params.get("limit"))
        after = decode_list_cursor(req.params.get("cursor"))
        page = runtime().job_index.list_jobs(where, limit=limit, after=after)
        return json_response(
            {
                "jobs": [
                    job_summary_json(s, status_url=_status_url(req, s.job.job_id))
                    for s in page.jobs
                ],
                "nextCursor": encode_list_cursor(page.after),
            }
        )

    return handle_api(req, call)


@bp.function_name("get_job")
@bp.route(route="jobs/{jobId}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def get_job(req: func.HttpRequest) -> func.HttpResponse:
    def call() -> func.HttpResponse:
        job_id = route_job_id(req)
        view = runtime().pipeline.store.view(job_id)
        if view is None:
            raise NotFound(f"no job {job_id}", field="jobId")
        return json_response(job_json(view, status_url=_status_url(req, job_id)))

    return handle_api(req, call)


@bp.function_name("list_job_items")
@bp.route(route="jobs/{jobId}/items", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def list_job_items(req: func.HttpRequest) -> func.HttpResponse:
    def call() -> func.HttpResponse:
        job_id = route_job_id(req)
        state = parse_state(req.params.get("state"))
        limit = parse_limit(req.params.get("limit"))
        continuation = decode_cursor(req.params.get("cursor"))
        store = runtime().pipeline.store
        if store.get_job(job_id) is None:
            raise NotFound(f"no job {job_id}", field="jobId")
        try:
            page = store.list_items(job_id, state=state, limit=limit, continuation=continuation)
        except InvalidContinuation:
            raise InvalidRequest("cursor is not one this service issued", field="cursor") from None
        return json_response(
            {
                "jobId": job_id,
                "items": [item_json(item) for item in page.items],
                "nextCursor": encode_cursor(page.continuation),
            }
        )

    return handle_api(req, call)


@bp.function_name("get_job_errors")
@bp.route(route="jobs/{jobId}/errors", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def get_job_errors(req: func.HttpRequest) -> func.HttpResponse:
    def call() -> func.HttpResponse:
        job_id = route_job_id(req)
        examples = parse_examples(req.params.get("examples"))
        store = runtime().pipeline.store
        if store.get_job(job_id) is None:
            raise NotFound(f"no job {job_id}", field="jobId")
        return json_response(
            error_groups_json(job_id, group_errors(store, job_id, examples=examples))
        )

    return handle_api(req, call)


@bp.function_name("retry_job")
@bp.route(route="jobs/{jobId}/retry", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def retry(req: func.HttpRequest) -> func.HttpResponse:
    def call() -> func.HttpResponse:
        job_id = route_job_id(req)
        result = retry_job(job_id, runtime().pipeline)
        return json_response(
            {
                "jobId": job_id,
                "reposted": result.reposted,
                "rechecked": result.rechecked,
                "planningRedriven": result.planning_redriven,
                "statusUrl": _status_url(req, job_id),
            },
            status=202 if result.anything else 200,
        )

    return handle_api(req, call)


@bp.function_name("cancel_job")
@bp.route(route="jobs/{jobId}/cancel", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def cancel(req: func.HttpRequest) -> func.HttpResponse:
    def call() -> func.HttpResponse:
        job_id = route_job_id(req)
        view = cancel_job(job_id, runtime().pipeline)
        return json_response(job_json(view, status_url=_status_url(req, job_id)), status=202)

    return handle_api(req, call)
