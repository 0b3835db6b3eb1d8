"""The SQL TherapistLocator: a bounding-box prefilter on indexed micro-degree columns, then exact haversine.

The box (``domain.search.bounding_box``) becomes integer ranges on
``therapist_profiles.area_lat_e6`` / ``area_lng_e6``, read through the index on
``(vetting_state, area_lat_e6, area_lng_e6)`` (migration 0004), together with
the visibility rule of ``list_public`` and the static filters; only the rows
inside the box reach Python, which keeps those within the exact great-circle
distance.  The database is always current, so ``rebuild`` only counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from massage_core.adapters.sql.tables import accounts
from massage_core.adapters.sql.tables_search import therapist_ratings
from massage_core.adapters.sql.tables_therapists import therapist_profiles, therapist_services
from massage_core.domain.accounts import AccountStatus
from massage_core.domain.errors import NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.search import Candidate, LocatorQuery, Rating, arc_m, bounding_box, rad_point, widening
from massage_core.domain.therapist_values import Gender
from massage_core.domain.vetting import VettingState
from massage_core.ports.search import TherapistLocator

P, R, S = therapist_profiles, therapist_ratings, therapist_services
E6 = 1_000_000
_GENDERS = {g.value: g for g in Gender}


def _public() -> Select[Any]:
    return (
        select(P.c.account_id, P.c.area_lat_e6, P.c.area_lng_e6, P.c.gender, P.c.level_code, R.c.average_e3,
               R.c.reviews)
        .select_from(P.join(accounts, accounts.c.id == P.c.account_id)
                     .outerjoin(R, R.c.therapist_id == P.c.account_id))
        .where(P.c.vetting_state == VettingState.APPROVED.value, P.c.active.is_(True), P.c.suspended.is_(False),
               accounts.c.status == AccountStatus.ACTIVE.value)
    )


class SqlTherapistLocator(TherapistLocator):
    """Bounding-box queries inside the unit of work's transaction."""

    def __init__(self, connection: Connection) -> None:
        """Work inside ``connection``'s transaction."""
        self._conn = connection

    def _within(self, query: LocatorQuery, radius_m: float) -> list[Candidate]:
        if query.levels is not None and not query.levels:
            return []
        south, north, spans = bounding_box(query.lat, query.lng, radius_m)
        stmt = _public().where(
            P.c.area_lat_e6.between(math.floor(south * E6), math.ceil(north * E6)),
            or_(*(P.c.area_lng_e6.between(math.floor(west * E6), math.ceil(east * E6)) for west, east in spans)))
        if query.service_id is not None:
            stmt = stmt.where(exists().where(and_(S.c.account_id == P.c.account_id,
                                                  S.c.service_id == query.service_id)))
        if query.gender is not None:
            stmt = stmt.where(P.c.gender == query.gender.value)
        if query.levels is not None:
            stmt = stmt.where(P.c.level_code.in_(sorted(query.levels)))
        if query.min_rating is not None:
            stmt = stmt.where(R.c.average_e3 >= math.floor(query.min_rating * 1000))
        centre = rad_point(query.lat, query.lng)
        found: list[Candidate] = []
        for tid, lat_e6, lng_e6, gender_code, level, average_e3, reviews in self._conn.execute(stmt).all():
            distance = arc_m(centre, rad_point(lat_e6 / E6, lng_e6 / E6))
            if distance > radius_m:
                continue
            rating = Rating(average_e3 / 1000, reviews) if average_e3 is not None else None
            gender = _GENDERS[gender_code]
            if query.admits(gender, level, rating):
                found.append(Candidate(AccountId(tid), distance, gender, level, rating))
        return found

    def search(self, query: LocatorQuery, *, limit: int | None = None) -> Sequence[Candidate]:
        """Nearest first, then by id; with ``limit`` the circle widens from 1 km until it holds enough."""
        found: list[Candidate] = []
        for radius in [query.radius_m] if limit is None else widening(query.radius_m):
            found = self._within(query, radius)
            if limit is None or len(found) >= limit:
                break
        found.sort(key=lambda c: (c.distance_m, c.therapist_id))
        return found if limit is None else found[:limit]

    def set_rating(self, therapist_id: AccountId, rating: Rating | None) -> None:
        """Replace the rating row (none for None)."""
        known = self._conn.execute(select(P.c.account_id).where(P.c.account_id == therapist_id)).first()
        if known is None:
            raise NotFound("therapist", therapist_id)
        self._conn.execute(delete(R).where(R.c.therapist_id == therapist_id))
        if rating is not None:
            self._conn.execute(insert(R).values(therapist_id=therapist_id, average_e3=round(rating.average * 1000),
                                                reviews=rating.count))

    def rating(self, therapist_id: AccountId) -> Rating | None:
        """The stored rating or None."""
        row = self._conn.execute(select(R.c.average_e3, R.c.reviews).where(R.c.therapist_id == therapist_id)).first()
        return Rating(row.average_e3 / 1000, row.reviews) if row is not None else None

    def rebuild(self) -> int:
        """Nothing to rebuild: count the public therapists."""
        return int(self._conn.execute(select(func.count()).select_from(_public().subquery())).scalar_one())
