"""infra/ for storage events: off by default, and when on it provides every setting and role the
event path reads and needs (checked on the parsed Bicep, as tests/unit/test_infra.py does)."""

from __future__ import annotations

import re
from typing import Any

from shared.storage_events.blob_events import STORAGE_EVENT_TYPES
from shared.storage_events.settings import StorageEventSettings
from tests.unit.test_infra import (
    INFRA,
    MAIN,
    ROOT,
    _app_settings,
    _chain,
    _evaluate,
    _main_symbols,
    _module_call,
    _parse,
    _RecordingEnv,
    _resources_of_type,
    _symbols,
)

MODULE = INFRA / "app" / "storage-events.bicep"
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


def _role_of(assignment: dict[str, Any], symbols: dict[str, Any]) -> str:
    role = assignment["properties"]["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
    return str(_evaluate(role, symbols))


def test_storage_events_are_off_by_default() -> None:
    parsed = _parse(MAIN)
    params = parsed["parameters"]
    assert params["storageEventsEnabled"]["default"] is False
    [module] = [m for m in parsed["modules"].values() if m["detail"]["path"].endswith(MODULE.name)]
    assert module["config"]["condition"] == "storageEventsEnabled"
    # Off, the service sees no routes and ignores storage events.
    settings = StorageEventSettings.from_env({k: str(v) for k, v in _app_settings().items()})
    assert not settings.routes


def test_every_setting_the_event_path_reads_is_set_and_none_is_local_only() -> None:
    settings = _app_settings()
    env = _RecordingEnv({k: str(v) for k, v in settings.items()})
    StorageEventSettings.from_env(env)
    local_only = {"STORAGE_EVENTS_CONNECTION_STRING"}
    assert env.read - settings.keys() == local_only
    assert not local_only & settings.keys()
    defaults = StorageEventSettings()
    deployed = StorageEventSettings.from_env({k: str(v) for k, v in settings.items()})
    assert deployed.max_blob_bytes == defaults.max_blob_bytes
    assert deployed.sas_hours == defaults.sas_hours
    assert deployed.client_id == settings["AZURE_CLIENT_ID"]


def test_the_routes_and_the_geocatalog_identity_reach_the_app_and_the_module() -> None:
    parsed = _parse(MAIN)
    routes = '[{"account": "stdrop", "container": "stac", "collection": "col"}]'
    object_id = "33333333-3333-3333-3333-333333333333"
    symbols = _symbols(
        parsed,
        {
            "geocatalogUrl": "https://x.y.westeurope.geocatalog.spatio.azure.com",
            "storageEventsEnabled": True,
            "storageRoutes": routes,
            "storageEventsContainers": ["stac"],
            "geocatalogIdentityObjectId": object_id,
        },
    )
    settings = _evaluate(_module_call(parsed, "function.bicep")["params"]["appSettings"], symbols)
    assert settings["STORAGE_ROUTES"] == routes
    assert settings["GEOCATALOG_IDENTITY_OBJECT_ID"] == object_id
    events = StorageEventSettings.from_env({k: str(v) for k, v in settings.items()})
    assert [r.container for r in events.routes.routes] == ["stac"]
    assert events.geocatalog_identity_object_id == object_id
    call = _module_call(parsed, MODULE.name)["params"]
    assert _evaluate(call["geocatalogPrincipalId"], symbols) == object_id
    assert _evaluate(call["containers"], symbols) == ["stac"]
    assert _chain(call["appPrincipalId"])[-1] == "principalId"
    assert _chain(call["functionAppId"])[-1] == "id"
    assert _main_symbols()  # the defaults still evaluate


def test_the_module_grants_the_roles_the_event_path_needs() -> None:
    parsed = _parse(MODULE)
    symbols = _symbols(parsed, {"appPrincipalId": "app", "geocatalogPrincipalId": "gc"})
    assignments = _resources_of_type(parsed, "Microsoft.Authorization/roleAssignments")
    granted = {
        (str(a["properties"]["principalId"]), _chain(a["scope"])[-1], _role_of(a, symbols))
        for a in assignments.values()
    }
    # The app reads item blobs and asks for user-delegation keys on the watched account.
    assert ("appPrincipalId", "source", STORAGE_BLOB_DATA_READER) in granted
    # The GeoCatalog's identity reads assets through a BlobManagedIdentity source.
    assert ("geocatalogPrincipalId", "source", STORAGE_BLOB_DATA_READER) in granted
    # Event Grid writes dead letters with the topic's identity.
    assert any(
        scope == "deadLetterContainer" and role == STORAGE_BLOB_DATA_CONTRIBUTOR
        for _, scope, role in granted
    )


def test_the_subscription_delivers_storage_events_to_the_ingest_events_function() -> None:
    parsed = _parse(MODULE)
    [topic] = _resources_of_type(parsed, "Microsoft.EventGrid/systemTopics").values()
    assert topic["properties"]["topicType"] == "Microsoft.Storage.StorageAccounts"
    assert topic["identity"]["type"] == "SystemAssigned"
    [sub] = _resources_of_type(
        parsed, "Microsoft.EventGrid/systemTopics/eventSubscriptions"
    ).values()
    props = sub["properties"]
    destination = props["destination"]
    assert destination["endpointType"] == "AzureFunction"
    function = re.search(r"/functions/(\w+)", str(destination["properties"]["resourceId"]))
    assert function is not None
    functions_source = (ROOT / "functions" / "events.py").read_text()
    assert f'@bp.function_name("{function.group(1)}")' in functions_source
    assert set(props["filter"]["includedEventTypes"]) == STORAGE_EVENT_TYPES
    [containers] = props["filter"]["advancedFilters"]
    assert containers["key"] == "subject"
    assert containers["operatorType"] == "StringBeginsWith"
    assert props["retryPolicy"] == {"maxDeliveryAttempts": 30, "eventTimeToLiveInMinutes": 1440}
    dead = props["deadLetterWithResourceIdentity"]
    assert dead["deadLetterDestination"]["endpointType"] == "StorageBlob"
    assert dead["identity"]["type"] == "SystemAssigned"
