"""Error shapes: Azure Core JSON errors for the API, Azure Storage XML errors for managed storage."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from xml.sax.saxutils import escape


class ApiError(Exception):
    """A synchronous error answered as `{"error": {"code", "message"}}`."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def bad_request(message: str, code: str = "BadRequest") -> ApiError:
    return ApiError(400, code, message)


def collection_not_found(collection_id: str) -> ApiError:
    # Message captured from the live service (docs/reference/geocatalog-api.md §3).
    return ApiError(
        404,
        "ResourceNotFound",
        f"Collection '{collection_id}' not found. Please verify the collection ID and try again.",
    )


def not_found(message: str) -> ApiError:
    return ApiError(404, "ResourceNotFound", message)


class OperationError(StrEnum):
    """Error codes that end an operation (documented ingestion error codes)."""

    ITEM_ALREADY_EXISTS = "ItemAlreadyExistsInCollection"
    NO_RECORDS_TO_DELETE = "NoRecordsToDelete"
    NO_RECORDS_TO_UPDATE = "NoRecordsToUpdate"
    NO_RECORDS_TO_PATCH = "NoRecordsToPatch"
    COLLECTION_DOES_NOT_EXIST = "CollectionDoesNotExist"
    RESOURCE_FORBIDDEN = "IngestionResourceForbidden"
    AUTHENTICATION_FAILED = "IngestionAuthenticationFailed"
    PUBLIC_ACCESS_RESTRICTED = "PublicAccessRestricted"
    RESOURCE_NOT_FOUND = "IngestionResourceUriNotFound"
    CONNECTION_FAILED = "IngestionResourceConnectionFailed"
    INVALID_ASSET_HREF = "InvalidAssetHref"
    INVALID_INPUT = "InvalidInputData"
    STAC_VALIDATION_FAILED = "StacValidationFailed"
    INVALID_CATALOG = "InvalidStacCatalog"
    BATCH_ERRORS = "ErrorsInBatchOperation"
    COLLECTION_SIZE_EXCEEDED = "PostItemCollectionSizeExceeded"
    INTERMITTENT = "InternalIntermitentError"  # sic: the service's own spelling
    CANCELED = "CanceledOperation"
    GENERIC = "GenericIngestionError"
    # Not in the documented list: the emulator's choices for collection and ingestion operations.
    COLLECTION_ALREADY_EXISTS = "CollectionAlreadyExists"
    INGESTION_IN_PROGRESS = "IngestionRunInProgress"


class BlobError(Exception):
    """An Azure Storage error for a managed-storage read, answered as XML."""

    def __init__(self, status: int, code: str, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail

    def xml(self, request_id: str, time_text: str) -> bytes:
        detail = (
            f"<AuthenticationErrorDetail>{escape(self.detail)}</AuthenticationErrorDetail>"
            if self.detail
            else ""
        )
        return (
            '\ufeff<?xml version="1.0" encoding="utf-8"?>'
            f"<Error><Code>{escape(self.code)}</Code>"
            f"<Message>{escape(self.message)}\nRequestId:{request_id}\nTime:{time_text}</Message>"
            f"{detail}</Error>"
        ).encode()
