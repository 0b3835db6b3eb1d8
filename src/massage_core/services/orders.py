"""Orders (C6, C7, C8, T5): quotes, booking, the payment callback, the order lifecycle and refunds.

Who may do what (decision 0019; the state machine of decision 0016 has the last word):

* customers (``orders.place``) quote and book, and on *their* orders complete, dispute and cancel;
* therapists (``orders.serve``) accept, reject, depart, arrive, start, finish, raise an SOS and cancel on the
  orders assigned to them;
* support and superadmins read every order (``orders.read``), cancel and refund (``orders.manage``; audited);
* the system actor plays the system party (timers); the gateway's callback needs no actor.

Somebody else's order looks exactly like a missing one (NotFound, audited as a denial); a role without the
permission gets PermissionDenied (audited); the machine's InvalidTransition and PermissionDenied
(``order.party``, audited) propagate with their codes.  A refusal changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from massage_core.domain.access import Actor, Permission
from massage_core.domain.availability import fits_working_time
from massage_core.domain.errors import Conflict, NotFound, PaymentError, ValidationError
from massage_core.domain.ids import account_id, service_id
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderAction, OrderId, OrderParty, OrderState, Who, order_id
from massage_core.domain.orders import Order
from massage_core.domain.payments import PaymentMethod, PaymentRequest, PaymentStatus, RefundRequest
from massage_core.domain.quotes import Quote
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.order_reads import OrderReads
from massage_core.services.order_quotes import BookingRequest, Priced, price
from massage_core.services.order_views import OrderView

P = OrderParty
CUSTOMER, THERAPIST = frozenset({P.CUSTOMER}), frozenset({P.THERAPIST})
ANYONE = frozenset({P.CUSTOMER, P.THERAPIST, P.ADMIN})


def _method(raw: str) -> PaymentMethod:
    try:
        return PaymentMethod(raw)
    except ValueError:
        raise ValidationError("payment method must be wechat or alipay", code="payment.method",
                              field="method") from None


class OrdersService(OrderReads):
    """``platform.orders``: see the module docstring."""

    # -- quoting and booking -------------------------------------------------------------------------

    def _customer(self, actor: Actor, action: str) -> None:
        self._require(actor, Permission.ORDERS_PLACE, action, actor.label)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")

    def _priced(self, uow: UnitOfWork, therapist: str, service: str, start: dt.datetime, lat: float, lng: float,
                zone: str, tip: int, therapist_gender: str | None, conditions: Sequence[str]) -> Priced:
        request = BookingRequest.parse(account_id(therapist), service_id(service), start, lat, lng, zone, tip,
                                       therapist_gender, conditions)
        policies = self._deps.policies
        return price(uow, request, self._now(), policies.pricing, policies.scheduling)

    def quote(self, actor: Actor, *, therapist: str, service: str, start: dt.datetime, lat: float, lng: float,
              zone: str = "Asia/Shanghai", tip: int = 0, therapist_gender: str | None = None,
              conditions: Sequence[str] = ()) -> Quote:
        """The itemised price of a visit (customers only), after every booking check of ``order_quotes``.

        Returns a ``Quote``.  Raises PermissionDenied (not a customer), ValidationError (``actor.no_account``,
        ``time.naive``, ``time.zone``, ``pricing.point``, ``therapist.gender``, ``catalog.contraindication``,
        ``order.start_in_past``, ``order.too_soon``, ``order.service_not_offered``, ``order.gender_mismatch``,
        ``order.outside_area``, ``order.contraindicated``, ``pricing.no_price``, ``pricing.tip``), NotFound
        (``service``, ``therapist``).
        """
        self._customer(actor, "orders.quote")
        with self._uow() as uow:
            return self._priced(uow, therapist, service, start, lat, lng, zone, tip, therapist_gender,
                                conditions).quote

    def book(self, actor: Actor, *, therapist: str, service: str, start: dt.datetime, lat: float, lng: float,
             zone: str = "Asia/Shanghai", tip: int = 0, therapist_gender: str | None = None,
             conditions: Sequence[str] = (), method: str = "wechat") -> OrderView:
        """Quote, place the order, hold the therapist's time for the payment window and open the payment.

        In one unit of work: the quote's checks, the schedule's (Conflict ``schedule.offline``,
        ``reservation.outside_hours``; NotFound ``schedule``), the hold (``hold_until`` = now + the payment
        window, reference = the order id; Conflict ``reservation.overlap``), the order, then the gateway
        payment, then the commit: a refusal anywhere stores nothing, and a commit that fails closes the
        payment again.  Returns the ``OrderView`` with ``payment`` (the client payload).  Errors: those of
        ``quote``, plus ValidationError ``payment.method``.
        """
        self._customer(actor, "orders.book")
        pay_with = _method(method)
        assert actor.account_id is not None
        now = self._now()
        window = dt.timedelta(minutes=self._deps.policies.payment_window_minutes)
        with self._uow() as uow:
            priced = self._priced(uow, therapist, service, start, lat, lng, zone, tip, therapist_gender, conditions)
            self._check_bookable(uow, priced)
            placed = Order.place(OrderId(self._deps.ids.new_id("order")), account_id(actor.account_id),
                                 priced.service.id, priced.interval, priced.quote.total, now, priced.therapist.id)
            hold_until = min(now + window, priced.interval.end)
            hold = self._new_reservation(placed, priced.therapist.id, now, hold_until=hold_until)
            uow.reservations.add(hold, now)
            uow.record(hold.events)
            uow.record(placed.events)
            stored = uow.orders.add(placed)
            payload = self._gateway.create_payment(PaymentRequest(
                stored.id, stored.total, pay_with, priced.service.name[:127].strip() or "massage",
                expires_at=hold_until))
            try:
                uow.commit()
            except Exception:
                self._close_unpaid(stored.id)
                raise
        return OrderView.of(stored, payload)

    @staticmethod
    def _check_bookable(uow: UnitOfWork, priced: Priced) -> None:
        schedule = uow.schedules.find(priced.therapist.id)
        if schedule is None:
            raise NotFound("schedule", priced.therapist.id)
        if not schedule.online:
            raise Conflict("the therapist is offline", code="schedule.offline")
        if not fits_working_time(schedule, priced.interval.span):
            raise Conflict("the therapist does not work then", code="reservation.outside_hours")

    # -- the gateway's callback ----------------------------------------------------------------------

    def payment_callback(self, headers: Mapping[str, str], body: bytes) -> OrderView:
        """Apply a payment notification from the gateway (no actor: the system acts on a verified notice).

        A paid notice moves the order to ``awaiting_acceptance`` and makes the hold firm, once: a replayed
        or concurrent duplicate (same transaction id) returns the order unchanged.  A payment for an order
        that is no longer waiting for one (cancelled, expired) is refunded in full.  When the hold lapsed and
        the time was taken meanwhile, the order is paid, then cancelled and refunded by the system.  Failed
        and closed notices change nothing.  Raises PaymentError from ``parse_callback`` (``payment.signature``,
        ``payment.stale``, ``payment.malformed``, ``payment.replay``) and ``payment.mismatch`` (unknown order,
        other amount or currency); nothing changes then.
        """
        notice = self._gateway.parse_callback(headers, body)
        try:
            oid = order_id(notice.order_reference)
        except ValidationError:
            raise PaymentError("the payment is for no order of ours", code="payment.mismatch") from None
        for attempt in (1, 2):
            try:
                return self._apply_payment(oid, notice.status, notice.amount, notice.provider_transaction_id)
            except Conflict as stale:
                if stale.code != "conflict.stale" or attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _apply_payment(self, oid: OrderId, status: PaymentStatus, amount: Money, transaction: str) -> OrderView:
        now = self._now()
        with self._uow() as uow:
            try:
                order = uow.orders.get(oid)
            except NotFound:
                raise PaymentError("the payment is for no order of ours", code="payment.mismatch") from None
            if status is not PaymentStatus.PAID:
                return OrderView.of(order)
            if amount != order.total:
                raise PaymentError(f"paid {amount} for an order of {order.total}", code="payment.mismatch")
            if any(s.action is OrderAction.PAY and s.note == transaction for s in order.timeline):
                return OrderView.of(order)
            if order.state is not OrderState.PENDING_PAYMENT:
                self._gateway.refund(RefundRequest(order.id, f"{order.id}-late", amount, amount,
                                                   "the order was no longer payable"))
                return OrderView.of(order)
            paid = order.pay(Who.system(), amount, now, reference=transaction)
            if not self._firm_time(uow, paid, now):
                paid = self._nobody_left(paid.reject(Who.system(), now), now)
            uow.record(paid.events)
            saved = uow.orders.save(paid)
            uow.commit()
        return OrderView.of(saved)

    # -- the therapist -------------------------------------------------------------------------------

    def _serve(self, actor: Actor, order: str, action: str) -> None:
        self._require(actor, Permission.ORDERS_SERVE, f"orders.{action}", str(order))

    def accept(self, actor: Actor, order: str) -> OrderView:
        """The assigned therapist accepts a paid order. Errors: see the module docstring."""
        self._serve(actor, order, "accept")
        return OrderView.of(self._act(actor, order, "accept", THERAPIST, lambda o, w, t: o.accept(w, t)))

    def reject(self, actor: Actor, order: str, reason: str = "") -> OrderView:
        """The assigned therapist declines (a reason is required: ValidationError ``order.reason``), or the system
        withdraws the offer.  With no dispatch strategy yet nobody is left, so the system cancels the order and
        refunds it in full; the therapist's time is released."""
        self._serve(actor, order, "reject")
        return OrderView.of(self._act(
            actor, order, "reject", THERAPIST, lambda o, w, t: o.reject(w, t, reason),
            after=lambda uow, before, after, t: self._nobody_left(after, t)))

    def depart(self, actor: Actor, order: str) -> OrderView:
        """The therapist set off (accepted -> departed)."""
        self._serve(actor, order, "depart")
        return OrderView.of(self._act(actor, order, "depart", THERAPIST, lambda o, w, t: o.depart(w, t)))

    def arrive(self, actor: Actor, order: str) -> OrderView:
        """The therapist is at the door (departed -> arrived)."""
        self._serve(actor, order, "arrive")
        return OrderView.of(self._act(actor, order, "arrive", THERAPIST, lambda o, w, t: o.arrive(w, t)))

    def start(self, actor: Actor, order: str) -> OrderView:
        """The massage begins (arrived -> in_service)."""
        self._serve(actor, order, "start")
        return OrderView.of(self._act(actor, order, "start", THERAPIST, lambda o, w, t: o.start(w, t)))

    def finish(self, actor: Actor, order: str) -> OrderView:
        """The massage is over (in_service -> finished)."""
        self._serve(actor, order, "finish")
        return OrderView.of(self._act(actor, order, "finish", THERAPIST, lambda o, w, t: o.finish(w, t)))

    def sos(self, actor: Actor, order: str, note: str = "") -> OrderView:
        """An SOS during a visit: the state stays; a ``SosRaised`` event and an audit entry are recorded."""
        self._serve(actor, order, "sos")
        return OrderView.of(self._act(actor, order, "sos", THERAPIST, lambda o, w, t: o.sos(w, t, note)))

    # -- the customer and admins ---------------------------------------------------------------------

    def complete(self, actor: Actor, order: str) -> OrderView:
        """The customer confirms a finished visit (the system may auto-complete)."""
        self._require(actor, Permission.ORDERS_PLACE, "orders.complete", str(order))
        return OrderView.of(self._act(actor, order, "complete", CUSTOMER, lambda o, w, t: o.complete(w, t)))

    def dispute(self, actor: Actor, order: str, reason: str) -> OrderView:
        """The customer contests a finished or completed visit (ValidationError ``order.reason`` without one)."""
        self._require(actor, Permission.ORDERS_PLACE, "orders.dispute", str(order))
        return OrderView.of(self._act(actor, order, "dispute", CUSTOMER, lambda o, w, t: o.dispute(w, t, reason)))

    def cancel(self, actor: Actor, order: str, reason: str = "") -> OrderView:
        """Cancel as the order's customer, its therapist or an admin (``orders.manage``; audited).

        The cancellation policy settles the split, the reservation is released and the refund due goes
        back through the gateway at once (refund number ``<order>-r<step>``); an unpaid order's payment is
        closed.  Raises InvalidTransition / PermissionDenied ``order.party`` from the machine.
        """
        if not any(actor.may(p) for p in (Permission.ORDERS_PLACE, Permission.ORDERS_SERVE,
                                          Permission.ORDERS_MANAGE)):
            self._require(actor, Permission.ORDERS_PLACE, "orders.cancel", str(order))
        policy = self._deps.policies.cancellation
        saved = self._act(actor, order, "cancel", ANYONE, lambda o, w, t: o.cancel(w, t, policy, reason),
                          after=lambda uow, before, after, t: self._refund_after_cancel(after, t))
        if saved.paid.fen == 0:
            self._close_unpaid(saved.id)
        return OrderView.of(saved)

    def refund(self, actor: Actor, order: str, amount: Money | int | None = None) -> OrderView:
        """Admins (``orders.manage``; audited): refund a disputed order (``amount`` fen or Money, default all
        retained) or retry the refund due of a cancelled / no-show order.  Errors: ValidationError
        ``order.refund_amount``, Conflict ``order.nothing_to_refund``, the gateway's PaymentError."""
        self._require(actor, Permission.ORDERS_MANAGE, "orders.refund", str(order))
        money = Money(amount) if isinstance(amount, int) and not isinstance(amount, bool) else amount
        if money is not None and not isinstance(money, Money):
            raise ValidationError("amount must be Money or integer fen", code="order.refund_amount", field="amount")
        return OrderView.of(self._act(
            actor, order, "refund", frozenset({P.ADMIN}),
            lambda o, w, t: self._refund(o, w, t, "refund by the platform", money)))
