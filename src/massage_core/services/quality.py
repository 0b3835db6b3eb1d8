"""The quality context (``platform.quality``, issue 6 A2; decision 0039): a therapist's quality score and the
rankings per city and service.

The score is ``domain.quality.quality_score`` of facts read in a few grouped statements for any number of
therapists at once (no query per therapist): the rating read model (``uow.locator``), offers accepted and
declined (``uow.orders.therapist_load``), the visits' record (``uow.orders.service_records``), upheld
complaints (``uow.complaints.upheld_counts``) and standing sanctions (``uow.sanctions.standing_counts``), the
order facts and sanctions over ``Policies.quality.window_days``.

* ``score``: one therapist's score with its parts -- the therapist their own (``own_quality.read``), staff with
  ``quality.read`` anybody's (an audited read); another therapist's looks like a missing one.
* ``ranking``: the public therapists of a city (``Policies.quality.cities``) offering a service, best first
  (``domain.quality.rank``: score, then review count, then id), a page at a time; ``quality.read`` only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from attrs import frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import NotFound
from massage_core.domain.ids import AccountId, account_id, service_id
from massage_core.domain.quality import QualityFacts, QualityScore, quality_score, rank
from massage_core.domain.search import LocatorQuery, Rating
from massage_core.domain.time import Instant
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Service, not_found, page_bounds

MAX_PAGE = 100


@frozen
class RankingPage:
    """A page of a ranking: the entries (``position`` counts from 1 over the whole ranking) and the total."""

    city: str
    service: str
    entries: tuple[RankedTherapist, ...]
    total: int
    offset: int
    limit: int


@frozen
class RankedTherapist:
    """One place of a ranking."""

    position: int
    therapist_id: str
    score: QualityScore


class QualityService(Service):
    """``platform.quality``: see the module docstring."""

    def _since(self, now: Instant) -> Instant:
        return now - dt.timedelta(days=self._deps.policies.quality.window_days)

    def _scores(self, uow: UnitOfWork, ratings: Mapping[AccountId, Rating | None], now: Instant) -> list[QualityScore]:
        """The scores of every therapist of ``ratings`` (id -> rating), from grouped reads."""
        ids = sorted(ratings)
        if not ids:
            return []
        policies = self._deps.policies
        since = self._since(now)
        loads = uow.orders.therapist_load(ids, since)
        records = uow.orders.service_records(ids, since, now)
        complaints = uow.complaints.upheld_counts(ids)
        sanctions = uow.sanctions.standing_counts(ids, since)
        facts: Iterable[QualityFacts] = (
            QualityFacts(t, ratings[t], loads[t].accepted, loads[t].declined, records[t], complaints.get(t, 0),
                         sanctions.get(t, 0)) for t in ids)
        return [quality_score(f, policies.quality, policies.rating_prior) for f in facts]

    def score(self, actor: Actor, therapist: str) -> QualityScore:
        """``therapist``'s quality score now (see the module docstring for who may read it).

        Raises PermissionDenied (audited), ValidationError ``invalid_id``, NotFound (no such therapist profile,
        or another therapist's).
        """
        target = account_id(therapist)
        staff = actor.may(Permission.QUALITY_READ)
        if not staff:
            self._require(actor, Permission.OWN_QUALITY_READ, "quality.score", target)
        now = self._now()
        with self._guard(actor, "quality.score", target), self._uow() as uow:
            if not staff and not actor.owns(target):
                raise not_found("therapist", target)
            if uow.therapists.find(target) is None:
                raise NotFound("therapist", target)
            [found] = self._scores(uow, {target: uow.locator.rating(target)}, now)
            if staff and not actor.is_system and not actor.owns(target):
                self._audit_ok(uow, actor, "quality.score", target, now)
                uow.commit()
            return found

    def ranking(self, actor: Actor, city: str, service: str, *, offset: int = 0,
                limit: int = 20) -> RankingPage:
        """The public therapists whose service area's centre lies in ``city`` and who offer ``service``, best
        first (score, then review count, then therapist id), ``limit`` (1..100) from ``offset``.  At most
        ``Policies.quality.max_ranked`` therapists (the nearest to the city centre) are ranked.

        Raises PermissionDenied without ``quality.read``; ValidationError ``quality.city`` (not in
        ``Policies.quality.cities``), ``invalid_id``, ``page.offset``, ``page.limit``.
        Example: ``platform.quality.ranking(admin, "shanghai", tuina).entries[0].score.score`` -> ``87.25``.
        """
        policy = self._deps.policies.quality
        place = policy.city(city)
        wanted = service_id(service)
        page_bounds(offset, limit, MAX_PAGE)
        self._require(actor, Permission.QUALITY_READ, "quality.ranking", place.name)
        now = self._now()
        with self._uow() as uow:
            query = LocatorQuery(place.lat, place.lng, place.radius_km * 1000.0, wanted)
            found = uow.locator.search(query, limit=policy.max_ranked)
            ranked = rank(self._scores(uow, {c.therapist_id: c.rating for c in found}, now))
        entries = tuple(RankedTherapist(offset + i + 1, s.therapist_id, s)
                        for i, s in enumerate(ranked[offset:offset + limit]))
        return RankingPage(place.name, wanted, entries, len(ranked), offset, limit)
