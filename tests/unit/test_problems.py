"""Problem JSON: the members RFC 9457 defines, the field errors, and extension members."""

from __future__ import annotations

from shared.problems import UpstreamRefused


def test_extension_members_without_a_value_are_left_out() -> None:
    # A GeoCatalog failure without a response has neither a code nor a status.
    error = UpstreamRefused(
        "the GeoCatalog refused", extra={"geocatalogCode": None, "upstream": "x"}
    )
    body = error.to_problem(instance="/api/ingest").to_dict()
    assert "geocatalogCode" not in body
    assert body["upstream"] == "x"


def test_extension_members_never_replace_the_standard_ones() -> None:
    error = UpstreamRefused("refused", field="collection", extra={"status": 200, "field": "x"})
    body = error.to_problem().to_dict()
    assert body["status"] == 502
    assert body["field"] == "collection"
    assert body["type"] == "urn:geocatalog-ingest:problem:upstream-refused"
