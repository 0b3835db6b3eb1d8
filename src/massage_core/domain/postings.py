"""Posting rules (issue 5): which balanced journal entry each money event becomes.

Every rule is a pure function of the facts of one event and returns one ``JournalEntry`` whose business key
names the event, so posting it twice is a no-op (``LedgerRepository.post``).  Every split goes through
``Money.allocate`` / ``split_basis_points``, so every fen is accounted for.

* ``captured``: the gateway took the customer's money -- gateway clearing (asset) up, customer prepayments
  (liability: a service owed) up.
* ``refunded``: money went back to the customer -- prepayments down, clearing down.  Before completion this
  is the whole story; after completion ``refunded_after_completion`` takes the amount back from the accounts the
  completion credited, in proportion.
* ``completed``: the visit is confirmed.  The *commissionable* part (service + night + holiday surcharges) is
  split by the commission rate (``CommissionPolicy``: per level, per-service overrides); the travel fee and the
  tip go to the therapist in full; a coupon discount is the platform's expense (the therapist earns on the
  undiscounted price).  The therapist's part is *pending* until settlement.
* ``settled``: T+N days later the pending income and tip become payable (withdrawable).
* ``cancellation_split``: a cancellation or no-show: what the customer does not get back is split between the
  therapist's compensation (pending) and the platform's cancellation revenue.
* ``bonus`` / ``penalty``: an admin's reward or deduction, against the therapist's payable balance.
* withdrawals: ``withdrawal_held`` (request: payable -> hold), ``withdrawal_released`` (rejected or failed
  before sending: hold -> payable), ``withdrawal_sent`` (hold -> payout clearing net of the fee, the fee to fee
  revenue), ``payout_confirmed`` (clearing -> cash out) and ``payout_failed`` (sent, then bounced: everything
  back to payable).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.ledger import Book, JournalEntry, JournalLine, LedgerAccount, credit, debit
from massage_core.domain.money import Money
from massage_core.domain.quotes import LineKind, Quote
from massage_core.domain.time import Instant

A = LedgerAccount.of
CLEARING, PREPAID = A(Book.GATEWAY_CLEARING), A(Book.CUSTOMER_PREPAYMENTS)
COMMISSION, CANCELLATION = A(Book.COMMISSION_REVENUE), A(Book.CANCELLATION_REVENUE)
COUPONS, BONUSES, PENALTIES = A(Book.COUPON_EXPENSE), A(Book.BONUS_EXPENSE), A(Book.PENALTY_REVENUE)
FEES, PAYOUTS = A(Book.FEE_REVENUE), A(Book.PAYOUT_CLEARING)


def _non_negative(_instance: object, attribute: Any, value: Money) -> None:
    if not isinstance(value, Money) or value.is_negative:
        raise ValidationError(f"{attribute.name} must be a non-negative amount", code="ledger.amount",
                              field=attribute.name)


def _lines(*pairs: tuple[bool, LedgerAccount, Money]) -> tuple[JournalLine, ...]:
    """Debit (True) or credit (False) lines, leaving out zero amounts."""
    return tuple((debit if is_debit else credit)(account, amount) for is_debit, account, amount in pairs
                 if amount.fen)


def _bp(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10_000:
        raise ValidationError(f"{name} must be 0..10000 basis points", code="ledger.rate", field=name)
    return value


def _rates(values: Mapping[str, int]) -> Mapping[str, int]:
    return {str(k): _bp(v, f"rate of {k}") for k, v in dict(values).items()}


@frozen
class CommissionPolicy:
    """The platform's share of the commissionable amount, in basis points: by therapist level, overridden per
    service, else ``default_bp``."""

    default_bp: int = field(default=3_000, validator=lambda _i, _a, v: _bp(v, "default_bp"))
    by_level: Mapping[str, int] = field(factory=dict, converter=_rates)
    by_service: Mapping[str, int] = field(factory=dict, converter=_rates)

    def rate(self, level: str | None, service: ServiceId) -> int:
        """The rate for a visit of ``service`` by a therapist of ``level``."""
        if service in self.by_service:
            return self.by_service[service]
        if level is not None and level in self.by_level:
            return self.by_level[level]
        return self.default_bp


@frozen
class Charges:
    """What an order's total is made of: commissionable (service + surcharges), travel, discount and tip."""

    commissionable: Money = field(validator=_non_negative)
    travel: Money = field(validator=_non_negative)
    discount: Money = field(validator=_non_negative)
    tip: Money = field(validator=_non_negative)

    def __attrs_post_init__(self) -> None:
        if self.discount > self.commissionable:
            raise ValidationError("a discount cannot exceed the commissionable amount", code="ledger.discount")

    @classmethod
    def of(cls, quote: Quote) -> Charges:
        """The charges of a quote (what the customer paid)."""
        a = quote.amount_of
        return cls(a(LineKind.SERVICE) + a(LineKind.NIGHT) + a(LineKind.HOLIDAY), a(LineKind.TRAVEL),
                   -a(LineKind.DISCOUNT), a(LineKind.TIP))

    @property
    def total(self) -> Money:
        return self.commissionable + self.travel - self.discount + self.tip


