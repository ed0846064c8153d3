"""infra/: the Bicep parses, its names and module contracts resolve, and it deploys what the service
needs: every app setting the service reads, keyless storage, the queues, the roles, FC1 on Python 3.11.

No Bicep compiler installs offline (the Bicep CLI is a .NET binary that `az bicep install` and npm's
bicep-node download at run time), so the files are parsed with pycep-parser, a Lark grammar of Bicep,
and checked here. Resource types, api-versions and property types are only checked by `bicep build`
and ARM: see infra/README.md, "What cannot be verified offline".
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pycep.transformer
import pytest
import yaml
from pycep import BicepParser
from pycep.models import BicepElement

from shared.ratelimit import instance_share
from shared.settings import (
    DEFAULT_API_VERSION,
    GEOCATALOG_SCOPE,
    CredentialMode,
    GeoCatalogSettings,
    PipelineSettings,
    QueueNames,
    Settings,
)

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = INFRA / "main.bicep"
FUNCTION = INFRA / "app" / "function.bicep"
STORAGE = INFRA / "app" / "storage.bicep"
RBAC = INFRA / "app" / "rbac.bicep"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))

# Built-in role definition ids (the same in every tenant), checked against published role
# definitions; see infra/README.md.
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
STORAGE_QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
STORAGE_TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
GEOCATALOG_ADMINISTRATOR = "c9c97b9c-105d-4bb5-a2a7-7d15666c2484"
# Lets its holder list the account keys: never wanted on a keyless account.
STORAGE_ACCOUNT_CONTRIBUTOR = "17d1049b-9a84-46fb-8f53-869881c3d3ab"

# Functions that Bicep has and pycep's table lacks.
EXTRA_FUNCTIONS = frozenset(
    {"deployer", "items", "map", "objectKeys", "toObject", "reduce", "sort"}
)


class _RecordingFunctions(dict[str, Any]):
    """pycep's function table, noting every name it does not know (a typo, or a missing function)."""

    def __init__(self, base: Mapping[str, Any]) -> None:
        super().__init__(base)
        self.unknown: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self.unknown.add(key)
        return super().get(key, default)


@cache
def _parser() -> BicepParser:
    return BicepParser(cache=False)


def _parse_text(text: str) -> tuple[dict[str, Any], frozenset[str]]:
    """The parsed file and the function names pycep did not recognise."""
    original = pycep.transformer.FUNCTIONS
    recording = _RecordingFunctions(original)
    pycep.transformer.FUNCTIONS = recording
    try:
        parsed = _parser().parse(text=text)
    finally:
        pycep.transformer.FUNCTIONS = original
    return dict(parsed), frozenset(recording.unknown)


@cache
def _parse(path: Path) -> dict[str, Any]:
    return _parse_text(path.read_text())[0]


def _unwrap(config: Any) -> dict[str, Any]:
    """The body of a resource or module, under its `if (...)` condition or `for` loop if any."""
    while isinstance(config, dict) and ("loop_type" in config or "condition" in config):
        config = config["config"]
    assert isinstance(config, dict)
    return config


def _chain(value: Any) -> list[Any]:
    """`a.b.c` as ["a", "b", "c"] (pycep nests property accessors to the right)."""
    if isinstance(value, dict) and value.get("operator", {}).get("type") == "property_accessor":
        operands = value["operator"]["operands"]
        return [*_chain(operands["operand_1"]), *_chain(operands["operand_2"])]
    return [value]


_INTERPOLATION = re.compile(r"\$\{([^{}]*)\}")
# A name inside an interpolation: not a property (after a dot), not a function (before a paren).
_NAME_IN_EXPRESSION = re.compile(r"(?<![.\w'])([A-Za-z_]\w*)\b(?!\s*\()")
_OUTPUT_IN_EXPRESSION = re.compile(r"(?<![.\w])([A-Za-z_]\w*)\.outputs\.([A-Za-z_]\w*)")


def _references(value: Any) -> Iterator[str]:
    """Every symbol an expression refers to (the leftmost name of each property access)."""
    if isinstance(value, BicepElement):
        yield str(value)
    elif isinstance(value, str):
        for expression in _INTERPOLATION.findall(value):
            yield from _NAME_IN_EXPRESSION.findall(expression)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)
    elif isinstance(value, dict):
        if value.get("operator", {}).get("type") == "property_accessor":
            yield from _references(_chain(value)[0])
            return
        for key, item in value.items():
            yield from _references(key)
            yield from _references(item)


