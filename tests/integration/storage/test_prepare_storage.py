"""shared.startup.prepare_storage creates what the pipeline stores into, and can run again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from local.azurite import Azurite
from shared.settings import GeoCatalogSettings, QueueNames, Settings, StorageSettings
from shared.startup import main, prepare_storage


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


def test_by_hand_from_a_settings_file_under_the_environment(
    azurite: Azurite,
    unique_name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings_file = tmp_path / "local.settings.json"
    values = {
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",  # the environment's wins
        "GEOCATALOG_URL": "http://127.0.0.1:8700",
        "GEOCATALOG_CREDENTIAL": "none",
        "INGEST_PLAN_QUEUE": f"{unique_name}-p",
        "INGEST_ITEMS_QUEUE": f"{unique_name}-i",
        "INGEST_STATUS_QUEUE": f"{unique_name}-s",
        "INGEST_PAYLOAD_CONTAINER": f"{unique_name}-payloads",
    }
    settings_file.write_text(json.dumps({"Values": values}))
    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    for name in values:
        if name != "AzureWebJobsStorage":
            monkeypatch.delenv(name, raising=False)

    assert main([str(settings_file)]) == 0
    assert f"queues {unique_name}-p, {unique_name}-i, {unique_name}-s" in capsys.readouterr().out
    queues = QueueServiceClient.from_connection_string(azurite.connection_string)
    assert len(list(queues.list_queues(name_starts_with=unique_name))) == 6

    del values["INGEST_PLAN_QUEUE"]
    settings_file.write_text(json.dumps({"Values": values}))
    assert main([str(settings_file)]) == 2
    assert capsys.readouterr().out == (
        "cannot prepare storage: app setting INGEST_PLAN_QUEUE is required but not set\n"
    )
