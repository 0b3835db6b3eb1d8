"""Broadcast offers, the therapists' side of dispatch (P4; decision 0024): the orders a therapist may
grab, and the grab itself, where the first eligible therapist wins (the order's version check makes exactly one
of concurrent grabs save; the others get Conflict ``order.taken``)."""

from __future__ import annotations

from attrs import frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderId, Who, order_id
from massage_core.domain.pricing import distance_m
from massage_core.domain.time import Instant
from massage_core.services.order_dispatch import OrderDispatch
from massage_core.services.order_views import OrderView


@frozen
class OfferView:
    """A broadcast order as a therapist who may grab it sees it: no customer, the address masked."""

    order_id: OrderId
    service_id: str
    start: Instant
    end: Instant
    total: Money
    distance_m: int
    area: str


class OrderOffers(OrderDispatch):
    """``platform.orders.offers`` and ``grab``."""

    def offers(self, actor: Actor, *, limit: int = 50) -> tuple[OfferView, ...]:
        """Broadcast orders the acting therapist may grab now (``orders.serve``), oldest offer first: the service,
        the time, the total, the distance from their area's centre and the masked address; never the customer."""
        self._require(actor, Permission.ORDERS_SERVE, "orders.offers", actor.label)
        me = self._own_account(actor)
        now = self._now()
        views: list[OfferView] = []
        with self._uow() as uow:
            for order in uow.orders.open_offers(limit=500):
                profile = self._may_grab(uow, order, me, now)
                if profile is None or order.address is None:
                    continue
                views.append(OfferView(order.id, order.service_id, order.scheduled.start, order.scheduled.end,
                                       order.total, distance_m(profile.area, order.address.point),
                                       order.address.masked))
                if len(views) >= limit:
                    break
        return tuple(views)

    def grab(self, actor: Actor, order: str) -> OrderView:
        """Take a broadcast order (``orders.serve``): the first eligible therapist to grab it is assigned and it
        is accepted; their time is reserved.  NotFound when the order is not (or no longer) offered to the
        actor; Conflict ``order.taken`` when somebody grabbed it first (a concurrent grab);
        Conflict ``reservation.overlap`` when the actor's time was taken meanwhile."""
        self._require(actor, Permission.ORDERS_SERVE, "orders.grab", str(order))
        oid = order_id(order)
        me = self._own_account(actor)
        now = self._now()
        try:
            with self._guard(actor, "orders.grab", oid), self._uow() as uow:
                current = uow.orders.get(oid)
                if self._may_grab(uow, current, me, now) is None:
                    raise NotFound("order", oid)
                if not self._hold_firm(uow, current, me, now):
                    raise Conflict("your time is no longer free then", code="reservation.overlap")
                accepted = current.accept(Who.therapist(me), now)
                self._notify(uow, current, accepted, now)
                uow.record(accepted.events)
                saved = uow.orders.save(accepted)
                uow.commit()
        except Conflict as clash:
            if clash.code == "conflict.stale":
                raise Conflict("another therapist took this order first", code="order.taken") from None
            raise
        return OrderView.of(saved, viewer=me)

