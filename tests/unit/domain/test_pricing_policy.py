"""The pricing policy: travel fee by distance, night window and holidays across zones and DST (decision 0015).

New York in 2026 springs forward on Sunday 8 March (02:00 -> 03:00) and falls
back on Sunday 1 November (02:00 -> 01:00); London on 29 March and 25
October; Lord Howe Island moves by 30 minutes; Shanghai had summer time in
1991 (14 April and 15 September).  The night-window property compares with a
reference written differently: zoneinfo instead of pendulum, and modular
minute arithmetic instead of the two-case comparison.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pricing_kit import CENTRE, shanghai

from massage_core.domain.errors import ValidationError
from massage_core.domain.money import Money
from massage_core.domain.pricing import GeoPoint, KmRounding, PricingPolicy, SurchargeRule, distance_m
from massage_core.domain.therapist_values import ServiceArea

ZONES = {
    "America/New_York": (dt.date(2026, 3, 8), dt.date(2026, 11, 1)),
    "Europe/London": (dt.date(2026, 3, 29), dt.date(2026, 10, 25)),
    "Australia/Lord_Howe": (dt.date(2026, 4, 5), dt.date(2026, 10, 4)),
    "Asia/Shanghai": (dt.date(1991, 4, 14), dt.date(1991, 9, 15), dt.date(2026, 6, 10)),
    "Asia/Kathmandu": (dt.date(2026, 6, 10),),
}


@pytest.mark.parametrize(("metres", "up", "half_up", "down"), [
    (0, 0, 0, 0), (3_000, 0, 0, 0), (3_001, 300, 0, 0), (3_499, 300, 0, 0), (3_500, 300, 300, 0),
    (4_000, 300, 300, 300), (4_001, 600, 300, 300), (22_500, 6_000, 6_000, 5_700), (100_000, 6_000, 6_000, 6_000),
])
def test_travel_fee_table(metres: int, up: int, half_up: int, down: int) -> None:
    fees = [PricingPolicy(travel_rounding=rule).travel_fee(metres).fen
            for rule in (KmRounding.UP, KmRounding.HALF_UP, KmRounding.DOWN)]
    assert fees == [up, half_up, down]


def test_distance_is_great_circle_in_whole_metres_and_accepts_a_service_area() -> None:
    assert distance_m(CENTRE, GeoPoint(0.05, 0.0)) == 5_560  # 6 371 008.8 m x radians(0.05) = 5 559.75
    assert distance_m(CENTRE, CENTRE) == 0
    assert distance_m(ServiceArea(lat=0.05, lng=0.0, radius_km=10), CENTRE) == 5_560


@pytest.mark.parametrize(("lat", "lng"), [(91, 0), (0, -180.5), (float("nan"), 0), (True, 0), ("1", 0)])
def test_bad_points_are_refused(lat: object, lng: object) -> None:
    with pytest.raises(ValidationError) as err:
        GeoPoint(lat, lng)  # type: ignore[arg-type]
    assert err.value.code == "pricing.point"


@given(st.integers(0, 200_000), st.integers(0, 200_000), st.integers(0, 10_000), st.integers(0, 2_000),
       st.integers(0, 20_000), st.sampled_from(KmRounding))
def test_travel_fee_is_monotone_and_capped(a: int, b: int, free: int, rate: int, cap: int, rule: KmRounding) -> None:
    policy = PricingPolicy(travel_free_radius_m=free, travel_fen_per_km=rate, travel_fee_cap_fen=cap,
                           travel_rounding=rule)
    near, far = sorted((a, b))
    assert 0 <= policy.travel_fee(near).fen <= policy.travel_fee(far).fen <= cap
    if near <= free:
        assert policy.travel_fee(near).fen == 0
    assert policy.chargeable_km(far) - policy.chargeable_km(near) <= -(-(far - near) // 1000) + 1


@given(st.floats(-1.0, 1.0), st.floats(-1.0, 1.0), st.floats(-1.0, 1.0))
def test_travel_fee_grows_along_a_meridian(x: float, y: float, z: float) -> None:
    lats = sorted((abs(x), abs(y), abs(z)))
    fees = [PricingPolicy().travel_fee(distance_m(CENTRE, GeoPoint(lat, 0.0))).fen for lat in lats]
    assert fees == sorted(fees)


def reference_night(instant: dt.datetime, zone_name: str, begin: dt.time, end: dt.time) -> bool:
    wall = instant.astimezone(ZoneInfo(zone_name))
    minute = wall.hour * 60 + wall.minute + (wall.second * 1_000_000 + wall.microsecond) / 60_000_000
    start, stop = begin.hour * 60 + begin.minute, end.hour * 60 + end.minute
    return (minute - start) % 1440 < (stop - start) % 1440


window_times = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def instants(draw: st.DrawFn) -> tuple[str, dt.datetime]:
    zone_name = draw(st.sampled_from(sorted(ZONES)))
    day = draw(st.sampled_from(ZONES[zone_name]))
    base = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) - dt.timedelta(days=1)
    offset = draw(st.integers(0, 3 * 24 * 3600 - 1))
    return zone_name, base + dt.timedelta(seconds=offset)


@given(instants(), window_times, window_times)
def test_night_window_matches_the_wall_clock_reference(at: tuple[str, dt.datetime], begin: dt.time,
                                                       end: dt.time) -> None:
    zone_name, instant = at
    policy = PricingPolicy(night_start=begin, night_end=end)
    assert policy.is_night(instant, zone_name) == reference_night(instant, zone_name, begin, end)


@pytest.mark.parametrize("zone_name", sorted(ZONES))
def test_night_boundaries_on_every_listed_day(zone_name: str) -> None:
    policy = PricingPolicy()  # 22:00 - 06:00, across midnight
    tick = dt.timedelta(microseconds=1)
    for day in ZONES[zone_name]:
        for hour, inside_before, inside_at in ((22, False, True), (6, True, False)):
            edge = pendulum.datetime(day.year, day.month, day.day, hour, tz=zone_name)
            assert policy.is_night(edge - tick, zone_name) is inside_before, (zone_name, day, hour)
            assert policy.is_night(edge, zone_name) is inside_at, (zone_name, day, hour)


def test_the_same_utc_instant_is_night_in_one_zone_and_day_in_another() -> None:
    instant = pendulum.datetime(2026, 6, 10, 15, 0, tz="UTC")  # 23:00 Shanghai, 11:00 New York
    assert PricingPolicy().is_night(instant, "Asia/Shanghai")
    assert not PricingPolicy().is_night(instant, "America/New_York")


def test_night_end_inside_the_spring_forward_gap_and_the_repeated_fall_back_hour() -> None:
    policy = PricingPolicy(night_start=dt.time(23, 0), night_end=dt.time(2, 30))
    ny = "America/New_York"
    utc = dt.UTC
    assert policy.is_night(dt.datetime(2026, 3, 8, 6, 59, 59, tzinfo=utc), ny)  # 01:59:59 EST
    assert not policy.is_night(dt.datetime(2026, 3, 8, 7, 0, tzinfo=utc), ny)  # 03:00 EDT: 02:30 never happened
    early = PricingPolicy(night_start=dt.time(23, 0), night_end=dt.time(1, 30))
    assert early.is_night(dt.datetime(2026, 11, 1, 5, 15, tzinfo=utc), ny)  # 01:15 EDT
    assert not early.is_night(dt.datetime(2026, 11, 1, 5, 30, tzinfo=utc), ny)  # 01:30 EDT
    assert early.is_night(dt.datetime(2026, 11, 1, 6, 15, tzinfo=utc), ny)  # 01:15 EST: the wall clock again


def test_window_within_a_day_and_an_empty_window() -> None:
    afternoon = PricingPolicy(night_start=dt.time(13, 0), night_end=dt.time(14, 0))
    assert afternoon.is_night(shanghai(2026, 6, 10, 13, 30), "Asia/Shanghai")
    assert not afternoon.is_night(shanghai(2026, 6, 10, 23, 30), "Asia/Shanghai")
    never = PricingPolicy(night_start=dt.time(22, 0), night_end=dt.time(22, 0))
    assert not any(never.is_night(shanghai(2026, 6, 10, h, 0), "Asia/Shanghai") for h in range(24))


def test_holiday_is_the_customers_local_date() -> None:
    policy = PricingPolicy(holidays={dt.date(2026, 10, 1)})
    after_midnight = shanghai(2026, 10, 1, 0, 30)  # still 30 September in UTC and in New York
    assert policy.is_holiday(after_midnight, "Asia/Shanghai")
    assert not policy.is_holiday(after_midnight, "America/New_York")
    assert not policy.is_holiday(shanghai(2026, 9, 30, 23, 59), "Asia/Shanghai")


@pytest.mark.parametrize(("rule", "price", "night", "holiday", "expected"), [
    (SurchargeRule.LARGER, 19_800, 2_000, 3_000, (0, 5_940)),
    (SurchargeRule.LARGER, 19_800, 4_000, 3_000, (7_920, 0)),
    (SurchargeRule.LARGER, 19_800, 3_000, 3_000, (0, 5_940)),  # a tie goes to the holiday line
    (SurchargeRule.BOTH, 19_800, 2_000, 3_000, (3_960, 5_940)),
    (SurchargeRule.BOTH, 19_999, 2_000, 1_250, (4_000, 2_500)),  # 3999.8 and 2499.875 rounded half up
    (SurchargeRule.BOTH, 333, 1_500, 5_000, (50, 167)),  # 49.95 and 166.5 rounded half up
    (SurchargeRule.LARGER, 19_800, 0, 3_000, (0, 5_940)),
])
def test_surcharges_on_a_holiday_night(rule: SurchargeRule, price: int, night: int, holiday: int,
                                       expected: tuple[int, int]) -> None:
    policy = PricingPolicy(night_surcharge_bp=night, holiday_surcharge_bp=holiday, surcharge_rule=rule,
                           holidays=[dt.date(2026, 10, 1)])
    got = policy.surcharges(Money(price), shanghai(2026, 10, 1, 0, 30), "Asia/Shanghai")
    assert (got[0].fen, got[1].fen) == expected


def test_surcharges_off_hours_are_zero() -> None:
    got = PricingPolicy().surcharges(Money(19_800), shanghai(2026, 6, 10, 14, 0), "Asia/Shanghai")
    assert got == (Money(0), Money(0))


@pytest.mark.parametrize(("changes", "name"), [
    ({"travel_fen_per_km": -1}, "travel_fen_per_km"), ({"travel_fee_cap_fen": 1.5}, "travel_fee_cap_fen"),
    ({"night_surcharge_bp": 10_001}, "night_surcharge_bp"), ({"holiday_surcharge_bp": True}, "holiday_surcharge_bp"),
    ({"quote_valid_minutes": 0}, "quote_valid_minutes"), ({"tip_max_fen": -5}, "tip_max_fen"),
    ({"currency": "USD"}, "currency"), ({"night_start": "22:00"}, "night_start"),
    ({"night_end": dt.time(6, tzinfo=dt.UTC)}, "night_end"), ({"holidays": [dt.datetime(2026, 1, 1)]}, "holidays"),
    ({"travel_rounding": "sideways"}, "travel_rounding"), ({"surcharge_rule": "max"}, "surcharge_rule"),
])
def test_bad_policies_are_refused_naming_the_field(changes: dict[str, object], name: str) -> None:
    with pytest.raises(ValidationError) as err:
        PricingPolicy(**changes)  # type: ignore[arg-type]
    assert (err.value.code, err.value.field) == ("pricing.policy", name)


def test_policy_accepts_configuration_strings_for_its_enumerations() -> None:
    policy = PricingPolicy(travel_rounding="down", surcharge_rule="both")  # type: ignore[arg-type]
    assert (policy.travel_rounding, policy.surcharge_rule) == (KmRounding.DOWN, SurchargeRule.BOTH)


@pytest.mark.parametrize("tip", [-1, 20_001, True, 1.5, Money(-1)])
def test_bad_tips_are_refused(tip: object) -> None:
    with pytest.raises(ValidationError) as err:
        PricingPolicy().tip(tip)  # type: ignore[arg-type]
    assert err.value.code == "pricing.tip"


@given(st.sampled_from(sorted(ZONES)), st.data(), window_times, window_times, st.booleans())
def test_night_window_edges_match_the_reference(zone_name: str, data: st.DataObject, begin: dt.time, end: dt.time,
                                                at_start: bool) -> None:
    day = data.draw(st.sampled_from(ZONES[zone_name]))
    wall = begin if at_start else end
    edge = pendulum.datetime(day.year, day.month, day.day, wall.hour, wall.minute, tz=zone_name)
    policy = PricingPolicy(night_start=begin, night_end=end)
    for instant in (edge - dt.timedelta(microseconds=1), edge, edge + dt.timedelta(microseconds=1)):
        assert policy.is_night(instant, zone_name) == reference_night(instant, zone_name, begin, end)
