"""Therapist search (C5): public therapists near a point, filtered, ordered and paginated (decision 0014).

Open to everybody, anonymous callers included; nothing is audited (it reads
only what the public directory shows).  The locator (``uow.locator``) finds the
public therapists within the radius that pass the static filters, without
scanning every therapist; this service then keeps those free at ``free_at``,
computes prices and scores, orders (``domain.search.order_key``) and cuts the page.
"""

from __future__ import annotations

import datetime as dt

from attrs import frozen

from massage_core.domain.access import Actor
from massage_core.domain.availability import local_date, slot_starts, working_spans
from massage_core.domain.catalog import Service as CatalogService
from massage_core.domain.errors import NotFound
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.intervals import MICROS_PER_MINUTE, from_micros, merge, to_micros
from massage_core.domain.money import Money
from massage_core.domain.search import (
    Candidate,
    LocatorQuery,
    Rating,
    SearchQuery,
    SortOrder,
    composite_score,
    order_key,
)
from massage_core.domain.time import Instant, zone
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Service
from massage_core.services.therapist_views import PublicTherapistView


@frozen
class SearchResult:
    """One therapist found: the public card, the distance in whole metres, the price of the asked service at
    their level (None without a service), their rating (None: unrated) and the composite score (0..1)."""

    therapist: PublicTherapistView
    distance_m: int
    price: Money | None
    rating: Rating | None
    score: float


@frozen
class SearchPage:
    """A page of results and how many there are in all."""

    results: tuple[SearchResult, ...]
    total: int
    offset: int
    limit: int
    sort: str


@frozen
class _Ranked:
    key: tuple[object, ...]
    candidate: Candidate
    price: Money | None
    score: float


class SearchService(Service):
    """``platform.search``: see the module docstring."""

    def therapists(self, actor: Actor, *, lat: float, lng: float, radius_km: float = 10.0,
                   service: str | None = None, min_price: Money | int | None = None,
                   max_price: Money | int | None = None, min_rating: float | None = None,
                   gender: str | None = None, level: str | None = None, free_at: dt.datetime | str | None = None,
                   sort: str = "distance", offset: int = 0, limit: int = 20) -> SearchPage:
        """Public therapists within ``radius_km`` of (lat, lng) -- open to everybody.

        ``service``: offering it, and (then) priced for it at their level; ``min_price``
        / ``max_price`` (Money or fen) bound that price; ``min_rating`` (0..5) excludes the
        unrated; ``gender``, ``level``; ``free_at`` (aware datetime or ISO string): with a
        free slot of the service's duration starting exactly then (the rules of
        ``schedules.free_slots``).  ``sort``: distance, price, rating or score.  Returns a
        ``SearchPage`` (``total`` counts every match).  Raises ValidationError (codes in
        ``SearchQuery``), NotFound for an unknown or inactive service.
        """
        query = SearchQuery(lat, lng, radius_km, service, min_price, max_price, min_rating, gender, level, free_at,
                            sort, offset, limit)
        now = self._now()
        with self._uow() as uow:
            ranks = {lv.code: lv.rank for lv in uow.levels.list()}
            offered = self._offered(uow, query.service_id)
            found = uow.locator.search(self._locator_query(query, offered))
            if query.free_at is not None and offered is not None:
                at, minutes = query.free_at, offered.duration_minutes
                found = [c for c in found if self._free_at(uow, c.therapist_id, at, minutes, now)]
            window = slice(query.offset, query.offset + query.limit)
            if query.sort is SortOrder.DISTANCE:
                # The locator already returns (distance, id) order, which is the distance sort key.
                page = [self._rank(query, c, offered, ranks) for c in found[window]]
            else:
                page = sorted((self._rank(query, c, offered, ranks) for c in found), key=lambda r: r.key)[window]
            results = tuple(
                SearchResult(PublicTherapistView.of(uow.therapists.get(r.candidate.therapist_id)),
                             round(r.candidate.distance_m), r.price, r.candidate.rating, round(r.score, 4))
                for r in page)
        return SearchPage(results, len(found), query.offset, query.limit, query.sort.value)

    @staticmethod
    def _offered(uow: UnitOfWork, wanted: ServiceId | None) -> CatalogService | None:
        if wanted is None:
            return None
        found = uow.catalog_services.get(wanted)
        if not found.active or not uow.categories.get(found.category_id).active:
            raise NotFound("service", wanted)
        return found

    @staticmethod
    def _locator_query(query: SearchQuery, offered: CatalogService | None) -> LocatorQuery:
        """The static filters; a service limits the levels to those priced for it within the price bounds."""
        levels: frozenset[str] | None = None
        if offered is not None:
            levels = frozenset(code for code, money in offered.prices if query.price_admits(money.fen))
        if query.level is not None:
            levels = frozenset({query.level}) if levels is None else levels & {query.level}
        return LocatorQuery(query.lat, query.lng, query.radius_m, query.service_id, query.gender, levels,
                            query.min_rating)

    @staticmethod
    def _rank(query: SearchQuery, c: Candidate, offered: CatalogService | None, ranks: dict[str, int]) -> _Ranked:
        price = offered.price_for(c.level) if offered is not None and c.level is not None else None
        rank = ranks.get(c.level) if c.level is not None else None
        score = composite_score(c.distance_m, query.radius_m, c.rating, rank, max(ranks.values(), default=0))
        key = order_key(query.sort, therapist_id=c.therapist_id, distance_m=c.distance_m,
                        price_fen=price.fen if price is not None else None, rating=c.rating, score=score)
        return _Ranked(key, c, price, score)

    def _free_at(self, uow: UnitOfWork, therapist_id: AccountId, at: Instant, minutes: int, now: Instant) -> bool:
        """True when ``at`` is one of the therapist's free slots of ``minutes`` on that local date."""
        policy = self._deps.policies.scheduling
        schedule = uow.schedules.find(therapist_id)
        if schedule is None or not schedule.online:
            return False
        start, length = to_micros(at), minutes * MICROS_PER_MINUTE
        day = local_date(zone(schedule.zone), start)
        if not any(s <= start and start + length <= e for s, e in working_spans(schedule, day, day)):
            return False
        tail = length + policy.buffer_minutes * MICROS_PER_MINUTE
        live = uow.reservations.between(therapist_id, at, from_micros(start + tail), live_at=now)
        starts = slot_starts([(start, start + length)], schedule.zone, duration=length, tail=tail,
                             step=policy.slot_step_minutes * MICROS_PER_MINUTE,
                             earliest=to_micros(now) + policy.min_notice_minutes * MICROS_PER_MINUTE,
                             busy=merge(r.blocked_span for r in live))
        return starts == [start]
