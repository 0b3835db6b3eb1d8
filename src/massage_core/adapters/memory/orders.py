"""In-memory orders with the contract of the SQL ones (linear scans; the store's lock serialises units)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

import attrs

from massage_core.adapters.memory.store import Tables
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.dispatch import TherapistLoad
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderAction, OrderId, OrderState
from massage_core.domain.orders import Order
from massage_core.domain.quality import ServiceRecord
from massage_core.domain.time import Instant
from massage_core.ports.orders import PAGE, OrderRepository, PenaltyRecord, entered_state_at

STALE = "conflict.stale"


def _page(found: Iterable[Order], offset: int, limit: int) -> list[Order]:
    newest = sorted(found, key=lambda o: (o.placed_at, o.id), reverse=True)
    start = max(offset, 0)
    return newest[start:start + max(limit, 0)]


class MemoryOrderRepository(OrderRepository):
    """Orders in a dict keyed by id."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, order: Order) -> Order:
        """Store with version 1; Conflict ``order.duplicate`` for a taken id."""
        if order.id in self._t.orders:
            raise Conflict(f"order {order.id} already exists", code="order.duplicate")
        stored = attrs.evolve(order.clear_events(), version=1)
        self._t.orders[order.id] = stored
        return stored

    def get(self, order_id: OrderId) -> Order:
        """The order or NotFound."""
        try:
            return self._t.orders[order_id]
        except KeyError:
            raise NotFound("order", order_id) from None

    def save(self, order: Order) -> Order:
        """Replace when the version matches."""
        current = self.get(order.id)
        if current.version != order.version:
            raise Conflict("the order was changed by somebody else; reload it", code=STALE)
        stored = attrs.evolve(order.clear_events(), version=order.version + 1)
        self._t.orders[order.id] = stored
        return stored

    def _where(self, test: Callable[[Order], bool]) -> Iterable[Order]:
        return (order for order in self._t.orders.values() if test(order))

    def list_for_customer(self, customer_id: AccountId, states: Collection[OrderState] | None = None, *,
                          offset: int = 0, limit: int = PAGE) -> Sequence[Order]:
        """The customer's orders, newest first."""
        return _page(self._where(lambda o: o.customer_id == customer_id and (states is None or o.state in states)),
                     offset, limit)

    def list_for_therapist(self, therapist_id: AccountId, states: Collection[OrderState] | None = None, *,
                           offset: int = 0, limit: int = PAGE) -> Sequence[Order]:
        """The therapist's orders, newest first."""
        return _page(self._where(lambda o: o.therapist_id == therapist_id and (states is None or o.state in states)),
                     offset, limit)

    def list_by_state(self, states: Collection[OrderState], *, offset: int = 0, limit: int = PAGE,
                      customer_id: AccountId | None = None, therapist_id: AccountId | None = None) -> Sequence[Order]:
        """Orders in ``states`` (of the customer / therapist when given), newest first."""
        return _page(self._where(lambda o: o.state in states
                                 and (customer_id is None or o.customer_id == customer_id)
                                 and (therapist_id is None or o.therapist_id == therapist_id)), offset, limit)

    def due(self, state: OrderState, before: Instant, *, limit: int = PAGE) -> Sequence[Order]:
        """Orders that entered ``state`` before ``before``, oldest first."""
        found = sorted(((entered_state_at(o), o.id, o) for o in self._where(lambda o: o.state is state)
                        if entered_state_at(o) < before), key=lambda item: (item[0], item[1]))
        return [order for _, _, order in found[: max(limit, 0)]]

    def with_sos(self, since: Instant, *, limit: int = PAGE) -> Sequence[Order]:
        """Orders with a recent SOS, the most recent first."""
        latest = {o.id: max(s.at for s in o.timeline if s.action is OrderAction.SOS) for o in self._where(
            lambda o: any(s.action is OrderAction.SOS and s.at >= since for s in o.timeline))}
        found = sorted(latest, key=lambda oid: (latest[oid], oid), reverse=True)
        return [self._t.orders[oid] for oid in found[: max(limit, 0)]]

    def open_offers(self, *, limit: int = PAGE) -> Sequence[Order]:
        """Broadcast offers, oldest first."""
        found = sorted(((entered_state_at(o), o.id, o) for o in self._where(
            lambda o: o.state is OrderState.AWAITING_ACCEPTANCE and o.therapist_id is None)),
            key=lambda item: (item[0], item[1]))
        return [order for _, _, order in found[: max(limit, 0)]]

    def therapist_load(self, therapist_ids: Collection[AccountId], since: Instant) -> Mapping[AccountId, TherapistLoad]:
        """Counted by scanning every order."""
        wanted = set(therapist_ids)
        live = {t: 0 for t in wanted}
        accepted = {t: 0 for t in wanted}
        declined = {t: 0 for t in wanted}
        for order in self._t.orders.values():
            if order.therapist_id in wanted and order.holds_therapist_time:
                live[order.therapist_id] += 1
            for step in order.timeline:
                if step.action is OrderAction.ACCEPT and step.actor in wanted and step.at >= since:
                    accepted[AccountId(step.actor)] += 1
            if order.placed_at >= since:
                for rejecter in set(order.rejected_by) & wanted:
                    declined[rejecter] += 1
        return {t: TherapistLoad(live[t], accepted[t], declined[t]) for t in wanted}

    def service_records(self, therapist_ids: Collection[AccountId], since: Instant,
                        until: Instant) -> Mapping[AccountId, ServiceRecord]:
        """Counted by scanning every order."""
        counts = {t: [0] * 6 for t in set(therapist_ids)}
        for o in self._t.orders.values():
            if o.therapist_id not in counts or not since <= o.scheduled.start < until:
                continue
            dropped = o.settlement is not None and o.settlement.penalty is not None
            finished = o.finished_at is not None
            sos = finished and any(s.action is OrderAction.SOS for s in o.timeline)
            flags = (o.arrived_at is not None or dropped, dropped, o.arrived_at is not None,
                     o.late_arrival is not None, finished, sos)
            row = counts[o.therapist_id]
            for i, flag in enumerate(flags):
                row[i] += int(flag)
        return {t: ServiceRecord(*row) for t, row in counts.items()}

    def penalties_of(self, therapist_id: AccountId, *, offset: int = 0,
                     limit: int = PAGE) -> Sequence[PenaltyRecord]:
        """The therapist's penalty records, newest first (a scan of every settlement and late arrival)."""
        ranked: list[tuple[Instant, OrderId, int, PenaltyRecord]] = []
        for o in self._t.orders.values():
            for rank, penalty in ((1, o.settlement.penalty if o.settlement else None),
                                  (0, o.late_arrival.penalty if o.late_arrival else None)):
                if penalty is not None and penalty.therapist_id == therapist_id:
                    ranked.append((penalty.at, o.id, rank, PenaltyRecord(o.id, penalty)))
        ranked.sort(key=lambda item: item[:3], reverse=True)
        start = max(offset, 0)
        return [item[3] for item in ranked[start:start + max(limit, 0)]]
