"""What the order use cases share: who the actor is on an order, running one step, the therapist's
reservation that follows the order, and money through the payment gateway (decision 0019).

Money and the unit of work: the gateway is called *inside* the unit of work, after every check passed and
before the commit.  A refund is keyed by ``<order id>-r<position of the refund step>``, a number that stays
the same until the refund step is stored, so a retry after a failed commit (or a concurrent duplicate)
moves the money once; the order's version check lets exactly one of two concurrent refunds save.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import Conflict, MassageError, PermissionDenied
from massage_core.domain.ids import AccountId, ReservationId
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderId, OrderParty, Who, order_id
from massage_core.domain.orders import Order
from massage_core.domain.payments import RefundRequest
from massage_core.domain.reservations import Reservation
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.time import Instant
from massage_core.ports.payments import PaymentGateway
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Denied, Service, not_found
from massage_core.services.order_money import post_new_steps
from massage_core.services.notify_orders import notify_order

Step = Callable[[Order, Who, Instant], Order]
After = Callable[[UnitOfWork, Order, Order, Instant], Order]

NOBODY_LEFT = "nobody left to take the order"


def refund_number(order: Order) -> str:
    """The refund number of the next refund step of ``order``: stable until that step is stored."""
    return f"{order.id}-r{len(order.timeline)}"


class OrderFlows(Service):
    """Base of ``OrdersService``: the shared machinery; the public use cases live in ``orders``."""

    @property
    def _gateway(self) -> PaymentGateway:
        return self._deps.payment_gateway

    # -- who acts ----------------------------------------------------------------------------------

    @staticmethod
    def _who(actor: Actor, order: Order, parties: frozenset[OrderParty]) -> Who:
        """The party ``actor`` plays on ``order`` among ``parties``; the system is always the system (the
        state machine decides whether it may).  Anybody else's order looks missing (a ``Denied``)."""
        if actor.is_system:
            return Who.system()
        me = actor.account_id
        if me is not None:
            if OrderParty.CUSTOMER in parties and me == order.customer_id and actor.may(Permission.ORDERS_PLACE):
                return Who.customer(me)
            if OrderParty.THERAPIST in parties and me == order.therapist_id and actor.may(Permission.ORDERS_SERVE):
                return Who.therapist(me)
            if OrderParty.ADMIN in parties and actor.may(Permission.ORDERS_MANAGE):
                return Who.admin(me)
        raise not_found("order", order.id)

    def _act(self, actor: Actor, order: str, action: str, parties: frozenset[OrderParty], step: Step,
             after: After | None = None, **audit: str) -> Order:
        """Load the order, play ``step`` as the actor's party, keep the therapist's time in line, run
        ``after`` (more steps or money, inside the same unit of work), save and commit.

        A domain PermissionDenied is audited and raised; InvalidTransition and ValidationError propagate;
        NotFound for a missing order and for somebody else's.  A refusal changes nothing.  Admins'
        successful actions and every SOS are audited.
        """
        oid = order_id(order)
        now = self._now()
        with self._guard(actor, f"orders.{action}", oid), self._uow() as uow:
            current = uow.orders.get(oid)
            who = self._who(actor, current, parties)
            try:
                changed = step(current, who, now)
            except PermissionDenied as denied:
                raise Denied(denied) from None
            if after is not None:
                changed = after(uow, current, changed, now)
            self._follow_time(uow, current, changed, now)
            post_new_steps(uow, current, changed, self._deps.policies.commission)
            self._notify(uow, current, changed, now)
            uow.record(changed.events)
            saved = uow.orders.save(changed)
            if who.party is OrderParty.ADMIN or action == "sos":
                self._audit_ok(uow, actor, f"orders.{action}", oid, now, state=saved.state.value, **audit)
            uow.commit()
        return saved

    def _notify(self, uow: UnitOfWork, before: Order, after: Order, now: Instant) -> None:
        """Write the notifications of the order's new steps in this unit of work (decision 0043)."""
        notify_order(uow, self._deps, before, after, now, self._broadcast_to)

    def _broadcast_to(self, uow: UnitOfWork, order: Order, now: Instant) -> Sequence[TherapistProfile]:
        """Who a broadcast order is offered to now; dispatch (``OrderDispatch``) knows."""
        return ()

    # -- the therapist's time ------------------------------------------------------------------------

    @staticmethod
    def _reservation(uow: UnitOfWork, therapist: AccountId | None, order: Order, now: Instant) -> Reservation | None:
        """The live reservation the order holds with ``therapist`` (its reference is the order id)."""
        if therapist is None:
            return None
        for found in uow.reservations.between(therapist, order.scheduled.start, order.scheduled.end, live_at=now):
            if found.reference == order.id:
                return found
        return None

    def _follow_time(self, uow: UnitOfWork, before: Order, after: Order, now: Instant) -> None:
        """Release the reservation when the order stops holding that therapist's time (cancelled, rejected,
        expired, ...)."""
        if before.therapist_id is None or (after.holds_therapist_time and after.therapist_id == before.therapist_id):
            return
        held = self._reservation(uow, before.therapist_id, before, now)
        if held is not None:
            released = held.release(now)
            uow.record(released.events)
            uow.reservations.save(released)

    def _firm_time(self, uow: UnitOfWork, order: Order, now: Instant) -> bool:
        """Make the order's hold firm (payment arrived); when the hold lapsed, reserve the time again.

        False when the time was taken meanwhile (``reservation.overlap``): nothing was stored then.
        """
        held = self._reservation(uow, order.therapist_id, order, now)
        if held is not None and held.hold_until is None:
            return True  # a concurrent delivery confirmed it: the order's version check settles which one saves
        if held is not None:
            confirmed = held.confirm(now)
            uow.record(confirmed.events)
            uow.reservations.save(confirmed)
            return True
        if order.therapist_id is None:
            return False
        made = self._new_reservation(order, order.therapist_id, now, hold_until=None)
        try:
            stored = uow.reservations.add(made, now)
        except Conflict as clash:
            if clash.code != "reservation.overlap":
                raise
            return False
        uow.record(made.events)
        return stored.id == made.id

    def _new_reservation(self, order: Order, therapist: AccountId, now: Instant,
                         hold_until: Instant | None) -> Reservation:
        buffer = dt.timedelta(minutes=self._deps.policies.scheduling.buffer_minutes)
        return Reservation.make(ReservationId(self._deps.ids.new_id("reservation")), therapist, order.scheduled,
                                order.id, "system", now, buffer=buffer, hold_until=hold_until)

    # -- money ---------------------------------------------------------------------------------------

    def _refund(self, order: Order, who: Who, now: Instant, reason: str, amount: Money | None = None) -> Order:
        """The ``refund`` step (checked first) and the gateway refund of its amount, keyed by
        ``refund_number``.  Gateway errors propagate (nothing stored, safe to retry)."""
        refunded = order.refund(who, now, amount)
        moved = refunded.refunded - order.refunded
        self._gateway.refund(RefundRequest(order.id, refund_number(order), moved, order.paid, reason))
        return refunded

    def _nobody_left(self, order: Order, now: Instant) -> Order:
        """Redispatching with nobody to offer it to (no dispatch strategy yet): the system cancels and
        refunds in full."""
        cancelled = order.cancel(Who.system(), now, self._deps.policies.cancellation, NOBODY_LEFT)
        if cancelled.refund_due.fen:
            return self._refund(cancelled, Who.system(), now, "no therapist available")
        return cancelled

    def _refund_after_cancel(self, order: Order, now: Instant) -> Order:
        """Pay back what a cancellation decided, when anything is due (the system's refund step)."""
        if order.refund_due.fen:
            return self._refund(order, Who.system(), now, "order cancelled")
        return order

    def _close_unpaid(self, oid: OrderId) -> None:
        """Close the gateway payment of an order cancelled before payment, so it can no longer be paid.

        Best effort: when it was paid meanwhile, the late callback refunds it in full (``payment_callback``).
        """
        try:
            self._gateway.close(oid)
        except MassageError:
            return
