"""Mapping of service results and errors onto azure.functions HTTP responses.

`handle_api` is where every error of an HTTP call becomes problem JSON: handlers and the service
code they call raise their own error types and never build a problem themselves.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable
from typing import Any

import azure.functions as func
from azure.core.exceptions import AzureError

from shared.api_responses import JOB_ID_PATTERN
from shared.json_values import MAX_JSON_DEPTH, JsonTooDeep, loads_json
from shared.problems import (
    PROBLEM_CONTENT_TYPE,
    ApiError,
    InternalError,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    api_error_for,
)
from shared.settings import SettingsError

logger = logging.getLogger(__name__)


def json_response(
    body: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        headers=headers,
        mimetype="application/json",
        charset="utf-8",
    )


def problem_response(error: ApiError, req: func.HttpRequest) -> func.HttpResponse:
    problem = error.to_problem(instance=_path_of(req.url))
    headers = {"Content-Type": PROBLEM_CONTENT_TYPE}
    retry_after = error.extra.get("retryAfter")
    if isinstance(retry_after, int | float) and not isinstance(retry_after, bool):
        # RFC 9110 delay-seconds: a whole number; the body's retryAfter says the same.
        headers["Retry-After"] = str(max(0, math.ceil(retry_after)))
    return func.HttpResponse(
        json.dumps(problem.to_dict(), separators=(",", ":")),
        status_code=problem.status,
        headers=headers,
    )


def json_body(req: func.HttpRequest) -> Any:
    """The request's JSON body, or InvalidRequest naming the body as the field at fault."""
    raw = req.get_body()
    if not raw:
        raise InvalidRequest("the request body is empty; a JSON object is expected", field="body")
    try:
        return loads_json(raw)
    except JsonTooDeep:
        raise InvalidRequest(
            f"the request body is nested deeper than {MAX_JSON_DEPTH} levels", field="body"
        ) from None
    except ValueError:
        raise InvalidRequest("the request body is not valid JSON", field="body") from None


def _path_of(url: str) -> str:
    # The instance is the path only: query strings may carry function keys.
    without_query = url.split("?", 1)[0]
    if "://" in without_query:
        without_query = "/" + without_query.split("://", 1)[1].split("/", 1)[-1]
    return without_query


def handle_api(req: func.HttpRequest, call: Callable[[], func.HttpResponse]) -> func.HttpResponse:
    """Run one API call; every failure leaves as problem JSON, and is logged once, here."""
    try:
        return call()
    except AzureError:
        # Storage (job table, queues, payloads) or a credential did not answer as it should.
        logger.exception("storage failure in %s %s", req.method, _path_of(req.url))
        return problem_response(
            ServiceUnavailable("a dependency of the service is unavailable; try again later"), req
        )
    except SettingsError as error:
        logger.error("misconfigured: %s", error)
        return problem_response(ServiceUnavailable(f"the service is misconfigured: {error}"), req)
    except Exception as error:
        problem = api_error_for(error)
        if problem is None:
            logger.exception("unhandled error in %s %s", req.method, _path_of(req.url))
            return problem_response(InternalError("an unexpected error occurred"), req)
        if problem.status >= 500:
            # Ours or a remote's failure (invalid input is the caller's to read, not logged).
            logger.warning(
                "%s %s failed: %s",
                req.method,
                _path_of(req.url),
                problem.detail,
                extra=problem.extra,
            )
        return problem_response(problem, req)


def route_job_id(req: func.HttpRequest) -> str:
    """The `{jobId}` of the route; a value that is no job id is a 404 (it names no job)."""
    job_id = str(req.route_params.get("jobId", ""))
    if not re.fullmatch(JOB_ID_PATTERN, job_id):
        raise NotFound(f"no job {job_id[:64]}", field="jobId")
    return job_id


def base_url(req: func.HttpRequest) -> str:
    """scheme://host[:port] of the request, for absolute links in responses."""
    scheme, rest = req.url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}"
