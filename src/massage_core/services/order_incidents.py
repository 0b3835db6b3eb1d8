"""When a visit goes wrong, and where the money went: no-shows, dismissed disputes, therapists' penalty
records and the customer's payment records (decision 0023).  Part of ``platform.orders``.

* ``mark_no_show``: the therapist declares the customer absent (``arrived``, from the policy's
  ``customer_grace`` after arrival), the customer declares the therapist absent (``accepted``/``departed``,
  from ``therapist_grace`` after the scheduled start), admins (``orders.manage``; audited) either.  The policy
  settles the split, the refund due goes back through the gateway in the same unit of work (refund number
  ``<order>-r<step>``, as ``cancel``), the reservation is released.  A therapist's no-show carries a
  ``Penalty`` in the settlement, as a therapist's cancellation does.
* ``dismiss_dispute``: admins rule against a dispute (audited); the order is completed.
* ``penalties``: penalty records -- a therapist their own, ``orders.read`` anybody's.
* ``payments`` / ``payment_history``: the payment and refunds of an order -- its customer and ``orders.read``
  only; the therapist never sees the customer's payment details.
"""

from __future__ import annotations

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import MassageError, ValidationError
from massage_core.domain.ids import AccountId, account_id
from massage_core.domain.order_states import OrderAction, OrderParty, Who, order_id
from massage_core.domain.orders import Order
from massage_core.domain.payments import PaymentRecord, PaymentStatus
from massage_core.domain.time import Instant
from massage_core.services.base import page_bounds
from massage_core.services.order_reads import OrderReads
from massage_core.services.order_views import (
    OrderView,
    PaymentEntry,
    PaymentHistory,
    PaymentRecords,
    PenaltyPage,
    PenaltyView,
)

P = OrderParty
PARTIES = frozenset({P.CUSTOMER, P.THERAPIST, P.ADMIN})
ADMIN = frozenset({P.ADMIN})
PAYMENT, REFUND = "payment", "refund"
PAID, REFUNDED, PROCESSING = "paid", "refunded", "processing"


def timeline_entries(order: Order) -> list[PaymentEntry]:
    """The payment and refunds the order recorded, in timeline order.

    The pay step's note is the gateway's transaction id; a refund step at position ``n`` was sent as refund
    number ``<order>-r<n>`` (``order_payments.refund_number``).  A refund ends in the terminal ``refunded``
    state, so an order has at most one refund step and its amount is ``order.refunded``.
    """
    found: list[PaymentEntry] = []
    for position, step in enumerate(order.timeline):
        if step.action is OrderAction.PAY:
            found.append(PaymentEntry(order.id, PAYMENT, order.paid, step.at, step.note, PAID))
        elif step.action is OrderAction.REFUND:
            found.append(PaymentEntry(order.id, REFUND, order.refunded, step.at, f"{order.id}-r{position}", REFUNDED))
    return found


def checked_entries(order: Order, record: PaymentRecord) -> list[PaymentEntry]:
    """``timeline_entries`` checked against the gateway's record of the order.

    A refund the gateway has not settled in full yet is ``processing``.  A payment the gateway took after the
    order stopped waiting for one (cancelled or expired meanwhile) was never recorded by the order; it was
    refunded in full as ``<order>-late`` (decision 19), and both are listed from the gateway's record.
    """
    found = timeline_entries(order)
    if record.refunded < order.refunded:
        found = [PaymentEntry(e.order_id, e.kind, e.amount, e.at, e.reference, PROCESSING) if e.kind == REFUND
                 else e for e in found]
    transaction = record.provider_transaction_id
    recorded = {e.reference for e in found if e.kind == PAYMENT}
    if record.status is PaymentStatus.PAID and transaction and transaction not in recorded:
        found.append(PaymentEntry(order.id, PAYMENT, record.amount, record.paid_at, transaction, PAID))
        late = record.refunded - order.refunded
        if late.fen > 0:
            status = REFUNDED if late == record.amount - order.paid else PROCESSING
            found.append(PaymentEntry(order.id, REFUND, late, None, f"{order.id}-late", status))
    return found


def _newest(entry: PaymentEntry) -> tuple[Instant, str, bool]:
    assert entry.at is not None  # the orders' own entries always have a time
    return entry.at, entry.order_id, entry.kind == REFUND


