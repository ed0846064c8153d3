"""Async Azure Storage clients for the local host, one per connection string.

Queue clients are built without an encode/decode policy: the host reads and writes the stored
text itself, so that it can apply host.json `messageEncoding` and recognise bodies that are not
valid base64 (which the SDK's decode policy would turn into an exception for the whole batch).
"""

from __future__ import annotations

from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueClient, QueueServiceClient


class StorageClients:
    def __init__(self) -> None:
        self._queue_services: dict[str, QueueServiceClient] = {}
        self._blob_services: dict[str, BlobServiceClient] = {}

    def queue_service(self, connection_string: str) -> QueueServiceClient:
        client = self._queue_services.get(connection_string)
        if client is None:
            client = QueueServiceClient.from_connection_string(connection_string)
            self._queue_services[connection_string] = client
        return client

    def queue(self, connection_string: str, queue_name: str) -> QueueClient:
        return self.queue_service(connection_string).get_queue_client(queue_name)

    def queue_endpoint(self, connection_string: str) -> str:
        """Identifies the storage account's queue service (two connection strings may name the
        same account), so a write can wake the listener of the same queue."""
        return self.queue_service(connection_string).url.rstrip("/").lower()

    def blob_service(self, connection_string: str) -> BlobServiceClient:
        client = self._blob_services.get(connection_string)
        if client is None:
            client = BlobServiceClient.from_connection_string(connection_string)
            self._blob_services[connection_string] = client
        return client

    async def close(self) -> None:
        for queue_client in self._queue_services.values():
            await queue_client.close()
        for blob_client in self._blob_services.values():
            await blob_client.close()
        self._queue_services.clear()
        self._blob_services.clear()
