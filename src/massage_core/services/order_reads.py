"""The read side of ``platform.orders``: one order with its timeline, one's own orders, spending, every order."""

from __future__ import annotations

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import account_id
from massage_core.domain.money import Money
from massage_core.domain.order_states import CustomerStatus, OrderParty, OrderState, customer_status, order_id
from massage_core.services.base import page_bounds
from massage_core.services.order_offers import OrderOffers
from massage_core.services.order_views import OrderPage, OrderView, Spending

P = OrderParty



def _state(raw: str) -> OrderState:
    try:
        return OrderState(raw)
    except ValueError:
        raise ValidationError(f"unknown order state {raw!r}", code="order.status", field="status") from None


class OrderReads(OrderOffers):
    """Reads of orders; the writes are in ``OrdersService``."""

    def get(self, actor: Actor, order: str) -> OrderView:
        """Details and timeline: the order's customer, its therapist, ``orders.read`` (support, superadmin)."""
        oid = order_id(order)
        readers = (Permission.ORDERS_READ, Permission.ORDERS_PLACE, Permission.ORDERS_SERVE)
        if not any(actor.may(p) for p in readers):
            self._require(actor, Permission.ORDERS_READ, "orders.get", oid)
        with self._guard(actor, "orders.get", oid), self._uow() as uow:
            found = uow.orders.get(oid)
            if not actor.may(Permission.ORDERS_READ):
                self._who(actor, found, frozenset({P.CUSTOMER, P.THERAPIST}))
            return OrderView.of(found, viewer=actor.account_id)

    def list_mine(self, actor: Actor, status: str | None = None, *, as_therapist: bool | None = None,
                  offset: int = 0, limit: int = 20) -> OrderPage:
        """The actor's own orders, newest first: as customer (``status`` a customer group: pending_payment,
        pending_service, in_service, completed, cancelled, refunded) or as therapist (``status`` an order
        state).  ``as_therapist`` None: as therapist when the actor is a therapist and not a customer.
        ValidationError ``order.status``, ``page.*``."""
        offset, limit = page_bounds(offset, limit)
        therapist = as_therapist if as_therapist is not None else not actor.may(Permission.ORDERS_PLACE)
        self._require(actor, Permission.ORDERS_SERVE if therapist else Permission.ORDERS_PLACE, "orders.list_mine",
                      actor.label)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        me = account_id(actor.account_id)
        with self._uow() as uow:
            if therapist:
                states = None if status is None else [_state(status)]
                found = uow.orders.list_for_therapist(me, states, offset=offset, limit=limit)
            else:
                states = None if status is None else self._group(status)
                found = uow.orders.list_for_customer(me, states, offset=offset, limit=limit)
        return OrderPage(tuple(OrderView.of(o, viewer=actor.account_id) for o in found), offset, limit)

    @staticmethod
    def _group(status: str) -> list[OrderState]:
        try:
            group = CustomerStatus(status)
        except ValueError:
            raise ValidationError(f"unknown status {status!r}", code="order.status", field="status") from None
        return [s for s in OrderState if customer_status(s) is group]

    def spending(self, actor: Actor) -> Spending:
        """The customer's money: paid and refunded over all their orders, and the net spent."""
        self._require(actor, Permission.ORDERS_PLACE, "orders.spending", actor.label)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        me, paid, refunded, count, offset = account_id(actor.account_id), 0, 0, 0, 0
        with self._uow() as uow:
            while page := uow.orders.list_for_customer(me, offset=offset, limit=200):
                for o in page:
                    paid, refunded, count = paid + o.paid.fen, refunded + o.refunded.fen, count + (o.paid.fen > 0)
                offset += len(page)
        return Spending(Money(paid), Money(refunded), Money(paid - refunded), count)

    def list_all(self, actor: Actor, state: str | None = None, *, offset: int = 0, limit: int = 50,
                 customer: str | None = None, therapist: str | None = None) -> OrderPage:
        """Every order (``orders.read``), newest first, optionally in one state.  ``customer`` / ``therapist``
        (account ids, combinable): one person's order history -- the orders they placed / that are assigned or
        offered to them -- a staff read of personal data, audited ``orders.history`` per person named.
        ValidationError ``invalid_id``, ``order.status``, ``page.*``; PermissionDenied (audited)."""
        offset, limit = page_bounds(offset, limit)
        people = {role: account_id(raw) for role, raw in (("customer", customer), ("therapist", therapist))
                  if raw is not None}
        action = "orders.history" if people else "orders.list_all"
        self._require(actor, Permission.ORDERS_READ, action, next(iter(people.values()), "orders"))
        states = list(OrderState) if state is None else [_state(state)]
        with self._uow() as uow:
            found = uow.orders.list_by_state(states, offset=offset, limit=limit, customer_id=people.get("customer"),
                                             therapist_id=people.get("therapist"))
            if people:
                now = self._now()
                for role, who in people.items():
                    self._audit_ok(uow, actor, action, who, now, role=role, state=state or "")
                uow.commit()
        return OrderPage(tuple(OrderView.of(o, viewer=actor.account_id) for o in found), offset, limit)
