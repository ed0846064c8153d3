"""The GeoCatalog client: typed results, a small set of errors, tokens and the HTTP choke point."""

from shared.geocatalog.client import GeoCatalogClient
from shared.geocatalog.errors import (
    ConflictError,
    GeoCatalogError,
    InvalidRequestError,
    NotFoundError,
    OperationTimeoutError,
    PermanentError,
    ThrottledError,
    TransientError,
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
    "GeoCatalogError",
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
    "is_valid_collection_id",
]
