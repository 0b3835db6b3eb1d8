"""``massage coupons``: list, add and deactivate coupons (an admin token with ``catalog.manage``).

Amounts are typed in yuan (``--amount 20`` or ``12.50``), percentages in percent (``--percent 15`` or
``12.5``; stored as basis points), instants in ISO 8601 (``2026-03-01`` or ``2026-03-01T08:00``; a time
without an offset is read in Asia/Shanghai).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import click
import pendulum

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one
from massage_core.domain.coupons import Coupon
from massage_core.domain.errors import ValidationError
from massage_core.domain.money import Money
from massage_core.domain.time import Instant

COLUMNS = ["id", "code", "name", "discount", "min_spend", "valid_from", "valid_until", "per_customer_limit",
           "total_limit", "single_use", "services", "active"]
ZONE = "Asia/Shanghai"


def coupon_row(c: Coupon) -> dict[str, Any]:
    if c.amount_off is not None:
        discount = str(c.amount_off)
    else:
        discount = f"{Decimal(c.percent_off_bp or 0) / 100:f}%"
        if c.max_discount is not None:
            discount += f" (max {c.max_discount})"
    return {"id": c.id, "code": c.code or "", "name": c.name, "discount": discount, "min_spend": str(c.min_spend),
            "valid_from": c.valid_from.to_iso8601_string(), "valid_until": c.valid_until.to_iso8601_string(),
            "per_customer_limit": c.per_customer_limit, "total_limit": c.total_limit, "single_use": c.single_use,
            "services": sorted(c.service_ids), "active": c.active}


def _instant(text: str, name: str) -> Instant:
    try:
        parsed = pendulum.parse(text, tz=ZONE)
    except (ValueError, pendulum.parsing.exceptions.ParserError):
        raise ValidationError(f"{name} wants an ISO 8601 date or time, not {text[:30]!r}", code="time.format",
                              field=name) from None
    if not isinstance(parsed, pendulum.DateTime):
        raise ValidationError(f"{name} wants a date or a date and time", code="time.format", field=name)
    return parsed.in_timezone("UTC")


def _basis_points(text: str) -> int:
    try:
        bp = Decimal(text.strip().removesuffix("%")) * 100
    except InvalidOperation:
        bp = Decimal("NaN")
    if not bp.is_finite() or bp != bp.to_integral_value():
        raise ValidationError(f"--percent wants a percentage with at most two decimals, not {text[:20]!r}",
                              code="coupon.invalid", field="percent_off_bp")
    return int(bp)


def _yuan(text: str | None) -> Money | None:
    return Money.parse_yuan(text) if text is not None else None


@click.group()
def coupons() -> None:
    """Coupons and promotions: fixed or percent off, limits, validity."""


@coupons.command("list")
@click.option("--active", "active_only", is_flag=True, help="Only coupons still on offer.")
@click.option("--offset", type=int, default=0)
@click.option("--limit", type=int, default=50)
@click.pass_obj
def list_coupons(obj: CliContext, active_only: bool, offset: int, limit: int) -> None:
    """List coupons, newest first."""
    found = obj.platform().coupons.list(obj.actor(), active_only=active_only, offset=offset, limit=limit)
    emit([coupon_row(c) for c in found], COLUMNS, obj.output)


@coupons.command("add")
@click.option("--name", required=True)
@click.option("--code", default=None, help="A human code customers type (case-insensitive).")
@click.option("--amount", default=None, help="Fixed discount in yuan.")
@click.option("--percent", default=None, help="Percentage off (e.g. 15 or 12.5).")
@click.option("--max-discount", default=None, help="Cap of a percent discount, in yuan.")
@click.option("--min-spend", default="0", help="Minimum discountable subtotal, in yuan.")
@click.option("--from", "valid_from", default=None, help="Valid from (ISO 8601; default now).")
@click.option("--until", "valid_until", required=True, help="Valid until, exclusive (ISO 8601).")
@click.option("--per-customer", type=int, default=None, help="Redemptions allowed per customer.")
@click.option("--total", type=int, default=None, help="Redemptions allowed in all.")
@click.option("--single-use", is_flag=True, help="One redemption in total (a one-off code).")
@click.option("--service", "services", multiple=True, help="Applicable service id (repeat; none = every service).")
@click.pass_obj
def add(obj: CliContext, name: str, code: str | None, amount: str | None, percent: str | None,
        max_discount: str | None, min_spend: str, valid_from: str | None, valid_until: str, per_customer: int | None,
        total: int | None, single_use: bool, services: tuple[str, ...]) -> None:
    """Create a coupon: exactly one of --amount or --percent."""
    platform = obj.platform()
    start = _instant(valid_from, "valid_from") if valid_from is not None else platform.deps.clock.now()
    created = platform.coupons.create(
        obj.actor(), name, valid_from=start, valid_until=_instant(valid_until, "valid_until"),
        amount_off=_yuan(amount), percent_off_bp=_basis_points(percent) if percent is not None else None,
        max_discount=_yuan(max_discount), min_spend=Money.parse_yuan(min_spend), per_customer_limit=per_customer,
        total_limit=total, single_use=single_use, services=services, code=code)
    emit_one(coupon_row(created), obj.output)


@coupons.command("deactivate")
@click.argument("coupon_id")
@click.pass_obj
def deactivate(obj: CliContext, coupon_id: str) -> None:
    """Withdraw a coupon from offer (orders already booked keep their discount)."""
    coupon = obj.platform().coupons.deactivate(obj.actor(), coupon_id)
    click.echo(f"{coupon.id} deactivated ({coupon.name})")
