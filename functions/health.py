"""GET /api/health: configuration and dependencies (anonymous, for load balancers and humans)."""

from __future__ import annotations

import azure.functions as func

from functions.http_responses import json_response
from shared.health import run_probes, service_probes
from shared.settings import current_settings

bp = func.Blueprint()


@bp.function_name("health")
@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    report = run_probes(service_probes(current_settings))
    return json_response(report.to_dict(), status=200 if report.ok else 503)
