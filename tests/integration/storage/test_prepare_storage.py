"""shared.startup.prepare_storage creates what the pipeline stores into, and can run again."""

from __future__ import annotations

from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from local.azurite import Azurite
from shared.settings import GeoCatalogSettings, QueueNames, Settings, StorageSettings
from shared.startup import prepare_storage


def test_queues_poison_queues_table_and_container_are_created_once(
    azurite: Azurite, unique_name: str
) -> None:
    settings = Settings(
        geocatalog=GeoCatalogSettings(url="https://catalog.example"),
        storage=StorageSettings(connection_string=azurite.connection_string),
        queues=QueueNames(
            plan=f"{unique_name}-p", items=f"{unique_name}-i", status=f"{unique_name}-s"
        ),
        jobs_table=f"t{unique_name.replace('-', '')}",
        payload_container=f"{unique_name}-payloads",
    )
    prepare_storage(settings)
    prepare_storage(settings)  # already there: nothing to do, nothing raised

    queues = QueueServiceClient.from_connection_string(azurite.connection_string)
    names = {q.name for q in queues.list_queues(name_starts_with=unique_name)}
    assert names == {
        f"{unique_name}-{kind}{suffix}" for kind in "pis" for suffix in ("", "-poison")
    }
    tables = TableServiceClient.from_connection_string(azurite.connection_string)
    assert [t.name for t in tables.query_tables(f"TableName eq '{settings.jobs_table}'")] == [
        settings.jobs_table
    ]
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string)
    assert blobs.get_container_client(settings.payload_container).exists()
