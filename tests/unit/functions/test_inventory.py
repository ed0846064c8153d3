"""Every function of the app: its trigger, route, methods, auth level, queue and connection.

A decorator or blueprint-registration mistake (a route typo, a queue bound to the wrong setting,
a function left unregistered, two functions with one name) fails here, without any service.
"""

from __future__ import annotations

import json
from typing import Any

import function_app
from tests.triggers import app_functions

STORAGE = "AzureWebJobsStorage"

EXPECTED: dict[str, dict[str, Any]] = {
    "health": {
        "type": "httpTrigger",
        "route": "health",
        "methods": ["GET"],
        "authLevel": "ANONYMOUS",
    },
    "openapi": {
        "type": "httpTrigger",
        "route": "openapi.json",
        "methods": ["GET"],
        "authLevel": "ANONYMOUS",
    },
    "create_collection": {
        "type": "httpTrigger",
        "route": "collections",
        "methods": ["POST"],
        "authLevel": "FUNCTION",
    },
    "ingest": {
        "type": "httpTrigger",
        "route": "ingest",
        "methods": ["POST"],
        "authLevel": "FUNCTION",
    },
    "list_jobs": {
        "type": "httpTrigger",
        "route": "jobs",
        "methods": ["GET"],
        "authLevel": "FUNCTION",
    },
    "get_job_errors": {
        "type": "httpTrigger",
        "route": "jobs/{jobId}/errors",
        "methods": ["GET"],
        "authLevel": "FUNCTION",
    },
    "jobs_page": {
        "type": "httpTrigger",
        "route": "ui/jobs",
        "methods": ["GET"],
        "authLevel": "FUNCTION",
    },
    "job_page": {
        "type": "httpTrigger",
        "route": "ui/jobs/{jobId}",
        "methods": ["GET"],
        "authLevel": "FUNCTION",
    },
    "get_job": {
        "type": "httpTrigger",
        "route": "jobs/{jobId}",
        "methods": ["GET"],
        "authLevel": "FUNCTION",
    },
    "list_job_items": {
        "type": "httpTrigger",
        "route": "jobs/{jobId}/items",
        "methods": ["GET"],
        "authLevel": "FUNCTION",
    },
    "retry_job": {
        "type": "httpTrigger",
        "route": "jobs/{jobId}/retry",
        "methods": ["POST"],
        "authLevel": "FUNCTION",
    },
    "cancel_job": {
        "type": "httpTrigger",
        "route": "jobs/{jobId}/cancel",
        "methods": ["POST"],
        "authLevel": "FUNCTION",
    },
    "ingest_plan": {
        "type": "queueTrigger",
        "queueName": "%INGEST_PLAN_QUEUE%",
        "connection": STORAGE,
    },
    "ingest_items": {
        "type": "queueTrigger",
        "queueName": "%INGEST_ITEMS_QUEUE%",
        "connection": STORAGE,
    },
    "ingest_status": {
        "type": "queueTrigger",
        "queueName": "%INGEST_STATUS_QUEUE%",
        "connection": STORAGE,
    },
    "ingest_plan_poison": {
        "type": "queueTrigger",
        "queueName": "%INGEST_PLAN_QUEUE%-poison",
        "connection": STORAGE,
    },
    "ingest_items_poison": {
        "type": "queueTrigger",
        "queueName": "%INGEST_ITEMS_QUEUE%-poison",
        "connection": STORAGE,
    },
    "ingest_status_poison": {
        "type": "queueTrigger",
        "queueName": "%INGEST_STATUS_QUEUE%-poison",
        "connection": STORAGE,
    },
    "maintenance": {
        "type": "timerTrigger",
        "schedule": "0 */5 * * * *",
        "runOnStartup": False,
        "useMonitor": True,
    },
    "ingest_events": {"type": "eventGridTrigger"},
}


def _triggers() -> dict[str, dict[str, Any]]:
    found = {}
    for function in app_functions(function_app.app):
        bindings = json.loads(function.get_function_json())["bindings"]
        trigger = next(b for b in bindings if b["type"].endswith("Trigger"))
        found[function.get_function_name()] = trigger
    return found


def test_the_app_has_exactly_the_expected_functions() -> None:
    assert sorted(_triggers()) == sorted(EXPECTED)


def test_each_function_has_its_trigger_settings() -> None:
    triggers = _triggers()
    for name, expected in EXPECTED.items():
        actual = {key: triggers[name].get(key) for key in expected}
        assert actual == expected, name


def test_http_functions_return_their_response_and_nothing_else_is_bound() -> None:
    for function in app_functions(function_app.app):
        bindings = json.loads(function.get_function_json())["bindings"]
        outputs = [b for b in bindings if b["direction"] == "OUT"]
        if function.is_http_function():
            assert outputs == [{"direction": "OUT", "type": "http", "name": "$return"}]
        else:
            # Messages are sent by the service layer (delays need the SDK), never by bindings.
            assert outputs == [], function.get_function_name()


def test_every_queue_setting_the_triggers_name_is_in_the_example_settings() -> None:
    from pathlib import Path

    values = json.loads(
        (Path(__file__).resolve().parents[3] / "local.settings.example.json").read_text()
    )["Values"]
    for trigger in _triggers().values():
        queue = trigger.get("queueName")
        if queue:
            setting = queue.split("%")[1]
            assert values.get(setting), setting
