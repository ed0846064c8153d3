"""`createCollection` of an ingest job: bootstrap the target from its template when it is missing.

An existing collection is left as its owner configured it (POST /api/collections is the way to
bring one up to date). Errors are those of `bootstrap_collection`.
"""

from __future__ import annotations

from shared.collections.bootstrap import (
    BootstrapRequest,
    CollectionAdmin,
    MosaicInfoSource,
    bootstrap_collection,
)
from shared.collections.template_fetch import TemplateFetcher, UrlPolicy
from shared.geocatalog.errors import NotFoundError


def ensure_collection(
    collection_id: str,
    template_url: str,
    *,
    geocatalog: CollectionAdmin,
    planetary_computer: MosaicInfoSource,
    policy: UrlPolicy,
) -> None:
    try:
        geocatalog.get_collection(collection_id)
        return
    except NotFoundError:
        pass
    with TemplateFetcher(policy) as fetcher:
        bootstrap_collection(
            BootstrapRequest(collection_id, template_url),
            geocatalog=geocatalog,
            planetary_computer=planetary_computer,
            fetcher=fetcher,
        )


__all__ = ["ensure_collection"]
