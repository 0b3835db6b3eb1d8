"""Builders for the search tests: a priced catalogue and therapists written straight through the repositories
(vetting through the services would be slow), plus the brute-force reference of ``platform.search``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import attrs

from catalog_support import make_category, make_level, make_profile, make_service
from massage_core.domain.access import Role
from massage_core.domain.accounts import AccountStatus
from massage_core.domain.search import Rating, SearchQuery, composite_score, haversine_m, order_key
from massage_core.domain.therapist_values import ServiceArea
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.vetting import BackgroundOutcome, SkillTest
from massage_core.ports.unit_of_work import UnitOfWork
from storage_support import T0, make_account

UowFactory = Callable[[], UnitOfWork]
LEVELS = {"junior": 10, "senior": 20, "expert": 30}
PRICES = {"junior": 19_800, "senior": 25_800, "expert": 39_800}


@dataclass
class Shop:
    """Three levels and two services: ``tuina`` priced for every level, ``spa`` (90 min) for junior and senior."""

    tuina: str
    spa: str
    category: str


def shop(uow_factory: UowFactory) -> Shop:
    """Create the catalogue; levels junior/senior/expert with ranks 10/20/30."""
    with uow_factory() as uow:
        for code, rank in LEVELS.items():
            uow.levels.add(make_level(code, rank, code.title()))
        category = uow.categories.add(make_category())
        tuina = uow.catalog_services.add(make_service(category.id, PRICES))
        spa = uow.catalog_services.add(make_service(category.id, {"junior": 29_800, "senior": 36_800},
                                                    duration_minutes=90))
        uow.commit()
    return Shop(tuina.id, spa.id, category.id)


def approve(profile: TherapistProfile) -> TherapistProfile:
    """Every vetting step to approval."""
    p = profile.submit(profile.id, T0).start_review("admin", T0).accept_documents("admin", T0)
    p = p.background_checked(BackgroundOutcome.CLEAR, "bgc-1", "", "admin", T0)
    return p.skill_tested(SkillTest("acc_examiner", 90, 70), "admin", T0)


def therapist(uow_factory: UowFactory, lat: float, lng: float, *, services: tuple[str, ...] = (),
              gender: str = "female", level: str | None = "senior", approved: bool = True, active: bool = True,
              suspended: bool = False, account_active: bool = True, rating: Rating | None = None) -> str:
    """One therapist profile (approved unless told), written through the repositories; returns the id."""
    account = make_account(roles=frozenset({Role.CUSTOMER, Role.THERAPIST}))
    if not account_active:
        account = attrs.evolve(account, status=AccountStatus.SUSPENDED)
    with uow_factory() as uow:
        uow.accounts.add(account)
        profile = make_profile(account.id, area=ServiceArea(lat, lng, 10), gender=gender,
                               services=frozenset(services))
        stored = uow.therapists.add(profile)
        changed = approve(stored) if approved else stored
        if level is not None:
            changed = changed.with_level(level, T0)
        if not active:
            changed = changed.with_active(False, T0)
        if suspended:
            changed = changed.suspend("complaint", T0)
        uow.therapists.save(changed)
        if rating is not None:
            uow.locator.set_rating(account.id, rating)
        uow.commit()
    return account.id


@dataclass
class Known:
    """What the reference knows about a therapist (everything, public or not)."""

    id: str
    lat: float
    lng: float
    gender: str
    level: str | None
    services: frozenset[str]
    public: bool
    rating: Rating | None


def reference(query: SearchQuery, everybody: list[Known], prices: dict[str, dict[str, int]],
              free: Callable[[str], bool]) -> tuple[list[tuple[str, int, int | None]], int]:
    """Brute force: every therapist through every predicate, sorted by the same keys; returns the page as
    ``(id, distance in whole metres, price fen)`` and the total."""
    top = max(LEVELS.values())
    rows: list[tuple[Any, str, int, int | None]] = []
    for k in everybody:
        distance = haversine_m(query.lat, query.lng, k.lat, k.lng)
        if not k.public or distance > query.radius_m:
            continue
        price = None
        if query.service_id is not None:
            if query.service_id not in k.services or k.level not in prices[query.service_id]:
                continue
            price = prices[query.service_id][k.level]
            if not query.price_admits(price):
                continue
        if query.gender is not None and k.gender != query.gender.value:
            continue
        if query.level is not None and k.level != query.level:
            continue
        if query.min_rating is not None and (k.rating is None or k.rating.average < query.min_rating):
            continue
        if query.free_at is not None and not free(k.id):
            continue
        score = composite_score(distance, query.radius_m, k.rating, LEVELS.get(k.level or ""), top)
        key = order_key(query.sort, therapist_id=k.id, distance_m=distance, price_fen=price, rating=k.rating,
                        score=score)
        rows.append((key, k.id, round(distance), price))
    rows.sort(key=lambda r: r[0])
    page = rows[query.offset:query.offset + query.limit]
    return [(r[1], r[2], r[3]) for r in page], len(rows)


def local_day(at: dt.datetime, zone_name: str = "Asia/Shanghai") -> dt.date:
    """The calendar date of ``at`` in the zone."""
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(zone_name)).date()
