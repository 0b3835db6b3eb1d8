"""The cancellation and no-show policy as data, and the settlement that conserves every fen.

A settlement splits what the customer *paid* into three parts: the refund to the customer, the
compensation to the therapist and what the platform keeps.  The shares are basis points of the paid
amount; the split is ``Money.allocate([refund, therapist, platform])`` (largest remainder, ties to the
earlier part, so an odd fen goes to the customer first, then to the therapist).  The three parts always add
up to the paid amount exactly.

Who pays for what (defaults in ``CancellationPolicy``; decision 0016):

* the customer cancels before a therapist accepted: free (full refund), when ``free_before_acceptance``;
* the customer cancels later: the notice (scheduled start minus now) picks the first window whose
  ``at_least`` it reaches: >= 4 h full refund; >= 1 h half; below every window the ``late`` shares (no refund);
* the customer is absent ``customer_grace`` after the therapist arrived (a no-show): the ``absent`` shares;
* the therapist cancels, or never arrives ``therapist_grace`` after the scheduled start: full refund and a
  ``Penalty`` record against the therapist;
* an admin or the system cancels (nobody left to dispatch, a safety stop): full refund, nobody penalised;
* the therapist is *late*: arriving later than ``late_arrival_grace`` (15 min) after the scheduled start records
  a ``LateArrival`` (whole minutes late, rounded up, and a ``therapist_late`` penalty).  From then on the
  customer's cancellation (until the service starts) and a customer-absent no-show settle by the
  ``late_therapist`` shares (full refund, nothing to the therapist) with cause ``therapist_late``; so does the
  customer's cancellation while the therapist has still not arrived past the grace (then the settlement carries
  the ``therapist_late`` penalty, as there is no late-arrival record yet).  One lateness, one record
  (decision 0025).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.money import Money
from massage_core.domain.order_states import BEFORE_ACCEPTANCE, OrderParty, OrderState, Who

MINUTE = dt.timedelta(minutes=1)
from massage_core.domain.time import Instant, utc

if TYPE_CHECKING:
    from massage_core.domain.orders import Order

WHOLE = 10_000
"""Basis points in the whole paid amount."""


def _basis_points(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= WHOLE:
        raise ValidationError("a share must be whole basis points within 0..10000", code="cancellation.policy")


@frozen
class Shares:
    """How a paid amount is split: ``refund_bp`` to the customer, ``therapist_bp`` to the therapist, the rest
    to the platform."""

    refund_bp: int = field(validator=_basis_points)
    therapist_bp: int = field(validator=_basis_points)

    def __attrs_post_init__(self) -> None:
        if self.refund_bp + self.therapist_bp > WHOLE:
            raise ValidationError("refund and compensation exceed the whole amount", code="cancellation.policy")

    @property
    def platform_bp(self) -> int:
        return WHOLE - self.refund_bp - self.therapist_bp


FULL_REFUND = Shares(WHOLE, 0)


@frozen
class NoticeWindow:
    """Cancelled by the customer at least ``at_least`` before the scheduled start: these shares apply."""

    at_least: dt.timedelta
    shares: Shares


def _default_windows() -> tuple[NoticeWindow, ...]:
    return (NoticeWindow(dt.timedelta(hours=4), FULL_REFUND),
            NoticeWindow(dt.timedelta(hours=1), Shares(5_000, 4_000)))


@frozen
class CancellationPolicy:
    """Notice windows (strictly decreasing ``at_least``), the shares below them, for an absent customer, and
    the grace periods before a no-show may be declared; ``late_arrival_grace`` after the scheduled start a
    therapist is late (0 .. ``therapist_grace``), and ``late_therapist`` settles what the customer ends because
    of it."""

    windows: tuple[NoticeWindow, ...] = field(factory=_default_windows)
    late: Shares = Shares(0, 8_000)
    absent: Shares = Shares(0, 8_000)
    customer_grace: dt.timedelta = dt.timedelta(minutes=20)
    therapist_grace: dt.timedelta = dt.timedelta(minutes=30)
    free_before_acceptance: bool = True
    late_arrival_grace: dt.timedelta = dt.timedelta(minutes=15)
    late_therapist: Shares = FULL_REFUND

    def __attrs_post_init__(self) -> None:
        bounds = [w.at_least for w in self.windows]
        if any(later >= earlier for earlier, later in zip(bounds, bounds[1:])):
            raise ValidationError("notice windows must be in strictly decreasing order", code="cancellation.policy")
        if self.customer_grace <= dt.timedelta(0) or self.therapist_grace <= dt.timedelta(0):
            raise ValidationError("grace periods must be positive", code="cancellation.policy")
        if not dt.timedelta(0) <= self.late_arrival_grace <= self.therapist_grace:
            raise ValidationError("the late-arrival grace must be within 0 .. the therapist's no-show grace",
                                  code="cancellation.policy")

    def customer_shares(self, notice: dt.timedelta) -> Shares:
        """The shares for a customer cancelling ``notice`` before the start (negative: after it)."""
        for window in self.windows:
            if notice >= window.at_least:
                return window.shares
        return self.late

    def late_by(self, scheduled_start: Instant, arrived: Instant) -> int | None:
        """Whole minutes (rounded up) that ``arrived`` is after ``scheduled_start`` when that is beyond
        ``late_arrival_grace`` (exactly at the grace is on time); None when on time."""
        delay = utc(arrived) - utc(scheduled_start)
        if delay <= self.late_arrival_grace:
            return None
        exact = dt.timedelta(days=delay.days, seconds=delay.seconds, microseconds=delay.microseconds)
        return -(-exact // MINUTE)  # a plain timedelta: pendulum's Duration cannot floor-divide by one


class CancellationCause(enum.StrEnum):
    """Why the order ended early: picks the rule that settled it."""

    CUSTOMER_FREE = "customer_free"
    CUSTOMER_NOTICE = "customer_notice"
    CUSTOMER_ABSENT = "customer_absent"
    THERAPIST_CANCELLED = "therapist_cancelled"
    THERAPIST_NO_SHOW = "therapist_no_show"
    THERAPIST_LATE = "therapist_late"
    ADMIN = "admin"
    SYSTEM = "system"


@frozen
class Penalty:
    """A record against a therapist who cancelled, did not come or came late (reliability score, sanctions)."""

    therapist_id: AccountId
    cause: CancellationCause
    at: Instant


def _late_minutes(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationError("minutes late must be a positive whole number", code="order.late_minutes")


@frozen
class LateArrival:
    """The therapist arrived ``minutes`` (whole, rounded up) after the scheduled start, beyond the grace; the
    ``penalty`` (cause ``therapist_late``, at the arrival) is the record against them."""

    minutes: int = field(validator=_late_minutes)
    penalty: Penalty

    def __attrs_post_init__(self) -> None:
        if self.penalty.cause is not CancellationCause.THERAPIST_LATE:
            raise ValidationError("a late arrival's penalty is therapist_late", code="order.late_arrival")


def late_arrival(order: Order, now: Instant, policy: CancellationPolicy) -> LateArrival | None:
    """The record of ``order``'s therapist arriving at ``now``: None when on time (at most
    ``late_arrival_grace`` after the scheduled start) or without a therapist."""
    now = utc(now)
    minutes = policy.late_by(order.scheduled.start, now)
    if minutes is None or order.therapist_id is None:
        return None
    return LateArrival(minutes, Penalty(order.therapist_id, CancellationCause.THERAPIST_LATE, now))


@frozen
class CancellationOutcome:
    """Who gets what of the paid amount; the three parts add up to it exactly."""

    cause: CancellationCause
    by: OrderParty
    shares: Shares
    refund: Money
    therapist_compensation: Money
    platform_retained: Money
    penalty: Penalty | None = None

    @property
    def total(self) -> Money:
        return self.refund + self.therapist_compensation + self.platform_retained


def _outcome(order: Order, cause: CancellationCause, by: OrderParty, shares: Shares,
             penalised: bool, now: Instant) -> CancellationOutcome:
    refund, therapist, platform = order.paid.allocate([shares.refund_bp, shares.therapist_bp, shares.platform_bp])
    penalty = None
    if penalised and order.therapist_id is not None:
        penalty = Penalty(order.therapist_id, cause, now)
    return CancellationOutcome(cause, by, shares, refund, therapist, platform, penalty)


WAITING_FOR_THERAPIST = frozenset({OrderState.ACCEPTED, OrderState.DEPARTED})
"""A therapist committed but has not arrived: past the late-arrival grace they are late."""


def settle_cancellation(order: Order, who: Who, now: Instant, policy: CancellationPolicy) -> CancellationOutcome:
    """Settle ``order`` cancelled by ``who`` at ``now``: refund, compensation, platform part and penalty.

    A customer cancelling after the therapist arrived late, or while they have still not arrived later than
    ``late_arrival_grace`` after the start, gets the ``late_therapist`` shares (cause ``therapist_late``); the
    latter case carries the ``therapist_late`` penalty, the former has it in ``order.late_arrival`` already.

    Pure: it does not check that the cancellation itself is allowed (``Order.cancel`` does).
    """
    now = utc(now)
    party = who.party
    if party is OrderParty.THERAPIST:
        return _outcome(order, CancellationCause.THERAPIST_CANCELLED, party, FULL_REFUND, True, now)
    if party is OrderParty.ADMIN:
        return _outcome(order, CancellationCause.ADMIN, party, FULL_REFUND, False, now)
    if party is OrderParty.SYSTEM:
        return _outcome(order, CancellationCause.SYSTEM, party, FULL_REFUND, False, now)
    if policy.free_before_acceptance and order.state in BEFORE_ACCEPTANCE:
        return _outcome(order, CancellationCause.CUSTOMER_FREE, party, FULL_REFUND, False, now)
    if order.state is OrderState.ARRIVED and order.late_arrival is not None:
        return _outcome(order, CancellationCause.THERAPIST_LATE, party, policy.late_therapist, False, now)
    if order.state in WAITING_FOR_THERAPIST and now > order.scheduled.start + policy.late_arrival_grace:
        return _outcome(order, CancellationCause.THERAPIST_LATE, party, policy.late_therapist, True, now)
    shares = policy.customer_shares(order.scheduled.start - now)
    return _outcome(order, CancellationCause.CUSTOMER_NOTICE, party, shares, False, now)


def settle_no_show(order: Order, who: Who, now: Instant, policy: CancellationPolicy) -> CancellationOutcome:
    """Settle a no-show.  After arrival the customer is the absent one (``absent`` shares, from
    ``customer_grace`` after arrival; after a late arrival the ``late_therapist`` shares, cause
    ``therapist_late``: the customer need not wait for a late therapist); before it the therapist is (full
    refund and a penalty, from ``therapist_grace`` after the scheduled start).  Conflict ``order.no_show_too_early`` before that."""
    now = utc(now)
    if order.state is OrderState.ARRIVED:
        arrived = order.arrived_at or order.scheduled.start
        if now < arrived + policy.customer_grace:
            raise Conflict(f"the customer may be declared absent {policy.customer_grace} after arrival",
                           code="order.no_show_too_early")
        if order.late_arrival is not None:
            return _outcome(order, CancellationCause.THERAPIST_LATE, who.party, policy.late_therapist, False, now)
        return _outcome(order, CancellationCause.CUSTOMER_ABSENT, who.party, policy.absent, False, now)
    if now < order.scheduled.start + policy.therapist_grace:
        raise Conflict(f"the therapist may be declared absent {policy.therapist_grace} after the scheduled start",
                       code="order.no_show_too_early")
    return _outcome(order, CancellationCause.THERAPIST_NO_SHOW, who.party, FULL_REFUND, True, now)
