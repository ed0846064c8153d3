"""Settings loading, precedence, binding expressions and connection resolution."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from local.host.settings import (
    AppSettings,
    BindingExpressionError,
    ConnectionSettingError,
    SettingsFileError,
    find_settings_file,
    function_disabled,
    merge_settings,
    read_settings_file,
    resolve_connection,
    resolve_expression,
)

REPO = Path(__file__).resolve().parents[3]


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_local_settings_json_wins_over_the_example(tmp_path: Path) -> None:
    _write(tmp_path / "local.settings.example.json", {"Values": {"A": "example"}})
    assert find_settings_file(tmp_path) == tmp_path / "local.settings.example.json"
    _write(tmp_path / "local.settings.json", {"Values": {"A": "real"}})
    assert find_settings_file(tmp_path) == tmp_path / "local.settings.json"
    assert read_settings_file(find_settings_file(tmp_path)).values == {"A": "real"}


def test_no_file_at_all_is_fine_but_a_missing_explicit_file_is_not(tmp_path: Path) -> None:
    assert find_settings_file(tmp_path) is None
    assert read_settings_file(None).values == {}
    with pytest.raises(SettingsFileError, match="does not exist"):
        find_settings_file(tmp_path, tmp_path / "nope.json")


def test_the_projects_example_settings_read() -> None:
    loaded = read_settings_file(REPO / "local.settings.example.json")
    assert loaded.values["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"
    assert loaded.local_http_port == 7071


def test_non_string_values_become_text_and_bad_shapes_are_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "s.json", {"Values": {"N": 5, "B": True, "S": "x", "Z": None}, "Host": {}}
    )
    assert read_settings_file(path).values == {"N": "5", "B": "true", "S": "x"}
    with pytest.raises(SettingsFileError, match=r"Values\.O"):
        read_settings_file(_write(tmp_path / "o.json", {"Values": {"O": {"nested": 1}}}))
    with pytest.raises(SettingsFileError, match="encrypted"):
        read_settings_file(_write(tmp_path / "e.json", {"IsEncrypted": True, "Values": {}}))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(SettingsFileError, match="not valid JSON"):
        read_settings_file(tmp_path / "bad.json")


def test_environment_wins_over_the_file_and_overrides_win_over_both() -> None:
    merged = merge_settings(
        environ={"A": "env", "B": "env"},
        file_values={"A": "file", "C": "file", "D": "file"},
        overrides={"B": "override", "D": "override"},
    )
    # A stays as the environment has it (not in the patch); C comes from the file.
    assert merged == {"C": "file", "B": "override", "D": "override"}


def test_app_settings_are_case_insensitive() -> None:
    settings = AppSettings({"AzureWebJobsStorage": "x", "Jobs__queueServiceUri": "https://q"})
    assert settings["azurewebjobsstorage"] == "x"
    assert "AZUREWEBJOBSSTORAGE" in settings
    assert settings.section_children("jobs") == {"queueserviceuri": "https://q"}


def test_binding_expressions_resolve_from_settings() -> None:
    settings = AppSettings({"ITEMS_QUEUE": "ingest-items", "Env": "dev"})
    assert resolve_expression("%ITEMS_QUEUE%", settings) == "ingest-items"
    assert resolve_expression("%ITEMS_QUEUE%-poison", settings) == "ingest-items-poison"
    assert resolve_expression("jobs-%env%", settings) == "jobs-dev"
    assert resolve_expression("plain", settings) == "plain"
    with pytest.raises(BindingExpressionError, match="'%MISSING%' does not resolve"):
        resolve_expression("%MISSING%", settings)


def test_connection_empty_name_means_azure_web_jobs_storage() -> None:
    settings = AppSettings({"AzureWebJobsStorage": "UseDevelopmentStorage=true"})
    assert resolve_connection("", settings) == "UseDevelopmentStorage=true"
    assert resolve_connection(None, settings) == "UseDevelopmentStorage=true"
    assert resolve_connection("AzureWebJobsStorage", settings) == "UseDevelopmentStorage=true"
    assert resolve_connection("Storage", settings) == "UseDevelopmentStorage=true"


def test_connection_prefixed_name_is_tried_first_as_in_the_webjobs_source() -> None:
    only_plain = AppSettings({"Jobs": "plain"})
    only_prefixed = AppSettings({"AzureWebJobsJobs": "prefixed"})
    both = AppSettings({"Jobs": "plain", "AzureWebJobsJobs": "prefixed"})
    assert resolve_connection("Jobs", only_plain) == "plain"
    assert resolve_connection("Jobs", only_prefixed) == "prefixed"
    assert resolve_connection("Jobs", both) == "prefixed"


def test_missing_empty_and_identity_connections_are_refused_with_a_reason() -> None:
    with pytest.raises(ConnectionSettingError, match="set app setting Jobs"):
        resolve_connection("Jobs", AppSettings({}))
    with pytest.raises(ConnectionSettingError, match="empty"):
        resolve_connection("Jobs", AppSettings({"Jobs": " "}))
    identity = AppSettings({"AzureWebJobsStorage__accountName": "stingest"})
    with pytest.raises(ConnectionSettingError, match=r"identity-based.*accountname"):
        resolve_connection("", identity)
    with pytest.raises(ConnectionSettingError, match="identity-based"):
        resolve_connection("Jobs", AppSettings({"Jobs__queueServiceUri": "https://x"}))


def test_disabled_setting() -> None:
    settings = AppSettings({"AzureWebJobs.tick.Disabled": "true", "AzureWebJobs.b.Disabled": "0"})
    assert function_disabled("tick", settings)
    assert not function_disabled("b", settings)
    assert not function_disabled("other", settings)


def test_from_environ_sees_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_HOST_TEST_SETTING", "yes")
    assert AppSettings.from_environ()["LOCAL_HOST_TEST_SETTING"] == "yes"
    assert os.environ["LOCAL_HOST_TEST_SETTING"] == "yes"
