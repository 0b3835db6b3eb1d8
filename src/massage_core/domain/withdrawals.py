"""Withdrawals: a therapist asks for money out of their available balance; finance decides; a payout settles.

States (decision 0033)::

    requested -> approved -> paid
                          -> failed
    requested -> rejected

The amount is what leaves the therapist's payable balance (held at once on request); the fee, fixed at
request time by the ``WithdrawalPolicy``, is taken from it, so the payout sends ``net = amount - fee``.
Who decided (approved or rejected) and why (a rejection or failure reason) are kept on the withdrawal.
"""

from __future__ import annotations

import enum
from typing import NewType

from attrs import evolve, field, frozen

from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.ids import AccountId, check_id
from massage_core.domain.money import Money
from massage_core.domain.time import Instant

WithdrawalId = NewType("WithdrawalId", str)

BASIS = 10_000
"""Basis points in a whole (100 %)."""
REASON_MAX = 200


def withdrawal_id(raw: object) -> WithdrawalId:
    """Validate and type a withdrawal id (``wdr_`` + 26 base32 characters)."""
    return WithdrawalId(check_id("withdrawal", raw))


class WithdrawalState(enum.StrEnum):
    """Where a withdrawal is in its life."""

    REQUESTED = "requested"
    APPROVED = "approved"
    PAID = "paid"
    FAILED = "failed"
    REJECTED = "rejected"


def _money(value: object) -> Money:
    if not isinstance(value, Money) or value.fen < 0:
        raise ValidationError("expected a non-negative amount", code="withdrawal.policy")
    return value


def _bp(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < BASIS:
        raise ValidationError("fee_bp must be a whole number of basis points below 10000", code="withdrawal.policy")
    return value


@frozen
class WithdrawalPolicy:
    """How much may be withdrawn at least, and what a withdrawal costs: ``fee_fixed`` plus ``fee_bp`` of the
    amount (rounded down to the fen).  Both parts may be zero."""

    min_amount: Money = field(default=Money(10_000), validator=lambda _i, _a, v: _money(v))
    fee_fixed: Money = field(default=Money(0), validator=lambda _i, _a, v: _money(v))
    fee_bp: int = field(default=0, validator=lambda _i, _a, v: _bp(v))

    def fee(self, amount: Money) -> Money:
        """The fee on ``amount``."""
        return Money(self.fee_fixed.fen + amount.fen * self.fee_bp // BASIS, amount.currency)

    def check(self, amount: Money) -> Money:
        """Return the fee of a valid request; ValidationError ``withdrawal.amount`` below the minimum,
        ``withdrawal.fee`` when the fee would take everything."""
        if amount.fen < max(self.min_amount.fen, 1):
            raise ValidationError(f"the minimum withdrawal is {self.min_amount}", code="withdrawal.amount",
                                  field="amount")
        fee = self.fee(amount)
        if fee.fen >= amount.fen:
            raise ValidationError("the fee would take the whole withdrawal", code="withdrawal.fee", field="amount")
        return fee


def _reason(value: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"a {name} is required", code="withdrawal.reason", field=name)
    return value.strip()[:REASON_MAX]


@frozen
class Withdrawal:
    """One withdrawal request and what became of it; see the module docstring."""

    id: WithdrawalId
    therapist_id: AccountId
    amount: Money
    fee: Money
    requested_at: Instant
    state: WithdrawalState = WithdrawalState.REQUESTED
    decided_by: AccountId | None = None
    decided_at: Instant | None = None
    reason: str | None = None
    """Why it was rejected, or why the payout failed."""
    settled_at: Instant | None = None
    payout_reference: str | None = None
    """The payout provider's reference of a paid withdrawal."""
    version: int = 0

    @property
    def net(self) -> Money:
        """What the payout sends: the amount less the fee."""
        return self.amount - self.fee

    def _expect(self, *states: WithdrawalState) -> None:
        if self.state not in states:
            raise Conflict(f"withdrawal {self.id} is {self.state.value}", code="withdrawal.state")

    def approve(self, by: AccountId | None, at: Instant) -> Withdrawal:
        self._expect(WithdrawalState.REQUESTED)
        return evolve(self, state=WithdrawalState.APPROVED, decided_by=by, decided_at=at)

    def reject(self, by: AccountId | None, at: Instant, reason: str) -> Withdrawal:
        self._expect(WithdrawalState.REQUESTED)
        return evolve(self, state=WithdrawalState.REJECTED, decided_by=by, decided_at=at,
                      reason=_reason(reason, "reason"))

    def mark_paid(self, at: Instant, reference: str | None) -> Withdrawal:
        self._expect(WithdrawalState.APPROVED)
        return evolve(self, state=WithdrawalState.PAID, settled_at=at, payout_reference=reference)

    def mark_failed(self, at: Instant, reason: str) -> Withdrawal:
        self._expect(WithdrawalState.APPROVED)
        return evolve(self, state=WithdrawalState.FAILED, settled_at=at, reason=_reason(reason, "reason"))
