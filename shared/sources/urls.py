"""Kept only for `shared.collection_template`, whose fetcher moves onto `shared.outbound` after
issue 12's branches merge; delete this module then. The rule is `shared.outbound.FetchPolicy`."""

from __future__ import annotations

from collections.abc import Sequence

from shared.outbound.policy import FetchPolicy


def fetch_problem(url: str, *, allowed_hosts: Sequence[str], allow_http: bool) -> str | None:
    return FetchPolicy.of(allowed_hosts, allow_http=allow_http).problem(url)


__all__ = ["fetch_problem"]
