"""The deterministic sandbox payout provider: pays everything unless told to fail a withdrawal.

Idempotent by withdrawal id (the first answer is kept and returned again); references are ``PO`` + an
8-digit sequence.  ``fail(withdrawal_id, reason)`` makes that withdrawal's payout fail; ``crash_after_send``
makes the next ``send`` record its payout and then raise (a process dying after the provider paid), to test
that a rerun pays nobody twice.  ``sent`` keeps what was paid; ``calls`` counts every ``send``.
"""

from __future__ import annotations

import threading

from massage_core.domain.errors import Conflict
from massage_core.domain.ids import AccountId
from massage_core.domain.money import Money
from massage_core.ports.payouts import PayoutGateway, PayoutResult


class SandboxCrash(RuntimeError):
    """Raised by ``send`` after paying, when ``crash_after_send`` was asked for."""


class SandboxPayoutGateway(PayoutGateway):
    """See the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sequence = 0
        self._failing: dict[str, str] = {}
        self._answers: dict[str, tuple[AccountId, Money, PayoutResult]] = {}
        self.sent: dict[str, Money] = {}
        """Withdrawal id -> the net amount paid (each at most once)."""
        self.calls = 0
        self.crash_after_send = False

    def fail(self, withdrawal_id: str, reason: str = "account closed") -> None:
        """Make the payout of ``withdrawal_id`` fail (when it was not sent yet)."""
        with self._lock:
            self._failing[withdrawal_id] = reason

    def send(self, withdrawal_id: str, therapist_id: AccountId, net: Money) -> PayoutResult:
        with self._lock:
            self.calls += 1
            known = self._answers.get(withdrawal_id)
            if known is not None:
                if (known[0], known[1]) != (therapist_id, net):
                    raise Conflict(f"payout {withdrawal_id} was sent with other details", code="payout.mismatch")
                return known[2]
            reason = self._failing.get(withdrawal_id)
            if reason is not None:
                result = PayoutResult(withdrawal_id, False, reason=reason)
            else:
                self._sequence += 1
                result = PayoutResult(withdrawal_id, True, reference=f"PO{self._sequence:08d}")
                self.sent[withdrawal_id] = net
            self._answers[withdrawal_id] = (therapist_id, net, result)
            if self.crash_after_send:
                self.crash_after_send = False
                raise SandboxCrash(f"the process died after paying {withdrawal_id}")
            return result
