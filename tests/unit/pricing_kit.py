"""Builders shared by the pricing tests: a catalogue service, points, instants and a default policy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum

from massage_core.domain.catalog import Service
from massage_core.domain.coupons import Coupon
from massage_core.domain.ids import CategoryId, ServiceId
from massage_core.domain.pricing import GeoPoint, PricingPolicy

SERVICE_ID = ServiceId("svc_" + "0" * 25 + "1")
OTHER_SERVICE_ID = ServiceId("svc_" + "0" * 25 + "2")
COUPON_ID = "cpn_" + "0" * 25 + "1"
CENTRE = GeoPoint(0.0, 0.0)
"""The therapist's area centre on the equator: a point (x, 0) is R * radians(x) metres away."""
NOW = pendulum.datetime(2026, 6, 10, 1, 0, tz="UTC")
POLICY = PricingPolicy()


def service(prices: dict[str, int] | None = None, *, active: bool = True, ident: ServiceId = SERVICE_ID) -> Service:
    return Service(id=ident, created_at=NOW, category_id=CategoryId("cat_" + "0" * 26), name="Full body",
                   duration_minutes=60, prices=prices or {"junior": 19_800, "senior": 25_800}, active=active)


def shanghai(*parts: int) -> pendulum.DateTime:
    return pendulum.datetime(*parts, tz="Asia/Shanghai")  # type: ignore[arg-type]


def coupon(**changes: Any) -> Coupon:
    """A coupon valid around NOW: 15 % off unless ``amount_off`` is given."""
    options: dict[str, Any] = {"id": COUPON_ID, "name": "Summer", "valid_from": NOW - dt.timedelta(days=1),
                               "valid_until": NOW + dt.timedelta(days=30)}
    if "amount_off" not in changes:
        options["percent_off_bp"] = 1_500
    options.update(changes)
    return Coupon(**options)
