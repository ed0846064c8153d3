"""The queue listener's randomized exponential back-off (WebJobs
`RandomizedExponentialBackoffStrategy`): from 100 ms up to maxPollingInterval."""

from __future__ import annotations

import random
from collections.abc import Callable

MINIMUM_INTERVAL = 0.1
_RANDOMIZATION = 0.2


class RandomizedExponentialBackoff:
    def __init__(
        self,
        maximum: float,
        *,
        minimum: float = MINIMUM_INTERVAL,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.minimum = minimum
        self.maximum = max(maximum, minimum)
        self._uniform = uniform
        self._exponent = 0
        self.current = minimum

    def reset(self) -> float:
        """After a poll that found messages: back to the minimum."""
        self._exponent = 1
        self.current = self.minimum
        return self.current

    def next_delay(self) -> float:
        """After an empty poll: minimum + r·2^(n-1)·minimum with r in [0.8, 1.2], capped at the
        maximum (n counts the empty polls since messages were last found)."""
        if self.current >= self.maximum:
            return self.maximum
        candidate = self.minimum
        if self._exponent > 0:
            factor = self._uniform(1 - _RANDOMIZATION, 1 + _RANDOMIZATION)
            candidate += factor * 2 ** (self._exponent - 1) * self.minimum
        if candidate < self.maximum:
            self.current = candidate
            self._exponent += 1
        else:
            self.current = self.maximum
        return self.current
