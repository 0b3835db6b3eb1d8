"""Quotes: hand-computed examples, bad input, and the arithmetic properties of acceptance 2 (issue 4).

The customer at (0.05, 0) is 5 560 m from the therapist's centre (0, 0): 2 560 m
beyond the default 3 km free radius, so 3 started km x 3.00 = 9.00 travel fee.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pricing_kit import CENTRE, NOW, OTHER_SERVICE_ID, POLICY, coupon, service, shanghai

from massage_core.domain.catalog import TherapistLevel
from massage_core.domain.coupons import CouponUsage
from massage_core.domain.errors import Conflict, MassageError, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.pricing import GeoPoint, KmRounding, PricingPolicy, SurchargeRule
from massage_core.domain.quotes import LineKind, Quote, QuoteLine

HOME = GeoPoint(0.05, 0.0)
NATIONAL_DAY = dt.date(2026, 10, 1)
ZONE = "Asia/Shanghai"


def quote(**changes: Any) -> Quote:
    options: dict[str, Any] = {"service": service(), "level": "junior", "customer_point": HOME,
                               "therapist_point": CENTRE, "start": shanghai(2026, 6, 10, 14, 0),
                               "customer_zone": ZONE, "policy": POLICY, "now": NOW}
    options.update(changes)
    return Quote.compute(**options)


def items(q: Quote) -> dict[str, int]:
    return {str(line.kind): line.amount.fen for line in q.lines}


@pytest.mark.parametrize(("changes", "lines", "total"), [
    ({}, {"service": 19_800, "travel": 900}, 20_700),
    ({"level": "senior"}, {"service": 25_800, "travel": 900}, 26_700),
    ({"customer_point": GeoPoint(0.02, 0.0)}, {"service": 19_800}, 19_800),  # 2 224 m: inside the free radius
    ({"start": shanghai(2026, 6, 10, 23, 0)}, {"service": 19_800, "travel": 900, "night": 3_960}, 24_660),
    ({"start": shanghai(2026, 10, 1, 0, 30), "policy": PricingPolicy(holidays=[NATIONAL_DAY])},
     {"service": 19_800, "travel": 900, "holiday": 5_940}, 26_640),  # larger of night 3 960 and holiday 5 940
    ({"start": shanghai(2026, 10, 1, 0, 30),
      "policy": PricingPolicy(holidays=[NATIONAL_DAY], surcharge_rule=SurchargeRule.BOTH)},
     {"service": 19_800, "travel": 900, "night": 3_960, "holiday": 5_940}, 30_600),
    ({"start": shanghai(2026, 6, 10, 23, 0), "coupon": coupon(max_discount=2_000), "tip": 1_000},
     {"service": 19_800, "travel": 900, "night": 3_960, "discount": -2_000, "tip": 1_000}, 23_660),
    ({"start": shanghai(2026, 6, 10, 23, 0), "coupon": coupon()},  # 15 % of 23 760 (service + night)
     {"service": 19_800, "travel": 900, "night": 3_960, "discount": -3_564}, 21_096),
    ({"coupon": coupon(amount_off=50_000), "tip": 500},  # capped at the discountable 198.00
     {"service": 19_800, "travel": 900, "discount": -19_800, "tip": 500}, 1_400),
    ({"customer_point": CENTRE, "coupon": coupon(percent_off_bp=10_000)},
     {"service": 19_800, "discount": -19_800}, 0),
    ({"policy": PricingPolicy(travel_rounding=KmRounding.DOWN)}, {"service": 19_800, "travel": 600}, 20_400),
    ({"level": TherapistLevel(code="junior", name="Junior", rank=1), "tip": Money(1)},
     {"service": 19_800, "travel": 900, "tip": 1}, 20_701),
])
def test_hand_computed_quotes(changes: dict[str, Any], lines: dict[str, int], total: int) -> None:
    q = quote(**changes)
    assert items(q) == lines
    assert q.total == Money(total)
    assert list(items(q)) == [kind for kind in LineKind if kind in lines]  # the fixed order


def test_quote_records_what_it_priced_and_how_long_it_is_valid() -> None:
    q = quote(coupon=coupon())
    assert (q.service_id, q.level, q.distance_m, q.customer_zone) == (service().id, "junior", 5_560, ZONE)
    assert q.start == pendulum.datetime(2026, 6, 10, 6, 0, tz="UTC")
    assert (q.created_at, q.valid_until) == (NOW, NOW.add(minutes=10))
    assert q.coupon_id == coupon().id and q.currency == "CNY"
    assert q.is_valid_at(NOW.add(minutes=9, seconds=59)) and not q.is_valid_at(NOW.add(minutes=10))
    assert q.amount_of(LineKind.HOLIDAY) == Money(0)
    assert q.discountable == Money(19_800)


def test_validity_ends_no_later_than_the_visit_or_the_coupon() -> None:
    soon = quote(start=NOW.add(minutes=4))
    assert soon.valid_until == NOW.add(minutes=4)
    ending = quote(coupon=coupon(valid_until=NOW.add(minutes=3)))
    assert ending.valid_until == NOW.add(minutes=3)


@pytest.mark.parametrize(("changes", "error", "code"), [
    ({"now": dt.datetime(2026, 6, 10, 1, 0)}, ValidationError, "time.naive"),
    ({"start": dt.datetime(2026, 6, 10, 14, 0)}, ValidationError, "time.naive"),
    ({"start": NOW}, ValidationError, "pricing.start_in_past"),
    ({"start": NOW.subtract(hours=1)}, ValidationError, "pricing.start_in_past"),
    ({"customer_zone": "Mars/Olympus"}, ValidationError, "time.zone"),
    ({"level": "expert"}, ValidationError, "pricing.no_price"),
    ({"level": "Not A Level"}, ValidationError, "level.code"),
    ({"service": service(active=False)}, ValidationError, "pricing.service_inactive"),
    ({"tip": -1}, ValidationError, "pricing.tip"),
    ({"tip": 20_001}, ValidationError, "pricing.tip"),
    ({"coupon": coupon(service_ids=[OTHER_SERVICE_ID])}, ValidationError, "coupon.not_applicable"),
    ({"coupon": coupon(min_spend=19_801)}, ValidationError, "coupon.min_spend"),
    ({"coupon": coupon(per_customer_limit=1), "coupon_usage": CouponUsage(1, 1)}, Conflict, "coupon.limit_reached"),
    ({"coupon": coupon(valid_until=NOW)}, ValidationError, "coupon.expired"),
])
def test_bad_input_is_refused_with_stable_codes(changes: dict[str, Any], error: type[Exception], code: str) -> None:
    with pytest.raises(error) as err:
        quote(**changes)
    if code:
        assert err.value.code == code  # type: ignore[attr-defined]


@pytest.mark.parametrize("point", [(91.0, 0.0), (0.0, float("inf"))])
def test_bad_points_are_refused(point: tuple[float, float]) -> None:
    @attrs.frozen
    class Raw:
        lat: float
        lng: float

    with pytest.raises(ValidationError) as err:
        quote(customer_point=Raw(*point))
    assert err.value.code == "pricing.point"


def test_a_tampered_quote_cannot_exist() -> None:
    q = quote(tip=1_000)
    with pytest.raises(ValidationError) as err:
        attrs.evolve(q, total=q.total + Money(1))
    assert err.value.code == "quote.inconsistent"
    for lines in ((QuoteLine(LineKind.TIP, Money(1_000)), *q.lines[:-1]),  # order
                  (*q.lines, QuoteLine(LineKind.DISCOUNT, Money(-1)))):  # order, and a discount without a coupon
        with pytest.raises(ValidationError):
            attrs.evolve(q, lines=lines, total=Money(sum(line.amount.fen for line in lines)))
    with pytest.raises(ValidationError):
        attrs.evolve(q, lines=(*q.lines[:-1], QuoteLine(LineKind.TIP, Money(0))), total=q.total - Money(1_000))
    with pytest.raises(ValidationError):
        attrs.evolve(q, valid_until=q.start.add(seconds=1))


# -- properties (acceptance 2) ------------------------------------------------------------------------------

policies = st.builds(
    PricingPolicy,
    travel_free_radius_m=st.integers(0, 10_000), travel_fen_per_km=st.integers(0, 2_000),
    travel_fee_cap_fen=st.integers(0, 20_000), travel_rounding=st.sampled_from(KmRounding),
    night_start=st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 30])),
    night_end=st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 30])),
    night_surcharge_bp=st.integers(0, 10_000), holiday_surcharge_bp=st.integers(0, 10_000),
    holidays=st.frozensets(st.dates(dt.date(2026, 6, 9), dt.date(2026, 6, 20)), max_size=6),
    surcharge_rule=st.sampled_from(SurchargeRule), quote_valid_minutes=st.integers(1, 60),
    tip_max_fen=st.integers(0, 50_000),
)
coupons = st.none() | st.one_of(
    st.builds(lambda amount, spend: coupon(amount_off=amount, min_spend=spend),
              st.integers(1, 100_000), st.integers(0, 40_000)),
    st.builds(lambda bp, cap, spend: coupon(percent_off_bp=bp, max_discount=cap, min_spend=spend),
              st.integers(1, 10_000), st.none() | st.integers(1, 30_000), st.integers(0, 40_000)),
)
points = st.builds(GeoPoint, st.floats(-0.3, 0.3), st.floats(-0.3, 0.3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies, price=st.integers(1, 200_000), customer=points, start_minutes=st.integers(1, 14 * 24 * 60),
       zone_name=st.sampled_from([ZONE, "America/New_York", "Asia/Kathmandu", "UTC"]), c=coupons,
       tip=st.integers(0, 50_000))
def test_quote_arithmetic(policy: PricingPolicy, price: int, customer: GeoPoint, start_minutes: int, zone_name: str,
                          c: Any, tip: int) -> None:
    tip = min(tip, policy.tip_max_fen)
    try:
        q = quote(service=service({"junior": price}), customer_point=customer, start=NOW.add(minutes=start_minutes),
                  customer_zone=zone_name, policy=policy, coupon=c, tip=tip)
    except MassageError as err:  # the only refusal possible here: the coupon's minimum spend
        assert err.code == "coupon.min_spend" and c is not None
        night, holiday = policy.surcharges(Money(price), NOW.add(minutes=start_minutes), zone_name)
        assert price + night.fen + holiday.fen < c.min_spend.fen
        return
    fen = {kind: q.amount_of(kind).fen for kind in LineKind}
    assert sum(line.amount.fen for line in q.lines) == q.total.fen  # items add up to the total exactly
    assert sum(fen.values()) == q.total.fen
    assert q.total.fen >= fen[LineKind.TRAVEL] + fen[LineKind.TIP] >= 0  # never negative
    assert all(line.amount.fen > 0 for line in q.lines if line.kind is not LineKind.DISCOUNT)
    assert fen[LineKind.SERVICE] == price and fen[LineKind.TIP] == tip
    assert 0 <= fen[LineKind.TRAVEL] <= policy.travel_fee_cap_fen
    assert not (policy.surcharge_rule is SurchargeRule.LARGER and fen[LineKind.NIGHT] and fen[LineKind.HOLIDAY])
    discountable = price + fen[LineKind.NIGHT] + fen[LineKind.HOLIDAY]
    off = -fen[LineKind.DISCOUNT]
    assert 0 <= off <= discountable  # the discount never takes more than the discountable subtotal
    if c is None:
        assert off == 0 and q.coupon_id is None
    else:
        assert discountable >= c.min_spend.fen and q.coupon_id == c.id
        if c.amount_off is not None:
            assert off == min(c.amount_off.fen, discountable)
        else:
            assert off <= (c.max_discount.fen if c.max_discount is not None else discountable)
            assert off == min((discountable * c.percent_off_bp + 5_000) // 10_000,
                              c.max_discount.fen if c.max_discount is not None else discountable)
    assert q.created_at < q.valid_until <= min(q.created_at.add(minutes=policy.quote_valid_minutes), q.start)
    assert q.is_valid_at(q.created_at) and not q.is_valid_at(q.valid_until)
