"""Coupon tables, on the shared ``metadata`` of ``tables.py`` (decision 0020; migration 0006).

``coupons`` holds one row per coupon: money in integer fen with one ``currency``, exactly one of
``amount_off_fen`` / ``percent_off_bp`` (a check constraint), the optional human ``code`` (stored
upper-cased and unique, so codes are unique case-insensitively; NULLs do not collide), the applicable
services comma-joined in ``service_ids`` (empty = every service) and an optimistic ``version``.

``coupon_redemptions`` holds one row per *live* redemption, keyed by the order (an order redeems at most
one coupon); restoring deletes the row.  ``order_id`` has no foreign key: the booking may store the order
and the redemption in either order inside its unit of work, and the redemption is deleted when the order
expires.  The (coupon, customer) index serves the limit counts taken under the coupon's row lock.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text

from massage_core.adapters.sql.tables import ID, NAME, metadata
from massage_core.adapters.sql.types import UtcInstant

CURRENCY = 3

coupons = Table(
    "coupons",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("code", String(NAME), nullable=True, unique=True),
    Column("name", Text(), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
    Column("amount_off_fen", BigInteger(), nullable=True),
    Column("percent_off_bp", Integer(), nullable=True),
    Column("max_discount_fen", BigInteger(), nullable=True),
    Column("min_spend_fen", BigInteger(), nullable=False),
    Column("valid_from", UtcInstant(), nullable=False),
    Column("valid_until", UtcInstant(), nullable=False),
    Column("per_customer_limit", Integer(), nullable=True),
    Column("total_limit", Integer(), nullable=True),
    Column("single_use", Boolean(), nullable=False),
    Column("service_ids", Text(), nullable=False),
    Column("active", Boolean(), nullable=False),
    Column("version", Integer(), nullable=False),
    CheckConstraint("(amount_off_fen IS NULL) <> (percent_off_bp IS NULL)", name="kind"),
    CheckConstraint("valid_until > valid_from", name="validity"),
    CheckConstraint("version >= 1", name="version_positive"),
    Index(None, "active", "valid_from"),
)

coupon_redemptions = Table(
    "coupon_redemptions",
    metadata,
    Column("order_id", String(ID), primary_key=True),
    Column("coupon_id", String(ID), ForeignKey("coupons.id"), nullable=False),
    Column("customer_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("redeemed_at", UtcInstant(), nullable=False),
    Index(None, "coupon_id", "customer_id"),
)
