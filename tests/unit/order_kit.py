"""Builders for the order service tests: a priced catalogue, public therapists with an online week, bookings
and payments played through the sandbox gateway.  Set-up writes profiles straight through the repositories
(vetting through the services would be slow); everything under test goes through ``platform.orders``."""

from __future__ import annotations

from typing import Any, cast

import pendulum

from catalog_support import make_profile
from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.therapist_values import ServiceArea
from massage_core.services.order_views import OrderView
from search_support import Shop, approve, shop
from storage_support import T0

SYSTEM = Actor.system()
WEEK = {day: [("08:00", "20:00")] for day in range(1, 8)}
START = pendulum.datetime(2026, 1, 6, 10, tz="Asia/Shanghai")
"""The visit: the day after the kit's clock (Monday 5 January 2026, 10:00 in Shanghai)."""
LAT, LNG = 31.2304, 121.4737
SENIOR_TUINA = 25_800
"""The price of ``shop.tuina`` at the senior level (a visit at the therapist's centre has no travel fee)."""


def gateway(platform: Platform) -> SandboxPaymentGateway:
    return cast(SandboxPaymentGateway, platform.deps.payment_gateway)


def catalogue(platform: Platform) -> Shop:
    """Levels junior/senior/expert; ``tuina`` (60 min, contraindicated by pregnancy and skin infection) and
    ``spa`` (90 min)."""
    return shop(platform.deps.uow)


def make_public(platform: Platform, therapist_id: str, catalogue_: Shop, *, gender: str = "female",
                level: str = "senior", radius_km: float = 10) -> str:
    """Give the account ``therapist_id`` an approved profile offering both services around (LAT, LNG), and an
    online week 08:00-20:00."""
    with platform.deps.uow() as uow:
        profile = make_profile(therapist_id, area=ServiceArea(LAT, LNG, radius_km), gender=gender,
                               services=frozenset({catalogue_.tuina, catalogue_.spa}))
        stored = uow.therapists.add(profile)
        uow.therapists.save(approve(stored).with_level(level, T0))
        uow.commit()
    platform.schedules.set_weekly_hours(SYSTEM, therapist_id, WEEK)
    platform.schedules.set_online(SYSTEM, therapist_id, True)
    return therapist_id


def book(platform: Platform, customer: Actor, therapist_id: str, service: str, **changes: Any) -> OrderView:
    args: dict[str, Any] = {"therapist": therapist_id, "service": service, "start": START, "lat": LAT, "lng": LNG}
    args.update(changes)
    return platform.orders.book(customer, **args)


def pay(platform: Platform, order: str) -> OrderView:
    """The customer pays at the sandbox; its callback reaches the service."""
    headers, body = gateway(platform).simulate_payment(order)
    return platform.orders.payment_callback(headers, body)


def advance(platform: Platform, order: str, therapist: Actor, customer: Actor, state: str) -> OrderView:
    """Move a paid order forward along the happy path until it reaches ``state``."""
    orders = platform.orders
    path = [("accepted", lambda: orders.accept(therapist, order)), ("departed", lambda: orders.depart(therapist, order)),
            ("arrived", lambda: orders.arrive(therapist, order)), ("in_service", lambda: orders.start(therapist, order)),
            ("finished", lambda: orders.finish(therapist, order)),
            ("completed", lambda: orders.complete(customer, order))]
    view = orders.get(SYSTEM, order)
    for name, step in path:
        if view.state.value == state:
            return view
        view = step()
    assert view.state.value == state
    return view
