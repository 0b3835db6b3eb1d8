"""A quote: the itemised price of one visit, valid for a few minutes, and what the customer pays.

Lines come in a fixed order -- service, travel, night, holiday, discount, tip
-- and only the service line is always present; a line that would be zero is
left out (``amount_of`` answers zero for it).  Every line is integer fen, all
are non-negative except the discount, and the lines add up to the total
exactly.  The discount is taken from the *discountable subtotal* (service +
night + holiday) and never exceeds it, so the total is at least travel + tip
and never negative.  These invariants are checked on construction, so a quote
read back from storage cannot break them either (``quote.inconsistent``).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from datetime import timedelta

from attrs import field, frozen

from massage_core.domain.catalog import Service, TherapistLevel, level_code
from massage_core.domain.coupons import Coupon, CouponId, CouponUsage
from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.ids import ServiceId
from massage_core.domain.money import Money
from massage_core.domain.pricing import Located, PricingPolicy, distance_m
from massage_core.domain.time import Instant, utc, zone


class LineKind(enum.StrEnum):
    """What a quote line charges for (the values are stable; the order is the display order)."""

    SERVICE = "service"
    TRAVEL = "travel"
    NIGHT = "night"
    HOLIDAY = "holiday"
    DISCOUNT = "discount"
    TIP = "tip"


_ORDER = tuple(LineKind)
_DISCOUNTABLE = frozenset({LineKind.SERVICE, LineKind.NIGHT, LineKind.HOLIDAY})


def _kind(value: object) -> LineKind:
    try:
        return LineKind(str(value))
    except ValueError:
        raise ValidationError(f"unknown quote line {value!r}", code="quote.inconsistent") from None


@frozen
class QuoteLine:
    """One item of a quote: its kind and its amount (negative only for the discount)."""

    kind: LineKind = field(converter=_kind)
    amount: Money


def _lines(values: Iterable[QuoteLine]) -> tuple[QuoteLine, ...]:
    lines = tuple(values)
    if not all(isinstance(line, QuoteLine) and isinstance(line.amount, Money) for line in lines):
        raise ValidationError("inconsistent quote: lines must be QuoteLines of Money", code="quote.inconsistent")
    return lines


def _inconsistent(message: str) -> ValidationError:
    return ValidationError(f"inconsistent quote: {message}", code="quote.inconsistent")


@frozen
class Quote:
    """The price of one visit, itemised; build it with ``Quote.compute``.

    ``distance_m`` is the great-circle distance the travel fee was charged for;
    ``valid_until`` is the earliest of created_at + the policy's validity, the
    visit's start, and the coupon's expiry.
    """

    service_id: ServiceId
    level: str = field(converter=level_code)
    start: Instant = field(converter=utc)
    customer_zone: str
    distance_m: int
    lines: tuple[QuoteLine, ...] = field(converter=_lines)
    total: Money
    created_at: Instant = field(converter=utc)
    valid_until: Instant = field(converter=utc)
    coupon_id: CouponId | None = None

    def __attrs_post_init__(self) -> None:
        kinds = [line.kind for line in self.lines]
        if not kinds or kinds[0] is not LineKind.SERVICE or kinds != sorted(set(kinds), key=_ORDER.index):
            raise _inconsistent("lines must start with the service and follow the fixed order, each once")
        if any(line.amount.currency != self.total.currency for line in self.lines):
            raise _inconsistent("all lines must be in the currency of the total")
        for line in self.lines:
            if line.kind is LineKind.DISCOUNT and not line.amount.fen < 0:
                raise _inconsistent("a discount line must be negative")
            if line.kind is not LineKind.DISCOUNT and not line.amount.fen > 0:
                raise _inconsistent(f"a {line.kind} line must be positive")
        if sum(line.amount.fen for line in self.lines) != self.total.fen:
            raise _inconsistent("the lines must add up to the total")
        if -self.amount_of(LineKind.DISCOUNT).fen > self.discountable.fen:
            raise _inconsistent("the discount cannot exceed the discountable subtotal")
        if LineKind.DISCOUNT in kinds and self.coupon_id is None:
            raise _inconsistent("a discount line needs the coupon that gave it")
        if not self.created_at <= self.valid_until <= self.start:
            raise _inconsistent("a quote must expire after it is made and no later than the visit starts")
        if isinstance(self.distance_m, bool) or not isinstance(self.distance_m, int) or self.distance_m < 0:
            raise _inconsistent("the distance must be a non-negative whole number of metres")
        zone(self.customer_zone)

    @property
    def currency(self) -> str:
        return self.total.currency

    def amount_of(self, kind: LineKind) -> Money:
        """The amount of the ``kind`` line, zero when the quote has none."""
        for line in self.lines:
            if line.kind is kind:
                return line.amount
        return Money.zero(self.currency)

    @property
    def discountable(self) -> Money:
        """Service + night + holiday: what a coupon may discount and what its minimum spend is measured on."""
        return Money(sum(line.amount.fen for line in self.lines if line.kind in _DISCOUNTABLE), self.currency)

    def is_valid_at(self, now: dt.datetime) -> bool:
        """Whether the quote may still be accepted (paid) at ``now``: ``now < valid_until``."""
        return utc(now) < self.valid_until

    @classmethod
    def compute(cls, *, service: Service, level: str | TherapistLevel, customer_point: Located,
                therapist_point: Located, start: dt.datetime, customer_zone: str, policy: PricingPolicy,
                now: dt.datetime, coupon: Coupon | None = None, coupon_usage: CouponUsage | None = None,
                tip: Money | int = 0) -> Quote:
        """Price a visit of ``service`` by a therapist of ``level`` whose area centre is ``therapist_point``, at
        the customer's ``customer_point``, starting at ``start`` (night and holiday are judged on the wall
        clock and calendar of ``customer_zone``), with an optional ``coupon`` (redeemed ``coupon_usage`` times
        so far) and ``tip``.

        Raises ValidationError: ``time.naive``, ``time.zone``, ``pricing.start_in_past`` (start not after
        now), ``pricing.service_inactive``, ``pricing.no_price`` (no price for the level), ``level.code``,
        ``pricing.currency``, ``pricing.point``, ``pricing.tip`` and the ``coupon.*`` codes of
        ``Coupon.check`` (``coupon.exhausted`` and ``coupon.limit_reached`` are Conflict).
        """
        at, begins = utc(now), utc(start)
        zone(customer_zone)
        if begins <= at:
            raise ValidationError("the visit must start in the future", code="pricing.start_in_past",
                                  field="start")
        if not service.active:
            raise ValidationError(f"service {service.name} is not offered any more", code="pricing.service_inactive",
                                  field="service")
        code = level.code if isinstance(level, TherapistLevel) else level_code(level)
        try:
            price = service.price_for(code)
        except Conflict:
            raise ValidationError(f"service {service.name} has no price for level {code}", code="pricing.no_price",
                                  field="level") from None
        if price.currency != policy.currency:
            raise ValidationError("the service is priced in another currency than the policy",
                                  code="pricing.currency", field="service")
        metres = distance_m(therapist_point, customer_point)
        travel = policy.travel_fee(metres)
        night, holiday = policy.surcharges(price, begins, customer_zone)
        tipped = policy.tip(tip)
        discountable = price + night + holiday
        off = Money.zero(policy.currency)
        valid_until = min(at + timedelta(minutes=policy.quote_valid_minutes), begins)
        if coupon is not None:
            coupon.check(service=service.id, subtotal=discountable, usage=coupon_usage or CouponUsage(), now=at)
            off = coupon.discount(discountable)
            valid_until = min(valid_until, coupon.valid_until)
        amounts = ((LineKind.SERVICE, price), (LineKind.TRAVEL, travel), (LineKind.NIGHT, night),
                   (LineKind.HOLIDAY, holiday), (LineKind.DISCOUNT, -off), (LineKind.TIP, tipped))
        lines = tuple(QuoteLine(kind, amount) for kind, amount in amounts if amount.fen)
        total = Money(sum(line.amount.fen for line in lines), policy.currency)
        return cls(service_id=service.id, level=code, start=begins, customer_zone=customer_zone, distance_m=metres,
                   lines=lines, total=total, created_at=at, valid_until=valid_until,
                   coupon_id=coupon.id if coupon is not None else None)
