"""Builders for the coupon cells of the access matrix (``test_access_matrix.MATRIX``).

Set-up steps run as the system, so only the call under test acts as the cell's actor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from massage_core.domain.access import Actor
from massage_core.domain.coupons import Coupon
from matrix_therapists import shop

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
SYSTEM = Actor.system()
MANAGERS = ("superadmin", "system")


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    return fn, args, kwargs


def _window(c: Any) -> dict[str, dt.datetime]:
    now = c.kit.clock.now()
    return {"valid_from": now - dt.timedelta(days=1), "valid_until": now + dt.timedelta(days=30)}


def _coupon(c: Any) -> Coupon:
    coupon: Coupon = c.p.coupons.create(SYSTEM, "Welcome", percent_off_bp=1_000, code="WELCOME10", **_window(c))
    return coupon


def create(c: Any) -> Call:
    return _call(c.p.coupons.create, c.actor, "Spring", amount_off=2_000, code="SPRING20", **_window(c))


def deactivate(c: Any) -> Call:
    return _call(c.p.coupons.deactivate, c.actor, _coupon(c).id)


def check(c: Any) -> Call:
    _coupon(c)
    return _call(c.p.coupons.check, c.actor, "welcome10", shop(c).service, 19_800)
