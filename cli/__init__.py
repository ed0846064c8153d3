"""`geocatalog-ingest`: the operator's command line for a geocatalog-ingest app, over its HTTP API.

It needs nothing of the service's code: only the app's URL and, outside the local stack, a
function key.
"""
