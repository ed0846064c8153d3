"""POST /api/ingest: accept an ingest request, answer 202 with the job's status URL."""

from __future__ import annotations

import azure.functions as func

from functions.http_responses import base_url, handle_api, json_body, json_response
from shared.ingest_request import parse_ingest_request
from shared.pipeline.submit import submit_job
from shared.runtime import runtime

bp = func.Blueprint()


@bp.function_name("ingest")
@bp.route(route="ingest", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def ingest(req: func.HttpRequest) -> func.HttpResponse:
    def call() -> func.HttpResponse:
        rt = runtime()
        body = json_body(req)
        # Refused before anything is touched: bad input is a 400 even when storage is down.
        request = parse_ingest_request(body, rt.settings)
        job = submit_job(body, rt.pipeline, request=request)
        status_url = f"{base_url(req)}/api/jobs/{job.job_id}"
        return json_response(
            {"jobId": job.job_id, "statusUrl": status_url},
            status=202,
            headers={"Location": status_url},
        )

    return handle_api(req, call)
