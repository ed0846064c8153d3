"""POST /api/collections: create a collection from a template, or bring it up to date."""

from __future__ import annotations

import azure.functions as func

from functions.http_responses import handle_api, json_body, json_response
from shared.collection_request import parse_collection_request
from shared.collections.bootstrap import bootstrap_collection
from shared.collections.template_fetch import TemplateFetcher, UrlPolicy
from shared.runtime import runtime

bp = func.Blueprint()


@bp.function_name("create_collection")
@bp.route(route="collections", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def create_collection(req: func.HttpRequest) -> func.HttpResponse:
    def call() -> func.HttpResponse:
        rt = runtime()
        policy = UrlPolicy.from_settings(rt.settings)
        # Validated before anything is fetched or written.
        request = parse_collection_request(json_body(req), policy)
        with TemplateFetcher(policy) as fetcher:
            result = bootstrap_collection(
                request,
                geocatalog=rt.geocatalog,
                planetary_computer=rt.planetary_computer,
                fetcher=fetcher,
            )
        return json_response(result.to_dict(), status=201 if result.created else 200)

    return handle_api(req, call)
