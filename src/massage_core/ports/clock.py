"""The Clock port: where "now" comes from, so every expiry is testable."""

from __future__ import annotations

import abc

from massage_core.domain.time import Instant


class Clock(abc.ABC):
    """Tells the current time."""

    @abc.abstractmethod
    def now(self) -> Instant:
        """Return the current instant, timezone-aware, in UTC. Never raises."""
