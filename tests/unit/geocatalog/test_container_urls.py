"""One rule for when two container URLs name the same ingestion-source container."""

from __future__ import annotations

import pytest

from shared.geocatalog.container_urls import container_key

CONTAINER = "https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2"


@pytest.mark.parametrize(
    "spelling",
    [
        CONTAINER,
        "HTTPS://Sentinel2L2A01.Blob.Core.Windows.Net/Sentinel2-L2",  # case
        CONTAINER + "/",  # trailing slash
        "https://sentinel2l2a01.blob.core.windows.net:443/sentinel2-l2",  # default port
        CONTAINER + "?sv=2021-06-08&sr=c&sp=rl&sig=placeholder",  # a SAS query
        CONTAINER + "/#fragment",
        f"  {CONTAINER}  ",
    ],
)
def test_spellings_of_one_container_share_a_key(spelling: str) -> None:
    assert container_key(spelling) == container_key(CONTAINER) == CONTAINER


@pytest.mark.parametrize(
    "other",
    [
        "https://sentinel2l2a01.blob.core.windows.net/sentinel2-l1",  # another container
        "https://sentinel2l2a02.blob.core.windows.net/sentinel2-l2",  # another account
        "http://sentinel2l2a01.blob.core.windows.net/sentinel2-l2",  # another scheme
        "https://sentinel2l2a01.blob.core.windows.net:8443/sentinel2-l2",  # another port
    ],
)
def test_other_containers_keep_their_own_key(other: str) -> None:
    assert container_key(other) != container_key(CONTAINER)


def test_a_path_style_endpoint_keeps_its_port_and_account() -> None:
    azurite = "http://127.0.0.1:10000/devstoreaccount1/stac-items"
    assert container_key(azurite + "/") == azurite
    assert container_key("http://127.0.0.1:80/devstoreaccount1/stac-items") == (
        "http://127.0.0.1/devstoreaccount1/stac-items"
    )
