"""Binding expressions and connections resolved against the app settings at start-up.

An error here puts one function "in error", as the real host does when indexing fails for it
(for example `'%QUEUE%' does not resolve to a value`); the other functions still run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from local.host.app_loader import (
    FunctionSpec,
    QueueTriggerSpec,
    TimerTriggerSpec,
)
from local.host.poison import normalize_queue_name
from local.host.schedule import NCrontabSchedule
from local.host.settings import AppSettings, resolve_connection, resolve_expression


@dataclass(frozen=True)
class QueueTarget:
    connection_string: str
    queue_name: str
    # Which setting supplied the connection, for messages (never the value).
    connection_name: str


@dataclass(frozen=True)
class ResolvedOutput:
    param: str
    target: QueueTarget


@dataclass(frozen=True)
class ResolvedFunction:
    spec: FunctionSpec
    outputs: tuple[ResolvedOutput, ...] = ()
    queue: QueueTarget | None = None
    schedule: NCrontabSchedule | None = None
    use_monitor: bool = False
    run_on_startup: bool = False

    @property
    def name(self) -> str:
        return self.spec.name


def _queue_target(queue_name: str, connection: str, settings: AppSettings) -> QueueTarget:
    name = normalize_queue_name(resolve_expression(queue_name, settings))
    return QueueTarget(
        connection_string=resolve_connection(connection, settings),
        queue_name=name,
        connection_name=connection or "AzureWebJobsStorage",
    )


def resolve_function(
    spec: FunctionSpec, settings: AppSettings, now: dt.datetime
) -> ResolvedFunction:
    """Raises ValueError (a settings, expression, queue name or schedule error) naming the fault."""
    outputs = tuple(
        ResolvedOutput(o.param, _queue_target(o.queue_name, o.connection, settings))
        for o in spec.queue_outputs
    )
    trigger = spec.trigger
    if isinstance(trigger, QueueTriggerSpec):
        queue = _queue_target(trigger.queue_name, trigger.connection, settings)
        return ResolvedFunction(spec, outputs, queue=queue)
    if isinstance(trigger, TimerTriggerSpec):
        schedule = NCrontabSchedule.parse(resolve_expression(trigger.schedule, settings))
        use_monitor = (
            trigger.use_monitor
            if trigger.use_monitor is not None
            else schedule.default_use_monitor(now)
        )
        return ResolvedFunction(
            spec,
            outputs,
            schedule=schedule,
            use_monitor=use_monitor,
            run_on_startup=trigger.run_on_startup,
        )
    return ResolvedFunction(spec, outputs)
