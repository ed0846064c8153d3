"""App settings in the process environment: hosts of one process may stop in any order and
leave it as it was once the last of them is gone."""

from __future__ import annotations

import os

import pytest

from local.host.host import _EnvPatch

KEY = "LOCAL_HOST_ENV_PATCH_TEST"
OTHER = "LOCAL_HOST_ENV_PATCH_TEST_OTHER"


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY, raising=False)
    monkeypatch.setenv(OTHER, "before")


@pytest.mark.parametrize("first_to_stop", [0, 1])
def test_two_hosts_stopped_in_either_order_leave_the_environment_as_it_was(
    first_to_stop: int,
) -> None:
    hosts = [_EnvPatch(), _EnvPatch()]
    hosts[0].apply({KEY: "a", OTHER: "a"})
    hosts[1].apply({KEY: "b"})
    assert (os.environ[KEY], os.environ[OTHER]) == ("b", "a")

    hosts[first_to_stop].restore()
    # The one still running keeps what it set.
    still = hosts[1 - first_to_stop]
    assert os.environ[KEY] == still.values[KEY]
    assert os.environ[OTHER] == ("a" if first_to_stop == 1 else "before")

    still.restore()
    assert KEY not in os.environ
    assert os.environ[OTHER] == "before"


def test_restore_twice_and_restore_without_apply_change_nothing() -> None:
    patch = _EnvPatch()
    patch.restore()
    patch.apply({KEY: "x"})
    patch.restore()
    patch.restore()
    assert KEY not in os.environ
