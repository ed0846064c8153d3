"""The Function App: one FunctionApp, one Blueprint per trigger family in functions/."""

import azure.functions as func

from functions import (
    collections_api,
    dead_letters,
    events,
    health,
    ingest_api,
    jobs_api,
    maintenance,
    openapi_api,
    pipeline_queues,
    ui_pages,
)
from shared import log_redaction

# Start-up, once per worker process (the local host imports this module too): urllib3 logs
# request lines with their query string, and a caller's URL may carry a SAS.
log_redaction.install()

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

for blueprint in (
    health.bp,
    collections_api.bp,
    ingest_api.bp,
    jobs_api.bp,
    pipeline_queues.bp,
    dead_letters.bp,
    maintenance.bp,
    events.bp,
    openapi_api.bp,
    ui_pages.bp,
):
    app.register_functions(blueprint)
