"""Item and request payloads too large for a Table property, kept in a blob container."""

from __future__ import annotations

import contextlib
import hashlib

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import ContainerClient

# A Table string property holds at most 64 KiB of UTF-16, i.e. 32,768 characters.
MAX_INLINE_CHARS = 30_000


def request_ref(job_id: str) -> str:
    return f"jobs/{job_id}/request.json"


class PayloadStore:
    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    def ensure(self) -> None:
        with contextlib.suppress(ResourceExistsError):
            self._container.create_container()

    def put_item(self, job_id: str, item_id: str, text: str) -> str:
        # Item ids may hold characters that are awkward in blob names; a digest is stable.
        digest = hashlib.sha256(item_id.encode()).hexdigest()[:32]
        name = f"jobs/{job_id}/items/{digest}.json"
        self._put(name, text)
        return name

    def put_request(self, job_id: str, text: str) -> str:
        """The validated request body: the plan step re-reads its source from here (the job
        row keeps only a redacted description)."""
        name = request_ref(job_id)
        self._put(name, text)
        return name

    def get(self, ref: str) -> str:
        data: bytes = self._container.download_blob(ref).readall()
        return data.decode("utf-8")

    def delete_job(self, job_id: str) -> None:
        for blob in self._container.list_blobs(name_starts_with=f"jobs/{job_id}/"):
            self._container.delete_blob(blob.name)

    def _put(self, name: str, text: str) -> None:
        self._container.upload_blob(
            name, text.encode("utf-8"), overwrite=True, content_type="application/json"
        )
