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
import re
from collections.abc import Iterator, Mapping, Sequence

from massage_core.domain.access import Actor, Permission
from massage_core.domain.availability import fits_working_time
from massage_core.domain.dispatch import DispatchMode, dispatch_mode
from massage_core.domain.errors import Conflict, NotFound, PaymentError, ValidationError
from massage_core.domain.ids import AccountId, account_id, service_id
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderAction, OrderId, OrderParty, OrderState, Who, order_id
from massage_core.domain.orders import Order
from massage_core.domain.payments import PaymentMethod, PaymentRequest, PaymentStatus, RefundRequest
from massage_core.domain.postings import captured, refunded
from massage_core.domain.quotes import Quote
from massage_core.domain.time import Instant
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.order_alerts import OrderAlerts
from massage_core.services.order_money import post_new_steps
from massage_core.services.notify_orders import late_refund
from massage_core.services.order_incidents import OrderIncidents
from massage_core.services.customers import declared_conditions
from massage_core.services.order_quotes import BookingRequest, Priced, check_offer, check_therapist, quote_for
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


_OPENID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def _payer(raw: str | None) -> str | None:
    """The customer's id at the gateway (WeChat ``openid``) for JSAPI / mini-program payments; never echoed."""
    if raw is None or (isinstance(raw, str) and _OPENID.fullmatch(raw)):
        return raw
    raise ValidationError("payer must be the customer's openid (1-128 letters, digits, _ or -)",
                          code="payment.payer", field="payer")


