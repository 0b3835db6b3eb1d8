"""The order repository (``uow.orders``): the Order aggregate with its whole timeline and settlement.

An order is stored whole: its scalar state, its settlement (when cancelled or a no-show) and every
timeline step.  The timeline is append-only in the domain, so ``save`` appends the steps beyond those
stored.  Pending domain events are never stored: the services hand them to the unit of work.

Lists return whole orders, newest first (``placed_at`` then id, both descending), a page at a time.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping, Sequence

from attrs import frozen

from massage_core.domain.cancellation import Penalty
from massage_core.domain.dispatch import TherapistLoad
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId, OrderState
from massage_core.domain.orders import Order
from massage_core.domain.quality import ServiceRecord
from massage_core.domain.time import Instant

PAGE = 50
"""The default page size of the list queries."""


@frozen
class PenaltyRecord:
    """A penalty against a therapist and the order it came from: ``settlement.penalty`` of a settled order, or
    ``late_arrival.penalty`` of an order the therapist arrived late at (an order may have both; decision 0025)."""

    order_id: OrderId
    penalty: Penalty


class OrderRepository(abc.ABC):
    """Orders, by id, by customer, by therapist and by state; optimistic locking on ``version``."""

    @abc.abstractmethod
    def add(self, order: Order) -> Order:
        """Store a new order; return it with version 1 and no events.

        Raises ``Conflict`` (``order.duplicate``) when the id is taken and, on SQL, ``Conflict``
        (``conflict.reference``) when the customer or therapist account does not exist.
        A refused add changes nothing.
        """

    @abc.abstractmethod
    def get(self, order_id: OrderId) -> Order:
        """Return the order (events empty); raise ``NotFound`` when there is none."""

    @abc.abstractmethod
    def save(self, order: Order) -> Order:
        """Store the changes of a loaded order; return it with version + 1 and no events.

        Raises ``Conflict`` (``conflict.stale``) when the stored version is not ``order.version``
        (somebody changed it first: exactly one of two concurrent saves of one version wins),
        ``NotFound`` when the order does not exist, and on SQL ``Conflict`` (``conflict.reference``)
        for an unknown therapist.  A refused save changes nothing.
        """

    @abc.abstractmethod
    def list_for_customer(self, customer_id: AccountId, states: Collection[OrderState] | None = None, *,
                          offset: int = 0, limit: int = PAGE) -> Sequence[Order]:
        """The customer's orders, newest first; only those in ``states`` when given."""

    @abc.abstractmethod
    def list_for_therapist(self, therapist_id: AccountId, states: Collection[OrderState] | None = None, *,
                           offset: int = 0, limit: int = PAGE) -> Sequence[Order]:
        """The orders currently assigned or offered to the therapist, newest first; only those in ``states``
        when given.  (A broadcast order has no therapist and is not listed here.)"""

    @abc.abstractmethod
    def list_by_state(self, states: Collection[OrderState], *, offset: int = 0, limit: int = PAGE,
                      customer_id: AccountId | None = None, therapist_id: AccountId | None = None) -> Sequence[Order]:
        """Every order in one of ``states``, newest first (administrators); empty for no states.  Only the
        orders of ``customer_id`` and / or currently assigned or offered to ``therapist_id`` when given (one
        person's order history)."""

    @abc.abstractmethod
    def due(self, state: OrderState, before: Instant, *, limit: int = PAGE) -> Sequence[Order]:
        """Orders that entered ``state`` strictly before ``before`` and are still in it, oldest first.

        "Entered" is the time of the last timeline step that changed the state (an SOS does not), so
        the timers ask for: unpaid orders placed before the payment window (``pending_payment``),
        offers older than the acceptance window (``awaiting_acceptance``), orders waiting for a
        therapist (``redispatching``), finished visits past the confirmation window (``finished``).
        """

    @abc.abstractmethod
    def penalties_of(self, therapist_id: AccountId, *, offset: int = 0,
                     limit: int = PAGE) -> Sequence[PenaltyRecord]:
        """The penalty records against ``therapist_id`` (orders whose settlement or late arrival names them in
        its penalty, whatever state the order reached since, e.g. refunded), newest first: penalty time, then
        order id, both descending, then a settlement's record before a late arrival's of the same order."""

    @abc.abstractmethod
    def with_sos(self, since: Instant, *, limit: int = PAGE) -> Sequence[Order]:
        """Orders with an SOS step at or after ``since``, the most recent SOS first."""

    @abc.abstractmethod
    def open_offers(self, *, limit: int = PAGE) -> Sequence[Order]:
        """Broadcast orders waiting for a therapist to grab them (``awaiting_acceptance`` without a therapist),
        oldest offer first."""

    @abc.abstractmethod
    def therapist_load(self, therapist_ids: Collection[AccountId], since: Instant) -> Mapping[AccountId, TherapistLoad]:
        """What the dispatcher weighs for each of ``therapist_ids`` (every one is in the answer): ``live`` --
        orders assigned to them that hold their time now; ``accepted`` -- accept steps they fired at or after
        ``since``; ``declined`` -- orders placed at or after ``since`` that they rejected or let time out."""

    @abc.abstractmethod
    def service_records(self, therapist_ids: Collection[AccountId], since: Instant,
                        until: Instant) -> Mapping[AccountId, ServiceRecord]:
        """For each of ``therapist_ids`` (every one is in the answer), the ``ServiceRecord`` of the orders
        assigned to them whose scheduled start is in ``since <= start < until`` (the quality score; decision
        0039).  On SQL one grouped statement."""


def entered_state_at(order: Order) -> Instant:
    """When ``order`` entered its current state: the last timeline step that changed the state (``due``
    compares this); ``placed_at`` for an order without a timeline."""
    for step in reversed(order.timeline):
        if step.from_state is not step.to_state:
            return step.at
    return order.placed_at