def _loop_variables(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from _loop_variables(item)
    elif isinstance(value, dict):
        detail = value.get("loop_type", {}).get("detail", {}) if "loop_type" in value else {}
        yield from (str(v) for k, v in detail.items() if k in ("item_name", "index_name") and v)
        for item in value.values():
            yield from _loop_variables(item)


def _symbol_problems(parsed: Mapping[str, Any], unknown_functions: frozenset[str]) -> list[str]:
    declared = {
        *parsed.get("parameters", {}),
        *parsed.get("variables", {}),
        *parsed.get("resources", {}),
        *parsed.get("modules", {}),
        *_loop_variables(parsed),
    }
    problems = [
        f"unknown function {name}()" for name in sorted(unknown_functions - EXTRA_FUNCTIONS)
    ]
    for section in ("parameters", "variables", "resources", "modules", "outputs"):
        for name, element in parsed.get(section, {}).items():
            body = {k: v for k, v in element.items() if k != "decorators"}
            for ref in _references(body):
                if ref not in declared:
                    problems.append(f"{section[:-1]} {name} refers to undeclared {ref!r}")
    return problems


def _module_output_refs(value: Any) -> Iterator[tuple[str, str]]:
    """(module symbol, output name) for every `<symbol>.outputs.<name>` in an expression."""
    if isinstance(value, str):
        for expression in _INTERPOLATION.findall(value):
            yield from _OUTPUT_IN_EXPRESSION.findall(expression)
    elif isinstance(value, list):
        for item in value:
            yield from _module_output_refs(item)
    elif isinstance(value, dict):
        if value.get("operator", {}).get("type") == "property_accessor":
            chain = _chain(value)
            if len(chain) >= 3 and chain[1] == "outputs":
                yield str(chain[0]), str(chain[2])
        for item in value.values():
            yield from _module_output_refs(item)


def _module_problems(path: Path, parsed: Mapping[str, Any]) -> list[str]:
    """Each module's file exists, gets only parameters it declares and every one it requires, and
    every output read from it exists."""
    problems: list[str] = []
    targets: dict[str, dict[str, Any]] = {}
    for name, module in parsed.get("modules", {}).items():
        target = (path.parent / module["detail"]["path"]).resolve()
        if module["type"] != "local" or not target.is_file():
            problems.append(f"module {name}: no file {module['detail']['path']}")
            continue
        declared = _parse(target).get("parameters", {})
        passed = _unwrap(module["config"]).get("params", {})
        problems += [
            f"module {name}: {target.name} has no parameter {p}"
            for p in passed
            if p not in declared
        ]
        required = [p for p, spec in declared.items() if spec.get("default") is None]
        problems += [
            f"module {name}: required parameter {p} not passed" for p in required if p not in passed
        ]
        targets[name] = _parse(target)
    for module, output in _module_output_refs(dict(parsed)):
        if module in targets and output not in targets[module].get("outputs", {}):
            problems.append(f"{module}.outputs.{output}: the module has no such output")
    return problems


# ---- evaluation of the literal parts (defaults, names, settings) --------------------------------


class _Unevaluable(Exception):
    """The expression depends on something only known at deployment."""


def _symbols(parsed: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    symbols: dict[str, Any] = {}
    for name, spec in parsed.get("parameters", {}).items():
        if name in given:
            symbols[name] = given[name]
        elif spec.get("default") is not None:
            symbols[name] = spec["default"]
    symbols.update({name: spec["value"] for name, spec in parsed.get("variables", {}).items()})
    return symbols


def _evaluate(value: Any, symbols: Mapping[str, Any]) -> Any:
    if isinstance(value, BicepElement):
        if str(value) not in symbols:
            raise _Unevaluable(value)
        return _evaluate(symbols[str(value)], symbols)
    if isinstance(value, str):
        return _INTERPOLATION.sub(lambda m: str(_evaluate_text(m.group(1), symbols)), value)
    if isinstance(value, list):
        return [_evaluate(item, symbols) for item in value]
    if isinstance(value, dict):
        if "operator" in value:
            chain = _chain(value)
            if value["operator"]["type"] != "property_accessor" or not all(
                isinstance(c, str) for c in chain
            ):
                raise _Unevaluable(value)
            return _evaluate_text(".".join(chain), symbols)
        if "function" in value:
            function = value["function"]
            if function["type"] != "union":
                raise _Unevaluable(function["type"])
            merged: dict[str, Any] = {}
            for argument in function["parameters"].values():
                merged.update(_evaluate(argument, symbols))
            return merged
        return {key.strip("'"): _evaluate(item, symbols) for key, item in value.items()}
    return value


def _evaluate_text(expression: str, symbols: Mapping[str, Any]) -> Any:
    if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", expression.strip()):
        raise _Unevaluable(expression)
    head, *properties = expression.strip().split(".")
    result = _evaluate(BicepElement(head), symbols)
    for prop in properties:
        if not isinstance(result, dict) or prop not in result:
            raise _Unevaluable(expression)
        result = result[prop]
    return result


def _module_call(parsed: Mapping[str, Any], file_name: str) -> dict[str, Any]:
    [call] = [
        _unwrap(m["config"])
        for m in parsed["modules"].values()
        if m["detail"]["path"].endswith(file_name)
    ]
    return call


def _resources_of_type(parsed: Mapping[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {
        name: _unwrap(r["config"])
        for name, r in parsed.get("resources", {}).items()
        if r["type"] == type_ and not r["existing"]
    }


SAMPLE_GEOCATALOG_URL = "https://example.abc123.westeurope.geocatalog.spatio.azure.com"
# What ARM fills in at deployment, for the settings that are not literal.
DEPLOYED_VALUES = {
    "AzureWebJobsStorage__accountName": "stexample",
    "AzureWebJobsStorage__blobServiceUri": "https://stexample.blob.core.windows.net/",
    "AzureWebJobsStorage__queueServiceUri": "https://stexample.queue.core.windows.net/",
    "AzureWebJobsStorage__tableServiceUri": "https://stexample.table.core.windows.net/",
    "AzureWebJobsStorage__clientId": "00000000-0000-0000-0000-000000000001",
    "AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000001",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=<id>;IngestionEndpoint=<url>",
}


def _main_symbols() -> dict[str, Any]:
    return _symbols(_parse(MAIN), {"geocatalogUrl": SAMPLE_GEOCATALOG_URL})


def _service_settings() -> dict[str, Any]:
    """The app settings main.bicep hands to the function module, with the parameter defaults."""
    call = _module_call(_parse(MAIN), "function.bicep")
    return dict(_evaluate(call["params"]["appSettings"], _main_symbols()))


def _host_settings() -> dict[str, Any]:
    """The settings app/function.bicep adds; deployment-time values replaced by samples."""
    [config] = [
        r
        for r in _resources_of_type(_parse(FUNCTION), "Microsoft.Web/sites/config").values()
        if r["name"] == "appsettings"
    ]
    union = config["properties"]["function"]
    assert union["type"] == "union"
    assert union["parameters"]["arg_1"] == "appSettings", "the service's settings come first"
    settings: dict[str, Any] = {}
    symbols = _symbols(_parse(FUNCTION), {})
    for key, value in union["parameters"]["arg_2"].items():
        try:
            settings[key] = _evaluate(value, symbols)
        except _Unevaluable:
            # An interpolated string keeps its template; anything else gets a deployed sample.
            is_template = isinstance(value, str) and not isinstance(value, BicepElement)
            settings[key] = value if is_template else DEPLOYED_VALUES[key]
    return settings


def _app_settings() -> dict[str, Any]:
    service, host = _service_settings(), _host_settings()
    assert not service.keys() & host.keys(), "a setting is set twice"
    return {**service, **host}


class _RecordingEnv(dict[str, str]):
    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)


# ---- the checker itself catches mistakes -------------------------------------------------------


def test_checker_reports_a_syntax_error() -> None:
    with pytest.raises(Exception):  # noqa: B017, PT011 - lark's error types vary by failure
        _parse_text("resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: 'x'\n")


def test_checker_reports_undeclared_names_and_unknown_functions() -> None:
    parsed, unknown = _parse_text(
        "param location string\n"
        "var name = 'st${tokn}'\n"
        "output where string = locaton\n"
        "output id string = subscriptionResourceID('Microsoft.Authorization/roleDefinitions', name)\n"
    )
    problems = _symbol_problems(parsed, unknown)
    assert "variable name refers to undeclared 'tokn'" in problems
    assert "output where refers to undeclared 'locaton'" in problems
    assert "unknown function subscriptionResourceID()" in problems


def test_checker_reports_module_contract_breaks(tmp_path: Path) -> None:
    (tmp_path / "child.bicep").write_text(
        "param name string\nparam size int = 1\noutput id string = name\n"
    )
    main = tmp_path / "main.bicep"
    main.write_text(
        "module child 'child.bicep' = {\n  name: 'child'\n  params: {\n    sise: 2\n  }\n}\n"
        "output x string = child.outputs.identifier\n"
    )
    problems = _module_problems(main, _parse(main))
    assert "module child: child.bicep has no parameter sise" in problems
    assert "module child: required parameter name not passed" in problems
    assert "child.outputs.identifier: the module has no such output" in problems


# ---- every file parses, and its names resolve --------------------------------------------------


def test_infra_has_the_expected_files() -> None:
    names = {p.relative_to(INFRA).as_posix() for p in BICEP_FILES}
    assert {"main.bicep", "app/function.bicep", "app/storage.bicep", "app/rbac.bicep"} <= names


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_bicep_file_parses_and_its_names_resolve(path: Path) -> None:
    parsed, unknown = _parse_text(path.read_text())
    assert _symbol_problems(parsed, unknown) == []
    assert _module_problems(path, parsed) == []
    for name, resource in parsed.get("resources", {}).items():
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}(-preview)?", resource["api_version"]), name


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_symbol_names_are_unique(path: Path) -> None:
    # pycep keeps the last of two same-named declarations; the compiler rejects them.
    names = re.findall(r"^(?:param|var|resource|module)\s+(\w+)", path.read_text(), re.MULTILINE)
    assert len(names) == len(set(names))


# ---- the facts the deployment depends on -------------------------------------------------------


def test_main_is_subscription_scoped_with_the_outputs_azd_reads() -> None:
    parsed = _parse(MAIN)
    assert parsed["globals"]["scope"]["value"] == "subscription"
    assert {
        "AZURE_LOCATION",
        "AZURE_TENANT_ID",
        "AZURE_RESOURCE_GROUP",
        "AZURE_FUNCTION_NAME",
    } <= parsed["outputs"].keys()


def test_no_keys_secrets_or_key_based_connection_strings() -> None:
    forbidden = re.compile(
        r"listKeys|listAccountSas|listServiceSas|listSecrets|AccountKey=|SharedAccessKey"
        r"|DefaultEndpointsProtocol|InstrumentationKey=|@secure\(",
        re.IGNORECASE,
    )
    files = [*BICEP_FILES, INFRA / "main.parameters.json", ROOT / "azure.yaml"]
    hits = [f"{p.name}: {m.group(0)}" for p in files for m in forbidden.finditer(p.read_text())]
    assert hits == []


def test_storage_account_is_keyless_and_private() -> None:
    [account] = _resources_of_type(_parse(STORAGE), "Microsoft.Storage/storageAccounts").values()
    props = account["properties"]
    assert props["allowSharedKeyAccess"] is False
    assert props["allowBlobPublicAccess"] is False
    assert props["minimumTlsVersion"] == "TLS1_2"
    assert props["supportsHttpsTrafficOnly"] is True
    containers = _resources_of_type(
        _parse(STORAGE), "Microsoft.Storage/storageAccounts/blobServices/containers"
    )
    assert containers
    assert all(c["properties"]["publicAccess"] == "None" for c in containers.values())


def test_application_insights_accepts_only_entra_auth() -> None:
    parsed = _parse(INFRA / "app" / "monitoring.bicep")
    [component] = _resources_of_type(parsed, "Microsoft.Insights/components").values()
    assert component["properties"]["DisableLocalAuth"] is True
    assert "Authorization=AAD" in _host_settings()["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]


def test_function_app_is_flex_consumption_linux_python_311_with_its_identity() -> None:
    parsed = _parse(FUNCTION)
    [plan] = _resources_of_type(parsed, "Microsoft.Web/serverfarms").values()
    assert plan["sku"] == {"tier": "FlexConsumption", "name": "FC1"}
    assert plan["properties"]["reserved"] is True
    [site] = _resources_of_type(parsed, "Microsoft.Web/sites").values()
    assert "linux" in site["kind"].split(",")
    assert site["identity"]["type"] == "UserAssigned"
    config = site["properties"]["functionAppConfig"]
    assert config["deployment"]["storage"]["authentication"]["type"] == "UserAssignedIdentity"
    assert config["runtime"]["name"] == "python"
    version = _evaluate(
        config["runtime"]["version"],
        _symbols(parsed, _module_call(_parse(MAIN), "function.bicep")["params"]),
    )
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert version == "3.11"
    assert pyproject["project"]["requires-python"].startswith(f">={version}")


def test_every_setting_the_service_reads_is_set() -> None:
    settings = _app_settings()
    env = _RecordingEnv({k: str(v) for k, v in settings.items()})
    Settings.from_env(env)
    # The connection-string form of AzureWebJobsStorage is read first and deliberately absent: the
    # identity-based AzureWebJobsStorage__* settings take its place.
    missing = env.read - settings.keys() - {"AzureWebJobsStorage"}
    assert missing == set(), f"app settings the service reads but infra does not set: {missing}"
    assert "AzureWebJobsStorage" not in settings


def test_settings_deploy_the_services_defaults_and_its_azure_modes() -> None:
    settings = Settings.from_env({k: str(v) for k, v in _app_settings().items()})
    assert settings.geocatalog.url == SAMPLE_GEOCATALOG_URL
    assert settings.geocatalog.api_version == DEFAULT_API_VERSION
    assert settings.geocatalog.scope == GEOCATALOG_SCOPE
    assert settings.geocatalog.credential is CredentialMode.MANAGED_IDENTITY
    assert settings.geocatalog.managed_identity_client_id == DEPLOYED_VALUES["AZURE_CLIENT_ID"]
    defaults = GeoCatalogSettings(url="")
    assert (
        settings.geocatalog.subscription_calls_per_second == defaults.subscription_calls_per_second
    )
    assert settings.geocatalog.max_calls_per_second is None
    assert settings.geocatalog.timeout_seconds == defaults.timeout_seconds
    assert settings.local_mode is False
    assert settings.pipeline == PipelineSettings()
    assert settings.queues == QueueNames()
    default = Settings(geocatalog=defaults, storage=settings.storage)
    assert settings.jobs_table == default.jobs_table
    assert settings.payload_container == default.payload_container
    assert settings.planetary_computer_url == default.planetary_computer_url
    assert settings.allowed_source_hosts == default.allowed_source_hosts
    assert settings.storage.connection_string is None
    assert settings.storage.client_id == DEPLOYED_VALUES["AzureWebJobsStorage__clientId"]


def test_the_geocatalog_budget_is_divided_by_the_plans_maximum_instance_count() -> None:
    settings = Settings.from_env({k: str(v) for k, v in _app_settings().items()})
    call = _module_call(_parse(MAIN), "function.bicep")["params"]
    maximum = _evaluate(call["maximumInstanceCount"], _main_symbols())
    assert isinstance(maximum, int)
    assert settings.geocatalog.max_instances == maximum
    per_instance = settings.geocatalog.calls_per_second_per_instance
    assert per_instance == instance_share(
        settings.geocatalog.subscription_calls_per_second, maximum
    )
    # Every instance at its limit together stays inside the subscription's budget.
    assert per_instance * maximum <= settings.geocatalog.subscription_calls_per_second


def test_host_storage_settings_are_identity_based() -> None:
    settings = _host_settings()
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    for key in ("accountName", "clientId", "blobServiceUri", "queueServiceUri", "tableServiceUri"):
        assert f"AzureWebJobsStorage__{key}" in settings
    # Flex Consumption takes the runtime from functionAppConfig and rejects these.
    for key in (
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_EXTENSION_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
    ):
        assert key not in _app_settings()


def test_queues_table_and_payload_container_are_created_up_front() -> None:
    call = _module_call(_parse(MAIN), "storage.bicep")["params"]
    symbols = _main_symbols()
    settings = Settings.from_env({k: str(v) for k, v in _app_settings().items()})
    names = (settings.queues.plan, settings.queues.items, settings.queues.status)
    assert set(_evaluate(call["queueNames"], symbols)) == {
        *names,
        *(f"{name}-poison" for name in names),
    }
    assert _evaluate(call["tableNames"], symbols) == [settings.jobs_table]
    assert _evaluate(call["serviceContainerNames"], symbols) == [settings.payload_container]
    function_call = _module_call(_parse(MAIN), "function.bicep")["params"]
    assert call["deploymentContainerName"] == function_call["deploymentContainerName"]


def test_every_queue_a_trigger_binds_to_exists() -> None:
    settings = {k: str(v) for k, v in _app_settings().items()}
    call = _module_call(_parse(MAIN), "storage.bicep")["params"]
    created = set(_evaluate(call["queueNames"], _main_symbols()))
    bound = {
        name
        for module in (ROOT / "functions").glob("*.py")
        for name in re.findall(r"queue_name=\"([^\"]+)\"", module.read_text())
    }
    assert bound, "no queue bindings found in functions/"
    resolved = {re.sub(r"%(\w+)%", lambda m: settings[m.group(1)], name).lower() for name in bound}
    assert resolved <= created


def test_role_assignments_are_named_guid_scope_principal_role() -> None:
    seen = 0
    for path in BICEP_FILES:
        parsed = _parse(path)
        for name, ra in _resources_of_type(
            parsed, "Microsoft.Authorization/roleAssignments"
        ).items():
            seen += 1
            guid = ra["name"]["function"]
            assert guid["type"] == "guid", f"{path.name} {name}"
            scope, principal, role = guid["parameters"].values()
            assert _chain(scope) == [ra["scope"], "id"], f"{path.name} {name}: first guid part"
            # A resource's own identity is named by the resource's id: its principal id is known
            # only once deployed, and assignment names must be computable up front.
            own_identity = _chain(ra["properties"]["principalId"])[-2:] == [
                "identity",
                "principalId",
            ]
            assert principal == ra["properties"]["principalId"] or (
                own_identity and _chain(principal)[-1] == "id"
            ), f"{path.name} {name}"
            role_id = ra["properties"]["roleDefinitionId"]["function"]
            assert role_id["type"] == "subscription_resource_id"
            assert (
                role_id["parameters"]["resource_type"] == "Microsoft.Authorization/roleDefinitions"
            )
            assert role == role_id["parameters"]["resource_name_1"], f"{path.name} {name}"
            assert ra["properties"]["principalType"] == "ServicePrincipal"
    assert seen >= 3


def test_the_identity_gets_the_storage_monitoring_and_geocatalog_roles() -> None:
    roles = _evaluate(BicepElement("roles"), _symbols(_parse(RBAC), {}))
    assert set(roles.values()) == {
        STORAGE_BLOB_DATA_OWNER,
        STORAGE_QUEUE_DATA_CONTRIBUTOR,
        STORAGE_TABLE_DATA_CONTRIBUTOR,
        MONITORING_METRICS_PUBLISHER,
    }
    storage_roles = _evaluate(BicepElement("storageRoles"), _symbols(_parse(RBAC), {}))
    assert set(storage_roles) == {
        STORAGE_BLOB_DATA_OWNER,
        STORAGE_QUEUE_DATA_CONTRIBUTOR,
        STORAGE_TABLE_DATA_CONTRIBUTOR,
    }
    assert _main_symbols()["geocatalogRoleDefinitionId"] == GEOCATALOG_ADMINISTRATOR
    everything = "".join(p.read_text() for p in BICEP_FILES)
    assert STORAGE_ACCOUNT_CONTRIBUTOR not in everything


def test_parameters_file_matches_main_and_its_defaults() -> None:
    declared = _parse(MAIN)["parameters"]
    given = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert given.keys() <= declared.keys()
    required = {name for name, spec in declared.items() if spec.get("default") is None}
    assert required <= given.keys()
    for name, entry in given.items():
        match = re.fullmatch(r"\$\{(\w+)(?:=(.*))?\}", entry["value"])
        assert match, f"{name}: not an azd ${{VARIABLE}} reference"
        if match.group(2) is not None and declared[name].get("default") is not None:
            assert match.group(2) == str(declared[name]["default"]), name


def test_azure_yaml_deploys_the_repo_as_the_function_service() -> None:
    config = yaml.safe_load((ROOT / "azure.yaml").read_text())
    assert config["services"] == {"api": {"project": ".", "language": "python", "host": "function"}}
    assert config["infra"]["path"] == "infra"
    call = _module_call(_parse(MAIN), "function.bicep")["params"]
    assert call["serviceName"] in config["services"]  # the azd-service-name tag
