"""Load a v2-model function app and describe each function in terms the host acts on."""

from __future__ import annotations

import importlib
import inspect
import logging
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions.decorators.core import AuthLevel, BindingDirection
from azure.functions.decorators.eventgrid import EventGridTrigger
from azure.functions.decorators.function_app import Function, FunctionRegister
from azure.functions.decorators.http import HttpTrigger
from azure.functions.decorators.queue import QueueOutput, QueueTrigger
from azure.functions.decorators.timer import TimerTrigger

log = logging.getLogger(__name__)


class AppLoadError(RuntimeError):
    """The app module cannot be imported or indexed (the whole host fails, as in Azure)."""


class TriggerKind(StrEnum):
    HTTP = "httpTrigger"
    QUEUE = "queueTrigger"
    TIMER = "timerTrigger"
    EVENT_GRID = "eventGridTrigger"


@dataclass(frozen=True)
class HttpTriggerSpec:
    route: str
    methods: tuple[str, ...] | None
    auth_level: str


@dataclass(frozen=True)
class QueueTriggerSpec:
    # As written in the decorator: may hold %SETTING% expressions.
    queue_name: str
    connection: str


@dataclass(frozen=True)
class TimerTriggerSpec:
    schedule: str
    run_on_startup: bool
    use_monitor: bool | None


@dataclass(frozen=True)
class EventGridTriggerSpec:
    pass


TriggerSpec = HttpTriggerSpec | QueueTriggerSpec | TimerTriggerSpec | EventGridTriggerSpec


@dataclass(frozen=True)
class QueueOutputSpec:
    param: str
    queue_name: str
    connection: str


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    kind: TriggerKind
    trigger: TriggerSpec
    trigger_param: str
    user_function: Callable[..., Any]
    is_async: bool
    queue_outputs: tuple[QueueOutputSpec, ...] = ()
    # The parameter that receives the invocation context, when the function declares one.
    context_param: str | None = None
    # What the queue trigger parameter is annotated as: the worker passes str or bytes bodies
    # to a parameter annotated so, and the QueueMessage otherwise.
    trigger_annotation: type | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def return_output(self) -> QueueOutputSpec | None:
        return next((o for o in self.queue_outputs if o.param == "$return"), None)


@dataclass(frozen=True)
class LoadedApp:
    module_name: str
    app: FunctionRegister
    functions: dict[str, FunctionSpec]
    # Functions the host cannot run, with the reason (the host reports them, as Azure does for
    # functions "in error").
    errors: dict[str, str]


