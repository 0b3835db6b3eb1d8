"""Clocks: the system clock and a settable one for tests and demos."""

from __future__ import annotations

from datetime import datetime, timedelta

import pendulum

from massage_core.domain.time import Instant, utc
from massage_core.ports.clock import Clock


class SystemClock(Clock):
    """The machine's clock, in UTC."""

    def now(self) -> Instant:
        """Return the current instant in UTC."""
        return pendulum.now("UTC")


class FixedClock(Clock):
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = utc(start) if start is not None else pendulum.datetime(2026, 1, 5, 2, 0, tz="UTC")

    def now(self) -> Instant:
        """Return the set instant."""
        return self._now

    def advance(self, delta: timedelta) -> Instant:
        """Move forward by ``delta``; return the new now."""
        self._now = self._now + delta
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (timezone-aware)."""
        self._now = utc(when)
