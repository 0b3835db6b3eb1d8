"""Coupons: validity, applicability, limits, minimum spend and the discount arithmetic (decision 0015)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pricing_kit import COUPON_ID, NOW, OTHER_SERVICE_ID, SERVICE_ID, coupon

from massage_core.domain.coupons import CouponKind, CouponUsage
from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.money import Money

DAY = dt.timedelta(days=1)


def check(c: Any, *, subtotal: int = 19_800, mine: int = 0, everybody: int = 0, now: dt.datetime = NOW,
          service: Any = SERVICE_ID) -> None:
    c.check(service=service, subtotal=Money(subtotal), usage=CouponUsage(mine, everybody), now=now)


@pytest.mark.parametrize(("changes", "kwargs", "error", "code"), [
    ({"active": False}, {}, ValidationError, "coupon.inactive"),
    ({"valid_from": NOW + DAY, "valid_until": NOW + 2 * DAY}, {}, ValidationError, "coupon.not_yet_valid"),
    ({"valid_from": NOW - 2 * DAY, "valid_until": NOW}, {}, ValidationError, "coupon.expired"),
    ({"service_ids": [OTHER_SERVICE_ID]}, {}, ValidationError, "coupon.not_applicable"),
    ({"total_limit": 100}, {"everybody": 100}, Conflict, "coupon.exhausted"),
    ({"single_use": True}, {"everybody": 1}, Conflict, "coupon.exhausted"),
    ({"per_customer_limit": 2}, {"mine": 2, "everybody": 5}, Conflict, "coupon.limit_reached"),
    ({"min_spend": 19_801}, {}, ValidationError, "coupon.min_spend"),
])
def test_check_refuses_with_stable_codes(changes: dict[str, Any], kwargs: dict[str, Any], error: type[Exception],
                                         code: str) -> None:
    with pytest.raises(error) as err:
        check(coupon(**changes), **kwargs)
    assert err.value.code == code  # type: ignore[attr-defined]


@pytest.mark.parametrize(("changes", "kwargs"), [
    ({}, {}),
    ({"valid_from": NOW, "valid_until": NOW + DAY}, {}),  # the window includes its start
    ({"service_ids": [SERVICE_ID, OTHER_SERVICE_ID]}, {}),
    ({"total_limit": 100}, {"everybody": 99}),
    ({"single_use": True, "total_limit": 1}, {}),
    ({"per_customer_limit": 2}, {"mine": 1, "everybody": 50}),
    ({"min_spend": 19_800}, {}),  # the minimum spend is inclusive
])
def test_check_accepts(changes: dict[str, Any], kwargs: dict[str, Any]) -> None:
    check(coupon(**changes), **kwargs)


def test_the_first_failing_rule_decides_the_code() -> None:
    expired_and_elsewhere = coupon(valid_from=NOW - 2 * DAY, valid_until=NOW, service_ids=[OTHER_SERVICE_ID])
    with pytest.raises(ValidationError) as err:
        check(expired_and_elsewhere, subtotal=1)
    assert err.value.code == "coupon.expired"


@pytest.mark.parametrize(("changes", "subtotal", "off"), [
    ({"amount_off": 2_000}, 19_800, 2_000),
    ({"amount_off": 50_000}, 19_800, 19_800),  # never more than the subtotal
    ({"percent_off_bp": 1_500}, 23_760, 3_564),
    ({"percent_off_bp": 1_500, "max_discount": 2_000}, 23_760, 2_000),
    ({"percent_off_bp": 1_500}, 333, 50),  # 49.95 rounded half up
    ({"percent_off_bp": 10_000}, 19_800, 19_800),
    ({"percent_off_bp": 1}, 4_999, 0),  # 0.4999 fen
    ({"percent_off_bp": 1_500}, 0, 0),
])
def test_discount_table(changes: dict[str, Any], subtotal: int, off: int) -> None:
    assert coupon(**changes).discount(Money(subtotal)) == Money(off)


def test_kind_and_single_use_limit() -> None:
    assert coupon(amount_off=500).kind is CouponKind.FIXED
    assert coupon().kind is CouponKind.PERCENT
    assert coupon(single_use=True).effective_total_limit == 1
    assert coupon(total_limit=7).effective_total_limit == 7


@pytest.mark.parametrize("changes", [
    {"amount_off": 500, "percent_off_bp": 1_000},  # both kinds
    {"amount_off": 0}, {"percent_off_bp": 0}, {"percent_off_bp": 10_001}, {"percent_off_bp": True},
    {"amount_off": 500, "max_discount": 400},  # a cap is for percentages only
    {"max_discount": 0}, {"min_spend": -1}, {"per_customer_limit": 0}, {"total_limit": -3},
    {"single_use": True, "total_limit": 2}, {"valid_from": NOW, "valid_until": NOW},
    {"amount_off": 1.5}, {"name": ""}, {"single_use": "yes"},
])
def test_bad_coupons_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as err:
        coupon(**changes)
    assert err.value.code == "coupon.invalid"


def test_coupon_refuses_naive_times_and_wrong_ids() -> None:
    with pytest.raises(ValidationError) as err:
        coupon(valid_from=dt.datetime(2026, 1, 1))
    assert err.value.code == "time.naive"
    with pytest.raises(ValidationError) as err:
        coupon(id="svc_" + COUPON_ID[4:])
    assert err.value.code == "invalid_id"


@pytest.mark.parametrize(("mine", "everybody"), [(-1, 0), (0, -1), (2, 1), (True, 1)])
def test_usage_counts_are_validated(mine: int, everybody: int) -> None:
    with pytest.raises(ValidationError) as err:
        CouponUsage(mine, everybody)
    assert err.value.code == "coupon.usage"


coupons = st.one_of(
    st.builds(lambda amount, spend: coupon(amount_off=amount, min_spend=spend),
              st.integers(1, 100_000), st.integers(0, 50_000)),
    st.builds(lambda bp, cap, spend: coupon(percent_off_bp=bp, max_discount=cap, min_spend=spend),
              st.integers(1, 10_000), st.none() | st.integers(1, 20_000), st.integers(0, 50_000)),
)


@given(coupons, st.integers(0, 10**7))
def test_discount_respects_every_limit(c: Any, subtotal: int) -> None:
    off = c.discount(Money(subtotal)).fen
    assert 0 <= off <= subtotal
    if c.amount_off is not None:
        assert off == min(c.amount_off.fen, subtotal)
    else:
        half_up = (subtotal * c.percent_off_bp + 5_000) // 10_000
        cap = c.max_discount.fen if c.max_discount is not None else subtotal
        assert off == min(half_up, cap, subtotal)
        assert off <= cap


@given(coupons, st.integers(0, 10**6))
def test_min_spend_is_respected(c: Any, subtotal: int) -> None:
    if subtotal < c.min_spend.fen:
        with pytest.raises(ValidationError) as err:
            check(c, subtotal=subtotal)
        assert err.value.code == "coupon.min_spend"
    else:
        check(c, subtotal=subtotal)


@given(st.none() | st.integers(1, 5), st.none() | st.integers(1, 20), st.booleans(), st.integers(0, 6),
       st.integers(0, 25))
def test_redemption_limits_hold(per_customer: int | None, total: int | None, single: bool, mine: int,
                                extra: int) -> None:
    if single and total not in (None, 1):
        total = 1
    c = coupon(per_customer_limit=per_customer, total_limit=total, single_use=single)
    everybody = mine + extra
    limit = 1 if single else total
    try:
        check(c, mine=mine, everybody=everybody)
    except Conflict as err:
        assert (limit is not None and everybody >= limit) or (per_customer is not None and mine >= per_customer)
        expected = "coupon.exhausted" if limit is not None and everybody >= limit else "coupon.limit_reached"
        assert err.code == expected
    else:
        assert limit is None or everybody < limit
        assert per_customer is None or mine < per_customer
