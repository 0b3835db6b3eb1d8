"""The pricing policy: travel fee by distance, night and holiday surcharges, quote validity and tip limits.

Every rate, window and limit is a field of ``PricingPolicy`` (configuration,
not constants in code paths); the rules themselves are written down in
decision 0015 and summarised here:

* travel fee: the great-circle distance from the therapist's area centre to
  the customer is rounded to whole metres; only the part beyond the free
  radius is charged, in kilometres rounded by ``travel_rounding`` (default:
  every started kilometre counts), times the per-km rate, capped;
* night: the visit's *start* read on the customer's wall clock lies in the
  half-open window ``[night_start, night_end)``; a window whose start is after
  its end crosses midnight; equal ends mean no night window;
* holiday: the visit's start falls on a listed date of the customer's calendar;
* both surcharges are basis points of the service price, rounded half up;
  ``surcharge_rule`` says whether both apply or only the larger one.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Iterable
from typing import Protocol

from attrs import field, frozen

from massage_core.domain.errors import ValidationError
from massage_core.domain.money import CURRENCIES, Money
from massage_core.domain.search import haversine_m
from massage_core.domain.time import local

BASIS = 10_000
"""Basis points in a whole (100 %)."""


class KmRounding(enum.StrEnum):
    """How the chargeable distance beyond the free radius becomes whole kilometres."""

    UP = "up"
    """Every started kilometre is charged (1 m beyond the free radius costs one km)."""
    HALF_UP = "half_up"
    """Nearest kilometre, 500 m rounding up."""
    DOWN = "down"
    """Only completed kilometres are charged."""


class SurchargeRule(enum.StrEnum):
    """What happens when a visit is both at night and on a holiday."""

    LARGER = "larger"
    """Only the larger surcharge applies (the holiday one on a tie)."""
    BOTH = "both"
    """Both apply, each computed on the service price (they add, never compound)."""


class Located(Protocol):
    """Anything with WGS-84 degrees ``lat`` and ``lng`` (a ``GeoPoint``, a therapist's ``ServiceArea``...)."""

    @property
    def lat(self) -> float: ...

    @property
    def lng(self) -> float: ...


def _coordinate(raw: object, name: str, limit: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw) \
            or not -limit <= raw <= limit:
        raise ValidationError(f"{name} must be a number within -{limit:g}..{limit:g}", code="pricing.point",
                              field=name)
    return float(raw)


def _lat(raw: object) -> float:
    return _coordinate(raw, "lat", 90.0)


def _lng(raw: object) -> float:
    return _coordinate(raw, "lng", 180.0)


@frozen
class GeoPoint:
    """A point in WGS-84 degrees; ValidationError ``pricing.point`` when out of range or not a finite number."""

    lat: float = field(converter=_lat)
    lng: float = field(converter=_lng)

    @classmethod
    def of(cls, point: Located) -> GeoPoint:
        """The validated point of anything ``Located``."""
        return point if isinstance(point, GeoPoint) else cls(point.lat, point.lng)


def distance_m(a: Located, b: Located) -> int:
    """Great-circle distance between two points in whole metres (half up); both are validated first."""
    p, q = GeoPoint.of(a), GeoPoint.of(b)
    return math.floor(haversine_m(p.lat, p.lng, q.lat, q.lng) + 0.5)


def _policy_error(name: str, rule: str) -> ValidationError:
    return ValidationError(f"pricing policy: {name} must be {rule}", code="pricing.policy", field=name)


def _holidays(values: Iterable[object]) -> frozenset[dt.date]:
    days: set[dt.date] = set()
    for value in values:
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise _policy_error("holidays", "calendar dates (datetime.date, not datetime)")
        days.add(value)
    return frozenset(days)


def _km_rounding(value: object) -> KmRounding:
    try:
        return KmRounding(str(value))
    except ValueError:
        raise _policy_error("travel_rounding", f"one of {', '.join(KmRounding)}") from None


def _surcharge_rule(value: object) -> SurchargeRule:
    try:
        return SurchargeRule(str(value))
    except ValueError:
        raise _policy_error("surcharge_rule", f"one of {', '.join(SurchargeRule)}") from None


_NON_NEGATIVE = ("travel_free_radius_m", "travel_fen_per_km", "travel_fee_cap_fen", "tip_max_fen")
_BASIS_POINTS = ("night_surcharge_bp", "holiday_surcharge_bp")


@frozen
class PricingPolicy:
    """All pricing configuration (see the module docstring and decision 0015 for the rules).

    Distances are whole metres, amounts integer fen of ``currency``, surcharges
    basis points of the service price (0..10000), night times naive wall-clock
    times of the customer's zone, holidays local dates.  An invalid setting
    raises ValidationError ``pricing.policy`` naming the field.
    """

    currency: str = "CNY"
    travel_free_radius_m: int = 3_000
    travel_fen_per_km: int = 300
    travel_fee_cap_fen: int = 6_000
    travel_rounding: KmRounding = field(default=KmRounding.UP, converter=_km_rounding)
    night_start: dt.time = dt.time(22, 0)
    night_end: dt.time = dt.time(6, 0)
    night_surcharge_bp: int = 2_000
    holidays: frozenset[dt.date] = field(default=frozenset(), converter=_holidays)
    holiday_surcharge_bp: int = 3_000
    surcharge_rule: SurchargeRule = field(default=SurchargeRule.LARGER, converter=_surcharge_rule)
    quote_valid_minutes: int = 10
    tip_max_fen: int = 20_000

    def __attrs_post_init__(self) -> None:
        if self.currency not in CURRENCIES:
            raise _policy_error("currency", f"one of {', '.join(sorted(CURRENCIES))}")
        for name in _NON_NEGATIVE + _BASIS_POINTS + ("quote_valid_minutes",):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise _policy_error(name, "a non-negative whole number")
        for name in _BASIS_POINTS:
            if getattr(self, name) > BASIS:
                raise _policy_error(name, "at most 10000 basis points (100 %)")
        if not 1 <= self.quote_valid_minutes <= 24 * 60:
            raise _policy_error("quote_valid_minutes", "1..1440")
        for name in ("night_start", "night_end"):
            value = getattr(self, name)
            if not isinstance(value, dt.time) or value.tzinfo is not None:
                raise _policy_error(name, "a naive wall-clock time (datetime.time without tzinfo)")

    def chargeable_km(self, metres: int) -> int:
        """Whole kilometres charged for a visit ``metres`` away (only the part beyond the free radius)."""
        if not isinstance(metres, int) or isinstance(metres, bool) or metres < 0:
            raise ValidationError("a distance must be a non-negative number of metres", code="pricing.distance")
        beyond = max(0, metres - self.travel_free_radius_m)
        if self.travel_rounding is KmRounding.UP:
            return -(-beyond // 1000)
        if self.travel_rounding is KmRounding.HALF_UP:
            return (beyond + 500) // 1000
        return beyond // 1000

    def travel_fee(self, metres: int) -> Money:
        """The travel fee for a visit ``metres`` away: chargeable km x rate, at most the cap."""
        return Money(min(self.travel_fee_cap_fen, self.chargeable_km(metres) * self.travel_fen_per_km),
                     self.currency)

    def is_night(self, start: dt.datetime, zone_name: str) -> bool:
        """Whether ``start`` read on the wall clock of ``zone_name`` lies in ``[night_start, night_end)``."""
        wall = local(start, zone_name).time().replace(tzinfo=None)
        begin, end = self.night_start, self.night_end
        if begin <= end:
            return begin <= wall < end
        return wall >= begin or wall < end

    def is_holiday(self, start: dt.datetime, zone_name: str) -> bool:
        """Whether ``start`` falls on a listed holiday of the calendar of ``zone_name``."""
        return local(start, zone_name).date() in self.holidays

    def surcharges(self, price: Money, start: dt.datetime, zone_name: str) -> tuple[Money, Money]:
        """The (night, holiday) surcharges on ``price`` for a visit at ``start``, after ``surcharge_rule``.

        Each is the basis-point share of the price rounded half up, or zero when
        it does not apply; under ``LARGER`` the smaller one (the night one on a
        tie) becomes zero.
        """
        zero = Money.zero(price.currency)
        night = price.split_basis_points(self.night_surcharge_bp)[0] if self.is_night(start, zone_name) else zero
        holiday = price.split_basis_points(self.holiday_surcharge_bp)[0] if self.is_holiday(start, zone_name) \
            else zero
        if self.surcharge_rule is SurchargeRule.LARGER and night.fen and holiday.fen:
            return (zero, holiday) if night <= holiday else (night, zero)
        return night, holiday

    def tip(self, raw: Money | int) -> Money:
        """The tip as Money when it is integer fen within ``0..tip_max_fen``; ``pricing.tip`` otherwise."""
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = Money(raw, self.currency)
        if not isinstance(raw, Money):
            raise ValidationError("a tip must be Money or integer fen", code="pricing.tip", field="tip")
        if raw.currency != self.currency:
            raise ValidationError("the tip is in another currency", code="pricing.currency", field="tip")
        if not 0 <= raw.fen <= self.tip_max_fen:
            raise ValidationError(f"a tip must be 0..{Money(self.tip_max_fen, self.currency)}", code="pricing.tip",
                                  field="tip")
        return raw
