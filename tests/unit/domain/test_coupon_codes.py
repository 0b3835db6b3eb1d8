"""Coupon codes, deactivation and the redeemable check (decision 0020)."""

from __future__ import annotations

import datetime as dt

import pytest

from pricing_kit import NOW, coupon
from massage_core.domain.coupons import CouponUsage, coupon_code
from massage_core.domain.errors import Conflict, MassageError, ValidationError

DAY = dt.timedelta(days=1)


def test_codes_are_trimmed_and_upper_cased() -> None:
    assert coupon_code("  spring-2026 ") == "SPRING-2026" and coupon(code="ab_1").code == "AB_1"
    assert coupon().code is None
    for bad in ("ab", "-ABC", "A B C", "x" * 33, 42, "春天优惠"):
        with pytest.raises(ValidationError) as caught:
            coupon_code(bad)
        assert caught.value.code == "coupon.code"


def test_deactivate_is_idempotent() -> None:
    off = coupon().deactivate()
    assert not off.active and off.deactivate() == off


@pytest.mark.parametrize(("changes", "usage", "at", "error", "code"), [
    ({"active": False, "total_limit": 1}, CouponUsage(1, 1), NOW, ValidationError, "coupon.inactive"),
    ({}, CouponUsage(), NOW - 2 * DAY, ValidationError, "coupon.not_yet_valid"),
    ({}, CouponUsage(), NOW + 30 * DAY, ValidationError, "coupon.expired"),
    ({"single_use": True, "per_customer_limit": 1}, CouponUsage(1, 1), NOW, Conflict, "coupon.exhausted"),
    ({"per_customer_limit": 1}, CouponUsage(1, 3), NOW, Conflict, "coupon.limit_reached"),
])
def test_check_redeemable_fails_in_the_order_of_check(changes: dict[str, object], usage: CouponUsage,
                                                      at: dt.datetime, error: type[MassageError], code: str) -> None:
    with pytest.raises(error) as caught:
        coupon(**changes).check_redeemable(usage, at)
    assert caught.value.code == code


def test_check_redeemable_allows_the_last_use() -> None:
    coupon(total_limit=3, per_customer_limit=2).check_redeemable(CouponUsage(1, 2), NOW)
