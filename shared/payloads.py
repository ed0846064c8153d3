"""Request bodies and batches of items, kept in a blob container (the job table keeps states)."""

from __future__ import annotations

import contextlib
import hashlib

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob import ContainerClient


def request_ref(job_id: str) -> str:
    return f"jobs/{job_id}/request.json"


class PayloadStore:
    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    def ensure(self) -> None:
        with contextlib.suppress(ResourceExistsError):
            self._container.create_container()

    def put_batch(self, job_id: str, batch: str, text: str) -> str:
        """A batch's items (a JSON text per line, in batch order), named by their content: a
        redelivered
        unit of work that reads other items (a live search) writes another blob, and the batch
        keeps pointing at the one its rows were registered with."""
        digest = hashlib.sha256(text.encode()).hexdigest()[:32]
        name = f"jobs/{job_id}/batches/{batch}-{digest}.ndjson"
        self._put(name, text)
        return name

    def put_request(self, job_id: str, text: str) -> str:
        """The validated request body: the plan step re-reads its source from here (the job
        row keeps only a redacted description)."""
        name = request_ref(job_id)
        self._put(name, text)
        return name

    def get(self, ref: str) -> str:
        return self.get_bytes(ref).decode("utf-8")

    def get_bytes(self, ref: str) -> bytes:
        data: bytes = self._container.download_blob(ref).readall()
        return data

    def get_versioned(self, ref: str) -> tuple[bytes, str] | None:
        """A blob's bytes and its ETag, or None if there is none."""
        try:
            download = self._container.download_blob(ref)
        except ResourceNotFoundError:
            return None
        return download.readall(), str(download.properties.etag)

    def put_versioned(self, ref: str, data: bytes, etag: str | None) -> bool:
        """Write a blob if it is still the version read (`etag`; None: if there is none yet).
        False if another writer got there first."""
        try:
            if etag is None:
                self._container.upload_blob(ref, data, overwrite=False)
            else:
                self._container.upload_blob(
                    ref,
                    data,
                    overwrite=True,
                    etag=etag,
                    match_condition=MatchConditions.IfNotModified,
                )
        except (ResourceExistsError, ResourceModifiedError):
            return False
        return True

    def delete_job(self, job_id: str) -> None:
        for blob in self._container.list_blobs(name_starts_with=f"jobs/{job_id}/"):
            self._container.delete_blob(blob.name)

    def _put(self, name: str, text: str) -> None:
        self._container.upload_blob(
            name, text.encode("utf-8"), overwrite=True, content_type="application/json"
        )
