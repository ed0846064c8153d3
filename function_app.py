"""The Function App: one FunctionApp, one Blueprint per trigger family in functions/.

Importing it is the worker's start: `shared.startup.start()` is every process-wide effect the
service has (log levels, the settings check); nothing else happens as a side effect of first use.
"""

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
from shared import startup

startup.start()

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
