"""Coupons: the ``coupons`` row (optimistic ``version``) and the live ``coupon_redemptions``.

``redeem`` serialises the redemptions of one coupon: it reads the coupon with ``SELECT ... FOR UPDATE``
(PostgreSQL: a concurrent redeemer waits for the row lock, then counts again under READ COMMITTED and
sees the winner's redemption; SQLite ignores the clause, its ``BEGIN IMMEDIATE`` units are serialised
already), counts the live redemptions, runs ``Coupon.check_redeemable`` and inserts the row -- all inside
a savepoint, so a refused redemption leaves the unit of work usable and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from sqlalchemy import Row, bindparam, case, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables_coupons import coupon_redemptions, coupons
from massage_core.domain.coupons import Coupon, CouponId, CouponRedemption, CouponUsage, coupon_code
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderId
from massage_core.domain.time import Instant
from massage_core.ports.coupons import PAGE, CouponRepository

DUPLICATE = "coupon.duplicate"
ORDER_REDEEMED = "coupon.order_redeemed"

_c, _r = coupons, coupon_redemptions
_BY_ID = select(_c).where(_c.c.id == bindparam("p_id"))
_LOCKED = _BY_ID.with_for_update()
_BY_CODE = select(_c).where(_c.c.code == bindparam("p_code"))
_REDEMPTION = select(_r).where(_r.c.order_id == bindparam("p_order"))
_USAGE = select(
    func.count(),
    func.coalesce(func.sum(case((_r.c.customer_id == bindparam("p_customer"), 1), else_=0)), 0),
).where(_r.c.coupon_id == bindparam("p_id"))


def _fen(money: Money | None) -> int | None:
    return money.fen if money is not None else None


def _values(coupon: Coupon, version: int) -> dict[str, Any]:
    return {
        "code": coupon.code, "name": coupon.name, "currency": coupon.currency,
        "amount_off_fen": _fen(coupon.amount_off), "percent_off_bp": coupon.percent_off_bp,
        "max_discount_fen": _fen(coupon.max_discount), "min_spend_fen": coupon.min_spend.fen,
        "valid_from": coupon.valid_from, "valid_until": coupon.valid_until,
        "per_customer_limit": coupon.per_customer_limit, "total_limit": coupon.total_limit,
        "single_use": coupon.single_use, "service_ids": ",".join(sorted(coupon.service_ids)),
        "active": coupon.active, "version": version,
    }


def _money(fen: int | None, currency: str) -> Money | None:
    return Money(fen, currency) if fen is not None else None


def _to_coupon(row: Row[Any]) -> Coupon:
    currency = row.currency
    return Coupon(
        id=CouponId(row.id), name=row.name, valid_from=row.valid_from, valid_until=row.valid_until,
        amount_off=_money(row.amount_off_fen, currency), percent_off_bp=row.percent_off_bp,
        max_discount=_money(row.max_discount_fen, currency), min_spend=Money(row.min_spend_fen, currency),
        per_customer_limit=row.per_customer_limit, total_limit=row.total_limit, single_use=bool(row.single_use),
        service_ids=frozenset(ServiceId(part) for part in row.service_ids.split(",") if part),
        active=bool(row.active), code=row.code, version=row.version,
    )


def _to_redemption(row: Row[Any]) -> CouponRedemption:
    return CouponRedemption(CouponId(row.coupon_id), AccountId(row.customer_id), OrderId(row.order_id),
                            row.redeemed_at)


class SqlCouponRepository(CouponRepository):
    """The ``coupons`` and ``coupon_redemptions`` tables; see the module docstring."""

    def __init__(self, connection: Connection) -> None:
        """Work inside ``connection``'s transaction."""
        self._conn = connection

    def add(self, coupon: Coupon) -> Coupon:
        """Insert with version 1; Conflict ``coupon.duplicate`` for a taken id or code."""
        with guarded(self._conn, duplicate=DUPLICATE):
            self._conn.execute(insert(_c).values(id=coupon.id, **_values(coupon, 1)))
        return attrs.evolve(coupon, version=1)

    def get(self, coupon_id: CouponId) -> Coupon:
        """The coupon or NotFound."""
        row = self._conn.execute(_BY_ID, {"p_id": coupon_id}).first()
        if row is None:
            raise NotFound("coupon", coupon_id)
        return _to_coupon(row)

    def find_by_code(self, code: str) -> Coupon | None:
        """The coupon with this (normalised) code, or None."""
        row = self._conn.execute(_BY_CODE, {"p_code": coupon_code(code)}).first()
        return _to_coupon(row) if row is not None else None

    def save(self, coupon: Coupon) -> Coupon:
        """Update where the stored version is ``coupon.version``."""
        new_version = coupon.version + 1
        with guarded(self._conn, duplicate=DUPLICATE):
            result = self._conn.execute(
                update(_c).where(_c.c.id == coupon.id, _c.c.version == coupon.version)
                .values(_values(coupon, new_version))
            )
            if result.rowcount == 0:
                if self._conn.execute(_BY_ID, {"p_id": coupon.id}).first() is None:
                    raise NotFound("coupon", coupon.id)
                raise Conflict("the coupon was changed by somebody else; reload it", code="conflict.stale")
        return attrs.evolve(coupon, version=new_version)

    def list(self, *, active_only: bool = False, offset: int = 0, limit: int = PAGE) -> Sequence[Coupon]:
        """Newest first by ``valid_from`` then id."""
        query = select(_c)
        if active_only:
            query = query.where(_c.c.active.is_(True))
        query = query.order_by(_c.c.valid_from.desc(), _c.c.id.desc()).offset(max(offset, 0)).limit(max(limit, 0))
        return [_to_coupon(row) for row in self._conn.execute(query)]

    def redeem(self, coupon_id: CouponId, customer_id: AccountId, order_id: OrderId,
               at: Instant) -> CouponRedemption:
        """Lock the coupon row, count, check, insert (see the module docstring)."""
        with guarded(self._conn, duplicate=ORDER_REDEEMED):
            row = self._conn.execute(_LOCKED, {"p_id": coupon_id}).first()
            if row is None:
                raise NotFound("coupon", coupon_id)
            if self._conn.execute(_REDEMPTION, {"p_order": order_id}).first() is not None:
                raise Conflict(f"order {order_id} already redeemed a coupon", code=ORDER_REDEEMED)
            _to_coupon(row).check_redeemable(self.usage(coupon_id, customer_id), at)
            redemption = CouponRedemption(coupon_id, customer_id, order_id, at)
            self._conn.execute(insert(_r).values(order_id=order_id, coupon_id=coupon_id, customer_id=customer_id,
                                                 redeemed_at=redemption.redeemed_at))
        return redemption

    def restore(self, order_id: OrderId) -> CouponRedemption | None:
        """Delete the order's redemption, returning it (None when there was none)."""
        found = self.redemption_of(order_id)
        if found is None:
            return None
        deleted = self._conn.execute(delete(_r).where(_r.c.order_id == order_id)).rowcount
        return found if deleted == 1 else None  # 0: a concurrent restore (PostgreSQL) got there first

    def redemption_of(self, order_id: OrderId) -> CouponRedemption | None:
        """The order's live redemption, or None."""
        row = self._conn.execute(_REDEMPTION, {"p_order": order_id}).first()
        return _to_redemption(row) if row is not None else None

    def usage(self, coupon_id: CouponId, customer_id: AccountId | None) -> CouponUsage:
        """Count the live redemptions of the coupon, in all and by the customer."""
        total, mine = self._conn.execute(_USAGE, {"p_id": coupon_id, "p_customer": customer_id}).one()
        return CouponUsage(int(mine), int(total))