class OrderIncidents(OrderReads):
    """No-shows, dismissed disputes, penalty and payment records; see the module docstring."""

    def _refund_settled(self, order: Order, now: Instant, reason: str) -> Order:
        """Pay back what a settlement decided, when anything is due (the system's refund step)."""
        if order.refund_due.fen:
            return self._refund(order, Who.system(), now, reason)
        return order

    def mark_no_show(self, actor: Actor, order: str) -> OrderView:
        """Declare a no-show: the assigned therapist (``orders.serve``) the customer's, after arrival; the
        customer (``orders.place``) the therapist's, before arrival; admins (``orders.manage``; audited) either.

        The policy settles it: customer absent -- no refund, the therapist compensated; therapist absent --
        full refund at once through the gateway and a penalty record.  The reservation is released.  Errors:
        PermissionDenied (no such role; ``order.party`` -- e.g. the therapist before arrival, the customer
        after it, the system), NotFound (missing or somebody else's order), InvalidTransition (another
        state), Conflict ``order.no_show_too_early`` (within the grace period), the gateway's PaymentError
        (nothing stored then).  A refusal changes nothing.
        """
        if not any(actor.may(p) for p in (Permission.ORDERS_PLACE, Permission.ORDERS_SERVE,
                                          Permission.ORDERS_MANAGE)):
            self._require(actor, Permission.ORDERS_PLACE, "orders.mark_no_show", str(order))
        policy = self._deps.policies.cancellation
        return self._view(actor, self._act(
            actor, order, "mark_no_show", PARTIES, lambda o, w, t: o.mark_no_show(w, t, policy),
            after=lambda uow, before, after, t: self._refund_settled(after, t, "no-show")))

    def dismiss_dispute(self, actor: Actor, order: str, note: str) -> OrderView:
        """Admins (``orders.manage``; audited): rule against the customer's dispute; the order is completed.

        Errors: PermissionDenied (not an admin; ``order.party`` for the system), NotFound, InvalidTransition
        (not disputed), ValidationError ``order.note`` (1..500 characters required).  To uphold a dispute,
        ``refund`` it instead.
        """
        self._require(actor, Permission.ORDERS_MANAGE, "orders.dismiss_dispute", str(order))
        return self._view(actor, self._act(actor, order, "dismiss_dispute", ADMIN,
                                      lambda o, w, t: o.dismiss_dispute(w, t, note)))

    def penalties(self, actor: Actor, therapist: str | None = None, *, offset: int = 0,
                  limit: int = 20) -> PenaltyPage:
        """Penalty records against a therapist (a therapist cancelled or did not come), newest first.

        ``therapist`` None: the actor's own.  A therapist (``orders.serve``) sees their own; ``orders.read``
        (support, superadmin, system) anybody's.  Errors: PermissionDenied (no such role, or another
        therapist's without ``orders.read``), ValidationError ``actor.no_account`` (the system without a
        therapist), ``invalid_id``, ``page.offset``, ``page.limit``.
        """
        if not actor.may(Permission.ORDERS_READ):
            self._require(actor, Permission.ORDERS_SERVE, "orders.penalties", therapist or actor.label)
        offset, limit = page_bounds(offset, limit)
        if therapist is None:
            if actor.account_id is None:
                raise ValidationError("the system has no account of its own", code="actor.no_account")
            whose: AccountId = account_id(actor.account_id)
        else:
            whose = account_id(therapist)
        if whose != actor.account_id:
            self._require(actor, Permission.ORDERS_READ, "orders.penalties", whose)
        with self._uow() as uow:
            found = uow.orders.penalties_of(whose, offset=offset, limit=limit)
        return PenaltyPage(tuple(PenaltyView(r.order_id, r.penalty.therapist_id, r.penalty.cause, r.penalty.at)
                                 for r in found), offset, limit)

    def payments(self, actor: Actor, order: str) -> PaymentRecords:
        """The payment and each refund of one order (kind, amount, when, reference, status), the method and
        the gateway's status: the order's customer (``orders.place``) and ``orders.read``; not its therapist.

        Read from the order's timeline, then checked with the gateway's ``query`` outside the unit of work;
        when the gateway cannot answer, the order's own records are returned (``gateway_checked`` False).
        Errors: PermissionDenied (no such role), NotFound (missing or somebody else's order), ValidationError
        ``invalid_id``.
        """
        oid = order_id(order)
        if not actor.may(Permission.ORDERS_READ):
            self._require(actor, Permission.ORDERS_PLACE, "orders.payments", oid)
        with self._guard(actor, "orders.payments", oid), self._uow() as uow:
            found = uow.orders.get(oid)
            if not actor.may(Permission.ORDERS_READ):
                self._who(actor, found, frozenset({P.CUSTOMER}))
        try:
            record: PaymentRecord | None = self._gateway.query(oid)
        except MassageError:
            record = None
        if record is None:
            return PaymentRecords(oid, found.total, found.paid, found.refunded, None, None, False,
                                  tuple(timeline_entries(found)))
        return PaymentRecords(oid, found.total, found.paid, found.refunded, record.method, record.status, True,
                              tuple(checked_entries(found, record)))

    def payment_history(self, actor: Actor, *, offset: int = 0, limit: int = 20) -> PaymentHistory:
        """The customer's payments and refunds over all their orders, newest first, from the orders' own
        records (no gateway call per order: ``payments`` shows one order checked with the gateway).

        Customers only (``orders.place``).  Errors: PermissionDenied, ValidationError ``actor.no_account``,
        ``page.offset``, ``page.limit``.
        """
        self._require(actor, Permission.ORDERS_PLACE, "orders.payment_history", actor.label)
        offset, limit = page_bounds(offset, limit)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        me, entries, scanned = account_id(actor.account_id), [], 0
        with self._uow() as uow:
            while page := uow.orders.list_for_customer(me, offset=scanned, limit=200):
                for found in page:
                    entries.extend(timeline_entries(found))
                scanned += len(page)
        entries.sort(key=_newest, reverse=True)
        return PaymentHistory(tuple(entries[offset:offset + limit]), offset, limit)
