"""Query parameters of GET /api/jobs/{id}/items: refused as 400 naming the parameter, never a 500."""

from __future__ import annotations

import pytest

from shared.pipeline.views import ITEMS_LIMIT_DEFAULT, ITEMS_LIMIT_MAX, parse_limit
from shared.problems import InvalidRequest


@pytest.mark.parametrize(
    ("value", "limit"),
    [
        (None, ITEMS_LIMIT_DEFAULT),
        ("", ITEMS_LIMIT_DEFAULT),
        ("1", 1),
        ("0050", 50),
        ("1000", 1000),
    ],
)
def test_limit(value: str | None, limit: int) -> None:
    assert parse_limit(value) == limit


@pytest.mark.parametrize(
    "value",
    [
        "0",
        str(ITEMS_LIMIT_MAX + 1),
        "-1",
        "+5",
        " 5",
        "5.0",
        "ten",
        # str.isdigit() accepts these, int() refuses the first and reads the second as 1
        "\u00b2",
        "\u0661",
        # more digits than int() converts
        "1" * 5000,
    ],
)
def test_bad_limit_is_invalid_request(value: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        parse_limit(value)
    assert raised.value.field == "limit"