def import_app(module_name: str, project_dir: Path) -> tuple[Any, FunctionRegister]:
    """Import the module and find its FunctionApp (any FunctionRegister among its globals)."""
    root = str(project_dir.resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise AppLoadError(f"importing {module_name} failed: {type(exc).__name__}: {exc}") from exc
    apps = [v for v in vars(module).values() if isinstance(v, FunctionRegister)]
    if len(apps) != 1:
        raise AppLoadError(
            f"{module_name} must define exactly one FunctionApp at module level, found {len(apps)}"
        )
    return module, apps[0]


def enumerate_functions(app: FunctionRegister) -> list[Function]:
    """`app.get_functions()`, repeatable: azure-functions 1.26 keeps the names it has seen on the
    app and raises "not unique" on a second call, which only ever happens outside Azure."""
    remembered = app.functions_bindings
    app.functions_bindings = None
    try:
        return app.get_functions()
    except ValueError as exc:
        raise AppLoadError(str(exc)) from exc
    finally:
        app.functions_bindings = remembered


def _annotations(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - unresolvable hints only lose the str/bytes distinction
        return {}


def _methods(trigger: HttpTrigger) -> tuple[str, ...] | None:
    if not trigger.methods:
        return None
    return tuple(str(getattr(m, "value", m)).upper() for m in trigger.methods)


def _auth_level(trigger: HttpTrigger) -> str:
    level = trigger.auth_level
    if isinstance(level, AuthLevel):
        return str(level.value)
    return str(level or "function").lower()


def describe(function: Function) -> FunctionSpec:
    """A FunctionSpec, or ValueError naming what the local host cannot run."""
    name = function.get_function_name() or function.get_user_function().__name__
    trigger = function.get_trigger()
    user_function = function.get_user_function()
    spec_trigger: TriggerSpec
    if isinstance(trigger, HttpTrigger):
        kind = TriggerKind.HTTP
        spec_trigger = HttpTriggerSpec(
            route=trigger.route or name, methods=_methods(trigger), auth_level=_auth_level(trigger)
        )
    elif isinstance(trigger, QueueTrigger):
        kind = TriggerKind.QUEUE
        spec_trigger = QueueTriggerSpec(trigger.queue_name, trigger.connection or "")
    elif isinstance(trigger, TimerTrigger):
        kind = TriggerKind.TIMER
        spec_trigger = TimerTriggerSpec(
            trigger.schedule, bool(trigger.run_on_startup), trigger.use_monitor
        )
    elif isinstance(trigger, EventGridTrigger):
        kind = TriggerKind.EVENT_GRID
        spec_trigger = EventGridTriggerSpec()
    else:
        kind_name = trigger.get_binding_name() if trigger else "none"
        raise ValueError(f"trigger type {kind_name!r} is not supported by the local host")
    outputs: list[QueueOutputSpec] = []
    bound = {trigger.name}
    for binding in function.get_bindings():
        if binding is trigger:
            continue
        direction = BindingDirection(binding.direction).name
        binding_type = binding.get_binding_name()
        if isinstance(binding, QueueOutput):
            outputs.append(QueueOutputSpec(binding.name, binding.queue_name, binding.connection))
        elif binding_type == "http" and kind is TriggerKind.HTTP and direction == "OUT":
            pass
        else:
            raise ValueError(
                f"{direction.lower()} binding {binding.name!r} of type {binding_type!r} is not "
                "supported by the local host (queue outputs and HTTP responses are)"
            )
        bound.add(binding.name)
    parameters = inspect.signature(user_function).parameters
    context_param = None
    for param in parameters:
        if param in bound:
            continue
        if param == "context":
            context_param = param
            continue
        # The worker refuses such a function at indexing time.
        raise ValueError(
            f"parameter {param!r} of {name} has no binding (declared in Python but not bound)"
        )
    missing = sorted(b for b in bound if b != "$return" and b not in parameters)
    if missing:
        raise ValueError(f"binding(s) {missing} of {name} have no parameter")
    hints = _annotations(user_function)
    annotation = hints.get(trigger.name)
    settings = {}
    retry = function.get_settings_dict("retry_policy")
    if retry:
        settings["retry_policy"] = retry
    return FunctionSpec(
        name=name,
        kind=kind,
        trigger=spec_trigger,
        trigger_param=trigger.name,
        user_function=user_function,
        is_async=inspect.iscoroutinefunction(user_function),
        queue_outputs=tuple(outputs),
        context_param=context_param,
        trigger_annotation=annotation if isinstance(annotation, type) else None,
        settings=settings,
    )


def load_app(module_name: str, project_dir: Path) -> LoadedApp:
    _, app = import_app(module_name, project_dir)
    functions: dict[str, FunctionSpec] = {}
    errors: dict[str, str] = {}
    for function in enumerate_functions(app):
        name = function.get_function_name() or "?"
        try:
            functions[name] = describe(function)
        except ValueError as exc:
            errors[name] = str(exc)
    return LoadedApp(module_name=module_name, app=app, functions=functions, errors=errors)


__all__ = [
    "AppLoadError",
    "EventGridTriggerSpec",
    "FunctionSpec",
    "HttpTriggerSpec",
    "LoadedApp",
    "QueueOutputSpec",
    "QueueTriggerSpec",
    "TimerTriggerSpec",
    "TriggerKind",
    "func",
    "load_app",
]
