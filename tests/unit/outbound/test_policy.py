"""The one rule for URLs fetched on a caller's behalf."""

from __future__ import annotations

import pytest

from shared.outbound import FetchPolicy, host_allowed
from shared.settings import GeoCatalogSettings, Settings, StorageSettings

POLICY = FetchPolicy.of(
    ["planetarycomputer.microsoft.com", ".blob.core.windows.net", "h.test:8443"]
)


@pytest.mark.parametrize(
    "url",
    [
        "https://planetarycomputer.microsoft.com/api/stac/v1",
        "HTTPS://PlanetaryComputer.Microsoft.com:443/x",
        "https://acct.blob.core.windows.net/c/catalog.json?sv=1&sig=x",
        "https://h.test:8443/x",
    ],
)
def test_allowed(url: str) -> None:
    assert POLICY.problem(url) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://planetarycomputer.microsoft.com/x", "must use https"),
        ("file:///etc/passwd", "must be an absolute URL"),
        ("ftp://planetarycomputer.microsoft.com/x", "must be an https URL"),
        ("/relative/path", "must be an absolute URL"),
        ("https://user:pw@planetarycomputer.microsoft.com/x", "must not carry credentials"),
        ("https://:8443/x", "must name a host"),
        ("https://[::1/x", "is not a valid URL"),
        ("https://h.test:99999/x", "is not a valid URL"),
        ("https://blob.core.windows.net/x", "host blob.core.windows.net is not in the allowed"),
        ("https://h.test/x", "host h.test is not in the allowed"),  # the entry names a port
        ("https://169.254.169.254/metadata", "host 169.254.169.254 is not in the allowed"),
    ],
)
def test_refused(url: str, problem: str) -> None:
    found = POLICY.problem(url)
    assert found is not None
    assert found.startswith(problem)


def test_suffix_entries_allow_subdomains_only() -> None:
    assert host_allowed("a.blob.core.windows.net", None, [".blob.core.windows.net"])
    assert host_allowed("a.blob.core.windows.net.", None, [".blob.core.windows.net"])
    assert not host_allowed("blob.core.windows.net", None, [".blob.core.windows.net"])
    assert not host_allowed("evilblob.core.windows.net", None, [".blob.core.windows.net"])
    assert not host_allowed("h.test", 1, ["", "  ", "[bad"])


def test_from_settings_allows_http_only_in_local_mode() -> None:
    def settings(local_mode: bool) -> Settings:
        return Settings(
            geocatalog=GeoCatalogSettings(url="http://127.0.0.1:8700"),
            storage=StorageSettings(connection_string="UseDevelopmentStorage=true"),
            allowed_source_hosts=("127.0.0.1",),
            local_mode=local_mode,
        )

    url = "http://127.0.0.1:8701/api/stac/v1"
    assert FetchPolicy.from_settings(settings(local_mode=True)).problem(url) is None
    assert FetchPolicy.from_settings(settings(local_mode=False)).problem(url) == "must use https"
