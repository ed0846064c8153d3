"""GET /api/health: configuration and dependencies (anonymous, for load balancers and humans)."""

from __future__ import annotations

import azure.functions as func

from functions.http_responses import json_response
from shared.health import run_probes, service_probes
from shared.runtime import runtime
from shared.settings import current_settings
from shared.storage_events.health import routes_probe
from shared.storage_events.settings import StorageEventSettings

bp = func.Blueprint()


@bp.function_name("health")
@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    probes = service_probes(current_settings)
    probes["storageRoutes"] = routes_probe(
        lambda: StorageEventSettings.from_env().routes, lambda: runtime().geocatalog
    )
    report = run_probes(probes)
    return json_response(report.to_dict(), status=200 if report.ok else 503)
