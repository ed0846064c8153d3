"""Messages the service sends must be base64 on the wire: the Functions host decodes them so."""

from __future__ import annotations

import base64

from azure.storage.queue import QueueClient

from local.azurite import Azurite
from shared.messages import BatchMessage
from shared.queues import IngestQueues
from shared.settings import QueueNames, StorageSettings


def test_pipeline_messages_are_stored_base64_encoded(azurite: Azurite, unique_name: str) -> None:
    names = QueueNames(plan=f"{unique_name}-p", items=f"{unique_name}-i", status=f"{unique_name}-s")
    queues = IngestQueues(StorageSettings(connection_string=azurite.connection_string), names)
    queues.ensure()
    message = BatchMessage("job-1", "p00000000-000")
    queues.send(message)
    # A client without any message policy sees exactly what is stored.
    raw = QueueClient.from_connection_string(azurite.connection_string, names.items)
    stored = raw.receive_message()
    assert stored is not None
    assert base64.b64decode(stored.content).decode() == message.to_json()
