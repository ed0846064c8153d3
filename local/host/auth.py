"""Function keys for `--strict-auth`.

`func start` skips authorization whatever the auth level; Azure checks keys given as `?code=` or
the `x-functions-key` header. In strict mode the local host checks them against keys from the
app settings: FUNCTION level accepts the function key or the master key, ADMIN level the master
key only, ANONYMOUS is always open; admin endpoints need the master key; the Event Grid webhook
needs the eventgrid_extension system key (or the master key).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

FUNCTION_KEY_SETTING = "FUNCTIONS_LOCAL_FUNCTION_KEY"
MASTER_KEY_SETTING = "FUNCTIONS_LOCAL_MASTER_KEY"
EVENTGRID_KEY_SETTING = "FUNCTIONS_LOCAL_EVENTGRID_KEY"


class AuthConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Keys:
    strict: bool
    function_key: str | None = None
    master_key: str | None = None
    eventgrid_key: str | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, str], *, strict: bool) -> Keys:
        if not strict:
            return cls(strict=False)
        keys = cls(
            strict=True,
            function_key=settings.get(FUNCTION_KEY_SETTING) or None,
            master_key=settings.get(MASTER_KEY_SETTING) or None,
            eventgrid_key=settings.get(EVENTGRID_KEY_SETTING) or None,
        )
        if not keys.master_key:
            raise AuthConfigError(
                f"--strict-auth needs app setting {MASTER_KEY_SETTING} "
                f"(and {FUNCTION_KEY_SETTING} for FUNCTION-level functions)"
            )
        return keys

    def _matches(self, given: str | None, *candidates: str | None) -> bool:
        if not given:
            return False
        return any(
            c is not None and hmac.compare_digest(given.encode(), c.encode()) for c in candidates
        )

    def allows(self, level: str, given: str | None) -> bool:
        if not self.strict or level == "anonymous":
            return True
        if level == "admin":
            return self._matches(given, self.master_key)
        return self._matches(given, self.function_key, self.master_key)

    def allows_admin(self, given: str | None) -> bool:
        return not self.strict or self._matches(given, self.master_key)

    def allows_eventgrid(self, given: str | None) -> bool:
        return not self.strict or self._matches(given, self.eventgrid_key, self.master_key)


def presented_key(query: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
    return query.get("code") or headers.get("x-functions-key")
