"""The Order aggregate: a booked visit moving through the machine of ``order_states``.

Every action is a method that (1) looks the step up in ``order_transitions`` -- InvalidTransition naming the
allowed actions when there is none, PermissionDenied ``order.party`` when the party may not fire it --,
(2) checks that a customer or therapist acts on *their* order (PermissionDenied ``order.not_yours``),
(3) checks the action's own rule (amounts, reasons, grace periods), and only then (4) returns a new frozen
Order with one timeline entry and one domain event appended.  A refused action changes nothing.

Money: ``paid`` is what the customer paid, ``refunded`` what went back, and ``retained`` (always
``paid - refunded``, never negative) what the platform holds for the therapist and itself.  A cancellation
or no-show only *decides* the split (``settlement``); the ``refund`` action then moves the refund due, so
the gateway's refund and the order change together.  The repository bumps ``version`` when saving.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import attrs
from attrs import field, frozen

from massage_core.domain.cancellation import (
    CancellationOutcome,
    CancellationPolicy,
    LateArrival,
    late_arrival,
    settle_cancellation,
    settle_no_show,
)
from massage_core.domain.dispatch import DispatchMode
from massage_core.domain.errors import Conflict, PaymentError, PermissionDenied, ValidationError
from massage_core.domain.events import DomainEvent
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.intervals import Interval
from massage_core.domain.money import Money
from massage_core.domain.order_events import (
    OrderEvent,
    OrderPaid,
    OrderPlaced,
    OrderRefunded,
    OrderReminded,
    OrderSettled,
    OrderTransitioned,
    SosRaised,
    TherapistArrivedLate,
)
from massage_core.domain.order_states import (
    TIME_HOLDING_STATES,
    OrderAction,
    OrderId,
    OrderParty,
    OrderState,
    OrderStep,
    Who,
    allowed_actions,
    next_state,
)
from massage_core.domain.quotes import QuoteLine
from massage_core.domain.time import Instant, utc
from massage_core.domain.visit_address import VisitAddress

MAX_NOTE = 500


def _text(value: str, name: str, *, required: bool) -> str:
    """A note or reason: stripped, at most MAX_NOTE characters, and not empty when ``required``."""
    text = value.strip() if isinstance(value, str) else ""
    if (required and not text) or len(text) > MAX_NOTE:
        need = "1" if required else "0"
        raise ValidationError(f"{name} must be {need}..{MAX_NOTE} characters", code=f"order.{name}", field=name)
    return text


@frozen
class Order:
    """An order; see the module docstring."""

    id: OrderId
    customer_id: AccountId
    therapist_id: AccountId | None
    service_id: ServiceId
    scheduled: Interval
    total: Money
    placed_at: Instant
    state: OrderState = OrderState.PENDING_PAYMENT
    paid: Money = field(factory=Money.zero)
    refunded: Money = field(factory=Money.zero)
    rejected_by: tuple[AccountId, ...] = ()
    arrived_at: Instant | None = None
    finished_at: Instant | None = None
    settlement: CancellationOutcome | None = None
    late_arrival: LateArrival | None = None
    timeline: tuple[OrderStep, ...] = ()
    dispatch: DispatchMode = DispatchMode.CHOSEN
    address: VisitAddress | None = None
    gender_preference: str | None = None
    bill: tuple[QuoteLine, ...] = ()
    level: str | None = None
    version: int = 0
    events: tuple[DomainEvent, ...] = field(default=(), eq=False, repr=False)

    @classmethod
    def place(cls, ident: OrderId, customer_id: AccountId, service_id: ServiceId, scheduled: Interval,
              total: Money, now: Instant, therapist_id: AccountId | None = None, *,
              dispatch: DispatchMode | None = None, address: VisitAddress | None = None,
              gender_preference: str | None = None, bill: tuple[QuoteLine, ...] = (),
              level: str | None = None) -> Order:
        """A new order waiting for payment of ``total`` (the quote); ``therapist_id`` is the customer's choice
        or the dispatcher's best match, None to broadcast once paid (``dispatch`` says which, by default chosen
        with a therapist and broadcast without; a broadcast has no therapist and the others have one:
        ValidationError ``dispatch.mode``).  ``gender_preference`` is
        the customer's hard constraint, kept for re-dispatch.  ``bill`` is the quote's itemised lines (they must
        add up to ``total``: ValidationError ``order.bill``) and ``level`` the level it was priced at; the
        ledger splits the money by them."""
        now = utc(now)
        if total.is_negative:
            raise ValidationError("an order total cannot be negative", code="order.total", field="total")
        if therapist_id is not None and therapist_id == customer_id:
            raise ValidationError("a therapist cannot book themselves", code="order.self_service")
        if bill and sum(line.amount.fen for line in bill) != total.fen:
            raise ValidationError("the bill must add up to the total", code="order.bill", field="bill")
        if dispatch is None:
            dispatch = DispatchMode.CHOSEN if therapist_id is not None else DispatchMode.BROADCAST
        if (therapist_id is None) != (dispatch is DispatchMode.BROADCAST):
            raise ValidationError("a broadcast order has no therapist; any other has one", code="dispatch.mode")
        state = OrderState.PENDING_PAYMENT
        step = OrderStep(now, OrderAction.PLACE, OrderParty.CUSTOMER, customer_id, None, state)
        event = OrderPlaced(now, ident, customer_id, therapist_id, service_id, total)
        return cls(ident, customer_id, therapist_id, service_id, scheduled, total, now, timeline=(step,),
                   dispatch=dispatch, address=address, gender_preference=gender_preference, bill=tuple(bill),
                   level=level, events=(event,))

    @property
    def retained(self) -> Money:
        """What the platform holds of the payment (for the therapist and itself)."""
        return self.paid - self.refunded

    @property
    def refund_due(self) -> Money:
        """The refund a cancellation or no-show decided and that has not gone back yet."""
        if self.settlement is None or self.state not in (OrderState.CANCELLED, OrderState.NO_SHOW):
            return Money.zero(self.paid.currency)
        return self.settlement.refund - self.refunded

    @property
    def late_minutes(self) -> int | None:
        """How many minutes late the therapist arrived (beyond the grace), None when on time or not yet."""
        return None if self.late_arrival is None else self.late_arrival.minutes

    @property
    def offers_made(self) -> int:
        """Offers (or broadcast rounds) so far: the first one and every re-dispatch."""
        return 1 + sum(1 for s in self.timeline if s.action is OrderAction.REDISPATCH)

    @property
    def holds_therapist_time(self) -> bool:
        """True when the order's therapist should hold a live reservation for the visit."""
        return self.therapist_id is not None and self.state in TIME_HOLDING_STATES

    def allowed_actions(self) -> tuple[OrderAction, ...]:
        """What the table allows now (whoever may fire it)."""
        return allowed_actions(self.state)

    def _check(self, action: OrderAction, who: Who) -> OrderState:
        target = next_state(self.state, action, who.party)
        if who.party is OrderParty.CUSTOMER and who.account_id != self.customer_id:
            raise PermissionDenied("this is not your order", code="order.not_yours")
        if who.party is OrderParty.THERAPIST:
            grab = action is OrderAction.ACCEPT and self.therapist_id is None
            if grab and (who.account_id in self.rejected_by or who.account_id == self.customer_id):
                raise PermissionDenied("this order is not offered to you", code="order.not_offered")
            if not grab and who.account_id != self.therapist_id:
                raise PermissionDenied("this is not your order", code="order.not_yours")
        return target

    def _step(self, action: OrderAction, who: Who, now: Instant, target: OrderState, note: str = "",
              make: Callable[..., OrderEvent] = OrderTransitioned, **changes: Any) -> Order:
        at = utc(now)
        step = OrderStep(at, action, who.party, who.label, self.state, target, note)
        event = make(at, self.id, action, self.state, target, who.party, who.label, note)
        return attrs.evolve(self, state=target, timeline=self.timeline + (step,), events=self.events + (event,),
                            **changes)

    def pay(self, who: Who, amount: Money, now: Instant, reference: str = "") -> Order:
        """A verified payment callback (system): ``amount`` must be the quoted total exactly
        (PaymentError ``payment.amount_mismatch`` otherwise)."""
        target = self._check(OrderAction.PAY, who)
        if amount != self.total:
            raise PaymentError(f"paid {amount} but the order total is {self.total}", code="payment.amount_mismatch")
        note = _text(reference, "reference", required=False)
        return self._step(OrderAction.PAY, who, now, target, note, functools.partial(OrderPaid, amount=amount),
                          paid=amount)

    def expire_payment(self, who: Who, now: Instant) -> Order:
        """The payment window closed (system timer); nothing was charged."""
        return self._step(OrderAction.EXPIRE_PAYMENT, who, now, self._check(OrderAction.EXPIRE_PAYMENT, who))

    def accept(self, who: Who, now: Instant) -> Order:
        """The offered therapist accepts; on a broadcast the first therapist to grab it (who has not
        rejected it) becomes the assigned one."""
        target = self._check(OrderAction.ACCEPT, who)
        return self._step(OrderAction.ACCEPT, who, now, target, therapist_id=who.account_id)

    def reject(self, who: Who, now: Instant, reason: str = "") -> Order:
        """The offered therapist declines (a reason is required), or the system withdraws an offer that timed
        out; the order goes back to dispatch and is never offered to that therapist again."""
        target = self._check(OrderAction.REJECT, who)
        text = _text(reason, "reason", required=who.party is OrderParty.THERAPIST) or "offer timed out"
        dropped = () if self.therapist_id is None else (self.therapist_id,)
        return self._step(OrderAction.REJECT, who, now, target, text, therapist_id=None,
                          rejected_by=self.rejected_by + dropped)

    def redispatch(self, who: Who, now: Instant, therapist_id: AccountId | None) -> Order:
        """Offer the order again, to ``therapist_id`` or (None) to everybody nearby.  A therapist who rejected
        it is refused (Conflict ``order.already_rejected``)."""
        target = self._check(OrderAction.REDISPATCH, who)
        if therapist_id is not None and therapist_id in self.rejected_by:
            raise Conflict("that therapist already rejected this order", code="order.already_rejected")
        if therapist_id is not None and therapist_id == self.customer_id:
            raise ValidationError("a therapist cannot serve their own order", code="order.self_service")
        return self._step(OrderAction.REDISPATCH, who, now, target, therapist_id=therapist_id)

    def depart(self, who: Who, now: Instant) -> Order:
        """The therapist set off."""
        return self._step(OrderAction.DEPART, who, now, self._check(OrderAction.DEPART, who))

    def arrive(self, who: Who, now: Instant, policy: CancellationPolicy | None = None) -> Order:
        """The therapist is at the door; the customer's no-show grace starts now.  Later than the policy's
        ``late_arrival_grace`` after the scheduled start (``policy`` None: the default policy) the order
        records a ``LateArrival`` (minutes late, a ``therapist_late`` penalty) and the event is
        ``TherapistArrivedLate``; the customer may then cancel with a full refund (decision 0025)."""
        target = self._check(OrderAction.ARRIVE, who)
        late = late_arrival(self, now, CancellationPolicy() if policy is None else policy)
        if late is None:
            return self._step(OrderAction.ARRIVE, who, now, target, arrived_at=utc(now))
        return self._step(OrderAction.ARRIVE, who, now, target, f"{late.minutes} min late",
                          functools.partial(TherapistArrivedLate, late=late), arrived_at=utc(now),
                          late_arrival=late)

    def start(self, who: Who, now: Instant) -> Order:
        """The massage begins."""
        return self._step(OrderAction.START, who, now, self._check(OrderAction.START, who))

    def finish(self, who: Who, now: Instant) -> Order:
        """The therapist says the massage is over."""
        target = self._check(OrderAction.FINISH, who)
        return self._step(OrderAction.FINISH, who, now, target, finished_at=utc(now))

    def complete(self, who: Who, now: Instant) -> Order:
        """The customer confirms, or the system auto-completes after the confirmation window."""
        return self._step(OrderAction.COMPLETE, who, now, self._check(OrderAction.COMPLETE, who))

    def cancel(self, who: Who, now: Instant, policy: CancellationPolicy, reason: str = "") -> Order:
        """End the order before the service; the policy settles who gets what (``settlement``)."""
        target = self._check(OrderAction.CANCEL, who)
        text = _text(reason, "reason", required=False)
        outcome = settle_cancellation(self, who, now, policy)
        return self._step(OrderAction.CANCEL, who, now, target, text,
                          functools.partial(OrderSettled, outcome=outcome), settlement=outcome)

    def mark_no_show(self, who: Who, now: Instant, policy: CancellationPolicy) -> Order:
        """Declare a no-show: the customer's after arrival (therapist or admin), the therapist's before it
        (customer or admin); Conflict ``order.no_show_too_early`` within the grace period."""
        target = self._check(OrderAction.MARK_NO_SHOW, who)
        outcome = settle_no_show(self, who, now, policy)
        return self._step(OrderAction.MARK_NO_SHOW, who, now, target, outcome.cause.value,
                          functools.partial(OrderSettled, outcome=outcome), settlement=outcome)

    def dispute(self, who: Who, now: Instant, reason: str) -> Order:
        """The customer contests a finished or completed visit (a reason is required)."""
        target = self._check(OrderAction.DISPUTE, who)
        return self._step(OrderAction.DISPUTE, who, now, target, _text(reason, "reason", required=True))

    def dismiss_dispute(self, who: Who, now: Instant, note: str) -> Order:
        """An admin rules against the dispute (with a note); the order is completed."""
        target = self._check(OrderAction.DISMISS_DISPUTE, who)
        return self._step(OrderAction.DISMISS_DISPUTE, who, now, target, _text(note, "note", required=True))

    def refund(self, who: Who, now: Instant, amount: Money | None = None) -> Order:
        """Give money back.  After a cancellation or no-show: exactly the refund due (the default; Conflict
        ``order.nothing_to_refund`` when none is).  On a dispute (admin): ``amount`` of 1 fen up to what is
        retained (default: all of it).  ValidationError ``order.refund_amount`` for any other amount."""
        target = self._check(OrderAction.REFUND, who)
        if self.state is OrderState.DISPUTED:
            amount = self.retained if amount is None else amount
            if not Money(1, self.paid.currency) <= amount <= self.retained:
                raise ValidationError(f"a refund must be within ¥0.01..{self.retained}", code="order.refund_amount",
                                      field="amount")
        else:
            due = self.refund_due
            if due.fen == 0:
                raise Conflict("nothing is due to the customer", code="order.nothing_to_refund")
            amount = due if amount is None else amount
            if amount != due:
                raise ValidationError(f"the refund due is {due}", code="order.refund_amount", field="amount")
        return self._step(OrderAction.REFUND, who, now, target, str(amount),
                          functools.partial(OrderRefunded, amount=amount), refunded=self.refunded + amount)

    def sos(self, who: Who, now: Instant, note: str = "") -> Order:
        """The therapist asks for help during a visit: the state stays, an urgent event is recorded."""
        target = self._check(OrderAction.SOS, who)
        return self._step(OrderAction.SOS, who, now, target, _text(note, "note", required=False), SosRaised)

    def remind(self, who: Who, now: Instant, lead_minutes: int) -> Order:
        """The system reminds both sides that the visit starts within ``lead_minutes`` (an accepted order; the
        state stays).  Which reminders are due and that each is sent once is the timers' rule
        (``reminded_leads``); ValidationError ``order.lead`` unless 1 <= lead_minutes <= 10080."""
        target = self._check(OrderAction.REMIND, who)
        if isinstance(lead_minutes, bool) or not isinstance(lead_minutes, int) or not 1 <= lead_minutes <= 10_080:
            raise ValidationError("a reminder lead is 1..10080 minutes", code="order.lead", field="lead_minutes")
        return self._step(OrderAction.REMIND, who, now, target, str(lead_minutes),
                          functools.partial(OrderReminded, lead_minutes=lead_minutes))

    @property
    def reminded_leads(self) -> frozenset[int]:
        """The lead times (minutes) of the reminders already recorded in the timeline."""
        return frozenset(int(s.note) for s in self.timeline if s.action is OrderAction.REMIND and s.note.isdigit())

    def clear_events(self) -> Order:
        """The same order with its pending events taken away (after the UoW collected them)."""
        return attrs.evolve(self, events=())