@frozen
class Split:
    """How a completed order's money is shared: the therapist's income (pending), tip, and the commission."""

    rate_bp: int
    commission: Money
    income: Money
    tip: Money


def split(charges: Charges, rate_bp: int) -> Split:
    """The completion split of ``charges`` at ``rate_bp`` (see the module docstring)."""
    commission, kept = charges.commissionable.split_basis_points(_bp(rate_bp, "rate_bp"))
    return Split(rate_bp, commission, kept + charges.travel, charges.tip)


def _key(order: str, event: str) -> str:
    return f"order:{order}:{event}"


def captured(order: str, amount: Money, at: Instant) -> JournalEntry:
    return JournalEntry(_key(order, "captured"), at, _lines((True, CLEARING, amount), (False, PREPAID, amount)),
                        "payment captured")


def refunded(order: str, refund_number: str, amount: Money, at: Instant) -> JournalEntry:
    """A refund before completion (or of a cancelled / no-show order)."""
    return JournalEntry(f"refund:{refund_number}", at, _lines((True, PREPAID, amount), (False, CLEARING, amount)),
                        f"refund of {order}")


def completed(order: str, therapist: AccountId, charges: Charges, rate_bp: int, at: Instant) -> JournalEntry:
    share = split(charges, rate_bp)
    return JournalEntry(_key(order, "completed"), at, _lines(
        (True, PREPAID, charges.total), (True, COUPONS, charges.discount),
        (False, A(Book.THERAPIST_PENDING, therapist), share.income), (False, A(Book.TIPS_PAYABLE, therapist), share.tip),
        (False, COMMISSION, share.commission)), f"completed at {rate_bp} bp commission")


def settled(order: str, therapist: AccountId, income: Money, tip: Money, at: Instant) -> JournalEntry | None:
    """Pending income and tip become payable; None when there is nothing to settle."""
    lines = _lines((True, A(Book.THERAPIST_PENDING, therapist), income), (True, A(Book.TIPS_PAYABLE, therapist), tip),
                   (False, A(Book.THERAPIST_PAYABLE, therapist), income + tip))
    return JournalEntry(_key(order, "settled"), at, lines, "settled: income becomes payable") if lines else None


