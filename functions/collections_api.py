"""POST /api/collections: create a collection from a template, or bring it up to date."""

from __future__ import annotations

import logging

import azure.functions as func

from functions.http_responses import handle_api, json_body, json_response, problem_response
from shared.bootstrap import (
    BootstrapResult,
    bootstrap_collection,
    parse_bootstrap_request,
    problem_for,
)
from shared.collection_template import TemplateFetcher, UrlPolicy
from shared.geocatalog.errors import UpstreamError
from shared.problems import ApiError
from shared.runtime import runtime

logger = logging.getLogger(__name__)

bp = func.Blueprint()


@bp.function_name("create_collection")
@bp.route(route="collections", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def create_collection(req: func.HttpRequest) -> func.HttpResponse:
    def call() -> func.HttpResponse:
        try:
            result = _bootstrap(req)
        except ApiError as error:
            return _problem(error, req)
        return json_response(result.to_dict(), status=201 if result.created else 200)

    return handle_api(req, call)


def _bootstrap(req: func.HttpRequest) -> BootstrapResult:
    rt = runtime()
    policy = UrlPolicy.from_settings(rt.settings)
    # Validated before anything is fetched or written.
    request = parse_bootstrap_request(json_body(req), policy)
    with TemplateFetcher(policy) as fetcher:
        try:
            return bootstrap_collection(
                request,
                geocatalog=rt.geocatalog,
                planetary_computer=rt.planetary_computer,
                fetcher=fetcher,
            )
        except UpstreamError as error:
            raise problem_for(error) from None


def _problem(error: ApiError, req: func.HttpRequest) -> func.HttpResponse:
    if error.status >= 500:
        # Remote failures are logged once, here; invalid input is the caller's to read.
        logger.warning("collection bootstrap failed: %s", error.detail, extra=error.extra)
    return problem_response(error, req)
