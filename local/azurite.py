"""Start and stop Azurite (the real Azure Storage emulator, from npm) for the local stack and tests.

Azurite is pinned in package.json and installed into node_modules by `make install`.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from local.ports import free_port, wait_for_port

REPO_ROOT = Path(__file__).resolve().parent.parent
ACCOUNT_NAME = "devstoreaccount1"
# Azurite's documented well-known development key; it protects nothing.
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


class AzuriteError(RuntimeError):
    pass


def azurite_binary() -> Path:
    candidate = REPO_ROOT / "node_modules" / ".bin" / "azurite"
    if candidate.exists():
        return candidate
    found = shutil.which("azurite")
    if found:
        return Path(found)
    raise AzuriteError(
        "Azurite is not installed: run `make install` (npm ci installs the pinned azurite@3.35.0)"
    )


def connection_string(host: str, blob_port: int, queue_port: int, table_port: int) -> str:
    # The explicit form: UseDevelopmentStorage=true always means the default ports.
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://{host}:{blob_port}/{ACCOUNT_NAME};"
        f"QueueEndpoint=http://{host}:{queue_port}/{ACCOUNT_NAME};"
        f"TableEndpoint=http://{host}:{table_port}/{ACCOUNT_NAME};"
    )


@dataclass
class Azurite:
    host: str
    blob_port: int
    queue_port: int
    table_port: int
    process: subprocess.Popen[bytes]
    _log: IO[bytes] | None = field(default=None, repr=False)
    _workdir: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    @property
    def connection_string(self) -> str:
        return connection_string(self.host, self.blob_port, self.queue_port, self.table_port)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        if self._log is not None:
            self._log.close()
        if self._workdir is not None:
            self._workdir.cleanup()

    def __enter__(self) -> Azurite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_azurite(
    *,
    host: str = "127.0.0.1",
    blob_port: int | None = None,
    queue_port: int | None = None,
    table_port: int | None = None,
    location: Path | None = None,
    extent_memory_limit_mb: int = 256,
    debug_log: Path | None = None,
    startup_timeout: float = 30.0,
) -> Azurite:
    """Start Azurite on the given ports (free ones when None) and wait until all three accept TCP.

    Without `location` the data lives in memory and is gone when the process stops.
    """
    ports = {
        "blob": blob_port or free_port(host),
        "queue": queue_port or free_port(host),
        "table": table_port or free_port(host),
    }
    # Azurite refuses --location with --inMemoryPersistence; a scratch cwd keeps its stray files
    # (e.g. __azurite_db_*__ metadata) out of the repository.
    workdir = tempfile.TemporaryDirectory(prefix="azurite-")
    where = Path(workdir.name)
    if location is None:
        persistence = ["--inMemoryPersistence", "--extentMemoryLimit", str(extent_memory_limit_mb)]
    else:
        location.mkdir(parents=True, exist_ok=True)
        persistence = ["--location", str(location)]
    args = [
        str(azurite_binary()),
        "--silent",
        *persistence,
        # The Python SDKs send x-ms-version newer than Azurite 3.35 knows.
        "--skipApiVersionCheck",
        "--loose",
        "--disableTelemetry",
        "--blobHost",
        host,
        "--queueHost",
        host,
        "--tableHost",
        host,
        "--blobPort",
        str(ports["blob"]),
        "--queuePort",
        str(ports["queue"]),
        "--tablePort",
        str(ports["table"]),
        # Node closes an idle connection after 5 s, and a pooled client connection idle just as
        # long races it: its next write (a POST or MERGE, which azure-core does not resend) fails
        # with RemoteDisconnected. Idle connections are kept far longer than any test pauses.
        *(f"--{service}KeepAliveTimeout=300" for service in ("blob", "queue", "table")),
    ]
    if debug_log is not None:
        args += ["--debug", str(debug_log)]
    log = tempfile.TemporaryFile(prefix="azurite-out-")  # noqa: SIM115 - closed by Azurite.stop
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=str(where))
    azurite = Azurite(
        host=host,
        blob_port=ports["blob"],
        queue_port=ports["queue"],
        table_port=ports["table"],
        process=process,
        _log=log,
        _workdir=workdir,
    )
    for port in ports.values():
        if not wait_for_port(host, port, startup_timeout) or process.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")[-2000:]
            azurite.stop()
            raise AzuriteError(f"Azurite did not start on {host} ports {ports}: {output}")
    return azurite
