"""Clients for the Functions storage account, built from StorageSettings."""

from __future__ import annotations

import threading

from azure.core.credentials import TokenCredential
from azure.data.tables import TableClient, TableServiceClient
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient, ContainerClient
from azure.storage.queue import (
    QueueClient,
    QueueServiceClient,
    TextBase64DecodePolicy,
    TextBase64EncodePolicy,
)

from shared.settings import SettingsError, StorageSettings

_credential_lock = threading.Lock()
_credentials: dict[str | None, TokenCredential] = {}


def _credential(client_id: str | None) -> TokenCredential:
    with _credential_lock:
        if client_id not in _credentials:
            _credentials[client_id] = DefaultAzureCredential(managed_identity_client_id=client_id)
        return _credentials[client_id]


def _uri(value: str | None, kind: str) -> str:
    if value is None:
        raise SettingsError(f"AzureWebJobsStorage__{kind}ServiceUri", "is required but not set")
    return value


def queue_service(storage: StorageSettings) -> QueueServiceClient:
    # The Functions host reads and writes queue messages as base64 (host.json messageEncoding).
    encode, decode = TextBase64EncodePolicy(), TextBase64DecodePolicy()
    if storage.connection_string:
        return QueueServiceClient.from_connection_string(
            storage.connection_string, message_encode_policy=encode, message_decode_policy=decode
        )
    return QueueServiceClient(
        _uri(storage.queue_service_uri, "queue"),
        credential=_credential(storage.client_id),
        message_encode_policy=encode,
        message_decode_policy=decode,
    )


def queue_client(storage: StorageSettings, name: str) -> QueueClient:
    # get_queue_client() does not pass the service client's message policies on: without them
    # here, messages go out as raw text and the host (messageEncoding base64) poisons them unread.
    return queue_service(storage).get_queue_client(
        name,
        message_encode_policy=TextBase64EncodePolicy(),
        message_decode_policy=TextBase64DecodePolicy(),
    )


def table_service(storage: StorageSettings) -> TableServiceClient:
    if storage.connection_string:
        return TableServiceClient.from_connection_string(storage.connection_string)
    return TableServiceClient(
        _uri(storage.table_service_uri, "table"), credential=_credential(storage.client_id)
    )


def table_client(storage: StorageSettings, name: str) -> TableClient:
    return table_service(storage).get_table_client(name)


def blob_service(storage: StorageSettings) -> BlobServiceClient:
    if storage.connection_string:
        return BlobServiceClient.from_connection_string(storage.connection_string)
    return BlobServiceClient(
        _uri(storage.blob_service_uri, "blob"), credential=_credential(storage.client_id)
    )


def blob_container(storage: StorageSettings, name: str) -> ContainerClient:
    return blob_service(storage).get_container_client(name)
