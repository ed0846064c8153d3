"""Building a session has no effect beyond the session."""

from __future__ import annotations

import logging

from requests.adapters import HTTPAdapter

from shared.log_redaction import URL_LOGGERS, RedactSecrets
from shared.outbound import POOL_SIZE, new_session


def test_the_pool_size_and_no_retries_of_its_own() -> None:
    for size, expected in ((None, POOL_SIZE), (4, 4)):
        with new_session() if size is None else new_session(pool_size=size) as session:
            for prefix in ("https://", "http://"):
                adapter = session.get_adapter(prefix + "h.test/")
                assert isinstance(adapter, HTTPAdapter)
                assert adapter._pool_maxsize == expected  # type: ignore[attr-defined]
                assert adapter.max_retries.total == 0


def test_a_session_installs_no_log_filter() -> None:
    loggers = [logging.getLogger(name) for name in URL_LOGGERS]
    saved = [list(logger.filters) for logger in loggers]
    try:
        for logger in loggers:
            for existing in [f for f in logger.filters if isinstance(f, RedactSecrets)]:
                logger.removeFilter(existing)
        new_session().close()
        assert not any(isinstance(f, RedactSecrets) for lg in loggers for f in lg.filters)
    finally:
        for logger, filters in zip(loggers, saved, strict=True):
            logger.filters[:] = filters
