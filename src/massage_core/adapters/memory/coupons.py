"""In-memory coupons with the contract of the SQL ones (the store's lock serialises units, so redemptions
of one coupon never interleave)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from massage_core.adapters.memory.store import Tables
from massage_core.domain.coupons import Coupon, CouponId, CouponRedemption, CouponUsage, coupon_code
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId
from massage_core.domain.time import Instant
from massage_core.ports.coupons import PAGE, CouponRepository

DUPLICATE = "coupon.duplicate"


class MemoryCouponRepository(CouponRepository):
    """Coupons in a dict keyed by id; live redemptions in a dict keyed by order id."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def _code_taken(self, coupon: Coupon) -> bool:
        return coupon.code is not None and any(
            other.code == coupon.code and other.id != coupon.id for other in self._t.coupons.values())

    def add(self, coupon: Coupon) -> Coupon:
        """Store with version 1; Conflict ``coupon.duplicate`` for a taken id or code."""
        if coupon.id in self._t.coupons or self._code_taken(coupon):
            raise Conflict(f"coupon {coupon.code or coupon.id} already exists", code=DUPLICATE)
        stored = attrs.evolve(coupon, version=1)
        self._t.coupons[coupon.id] = stored
        return stored

    def get(self, coupon_id: CouponId) -> Coupon:
        """The coupon or NotFound."""
        try:
            return self._t.coupons[coupon_id]
        except KeyError:
            raise NotFound("coupon", coupon_id) from None

    def find_by_code(self, code: str) -> Coupon | None:
        """The coupon with this code (any case), or None."""
        wanted = coupon_code(code)
        return next((c for c in self._t.coupons.values() if c.code == wanted), None)

    def save(self, coupon: Coupon) -> Coupon:
        """Replace when the version matches."""
        current = self.get(coupon.id)
        if current.version != coupon.version:
            raise Conflict("the coupon was changed by somebody else; reload it", code="conflict.stale")
        if self._code_taken(coupon):
            raise Conflict(f"coupon code {coupon.code} is taken", code=DUPLICATE)
        stored = attrs.evolve(coupon, version=coupon.version + 1)
        self._t.coupons[coupon.id] = stored
        return stored

    def list(self, *, active_only: bool = False, offset: int = 0, limit: int = PAGE) -> Sequence[Coupon]:
        """Newest first by ``valid_from`` then id."""
        found = sorted((c for c in self._t.coupons.values() if c.active or not active_only),
                       key=lambda c: (c.valid_from, c.id), reverse=True)
        start = max(offset, 0)
        return found[start:start + max(limit, 0)]

    def redeem(self, coupon_id: CouponId, customer_id: AccountId, order_id: OrderId,
               at: Instant) -> CouponRedemption:
        """Check the limits on the live usage and record the redemption."""
        coupon = self.get(coupon_id)
        if order_id in self._t.coupon_redemptions:
            raise Conflict(f"order {order_id} already redeemed a coupon", code="coupon.order_redeemed")
        coupon.check_redeemable(self.usage(coupon_id, customer_id), at)
        redemption = CouponRedemption(coupon_id, customer_id, order_id, at)
        self._t.coupon_redemptions[order_id] = redemption
        return redemption

    def restore(self, order_id: OrderId) -> CouponRedemption | None:
        """Remove the order's live redemption, if any."""
        return self._t.coupon_redemptions.pop(order_id, None)

    def redemption_of(self, order_id: OrderId) -> CouponRedemption | None:
        """The order's live redemption, or None."""
        return self._t.coupon_redemptions.get(order_id)

    def usage(self, coupon_id: CouponId, customer_id: AccountId | None) -> CouponUsage:
        """Count the live redemptions."""
        of_coupon = [r for r in self._t.coupon_redemptions.values() if r.coupon_id == coupon_id]
        mine = sum(1 for r in of_coupon if customer_id is not None and r.customer_id == customer_id)
        return CouponUsage(mine, len(of_coupon))