class OrdersService(OrderIncidents, OrderAlerts):
    """``platform.orders``: see the module docstring."""

    # -- quoting and booking -------------------------------------------------------------------------

    def _customer(self, actor: Actor, action: str) -> AccountId:
        self._require(actor, Permission.ORDERS_PLACE, action, actor.label)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        return account_id(actor.account_id)

    def _mode(self, therapist: str | None, dispatch: str | None) -> DispatchMode:
        chosen = therapist is not None and therapist != "any"
        mode = dispatch_mode(dispatch) if dispatch is not None else (
            DispatchMode.CHOSEN if chosen else self._deps.policies.dispatch.any_mode)
        if (mode is DispatchMode.CHOSEN) != chosen:
            raise ValidationError("name a therapist for dispatch 'chosen', and only then", code="dispatch.mode",
                                  field="dispatch")
        return mode

    def _choices(self, uow: UnitOfWork, request: BookingRequest, mode: DispatchMode, therapist: str | None,
                 customer: AccountId, now: Instant) -> Iterator[Priced]:
        """The priced candidates in the order to try them: the chosen therapist; the best matches (auto); the
        cheapest eligible therapist, the price a broadcast is booked at.  Conflict ``dispatch.nobody_available``
        when no eligible therapist is free."""
        policies = self._deps.policies
        offered = check_offer(uow, request, customer, now, policies.scheduling, declared_conditions(uow, customer))
        if mode is DispatchMode.CHOSEN:
            profile = check_therapist(uow, request, offered.service, account_id(therapist))
            yield quote_for(uow, request, offered, profile, customer, now, policies.pricing)
            return
        eligible = self._eligible(uow, request, offered, now, exclude={customer})
        if not eligible:
            raise Conflict("no therapist is free for this visit", code="dispatch.nobody_available")
        if mode is DispatchMode.AUTO:
            for choice in eligible:
                yield quote_for(uow, request, offered, choice.profile, customer, now, policies.pricing)
            raise Conflict("no therapist is free for this visit", code="dispatch.nobody_available")
        priced = [quote_for(uow, request, offered, e.profile, customer, now, policies.pricing) for e in eligible]
        yield min(priced, key=lambda p: p.quote.total.fen)

    def quote(self, actor: Actor, *, service: str, start: dt.datetime, lat: float, lng: float,
              therapist: str | None = None, zone: str = "Asia/Shanghai", tip: int = 0,
              therapist_gender: str | None = None, conditions: Sequence[str] = (), address: str = "",
              coupon: str | None = None, dispatch: str | None = None) -> Quote:
        """The itemised price of a visit (customers only), after every booking check of ``order_quotes``.

        ``therapist``: the chosen therapist's account id; None or ``"any"`` to let dispatch find one
        (``dispatch`` auto or broadcast; default the policy's ``any_mode``): the best match's price, or for a
        broadcast the cheapest eligible therapist's.  ``coupon``: a code or coupon id.  Conditions declared in
        the customer's profile count as well as ``conditions``.  Returns a ``Quote``.  Raises PermissionDenied
        (not a customer), ValidationError (``actor.no_account``, ``dispatch.mode``, ``time.naive``,
        ``time.zone``, ``pricing.point``, ``order.address``, ``therapist.gender``,
        ``catalog.contraindication``, ``order.start_in_past``, ``order.too_soon``, ``order.contraindicated``,
        ``order.service_not_offered``, ``order.gender_mismatch``, ``order.outside_area``, ``pricing.no_price``,
        ``pricing.tip``, ``coupon.*``), NotFound (``service``, ``therapist``, ``coupon``), Conflict
        (``dispatch.nobody_available``, ``coupon.exhausted``, ``coupon.limit_reached``).
        """
        me = self._customer(actor, "orders.quote")
        mode = self._mode(therapist, dispatch)
        request = BookingRequest.parse(service_id(service), start, lat, lng, address, zone, tip, therapist_gender,
                                       conditions, coupon)
        with self._uow() as uow:
            return next(self._choices(uow, request, mode, therapist, me, self._now())).quote

    def book(self, actor: Actor, *, service: str, start: dt.datetime, lat: float, lng: float,
             therapist: str | None = None, zone: str = "Asia/Shanghai", tip: int = 0,
             therapist_gender: str | None = None, conditions: Sequence[str] = (), method: str = "wechat",
             address: str = "", coupon: str | None = None, dispatch: str | None = None,
             payer: str | None = None) -> OrderView:
        """Quote, place the order, hold the therapist's time for the payment window, redeem the coupon and open
        the payment.

        In one unit of work: the quote's checks; for a chosen or auto-matched therapist the schedule's (Conflict
        ``schedule.offline``, ``reservation.outside_hours``; NotFound ``schedule``) and the hold (``hold_until``
        = now + the payment window, reference = the order id; Conflict ``reservation.overlap`` -- auto tries the
        next best match instead); a broadcast holds nobody's time until a therapist grabs it; the order (with
        the encrypted address); the coupon's redemption (atomic: ``coupon.exhausted`` / ``coupon.limit_reached``
        when a concurrent booking took the last use); then the gateway payment, then the commit: a refusal
        anywhere stores nothing, and a commit that fails closes the payment again.  Returns the ``OrderView``
        with ``payment`` (the client payload).  ``payer``: the customer's WeChat ``openid`` for a JSAPI /
        mini-program payment (None: the App flow); it goes to the gateway only, never stored or logged.  Errors:
        those of ``quote``, plus ValidationError ``payment.method``, ``payment.payer``.
        """
        me = self._customer(actor, "orders.book")
        mode = self._mode(therapist, dispatch)
        pay_with = _method(method)
        payer_id = _payer(payer)
        request = BookingRequest.parse(service_id(service), start, lat, lng, address, zone, tip, therapist_gender,
                                       conditions, coupon)
        now = self._now()
        window = dt.timedelta(minutes=self._deps.policies.payment_window_minutes)
        with self._uow() as uow:
            for priced in self._choices(uow, request, mode, therapist, me, now):
                placed = Order.place(
                    OrderId(self._deps.ids.new_id("order")), me, priced.service.id, priced.interval,
                    priced.quote.total, now, None if mode is DispatchMode.BROADCAST else priced.therapist.id,
                    dispatch=mode, address=request.address, gender_preference=request.therapist_gender,
                    bill=priced.quote.lines, level=priced.quote.level)
                hold_until = min(now + window, priced.interval.end)
                if mode is DispatchMode.BROADCAST or self._held(uow, placed, priced, now, hold_until, mode):
                    break
            uow.record(placed.events)
            stored = uow.orders.add(placed)
            if priced.quote.coupon_id is not None:
                uow.coupons.redeem(priced.quote.coupon_id, me, stored.id, now)
            payload = self._gateway.create_payment(PaymentRequest(
                stored.id, stored.total, pay_with, priced.service.name[:127].strip() or "massage",
                payer=payer_id, expires_at=hold_until))
            try:
                uow.commit()
            except Exception:
                self._close_unpaid(stored.id)
                raise
        return OrderView.of(stored, payload, viewer=me)

    def _held(self, uow: UnitOfWork, placed: Order, priced: Priced, now: Instant, hold_until: Instant,
              mode: DispatchMode) -> bool:
        """Hold the therapist's time for the payment window.  False (auto only: try the next best match) when
        the time was taken meanwhile; a chosen therapist's clash raises."""
        try:
            self._check_bookable(uow, priced)
            assert placed.therapist_id is not None
            hold = self._new_reservation(placed, placed.therapist_id, now, hold_until=hold_until)
            uow.reservations.add(hold, now)
        except (Conflict, NotFound) as clash:
            if mode is DispatchMode.CHOSEN:
                raise
            if clash.code not in ("reservation.overlap", "schedule.offline", "reservation.outside_hours"):
                raise
            return False
        uow.record(hold.events)
        return True

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
                uow.ledger.post(captured(order.id, amount, now))
                uow.ledger.post(refunded(order.id, f"{order.id}-late", amount, now))
                late_refund(uow, self._deps, order, amount, now)
                uow.commit()
                return OrderView.of(order)
            paid = order.pay(Who.system(), amount, now, reference=transaction)
            if paid.therapist_id is not None and not self._firm_time(uow, paid, now):
                rejected = paid.reject(Who.system(), now)
                paid = self._redispatch_or_cancel(uow, rejected, now)
                self._follow_time(uow, order, paid, now)
            post_new_steps(uow, order, paid, self._deps.policies.commission)
            self._notify(uow, order, paid, now)
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
        return self._view(actor, self._act(actor, order, "accept", THERAPIST, lambda o, w, t: o.accept(w, t)))

    def reject(self, actor: Actor, order: str, reason: str = "") -> OrderView:
        """The assigned therapist declines (a reason is required: ValidationError ``order.reason``); their time is
        released.  Dispatch then offers the order to the next best match (auto), broadcasts it again
        (broadcast), or -- a chosen therapist (unless the policy re-dispatches those), nobody left, or the
        policy's ``max_offers`` reached -- the system cancels it and refunds in full (decision 0024)."""
        self._serve(actor, order, "reject")
        return self._view(actor, self._act(
            actor, order, "reject", THERAPIST, lambda o, w, t: o.reject(w, t, reason),
            after=lambda uow, before, after, t: self._redispatch_or_cancel(uow, after, t)))

    def depart(self, actor: Actor, order: str) -> OrderView:
        """The therapist set off (accepted -> departed)."""
        self._serve(actor, order, "depart")
        return self._view(actor, self._act(actor, order, "depart", THERAPIST, lambda o, w, t: o.depart(w, t)))

    def arrive(self, actor: Actor, order: str) -> OrderView:
        """The therapist is at the door (departed -> arrived).  Later than the cancellation policy's
        ``late_arrival_grace`` after the start, the order records the lateness and a ``therapist_late`` penalty
        (``TherapistArrivedLate`` event); the customer may then cancel with a full refund (decision 0025)."""
        self._serve(actor, order, "arrive")
        policy = self._deps.policies.cancellation
        return self._view(actor, self._act(actor, order, "arrive", THERAPIST,
                                           lambda o, w, t: o.arrive(w, t, policy)))

    def start(self, actor: Actor, order: str) -> OrderView:
        """The massage begins (arrived -> in_service)."""
        self._serve(actor, order, "start")
        return self._view(actor, self._act(actor, order, "start", THERAPIST, lambda o, w, t: o.start(w, t)))

    def finish(self, actor: Actor, order: str) -> OrderView:
        """The massage is over (in_service -> finished)."""
        self._serve(actor, order, "finish")
        return self._view(actor, self._act(actor, order, "finish", THERAPIST, lambda o, w, t: o.finish(w, t)))

    def sos(self, actor: Actor, order: str, note: str = "") -> OrderView:
        """An SOS during a visit: the state stays; a ``SosRaised`` event and an audit entry are recorded."""
        self._serve(actor, order, "sos")
        return self._view(actor, self._act(actor, order, "sos", THERAPIST, lambda o, w, t: o.sos(w, t, note),
                                           self._alert_support))

    # -- the customer and admins ---------------------------------------------------------------------

    def complete(self, actor: Actor, order: str) -> OrderView:
        """The customer confirms a finished visit (the system may auto-complete)."""
        self._require(actor, Permission.ORDERS_PLACE, "orders.complete", str(order))
        return self._view(actor, self._act(actor, order, "complete", CUSTOMER, lambda o, w, t: o.complete(w, t)))

    def dispute(self, actor: Actor, order: str, reason: str) -> OrderView:
        """The customer contests a finished or completed visit (ValidationError ``order.reason`` without one)."""
        self._require(actor, Permission.ORDERS_PLACE, "orders.dispute", str(order))
        return self._view(actor, self._act(actor, order, "dispute", CUSTOMER, lambda o, w, t: o.dispute(w, t, reason)))

    def cancel(self, actor: Actor, order: str, reason: str = "") -> OrderView:
        """Cancel as the order's customer, its therapist or an admin (``orders.manage``; audited).

        The cancellation policy settles the split, the reservation is released and the refund due goes
        back through the gateway at once (refund number ``<order>-r<step>``); an unpaid order's payment is
        closed and its coupon redemption restored.  Raises InvalidTransition / PermissionDenied ``order.party`` from the machine.
        """
        if not any(actor.may(p) for p in (Permission.ORDERS_PLACE, Permission.ORDERS_SERVE,
                                          Permission.ORDERS_MANAGE)):
            self._require(actor, Permission.ORDERS_PLACE, "orders.cancel", str(order))
        policy = self._deps.policies.cancellation
        saved = self._act(actor, order, "cancel", ANYONE, lambda o, w, t: o.cancel(w, t, policy, reason),
                          after=self._after_cancel)
        if saved.paid.fen == 0:
            self._close_unpaid(saved.id)
        return OrderView.of(saved, viewer=actor.account_id)

    def _after_cancel(self, uow: UnitOfWork, before: Order, after: Order, now: Instant) -> Order:
        if after.paid.fen == 0:
            uow.coupons.restore(after.id)
        return self._refund_after_cancel(after, now)

    def refund(self, actor: Actor, order: str, amount: Money | int | None = None) -> OrderView:
        """Admins (``orders.manage``; audited): refund a disputed order (``amount`` fen or Money, default all
        retained) or retry the refund due of a cancelled / no-show order.  Errors: ValidationError
        ``order.refund_amount``, Conflict ``order.nothing_to_refund``, the gateway's PaymentError."""
        self._require(actor, Permission.ORDERS_MANAGE, "orders.refund", str(order))
        money = Money(amount) if isinstance(amount, int) and not isinstance(amount, bool) else amount
        if money is not None and not isinstance(money, Money):
            raise ValidationError("amount must be Money or integer fen", code="order.refund_amount", field="amount")
        return self._view(actor, self._act(
            actor, order, "refund", frozenset({P.ADMIN}),
            lambda o, w, t: self._refund(o, w, t, "refund by the platform", money)))
