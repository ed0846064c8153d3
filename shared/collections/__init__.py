"""Collections: create one from a template, or bring it up to date (the tutorial's steps 1, 2, 7).

- `template`: what of a template collection the GeoCatalog accepts, and its thumbnail.
- `template_fetch`: fetching the template and thumbnail under the service's URL policy.
- `render_config`: Planetary Computer mosaic info → render options, mosaics, tile settings.
- `bootstrap`: the orchestration (gather everything, then compare and write); `results`: what it did.
- `ensure`: an ingest job's `createCollection` (bootstrap only when the collection is missing).
- `errors`: the domain's own errors.

No HTTP answers here: the HTTP edge parses requests (`shared.collection_request`) and maps these
errors to problem JSON (`shared.problems`). The modules import the GeoCatalog and Planetary Computer
clients and `shared.settings`, never `shared.problems`, `shared.contract` or `functions`.
Nothing is re-exported here, so importing `shared.collections.errors` loads only the errors.
"""
