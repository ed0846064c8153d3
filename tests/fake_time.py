"""A clock whose sleeps advance it: code that waits runs instantly and says how long it waited."""

from __future__ import annotations


class FakeTime:
    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
