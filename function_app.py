"""The Function App: one FunctionApp, one Blueprint per trigger family in functions/."""

import azure.functions as func

from functions import collections_api, health

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

for blueprint in (health.bp, collections_api.bp):
    app.register_functions(blueprint)
