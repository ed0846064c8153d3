"""The GeoCatalog client: typed results, a small set of errors, tokens and the HTTP choke point."""

from shared.geocatalog.client import GeoCatalogClient
from shared.geocatalog.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    OperationTimeoutError,
    PermanentError,
    ThrottledError,
    TransientError,
    UpstreamError,
)
from shared.geocatalog.models import (
    IngestionSource,
    IngestionSourceSummary,
    Operation,
    OperationPage,
    OperationStatus,
    SasToken,
    is_valid_collection_id,
)

__all__ = [
    "ConflictError",
    "GeoCatalogClient",
    "IngestionSource",
    "IngestionSourceSummary",
    "InvalidRequestError",
    "NotFoundError",
    "Operation",
    "OperationPage",
    "OperationStatus",
    "OperationTimeoutError",
    "PermanentError",
    "SasToken",
    "ThrottledError",
    "TransientError",
    "UpstreamError",
    "is_valid_collection_id",
]
