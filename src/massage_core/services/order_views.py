"""Read models of the orders context: what ``platform.orders`` returns (plain frozen values, no storage rows)."""

from __future__ import annotations

from attrs import frozen

from massage_core.domain.cancellation import CancellationOutcome
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.money import Money
from massage_core.domain.order_states import CustomerStatus, OrderAction, OrderId, OrderState, OrderStep, customer_status
from massage_core.domain.orders import Order
from massage_core.domain.payments import PaymentPayload
from massage_core.domain.time import Instant


@frozen
class OrderView:
    """One order as its customer, its therapist or an admin sees it.

    ``timeline`` holds every accepted step (when, what, by which party and account, from which state to
    which, and the note); ``allowed`` the actions the state machine allows now (whoever may fire them);
    ``payment`` the client payload to start paying, only on the answer of ``book``.
    """

    id: OrderId
    state: OrderState
    customer_status: CustomerStatus
    customer_id: AccountId
    therapist_id: AccountId | None
    service_id: ServiceId
    start: Instant
    end: Instant
    total: Money
    paid: Money
    refunded: Money
    retained: Money
    refund_due: Money
    placed_at: Instant
    settlement: CancellationOutcome | None
    timeline: tuple[OrderStep, ...]
    allowed: tuple[OrderAction, ...]
    version: int
    payment: PaymentPayload | None = None

    @classmethod
    def of(cls, order: Order, payment: PaymentPayload | None = None) -> OrderView:
        return cls(id=order.id, state=order.state, customer_status=customer_status(order.state),
                   customer_id=order.customer_id, therapist_id=order.therapist_id, service_id=order.service_id,
                   start=order.scheduled.start, end=order.scheduled.end, total=order.total, paid=order.paid,
                   refunded=order.refunded, retained=order.retained, refund_due=order.refund_due,
                   placed_at=order.placed_at, settlement=order.settlement, timeline=order.timeline,
                   allowed=order.allowed_actions(), version=order.version, payment=payment)


@frozen
class OrderPage:
    """A page of orders, newest first."""

    orders: tuple[OrderView, ...]
    offset: int
    limit: int


@frozen
class Spending:
    """A customer's money on the platform: paid, refunded and ``net = paid - refunded``, over ``orders`` paid."""

    paid: Money
    refunded: Money
    net: Money
    orders: int
