"""platform.search.therapists: validation, every filter, every order, pagination, and "free at"."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conftest import Kit
from massage_core.domain.access import Actor
from massage_core.domain.errors import NotFound, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.search import Rating, SearchQuery, composite_score, haversine_m
from search_support import Shop, shop, therapist

ANON = Actor.anonymous()
SYSTEM = Actor.system()
LAT, LNG = 31.2304, 121.4737
CST = dt.timezone(dt.timedelta(hours=8))


def ids(kit: Kit, **args: Any) -> list[str]:
    args.setdefault("lat", LAT)
    args.setdefault("lng", LNG)
    return [r.therapist.id for r in kit.platform.search.therapists(ANON, **args).results]


@pytest.fixture
def catalogue(kit: Kit) -> Shop:
    return shop(kit.platform.deps.uow)


def add(kit: Kit, east_m: float, **kw: Any) -> str:
    """A therapist ``east_m`` metres east of the centre (0.00001 degree of longitude is ~0.95 m here)."""
    return therapist(kit.platform.deps.uow, LAT, round(LNG + east_m / 95_200, 6), **kw)


def test_great_circle_distance() -> None:
    assert haversine_m(39.9042, 116.4074, 31.2304, 121.4737) == pytest.approx(1_067_000, abs=2_000)
    assert haversine_m(0, 179.9995, 0, -179.9995) == pytest.approx(111.2, abs=0.1)
    assert haversine_m(LAT, LNG, LAT, LNG) == 0


def test_the_score_weighs_distance_rating_with_a_prior_and_level() -> None:
    near = composite_score(0, 5000, None, None, 30)
    assert near == pytest.approx(0.5 + 0.35 * 2.5 / 4)
    assert composite_score(5000, 5000, None, None, 30) == pytest.approx(0.35 * 2.5 / 4)
    one_five = composite_score(1000, 5000, Rating(5, 1), 10, 30)
    many = composite_score(1000, 5000, Rating(4.9, 200), 10, 30)
    assert many > one_five > composite_score(1000, 5000, None, 10, 30)
    assert composite_score(1000, 5000, None, 30, 30) - composite_score(1000, 5000, None, None, 30) == \
        pytest.approx(0.15)


@pytest.mark.parametrize(("args", "code"), [
    ({"lat": 91}, "search.point"), ({"lng": "east"}, "search.point"), ({"radius_km": 0}, "search.radius"),
    ({"radius_km": 50.1}, "search.radius"), ({"min_price": 100}, "search.needs_service"),
    ({"sort": "price"}, "search.needs_service"), ({"free_at": "2026-01-06T14:00+08:00"}, "search.needs_service"),
    ({"service": "svc_x"}, "invalid_id"), ({"min_rating": 5.5}, "search.rating"), ({"gender": "x"}, "therapist.gender"),
    ({"level": "Top!"}, "level.code"), ({"sort": "cheapest"}, "search.sort"), ({"offset": -1}, "page.offset"),
    ({"limit": 0}, "page.limit"), ({"limit": 101}, "page.limit"), ({"limit": True}, "page.limit"),
])
def test_bad_arguments_are_refused_with_stable_codes(kit: Kit, args: dict[str, Any], code: str) -> None:
    values: dict[str, Any] = {"lat": LAT, "lng": LNG, **args}
    with pytest.raises(ValidationError) as caught:
        kit.platform.search.therapists(ANON, **values)
    assert caught.value.code == code


def test_price_and_free_at_arguments_are_checked(kit: Kit, catalogue: Shop) -> None:
    base = {"lat": LAT, "lng": LNG, "service": catalogue.tuina}
    for args, code in (({"min_price": 1.5}, "search.price"), ({"min_price": 300, "max_price": 200}, "search.price"),
                       ({"free_at": dt.datetime(2026, 1, 6, 14)}, "time.naive"),
                       ({"free_at": "tomorrow"}, "search.free_at")):
        with pytest.raises(ValidationError) as caught:
            kit.platform.search.therapists(ANON, **base, **args)
        assert caught.value.code == code
    with pytest.raises(NotFound):
        kit.platform.search.therapists(ANON, lat=LAT, lng=LNG, service="svc_01J0000000000000000000000Z")
    kit.platform.catalog.update_service(kit.superadmin().actor, catalogue.spa, active=False)
    with pytest.raises(NotFound):
        kit.platform.search.therapists(ANON, lat=LAT, lng=LNG, service=catalogue.spa)


def test_distance_radius_visibility_and_the_result_fields(kit: Kit, catalogue: Shop) -> None:
    a = add(kit, 300, services=(catalogue.tuina,), level="expert", rating=Rating(4.5, 8))
    b = add(kit, 1500, services=(catalogue.spa,))
    add(kit, 2500, services=(catalogue.tuina,))
    add(kit, 100, services=(catalogue.tuina,), suspended=True)
    add(kit, 100, services=(catalogue.tuina,), account_active=False)
    page = kit.platform.search.therapists(ANON, lat=LAT, lng=LNG, radius_km=2)
    assert [r.therapist.id for r in page.results] == [a, b] and page.total == 2 and page.sort == "distance"
    first = page.results[0]
    assert abs(first.distance_m - 300) < 5 and first.price is None and first.rating == Rating(4.5, 8)
    assert first.therapist.name.endswith("*") and 0 < first.score <= 1
    priced = kit.platform.search.therapists(ANON, lat=LAT, lng=LNG, radius_km=2, service=catalogue.tuina)
    assert [(r.therapist.id, r.price) for r in priced.results] == [(a, Money(39_800))]


def test_service_price_gender_level_and_rating_filters(kit: Kit, catalogue: Shop) -> None:
    t = catalogue.tuina
    junior = add(kit, 100, services=(t, catalogue.spa), level="junior", gender="male", rating=Rating(3.9, 40))
    senior = add(kit, 200, services=(t,), level="senior", rating=Rating(4.7, 2))
    expert = add(kit, 300, services=(t, catalogue.spa), level="expert")
    add(kit, 400, services=(t,), level=None)  # no level: no price, never listed for a service
    assert ids(kit, service=t) == [junior, senior, expert]
    assert ids(kit, service=catalogue.spa) == [junior]  # spa has no expert price
    assert ids(kit, service=t, min_price=20_000) == [senior, expert]
    assert ids(kit, service=t, max_price=Money(25_800)) == [junior, senior]
    assert ids(kit, service=t, min_price=20_000, max_price=30_000) == [senior]
    assert ids(kit, gender="male") == [junior]
    assert ids(kit, level="expert") == [expert]
    assert ids(kit, service=t, level="senior", max_price=20_000) == []
    assert ids(kit, min_rating=4.0) == [senior]
    assert ids(kit, min_rating=0) == [junior, senior]


def test_every_order_and_pagination(kit: Kit, catalogue: Shop) -> None:
    t = catalogue.tuina
    cheap_far = add(kit, 3000, services=(t,), level="junior", rating=Rating(4.9, 100))
    dear_near = add(kit, 100, services=(t,), level="expert", rating=Rating(4.9, 3))
    mid = add(kit, 1000, services=(t,), level="senior")
    same_spot = [add(kit, 2000, services=(t,), level="senior", rating=Rating(4.0, 5)) for _ in range(2)]
    assert ids(kit, service=t) == [dear_near, mid, *sorted(same_spot), cheap_far]
    assert ids(kit, service=t, sort="price") == [cheap_far, mid, *sorted(same_spot), dear_near]
    assert ids(kit, service=t, sort="rating") == [cheap_far, dear_near, *sorted(same_spot), mid]
    scored = kit.platform.search.therapists(ANON, lat=LAT, lng=LNG, service=t, sort="score").results
    assert [r.score for r in scored] == sorted((r.score for r in scored), reverse=True)
    assert scored[0].therapist.id == dear_near
    page = kit.platform.search.therapists(ANON, lat=LAT, lng=LNG, service=t, offset=1, limit=2)
    assert [r.therapist.id for r in page.results] == [mid, sorted(same_spot)[0]]
    assert (page.total, page.offset, page.limit) == (5, 1, 2)
    assert kit.platform.search.therapists(ANON, lat=LAT, lng=LNG, service=t, offset=9).results == ()


def test_free_at_uses_the_free_slot_rules_with_reservations_in_the_way(kit: Kit, catalogue: Shop) -> None:
    t = catalogue.tuina  # 60 minutes; buffer 30; 15-minute grid; 60 minutes' notice
    week = {day: [("09:00", "18:00")] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    free, booked, back_to_back, offline, no_schedule = (add(kit, 100 * (i + 1), services=(t,)) for i in range(5))
    for who in (free, booked, back_to_back, offline):
        kit.platform.schedules.set_weekly_hours(SYSTEM, who, week)
        kit.platform.schedules.set_online(SYSTEM, who, who != offline)
    at = dt.datetime(2026, 1, 6, 14, 0, tzinfo=CST)
    kit.platform.schedules.reserve(SYSTEM, booked, at - dt.timedelta(minutes=60), at, "order-1")  # blocks to 14:30
    kit.platform.schedules.reserve(SYSTEM, back_to_back, at - dt.timedelta(minutes=90), at - dt.timedelta(minutes=30),
                                   "order-2")  # blocked until exactly 14:00
    assert ids(kit, service=t, free_at=at) == [free, back_to_back]
    assert ids(kit, service=t, free_at=at.isoformat()) == [free, back_to_back]
    assert ids(kit, service=t, free_at=at + dt.timedelta(minutes=5)) == []  # not on the slot grid
    assert ids(kit, service=t, free_at=dt.datetime(2026, 1, 6, 17, 30, tzinfo=CST)) == []  # ends after hours
    assert ids(kit, service=t, free_at=kit.clock.now() + dt.timedelta(minutes=30)) == []  # too short notice
    slots = kit.platform.schedules.free_slots(ANON, booked, 60, "2026-01-06", "2026-01-06").slots
    assert at not in [s.start for s in slots] and no_schedule not in ids(kit, service=t, free_at=at)


def test_the_query_value_object_keeps_micro_degrees() -> None:
    query = SearchQuery(31.23040049, 121.47370051, 5)
    assert (query.lat, query.lng, query.radius_m) == (31.2304, 121.473701, 5000)
