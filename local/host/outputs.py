"""Queue output bindings: what a function set, written only after it succeeded."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import azure.functions as func
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from local.host.bindings import QueueTarget, ResolvedFunction
from local.host.encoding import encode_body
from local.host.host_config import MessageEncoding
from local.host.storage import StorageClients

log = logging.getLogger(__name__)


class HostOut(func.Out[Any]):
    """The worker's `Out`: holds one value; a second `set` replaces the first (only the last
    value reaches the host, in Azure too), which the local host points out in its log."""

    def __init__(self) -> None:
        self._value: Any = None
        self.set_count = 0

    def set(self, val: Any) -> None:
        self._value = val
        self.set_count += 1

    def get(self) -> Any:
        return self._value


def output_payloads(value: Any) -> list[str | bytes]:
    """The messages one output value becomes: one for a str or bytes, one per element for a list
    (or any other iterable), as the worker's `QueueMessageOutConverter` accepts them."""
    if value is None:
        return []
    if isinstance(value, str | bytes):
        return [value]
    if isinstance(value, func.QueueMessage):
        return [value.get_body()]
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise TypeError(
            f"a queue output accepts str, bytes, QueueMessage or a list of them, not "
            f"{type(value).__name__} (serialize it with json.dumps)"
        )
    payloads: list[str | bytes] = []
    for item in value:
        if isinstance(item, str | bytes):
            payloads.append(item)
        elif isinstance(item, func.QueueMessage):
            payloads.append(item.get_body())
        else:
            raise TypeError(
                f"invalid element of type {type(item).__name__} in a queue output list "
                "(str, bytes or QueueMessage expected)"
            )
    return payloads


class QueueWriter:
    """Sends messages the way the queue output binding does: queue created if missing (once per
    queue and host), bodies encoded with messageEncoding, then the watching listener is woken."""

    def __init__(
        self,
        clients: StorageClients,
        encoding: MessageEncoding,
        on_written: Callable[[str, str], None],
    ) -> None:
        self._clients = clients
        self._encoding = encoding
        self._on_written = on_written
        self._created: set[tuple[str, str]] = set()

    async def ensure_queue(self, target: QueueTarget) -> None:
        key = (target.connection_string, target.queue_name)
        if key in self._created:
            return
        with contextlib.suppress(ResourceExistsError):
            await self._clients.queue(*key).create_queue()
        self._created.add(key)

    async def send_text(self, target: QueueTarget, texts: Iterable[str]) -> int:
        """Store already-encoded texts (the poison queue copies stored text as it is)."""
        await self.ensure_queue(target)
        client = self._clients.queue(target.connection_string, target.queue_name)
        sent = 0
        for text in texts:
            try:
                await client.send_message(text)
            except ResourceNotFoundError:
                # Deleted behind our back since we created it: create again, once.
                self._created.discard((target.connection_string, target.queue_name))
                await self.ensure_queue(target)
                await client.send_message(text)
            sent += 1
        if sent:
            self._on_written(
                self._clients.queue_endpoint(target.connection_string), target.queue_name
            )
        return sent

    async def send(self, target: QueueTarget, payloads: Iterable[str | bytes]) -> int:
        return await self.send_text(target, [encode_body(p, self._encoding) for p in payloads])


OutputFlush = Callable[[ResolvedFunction, Mapping[str, HostOut], Any], Awaitable[None]]


def make_output_flush(writer: QueueWriter) -> OutputFlush:
    async def flush(function: ResolvedFunction, outs: Mapping[str, HostOut], returned: Any) -> None:
        # Convert everything first: a bad value fails the invocation before anything is sent.
        pending: list[tuple[QueueTarget, list[str | bytes]]] = []
        for output in function.outputs:
            if output.param == "$return":
                value = returned
            else:
                out = outs[output.param]
                if out.set_count > 1:
                    log.warning(
                        "%s set output %s %d times; only the last value is sent (as in Azure)",
                        function.name,
                        output.param,
                        out.set_count,
                    )
                value = out.get()
            pending.append((output.target, output_payloads(value)))
        for target, payloads in pending:
            if payloads:
                await writer.send(target, payloads)

    return flush
