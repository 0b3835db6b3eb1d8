"""Dispatch (P4; decision 0024): finding eligible therapists, the best match, re-dispatch after a
rejection or a timeout, and the broadcast offers therapists grab.

A therapist is *eligible* for a request when every booking check of ``order_quotes`` passes for them, their
schedule is online and covers the visit, and no live reservation of theirs overlaps it (travel buffer
included).  The search starts from the locator (public therapists offering the service within the policy's
search radius, of the preferred gender, at a level the service is priced for), nearest first, at most
``max_candidates`` of them; then the rank of ``domain.dispatch`` orders them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from attrs import frozen

from massage_core.domain.access import Actor
from massage_core.domain.availability import fits_working_time
from massage_core.domain.dispatch import CandidateFacts, DispatchMode, rank
from massage_core.domain.errors import Conflict, MassageError, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.intervals import Interval
from massage_core.domain.order_states import OrderState, Who
from massage_core.domain.orders import Order
from massage_core.domain.search import LocatorQuery, Rating
from massage_core.domain.therapist_values import Gender
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.time import Instant
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.order_payments import OrderFlows
from massage_core.services.order_views import OrderView
from massage_core.services.order_quotes import BookingRequest, Offered, check_therapist


@frozen
class Eligible:
    """A therapist who may take the request, with the facts the rank weighed."""

    facts: CandidateFacts
    profile: TherapistProfile


class OrderDispatch(OrderFlows):
    """Dispatch machinery (private: the public use cases are in ``orders`` and ``order_offers``)."""

    # -- eligibility -----------------------------------------------------------------------------------

    def _is_free(self, uow: UnitOfWork, therapist: AccountId, interval: Interval, now: Instant) -> bool:
        """Online, working then, and no live reservation in the way (the travel buffer included)."""
        schedule = uow.schedules.find(therapist)
        if schedule is None or not schedule.online or not fits_working_time(schedule, interval.span):
            return False
        buffer = dt.timedelta(minutes=self._deps.policies.scheduling.buffer_minutes)
        return not uow.reservations.between(therapist, interval.start, interval.end + buffer, live_at=now, limit=1)

    def _eligible(self, uow: UnitOfWork, request: BookingRequest, offered: Offered, now: Instant,
                  exclude: Collection[str] = ()) -> list[Eligible]:
        """Every eligible therapist for the request, best match first (see the module docstring)."""
        policy = self._deps.policies.dispatch
        service = offered.service
        query = LocatorQuery(request.address.point.lat, request.address.point.lng, policy.search_radius_km * 1000.0,
                             service.id, Gender(request.therapist_gender) if request.therapist_gender else None,
                             frozenset(code for code, _ in service.prices))
        found: list[tuple[int, TherapistProfile, Rating | None]] = []
        for candidate in uow.locator.search(query, limit=policy.max_candidates + len(exclude)):
            if candidate.therapist_id in exclude:
                continue
            try:
                profile = check_therapist(uow, request, service, candidate.therapist_id)
            except MassageError:
                continue
            if self._is_free(uow, profile.id, offered.interval, now):
                found.append((round(candidate.distance_m), profile, candidate.rating))
            if len(found) >= policy.max_candidates:
                break
        loads = uow.orders.therapist_load([p.id for _, p, _ in found],
                                          now - dt.timedelta(days=policy.stats_days))
        facts = {p.id: Eligible(CandidateFacts(p.id, metres, round(p.area.radius_km * 1000),
                                                        rating, loads[p.id]), p)
                 for metres, p, rating in found}
        return [facts[c.therapist_id] for c in rank((e.facts for e in facts.values()), policy)]

    def _broadcast_to(self, uow: UnitOfWork, order: Order, now: Instant) -> list[TherapistProfile]:
        """The eligible therapists a broadcast order is offered to now (its notification, decision 0043)."""
        request = self._request_of(order)
        if request is None:
            return []
        offered = Offered(uow.catalog_services.get(order.service_id), order.scheduled, None)
        return [e.profile for e in self._eligible(uow, request, offered, now,
                                                  exclude={*order.rejected_by, order.customer_id})]

    # -- after a rejection or a timeout ----------------------------------------------------------------

    @staticmethod
    def _request_of(order: Order) -> BookingRequest | None:
        """The booking request an order was placed with, as far as dispatch needs it (None: no address)."""
        if order.address is None:
            return None
        return BookingRequest(order.service_id, order.scheduled.start, order.address, "UTC", 0,
                              order.gender_preference, frozenset())

    def _redispatch_or_cancel(self, uow: UnitOfWork, order: Order, now: Instant) -> Order:
        """An order in ``redispatching``: offer it to the next best eligible therapist (auto, or a chosen order
        when the policy allows), broadcast it again (broadcast), or -- nobody left, or ``max_offers`` reached --
        cancel and refund in full.  A new offer holds the therapist's time (firm: the order is paid)."""
        policy = self._deps.policies.dispatch
        request = self._request_of(order)
        if request is None or order.offers_made >= policy.max_offers or (
                order.dispatch is DispatchMode.CHOSEN and not policy.redispatch_chosen):
            return self._nobody_left(order, now)
        service = uow.catalog_services.get(order.service_id)
        offered = Offered(service, order.scheduled, None)
        eligible = self._eligible(uow, request, offered, now, exclude={*order.rejected_by, order.customer_id})
        if order.dispatch is DispatchMode.BROADCAST:
            return order.redispatch(Who.system(), now, None) if eligible else self._nobody_left(order, now)
        for choice in eligible:
            if self._hold_firm(uow, order, choice.profile.id, now):
                return order.redispatch(Who.system(), now, choice.profile.id)
        return self._nobody_left(order, now)

    def _hold_firm(self, uow: UnitOfWork, order: Order, therapist: AccountId, now: Instant) -> bool:
        """Reserve the visit for ``therapist`` without a hold limit; False when the time was taken meanwhile."""
        made = self._new_reservation(order, therapist, now, hold_until=None)
        try:
            uow.reservations.add(made, now)
        except Conflict as clash:
            if clash.code != "reservation.overlap":
                raise
            return False
        uow.record(made.events)
        return True

    def _may_grab(self, uow: UnitOfWork, order: Order, me: AccountId, now: Instant) -> TherapistProfile | None:
        """The therapist's profile when ``me`` may grab the broadcast ``order`` now (eligible and free)."""
        request = self._request_of(order)
        if order.state is not OrderState.AWAITING_ACCEPTANCE or order.therapist_id is not None or request is None \
                or me in order.rejected_by or me == order.customer_id:
            return None
        try:
            profile = check_therapist(uow, request, uow.catalog_services.get(order.service_id), me)
        except MassageError:
            return None
        return profile if self._is_free(uow, me, order.scheduled, now) else None

    @staticmethod
    def _view(actor: Actor, order: Order) -> OrderView:
        """The view of ``order`` for ``actor`` (the address in full only where they need it)."""
        return OrderView.of(order, viewer=actor.account_id)

    def _own_account(self, actor: Actor) -> AccountId:
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        return AccountId(actor.account_id)
