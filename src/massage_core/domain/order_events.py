"""Domain events of orders: one per accepted action, collected by the unit of work."""

from __future__ import annotations

from attrs import frozen

from massage_core.domain.cancellation import CancellationOutcome, LateArrival
from massage_core.domain.events import DomainEvent
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderAction, OrderId, OrderParty, OrderState


@frozen
class OrderPlaced(DomainEvent):
    order_id: OrderId
    customer_id: AccountId
    therapist_id: AccountId | None
    service_id: ServiceId
    total: Money


@frozen
class OrderEvent(DomainEvent):
    """A step of the machine: which action, from which state to which, by which party and account."""

    order_id: OrderId
    action: OrderAction
    from_state: OrderState
    to_state: OrderState
    party: OrderParty
    actor: str
    note: str


@frozen
class OrderTransitioned(OrderEvent):
    """Any step without money or urgency attached (accept, depart, arrive, complete, ...)."""


@frozen
class OrderPaid(OrderEvent):
    amount: Money


@frozen
class OrderSettled(OrderEvent):
    """A cancellation or a no-show, with who gets what and any therapist penalty."""

    outcome: CancellationOutcome


@frozen
class TherapistArrivedLate(OrderEvent):
    """The ``arrive`` step came later than the policy's grace after the scheduled start: how many minutes late
    and the ``therapist_late`` penalty; the customer may now cancel with a full refund (decision 0025)."""

    late: LateArrival


@frozen
class OrderRefunded(OrderEvent):
    amount: Money


@frozen
class SosRaised(OrderEvent):
    """The therapist asked for help during a visit: an urgent admin alert and an audit entry follow."""


@frozen
class OrderReminded(OrderEvent):
    """The visit starts within ``lead_minutes``: remind the customer and the therapist (decision 0021)."""

    lead_minutes: int
