"""Coupons: fixed or percent off a quote, with validity, minimum spend, limits and applicable services.

A coupon discounts the *discountable subtotal* of a quote: the service price
plus the night and holiday surcharges.  The travel fee and the tip are never
discounted (decision 0015), and the minimum spend is measured on that same
subtotal.  ``check`` says whether the coupon may be used now; ``discount``
says how much it takes off; neither changes anything (redemption is the
orders' business, atomically with the booking).

Checks run in a fixed order, so one coupon always fails with the same code:
``coupon.inactive``, ``coupon.currency``, ``coupon.not_yet_valid``,
``coupon.expired``, ``coupon.not_applicable``, ``coupon.exhausted`` (total
limit reached; Conflict), ``coupon.limit_reached`` (this customer's limit;
Conflict), ``coupon.min_spend``.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable
from typing import NewType

from attrs import evolve, field, frozen

from massage_core.domain.catalog import text
from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.ids import AccountId, ServiceId, check_id, service_id
from massage_core.domain.order_states import OrderId
from massage_core.domain.money import Money
from massage_core.domain.time import Instant, utc

CouponId = NewType("CouponId", str)

BASIS = 10_000
"""Basis points in a whole (100 %)."""


def coupon_id(raw: object) -> CouponId:
    """Validate and type a coupon id (``cpn_`` + 26 base32 characters)."""
    return CouponId(check_id("coupon", raw))


class CouponKind(enum.StrEnum):
    """What a coupon takes off: a fixed amount, or a share of the discountable subtotal."""

    FIXED = "fixed"
    PERCENT = "percent"


def _invalid(message: str, name: str) -> ValidationError:
    return ValidationError(message, code="coupon.invalid", field=name)


def _count(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationError(f"{name} must be a non-negative whole number", code="coupon.usage", field=name)
    return value


def _by_customer(value: object) -> int:
    return _count(value, "by_customer")


def _in_total(value: object) -> int:
    return _count(value, "in_total")


def _optional_limit(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _invalid("a redemption limit must be a whole number of at least 1 (or none)", "limit")
    return value


def _optional_money(value: object) -> Money | None:
    if value is None or isinstance(value, Money):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Money(value)
    raise _invalid("amounts must be Money or integer fen", "amount")


def _money(value: object) -> Money:
    money = _optional_money(value)
    return Money.zero() if money is None else money


def _services(values: Iterable[object]) -> frozenset[ServiceId]:
    if isinstance(values, str):
        values = [values]
    return frozenset(service_id(raw) for raw in values)


def _name(value: object) -> str:
    return text(value, "name", "coupon.invalid")


_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")


def coupon_code(raw: object) -> str:
    """Normalise a human coupon code: trimmed and upper-cased, so codes are unique case-insensitively.

    3..32 characters of A-Z, 0-9, ``_`` and ``-``, starting with a letter or digit; otherwise
    ValidationError ``coupon.code``.
    """
    if not isinstance(raw, str) or not _CODE.fullmatch(raw.strip().upper()):
        raise ValidationError("a coupon code is 3..32 letters, digits, '_' or '-', starting with a letter or digit",
                              code="coupon.code", field="code")
    return raw.strip().upper()


def _optional_code(raw: object) -> str | None:
    return None if raw is None else coupon_code(raw)


@frozen
class CouponUsage:
    """How often a coupon has been redeemed: by this customer, and by everybody (live redemptions only)."""

    by_customer: int = field(default=0, converter=_by_customer)
    in_total: int = field(default=0, converter=_in_total)

    def __attrs_post_init__(self) -> None:
        if self.by_customer > self.in_total:
            raise ValidationError("a customer cannot have redeemed more than everybody together",
                                  code="coupon.usage", field="by_customer")


@frozen
class Coupon:
    """A promotion: exactly one of ``amount_off`` (fixed) or ``percent_off_bp`` (basis points, 1..10000).

    ``max_discount`` caps a percent coupon.  ``min_spend`` is on the discountable
    subtotal.  Valid within ``[valid_from, valid_until)`` (aware instants, kept
    in UTC).  ``per_customer_limit`` / ``total_limit``: redemptions allowed per
    customer / in all (None = unlimited); ``single_use`` means one redemption in
    total (a one-off code) and forbids a ``total_limit`` other than 1.
    ``service_ids`` empty = every service.  ``code`` is an optional human code
    (normalised by ``coupon_code``: upper case, so unique case-insensitively);
    ``version`` is the repository's optimistic lock (0 before it is stored).
    Invalid settings raise ValidationError ``coupon.invalid`` (or ``coupon.code``,
    ``time.naive``, ``invalid_id``).
    """

    id: CouponId = field(converter=coupon_id)
    name: str = field(converter=_name)
    valid_from: Instant = field(converter=utc)
    valid_until: Instant = field(converter=utc)
    amount_off: Money | None = field(default=None, converter=_optional_money)
    percent_off_bp: int | None = None
    max_discount: Money | None = field(default=None, converter=_optional_money)
    min_spend: Money = field(default=Money(0), converter=_money)
    per_customer_limit: int | None = field(default=None, converter=_optional_limit)
    total_limit: int | None = field(default=None, converter=_optional_limit)
    single_use: bool = False
    service_ids: frozenset[ServiceId] = field(default=frozenset(), converter=_services)
    active: bool = True
    code: str | None = field(default=None, converter=_optional_code)
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if (self.amount_off is None) == (self.percent_off_bp is None):
            raise _invalid("a coupon takes off either a fixed amount or a percentage, exactly one", "kind")
        if self.amount_off is not None and not self.amount_off.fen > 0:
            raise _invalid("a fixed discount must be more than zero", "amount_off")
        bp = self.percent_off_bp
        if bp is not None and (not isinstance(bp, int) or isinstance(bp, bool) or not 1 <= bp <= BASIS):
            raise _invalid("a percentage must be 1..10000 basis points", "percent_off_bp")
        if self.max_discount is not None and (bp is None or not self.max_discount.fen > 0):
            raise _invalid("only a percent coupon has a maximum discount, and it must be more than zero",
                           "max_discount")
        if self.min_spend.is_negative:
            raise _invalid("the minimum spend cannot be negative", "min_spend")
        currencies = {m.currency for m in (self.amount_off, self.max_discount, self.min_spend) if m is not None}
        if len(currencies) != 1:
            raise _invalid("a coupon's amounts must share one currency", "currency")
        if not self.valid_from < self.valid_until:
            raise _invalid("a coupon must become valid before it expires", "valid_until")
        if not isinstance(self.single_use, bool) or not isinstance(self.active, bool):
            raise _invalid("single_use and active must be true or false", "single_use")
        if self.single_use and self.total_limit not in (None, 1):
            raise _invalid("a single-use coupon cannot allow more than one redemption", "total_limit")

    @property
    def kind(self) -> CouponKind:
        return CouponKind.FIXED if self.amount_off is not None else CouponKind.PERCENT

    @property
    def currency(self) -> str:
        return self.min_spend.currency

    @property
    def effective_total_limit(self) -> int | None:
        """The total number of redemptions allowed (1 for a single-use coupon; None = unlimited)."""
        return 1 if self.single_use else self.total_limit

    def deactivate(self) -> Coupon:
        """The coupon withdrawn from offer (``check`` then refuses it with ``coupon.inactive``); idempotent.
        Live redemptions stay (orders already booked keep their discount)."""
        return evolve(self, active=False)

    def check_redeemable(self, usage: CouponUsage, now: dt.datetime) -> None:
        """Raise when one more redemption is not allowed at ``now`` given ``usage`` (before this one):
        ValidationError ``coupon.inactive``, ``coupon.not_yet_valid``, ``coupon.expired``; Conflict
        ``coupon.exhausted``, ``coupon.limit_reached`` -- the state-dependent part of ``check``, in its order.
        The repositories run it under their lock when redeeming."""
        at = utc(now)
        if not self.active:
            raise ValidationError(f"coupon {self.name} is no longer offered", code="coupon.inactive")
        if at < self.valid_from:
            raise ValidationError(f"coupon {self.name} is valid from {self.valid_from.to_iso8601_string()}",
                                  code="coupon.not_yet_valid")
        if at >= self.valid_until:
            raise ValidationError(f"coupon {self.name} expired at {self.valid_until.to_iso8601_string()}",
                                  code="coupon.expired")
        total_limit = self.effective_total_limit
        if total_limit is not None and usage.in_total >= total_limit:
            raise Conflict(f"coupon {self.name} has been used up", code="coupon.exhausted")
        if self.per_customer_limit is not None and usage.by_customer >= self.per_customer_limit:
            raise Conflict(f"you have already used coupon {self.name} {usage.by_customer} time(s)",
                           code="coupon.limit_reached")

    def applies_to(self, service: ServiceId) -> bool:
        """Whether the coupon may be used on ``service`` (an empty list means every service)."""
        return not self.service_ids or service in self.service_ids

    def check(self, *, service: ServiceId, subtotal: Money, usage: CouponUsage, now: dt.datetime) -> None:
        """Raise when the coupon may not be used on ``service`` for ``subtotal`` at ``now``; return None when
        it may.  ValidationError: ``coupon.inactive``, ``coupon.currency``, ``coupon.not_yet_valid``,
        ``coupon.expired``, ``coupon.not_applicable``, ``coupon.min_spend``; Conflict: ``coupon.exhausted``,
        ``coupon.limit_reached`` (see the module docstring for the order)."""
        at = utc(now)
        if not self.active:
            raise ValidationError(f"coupon {self.name} is no longer offered", code="coupon.inactive")
        if subtotal.currency != self.currency:
            raise ValidationError("the coupon is for another currency", code="coupon.currency")
        if at < self.valid_from:
            raise ValidationError(f"coupon {self.name} is valid from {self.valid_from.to_iso8601_string()}",
                                  code="coupon.not_yet_valid")
        if at >= self.valid_until:
            raise ValidationError(f"coupon {self.name} expired at {self.valid_until.to_iso8601_string()}",
                                  code="coupon.expired")
        if not self.applies_to(service):
            raise ValidationError(f"coupon {self.name} does not apply to this service", code="coupon.not_applicable")
        total_limit = self.effective_total_limit
        if total_limit is not None and usage.in_total >= total_limit:
            raise Conflict(f"coupon {self.name} has been used up", code="coupon.exhausted")
        if self.per_customer_limit is not None and usage.by_customer >= self.per_customer_limit:
            raise Conflict(f"you have already used coupon {self.name} {usage.by_customer} time(s)",
                           code="coupon.limit_reached")
        if subtotal < self.min_spend:
            raise ValidationError(f"coupon {self.name} needs a spend of at least {self.min_spend}",
                                  code="coupon.min_spend")

    def discount(self, subtotal: Money) -> Money:
        """What the coupon takes off ``subtotal`` (non-negative, never more than the subtotal).

        Fixed: ``min(amount_off, subtotal)``.  Percent: the basis-point share of the
        subtotal rounded half up (``Money.split_basis_points``), then capped by
        ``max_discount``.  Does not check validity; call ``check`` first.
        """
        if subtotal.is_negative:
            raise ValidationError("a subtotal cannot be negative", code="coupon.subtotal")
        if self.amount_off is not None:
            off = self.amount_off
        else:
            off = subtotal.split_basis_points(self.percent_off_bp or 0)[0]
            if self.max_discount is not None and self.max_discount < off:
                off = self.max_discount
        return off if off <= subtotal else subtotal


@frozen
class CouponRedemption:
    """One live use of a coupon: by ``customer_id`` for ``order_id`` (an order redeems at most one coupon).

    Restoring it (an unpaid order expired) removes it, so only live redemptions count towards the limits.
    """

    coupon_id: CouponId
    customer_id: AccountId
    order_id: OrderId
    redeemed_at: Instant = field(converter=utc)
