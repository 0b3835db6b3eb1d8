"""A deterministic sandbox background-check provider for tests, demos and development.

The rule: the check is **flagged** when the 3-digit sequence code of the
resident ID number (characters 15-17) is 990..999, and **clear** otherwise.
References are ``bgc-sandbox-000001``, ``...000002`` in call order.  Set
``unavailable = True`` to make every call fail like an unreachable provider.
"""

from __future__ import annotations

import itertools
import threading

from massage_core.domain.errors import MassageError
from massage_core.domain.identity_documents import ResidentIdNumber
from massage_core.domain.vetting import BackgroundOutcome
from massage_core.ports.background_check import BackgroundCheck, BackgroundCheckReport, BackgroundCheckRequest

FLAGGED_SEQUENCES = range(990, 1000)


def sandbox_outcome(number: ResidentIdNumber) -> BackgroundOutcome:
    """The outcome the sandbox gives for ``number`` (see the module docstring)."""
    return BackgroundOutcome.FLAGGED if int(number.value[14:17]) in FLAGGED_SEQUENCES else BackgroundOutcome.CLEAR


class SandboxBackgroundCheck(BackgroundCheck):
    """Answers at once by the sequence-code rule; remembers every request it was sent."""

    def __init__(self, *, unavailable: bool = False) -> None:
        """Start answering (or, with ``unavailable``, refusing) at once."""
        self.unavailable = unavailable
        self.requests: list[BackgroundCheckRequest] = []
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def check(self, request: BackgroundCheckRequest) -> BackgroundCheckReport:
        """Clear or flagged by the rule; MassageError ``background_check.unavailable`` when switched off."""
        if self.unavailable:
            raise MassageError("the background-check provider is unavailable (sandbox switched off)",
                               code="background_check.unavailable")
        with self._lock:
            self.requests.append(request)
            reference = f"bgc-sandbox-{next(self._numbers):06d}"
        outcome = sandbox_outcome(request.id_number)
        details = "sandbox: a record was found" if outcome is BackgroundOutcome.FLAGGED else ""
        return BackgroundCheckReport(reference, outcome, details)
