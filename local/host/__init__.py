"""A local Azure Functions host for the v2 Python programming model (Core Tools cannot be
installed here): HTTP, queue, timer and Event Grid triggers with the real host's semantics,
against Azurite. See local/host/host.py for the in-process API and `python -m local.host -h`."""

from local.host.clock import Clock, ManualClock, SystemClock
from local.host.host import DrainReport, DrainTimeout, HostStartError, LocalHost
from local.host.invocation import Invocation, Outcome
from local.host.queue_listener import QueueEvent

__all__ = [
    "Clock",
    "DrainReport",
    "DrainTimeout",
    "HostStartError",
    "Invocation",
    "LocalHost",
    "ManualClock",
    "Outcome",
    "QueueEvent",
    "SystemClock",
]
