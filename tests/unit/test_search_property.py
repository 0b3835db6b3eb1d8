"""Acceptance 5: on random therapists around a city and random queries, ``platform.search.therapists``
returns exactly what a brute-force reference returns -- every filter, every order, every page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.ids import SequentialIdGenerator
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.errors import NotFound
from massage_core.domain.search import Rating, SearchQuery
from search_support import PRICES, Known, local_day, reference, shop, therapist

CITY = (31.2304, 121.4737)
STEP = 0.002  # coarse positions, so equal distances (ties broken by id) happen often
CST = dt.timezone(dt.timedelta(hours=8))
PROBES = (dt.datetime(2026, 1, 6, 14, 0, tzinfo=CST), dt.datetime(2026, 1, 6, 14, 5, tzinfo=CST),
          dt.datetime(2026, 1, 6, 9, 0, tzinfo=CST), dt.datetime(2026, 1, 5, 10, 15, tzinfo=CST))
BOOKINGS = ((13 * 60, 14 * 60), (12 * 60 + 30, 13 * 60 + 30), (14 * 60 + 30, 15 * 60 + 30))
VISIBILITY = ({}, {}, {}, {"approved": False}, {"active": False}, {"suspended": True}, {"account_active": False})

ratings = st.one_of(st.none(), st.builds(Rating, st.integers(10, 50).map(lambda n: n / 10), st.integers(1, 60)))
people = st.fixed_dictionaries({
    "dx": st.integers(-10, 10), "dy": st.integers(-10, 10), "gender": st.sampled_from(["female", "male"]),
    "level": st.sampled_from(["senior", "junior", "expert", None]), "services": st.sampled_from([3, 1, 2]),
    "visibility": st.sampled_from(range(len(VISIBILITY))), "rating": ratings,
    "schedule": st.sampled_from(["day", None, "day", "offline"]), "booking": st.sampled_from([None, 0, 1, 2]),
})


def _day(minute: int) -> dt.datetime:
    return dt.datetime(2026, 1, 6, tzinfo=CST) + dt.timedelta(minutes=minute)


def build(platform: Platform, drawn: list[dict[str, Any]]) -> tuple[Any, list[Known]]:
    uow, system = platform.deps.uow, Actor.system()
    s = shop(uow)
    offered = {1: (s.tuina,), 2: (s.spa,), 3: (s.tuina, s.spa)}
    everybody: list[Known] = []
    for p in drawn:
        lat, lng = round(CITY[0] + p["dy"] * STEP, 6), round(CITY[1] + p["dx"] * STEP, 6)
        services = offered.get(p["services"], (s.tuina,))
        hide: dict[str, Any] = VISIBILITY[p["visibility"]]
        tid = therapist(uow, lat, lng, services=services, gender=p["gender"], level=p["level"], rating=p["rating"],
                        **hide)
        if p["schedule"] is not None:
            platform.schedules.set_weekly_hours(system, tid, {d: [("09:00", "18:00")] for d in range(1, 8)})
            platform.schedules.set_online(system, tid, p["schedule"] == "day")
            if p["booking"] is not None and p["schedule"] == "day":
                start, end = BOOKINGS[p["booking"]]
                platform.schedules.reserve(system, tid, _day(start), _day(end), "order")
        everybody.append(Known(tid, lat, lng, p["gender"], p["level"], frozenset(services), not hide, p["rating"]))
    return s, everybody


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=st.lists(people, min_size=6, max_size=20), data=st.data())
def test_search_equals_brute_force(drawn: list[dict[str, Any]], data: st.DataObject) -> None:
    platform = Platform.in_memory(clock=FixedClock(), ids=SequentialIdGenerator(),
                                  hasher=Argon2idPasswordHasher.for_tests())
    s, everybody = build(platform, drawn)
    service = data.draw(st.sampled_from([None, None, s.tuina, s.tuina, s.spa]), label="service")
    bound = st.one_of(st.none(), st.none(), st.sampled_from(sorted(PRICES.values()) + [25_000, 36_800]))
    args: dict[str, Any] = {
        "lat": CITY[0] + data.draw(st.integers(-5, 5)) * STEP, "lng": CITY[1] + data.draw(st.integers(-5, 5)) * STEP,
        "radius_km": data.draw(st.sampled_from([4.0, 2.5, 0.5, 4.0, 50.0]), label="radius"),
        "service": service, "gender": data.draw(st.sampled_from([None, None, None, "female", "male"]), label="gender"),
        "level": data.draw(st.sampled_from([None] * 5 + ["junior", "senior", "expert"]), label="level"),
        "min_rating": data.draw(st.sampled_from([None] * 4 + [0.0, 3.0, 4.5]), label="min_rating"),
        "offset": data.draw(st.sampled_from([0, 0, 1, 3]), label="offset"),
        "limit": data.draw(st.integers(1, 8), label="limit"),
    }
    if service is not None:
        args["min_price"], args["max_price"] = data.draw(bound, label="min"), data.draw(bound, label="max")
        if args["min_price"] is not None and args["max_price"] is not None and args["min_price"] > args["max_price"]:
            args["min_price"], args["max_price"] = args["max_price"], args["min_price"]
        args["free_at"] = data.draw(st.sampled_from([None, None, None, PROBES[0], PROBES[0], PROBES[2], *PROBES]), label="free_at")
    orders = ["distance", "rating", "score"] + (["price"] if service is not None else [])
    args["sort"] = data.draw(st.sampled_from(orders), label="sort")
    renamed = {"service": "service_id", "min_price": "min_price_fen", "max_price": "max_price_fen"}
    query = SearchQuery(**{renamed.get(k, k): v for k, v in args.items()})

    prices: dict[str, dict[str, int]] = {}
    for sid in (s.tuina, s.spa):
        prices[sid] = {code: money.fen for code, money in platform.catalog.service(Actor.anonymous(), sid).prices}

    def free(tid: str) -> bool:
        assert query.free_at is not None and query.service_id is not None
        minutes = platform.catalog.service(Actor.anonymous(), query.service_id).duration_minutes
        day = local_day(query.free_at)
        try:
            slots = platform.schedules.free_slots(Actor.anonymous(), tid, minutes, day, day).slots
        except NotFound:
            return False
        return query.free_at in [slot.start for slot in slots]

    expected, total = reference(query, everybody, prices, free)
    page = platform.search.therapists(Actor.anonymous(), **args)
    got = [(r.therapist.id, r.distance_m, r.price.fen if r.price is not None else None) for r in page.results]
    assert (got, page.total) == (expected, total)
    event(f"sort={query.sort.value}, {'some' if total else 'none'} found, free_at {query.free_at is not None}")
