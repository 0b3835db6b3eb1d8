"""Read models of the orders context: what ``platform.orders`` returns (plain frozen values, no storage rows)."""

from __future__ import annotations

import attrs
from attrs import frozen

from massage_core.domain.cancellation import CancellationCause, CancellationOutcome
from massage_core.domain.dispatch import DispatchMode
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.money import Money
from massage_core.domain.order_states import CustomerStatus, OrderAction, OrderId, OrderState, OrderStep, customer_status
from massage_core.domain.orders import Order
from massage_core.domain.payments import PaymentMethod, PaymentPayload, PaymentStatus
from massage_core.domain.quotes import QuoteLine
from massage_core.domain.time import Instant
from massage_core.domain.visit_address import VisitAddress


ADDRESS_STATES = frozenset({OrderState.ACCEPTED, OrderState.DEPARTED, OrderState.ARRIVED, OrderState.IN_SERVICE,
                            OrderState.FINISHED})
"""While the order is in these states its therapist sees the full address (they need the door)."""


def _address_for(order: Order, viewer: str | None) -> VisitAddress | None:
    if order.address is None:
        return None
    if viewer is not None and (viewer == order.customer_id or (
            viewer == order.therapist_id and order.state in ADDRESS_STATES)):
        return order.address
    return order.address.masked_view()


def _timeline_for(order: Order, viewer: str | None) -> tuple[OrderStep, ...]:
    """The timeline; the payment step's note (the gateway's transaction id) only for the customer."""
    if viewer is not None and viewer == order.customer_id:
        return order.timeline
    return tuple(attrs.evolve(s, note="") if s.action is OrderAction.PAY and s.note else s for s in order.timeline)


@frozen
class OrderView:
    """One order as its customer, its therapist or an admin sees it.

    ``timeline`` holds every accepted step (when, what, by which party and account, from which state to
    which, and the note); ``allowed`` the actions the state machine allows now (whoever may fire them);
    ``payment`` the client payload to start paying, only on the answer of ``book``; ``address`` the visit
    address (in full only for the customer and the therapist during their visit, otherwise masked: the line cut
    short and the point rounded to about a kilometre); ``dispatch`` how the order found its therapist;
    ``late_minutes`` how many minutes after the scheduled start the therapist arrived when that was beyond the
    policy's late-arrival grace (None when on time or not arrived; decision 0025); ``bill`` the quote's itemised
    lines the customer paid (service, travel, night, holiday, discount, tip; they add up to ``total``).
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
    address: VisitAddress | None = None
    dispatch: DispatchMode = DispatchMode.CHOSEN
    late_minutes: int | None = None
    bill: tuple[QuoteLine, ...] = ()

    @classmethod
    def of(cls, order: Order, payment: PaymentPayload | None = None, *, viewer: str | None = None) -> OrderView:
        """The view of ``order`` for the account ``viewer``: the visit address in full for the customer, and for
        the therapist while the visit is theirs (accepted .. finished); masked for everybody else."""
        return cls(id=order.id, state=order.state, customer_status=customer_status(order.state),
                   customer_id=order.customer_id, therapist_id=order.therapist_id, service_id=order.service_id,
                   start=order.scheduled.start, end=order.scheduled.end, total=order.total, paid=order.paid,
                   refunded=order.refunded, retained=order.retained, refund_due=order.refund_due,
                   placed_at=order.placed_at, settlement=order.settlement, timeline=_timeline_for(order, viewer),
                   allowed=order.allowed_actions(), version=order.version, payment=payment,
                   address=_address_for(order, viewer), dispatch=order.dispatch, late_minutes=order.late_minutes,
                   bill=order.bill)


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


@frozen
class PaymentEntry:
    """One movement of money of an order, as its customer sees it (decision 23).

    ``kind`` is ``payment`` or ``refund``; ``reference`` the gateway's transaction id of a payment, or our
    refund number (``<order>-r<step>``, ``<order>-late``) of a refund; ``status`` ``paid``, ``refunded`` or
    ``processing`` (a refund the gateway has not settled yet); ``at`` when it was recorded (None for a refund
    only the gateway knows of).
    """

    order_id: OrderId
    kind: str
    amount: Money
    at: Instant | None
    reference: str
    status: str


@frozen
class PaymentRecords:
    """The payment and refunds of one order: what the order recorded, checked against the gateway.

    ``method`` and ``gateway_status`` come from the gateway's ``query`` (None when it has no payment or could
    not be asked: ``gateway_checked`` False); ``paid`` and ``refunded`` are the order's own amounts.
    """

    order_id: OrderId
    total: Money
    paid: Money
    refunded: Money
    method: PaymentMethod | None
    gateway_status: PaymentStatus | None
    gateway_checked: bool
    entries: tuple[PaymentEntry, ...]


@frozen
class PaymentHistory:
    """A page of a customer's payment entries over all their orders, newest first."""

    entries: tuple[PaymentEntry, ...]
    offset: int
    limit: int


@frozen
class PenaltyView:
    """A penalty record against a therapist: the order, why (``therapist_cancelled``, ``therapist_no_show``,
    ``therapist_late``) and when."""

    order_id: OrderId
    therapist_id: AccountId
    cause: CancellationCause
    at: Instant


@frozen
class PenaltyPage:
    """A page of penalty records, newest first."""

    penalties: tuple[PenaltyView, ...]
    offset: int
    limit: int
