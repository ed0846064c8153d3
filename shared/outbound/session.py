"""The one way the service builds an HTTP session (GeoCatalog, Planetary Computer, sources, templates)."""

from __future__ import annotations

from typing import Final

import requests
from requests.adapters import HTTPAdapter

# Connections kept per host: one Functions worker runs several invocations on threads at once.
POOL_SIZE: Final = 32


def new_session(pool_size: int = POOL_SIZE) -> requests.Session:
    """A session that keeps `pool_size` connections per host and never retries on its own (each
    caller has its own retry rules: the GeoCatalog client's limiter, the sources' bounded tries).

    Secrets in urllib3's log lines are the business of `shared.log_redaction.install()`, called
    once at start-up, not of building a session.
    """
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


__all__ = ["POOL_SIZE", "new_session"]
