"""Secrets out of log text: SAS query strings and bearer tokens, ours and third-party loggers'.

The service's own messages never carry a URL query or a header. urllib3, underneath `requests`,
logs every request line at DEBUG with its query string ("GET /path?sv=...&sig=..."), and retries
and redirects with the full URL; a caller's source URL may carry its own SAS (a private static
catalog, item URLs). `install()` puts a filter on those loggers that rewrites each record's message
and arguments before any handler sees it. It is a start-up call, made once where the app starts
(`function_app.py`, which the local host imports too) and by the tests that read such logs;
building a session (`shared.outbound.new_session`) does not do it.
"""

from __future__ import annotations

import logging
import re
from typing import Final

# A query string that carries a signature, the signature alone, and a bearer credential.
_SAS_QUERY: Final = re.compile(r"\?[^\s\"'<>]*\bsig=[^\s\"'<>]*", re.IGNORECASE)
_SAS_SIG: Final = re.compile(r"\bsig=[^&\s\"'<>]+", re.IGNORECASE)
_BEARER: Final = re.compile(r"\bBearer\s+[A-Za-z0-9\-._~+/=]+", re.IGNORECASE)

# Loggers of urllib3 that write request URLs (request lines, retries, redirects, bad headers).
URL_LOGGERS: Final = (
    "urllib3.connectionpool",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "urllib3.connection",
)


def redact_secrets(text: str) -> str:
    """`text` with every SAS query string and bearer token replaced by a marker."""
    cleaned = _SAS_QUERY.sub("?<redacted-sas>", text)
    cleaned = _SAS_SIG.sub("sig=<redacted>", cleaned)
    return _BEARER.sub("Bearer <redacted>", cleaned)


def _clean(value: object) -> object:
    if isinstance(value, str):
        return redact_secrets(value)
    if value is None or isinstance(value, int | float):
        return value
    # Retry objects, exceptions, URL objects: their text is what the message will show.
    text = str(value)
    cleaned = redact_secrets(text)
    return cleaned if cleaned != text else value


class RedactSecrets(logging.Filter):
    """Rewrites the message and arguments of each record; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_secrets(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _clean(arg) for key, arg in record.args.items()}
        return True


_FILTER: Final = RedactSecrets()


def install(names: tuple[str, ...] = URL_LOGGERS) -> None:
    """Attach the filter to each logger (idempotent: a second call adds nothing)."""
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


__all__ = ["URL_LOGGERS", "RedactSecrets", "install", "redact_secrets"]
