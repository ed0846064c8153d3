"""GET /api/openapi.json: the OpenAPI 3.1 document of this API (anonymous, like health)."""

from __future__ import annotations

import azure.functions as func

from functions.http_responses import handle_api, json_response
from shared.openapi import openapi_document
from shared.settings import current_settings

bp = func.Blueprint()


@bp.function_name("openapi")
@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    # The document states this instance's limits (item ceiling, inline size cap).
    return handle_api(req, lambda: json_response(openapi_document(current_settings().pipeline)))
