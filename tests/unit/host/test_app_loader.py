"""Indexing a v2 app: what the local host runs and what it refuses."""

from __future__ import annotations

import azure.functions as func
import pytest

from local.host.app_loader import (
    FunctionSpec,
    HttpTriggerSpec,
    QueueTriggerSpec,
    TimerTriggerSpec,
    TriggerKind,
    describe,
    enumerate_functions,
)


def _app() -> func.FunctionApp:
    return func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


def _only(app: func.FunctionApp) -> FunctionSpec:
    (function,) = enumerate_functions(app)
    return describe(function)


def test_http_function_default_route_methods_and_auth() -> None:
    app = _app()

    @app.route()
    def hello(req: func.HttpRequest) -> str:
        return "hi"

    spec = _only(app)
    assert spec.kind is TriggerKind.HTTP
    assert spec.trigger == HttpTriggerSpec(route="hello", methods=None, auth_level="function")


def test_queue_function_with_outputs_context_and_str_body() -> None:
    app = _app()

    @app.queue_trigger(arg_name="msg", queue_name="%Q%", connection="")
    @app.queue_output(arg_name="out", queue_name="next", connection="Jobs")
    async def step(msg: str, out: func.Out[str], context: func.Context) -> None:
        return None

    spec = _only(app)
    assert spec.trigger == QueueTriggerSpec(queue_name="%Q%", connection="")
    assert [(o.param, o.queue_name, o.connection) for o in spec.queue_outputs] == [
        ("out", "next", "Jobs")
    ]
    assert spec.context_param == "context"
    assert spec.trigger_annotation is str
    assert spec.is_async


def test_timer_and_function_name() -> None:
    app = _app()

    @app.function_name("renew_sources")
    @app.timer_trigger(arg_name="timer", schedule="0 */5 * * * *", run_on_startup=True)
    def renew(timer: func.TimerRequest) -> None:
        return None

    spec = _only(app)
    assert spec.name == "renew_sources"
    assert spec.trigger == TimerTriggerSpec("0 */5 * * * *", True, None)


def test_unsupported_bindings_and_unbound_parameters_are_refused() -> None:
    app = _app()

    @app.queue_trigger(arg_name="msg", queue_name="q", connection="")
    @app.blob_output(arg_name="blob", path="c/{id}", connection="")
    def writes_blob(msg: func.QueueMessage, blob: func.Out[str]) -> None:
        return None

    with pytest.raises(ValueError, match="type 'blob' is not supported"):
        _only(app)

    app2 = _app()

    @app2.queue_trigger(arg_name="msg", queue_name="q", connection="")
    def extra(msg: func.QueueMessage, other: str) -> None:
        return None

    with pytest.raises(ValueError, match="parameter 'other'"):
        _only(app2)