def refunded_after_completion(order: str, refund_number: str, therapist: AccountId, share: Split, amount: Money,
                              at: Instant, *, settled_already: bool,
                              recoverable: Money | None = None) -> JournalEntry:
    """Take ``amount`` back from what the completion credited (therapist income, tip, commission), in
    proportion, from pending or -- once settled -- payable.  Once settled, at most ``recoverable`` (the
    therapist's available balance; None: no limit) is taken from payable: what the therapist already withdrew
    or holds is not clawed below zero, the platform bears the rest as an expense (``bonus_expense``)."""
    parts = amount.allocate([share.income.fen, share.tip.fen, share.commission.fen])
    if settled_already:
        owed = parts[0] + parts[1]
        taken = owed if recoverable is None else min(owed, max(recoverable, Money.zero(owed.currency)))
        lines = _lines((True, A(Book.THERAPIST_PAYABLE, therapist), taken), (True, BONUSES, owed - taken),
                       (True, COMMISSION, parts[2]), (False, CLEARING, amount))
    else:
        lines = _lines((True, A(Book.THERAPIST_PENDING, therapist), parts[0]),
                       (True, A(Book.TIPS_PAYABLE, therapist), parts[1]), (True, COMMISSION, parts[2]),
                       (False, CLEARING, amount))
    return JournalEntry(f"refund:{refund_number}", at, lines, f"refund of completed {order}")


def cancellation_split(order: str, therapist: AccountId | None, compensation: Money, retained: Money,
                       at: Instant) -> JournalEntry | None:
    """What a cancelled or no-show order keeps: compensation (pending) and the platform's part; None when the
    whole payment went back."""
    lines = _lines((True, PREPAID, compensation + retained),
                   (False, A(Book.THERAPIST_PENDING, therapist) if therapist else CANCELLATION, compensation),
                   (False, CANCELLATION, retained))
    return JournalEntry(_key(order, "cancelled"), at, lines, "cancellation split") if lines else None


def bonus(reference: str, therapist: AccountId, amount: Money, at: Instant, reason: str) -> JournalEntry:
    return JournalEntry(f"bonus:{reference}", at, _lines(
        (True, BONUSES, amount), (False, A(Book.THERAPIST_PAYABLE, therapist), amount)), reason[:200])


def penalty(reference: str, therapist: AccountId, amount: Money, at: Instant, reason: str) -> JournalEntry:
    return JournalEntry(f"penalty:{reference}", at, _lines(
        (True, A(Book.THERAPIST_PAYABLE, therapist), amount), (False, PENALTIES, amount)), reason[:200])


def withdrawal_held(reference: str, therapist: AccountId, amount: Money, at: Instant) -> JournalEntry:
    return JournalEntry(f"withdrawal:{reference}:held", at, _lines(
        (True, A(Book.THERAPIST_PAYABLE, therapist), amount), (False, A(Book.WITHDRAWAL_HOLDS, therapist), amount)),
        "withdrawal requested")


def withdrawal_released(reference: str, therapist: AccountId, amount: Money, at: Instant) -> JournalEntry:
    return JournalEntry(f"withdrawal:{reference}:released", at, _lines(
        (True, A(Book.WITHDRAWAL_HOLDS, therapist), amount), (False, A(Book.THERAPIST_PAYABLE, therapist), amount)),
        "withdrawal rejected or failed")


def withdrawal_sent(reference: str, therapist: AccountId, amount: Money, fee: Money, at: Instant) -> JournalEntry:
    if fee > amount:
        raise ValidationError("a fee cannot exceed the withdrawal", code="ledger.fee")
    return JournalEntry(f"withdrawal:{reference}:sent", at, _lines(
        (True, A(Book.WITHDRAWAL_HOLDS, therapist), amount), (False, PAYOUTS, amount - fee), (False, FEES, fee)),
        "payout sent")


def payout_confirmed(reference: str, net: Money, at: Instant) -> JournalEntry | None:
    """The payout provider paid ``net``; None when the fee took everything."""
    lines = _lines((True, PAYOUTS, net), (False, CLEARING, net))
    return JournalEntry(f"withdrawal:{reference}:paid", at, lines, "payout confirmed") if lines else None


def payout_failed(reference: str, therapist: AccountId, amount: Money, fee: Money, at: Instant) -> JournalEntry:
    return JournalEntry(f"withdrawal:{reference}:bounced", at, _lines(
        (True, PAYOUTS, amount - fee), (True, FEES, fee), (False, A(Book.THERAPIST_PAYABLE, therapist), amount)),
        "payout bounced")
