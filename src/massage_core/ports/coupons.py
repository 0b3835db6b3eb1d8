"""The coupon repository (``uow.coupons``): coupons, and their redemptions by orders.

A coupon is stored whole, with an optimistic ``version``.  A redemption ties one order to one coupon
(an order redeems at most one coupon) and counts towards the coupon's limits while it is live; the
booking redeems inside its own unit of work, so the redemption commits or rolls back with the order.
Restoring (an unpaid order expired) deletes the redemption, so the use becomes available again.

``redeem`` is the one place where the limits are enforced against concurrent bookings: the adapters
serialise the redemptions of one coupon (memory: the store's lock; SQLite: the ``BEGIN IMMEDIATE``
writer lock; PostgreSQL: ``SELECT ... FOR UPDATE`` on the coupon row), so of two concurrent
redemptions of the last use exactly one wins.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from massage_core.domain.coupons import Coupon, CouponId, CouponRedemption, CouponUsage
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId
from massage_core.domain.time import Instant

PAGE = 50
"""The default page size of ``list``."""


class CouponRepository(abc.ABC):
    """Coupons by id and by code, and their redemptions; see the module docstring."""

    @abc.abstractmethod
    def add(self, coupon: Coupon) -> Coupon:
        """Store a new coupon; return it with version 1.

        Raises ``Conflict`` (``coupon.duplicate``) when the id or the code (case-insensitively: codes are
        stored upper-cased) is taken.  A refused add changes nothing.
        """

    @abc.abstractmethod
    def get(self, coupon_id: CouponId) -> Coupon:
        """Return the coupon; raise ``NotFound`` when there is none."""

    @abc.abstractmethod
    def find_by_code(self, code: str) -> Coupon | None:
        """Return the coupon with this code (any case), or None.  Raises ``ValidationError``
        (``coupon.code``) for a malformed code."""

    @abc.abstractmethod
    def save(self, coupon: Coupon) -> Coupon:
        """Store the changes of a loaded coupon; return it with version + 1.

        Raises ``Conflict`` (``conflict.stale``) when the stored version is not ``coupon.version``,
        ``Conflict`` (``coupon.duplicate``) for a code taken by another coupon, and ``NotFound`` when the
        coupon does not exist.  A refused save changes nothing.
        """

    @abc.abstractmethod
    def list(self, *, active_only: bool = False, offset: int = 0, limit: int = PAGE) -> Sequence[Coupon]:
        """Coupons newest first (``valid_from`` then id, both descending), a page at a time; only active
        ones when ``active_only``."""

    @abc.abstractmethod
    def redeem(self, coupon_id: CouponId, customer_id: AccountId, order_id: OrderId,
               at: Instant) -> CouponRedemption:
        """Record that ``customer_id`` uses the coupon for ``order_id`` at ``at``; return the redemption.

        Atomic with respect to concurrent redemptions of the same coupon (see the module docstring):
        the coupon is re-read under the lock and ``Coupon.check_redeemable`` runs on the live usage.
        Raises ``NotFound`` for an unknown coupon; ValidationError ``coupon.inactive``,
        ``coupon.not_yet_valid``, ``coupon.expired``; ``Conflict`` ``coupon.exhausted`` (total limit),
        ``coupon.limit_reached`` (this customer's limit), ``coupon.order_redeemed`` (the order already
        redeemed a coupon) and, on SQL, ``conflict.reference`` for an unknown customer account.
        A refused redemption changes nothing.
        """

    @abc.abstractmethod
    def restore(self, order_id: OrderId) -> CouponRedemption | None:
        """Undo the order's redemption (an unpaid order expired, or was cancelled before payment);
        return what was undone, or None when the order has no live redemption (idempotent: a second
        call changes nothing and returns None).  Never raises for an unknown order."""

    @abc.abstractmethod
    def redemption_of(self, order_id: OrderId) -> CouponRedemption | None:
        """The order's live redemption, or None."""

    @abc.abstractmethod
    def usage(self, coupon_id: CouponId, customer_id: AccountId | None) -> CouponUsage:
        """Live redemptions of the coupon by ``customer_id`` (0 for None) and by everybody.
        An unknown coupon has no redemptions (never raises)."""
