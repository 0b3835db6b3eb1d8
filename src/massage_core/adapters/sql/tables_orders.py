"""Order tables, on the shared ``metadata`` of ``tables.py`` (decision 0016; migration 0005).

``orders`` holds one row per order: ids, money in integer fen (one ``currency`` for every amount), the
state, the version, ``entered_at`` (when the current state was entered: what the timers compare), the
therapists who rejected it (``rejected_by``, comma-joined ids in order), and the settlement of a
cancellation or no-show in the ``settlement_*`` / ``penalty_*`` columns (all NULL without one), the dispatch
mode, the customer's gender preference, and the visit address (point and line) as a FieldCipher token in
``address_enc`` bound to the order id (migration 0008); a late arrival (decision 0025, migration 0009) in
``late_minutes`` / ``late_penalty_therapist_id`` / ``late_penalty_at`` (all NULL when on time), apart from the
settlement's penalty: an order may carry both.
``order_timeline`` holds one row per step, by ``position``; the step's free-text note (reasons,
payment references) is a FieldCipher token in ``note_enc`` bound to (order id, position).

``service_id`` has no foreign key: catalogue services live in another context and may be retired;
the order keeps the id it was booked with.  Customer and therapist ids reference ``accounts``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
)

from massage_core.adapters.sql.tables import ID, NAME, metadata
from massage_core.adapters.sql.types import UtcInstant

CURRENCY = 3
ACTOR = 64

orders = Table(
    "orders",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("customer_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("therapist_id", String(ID), ForeignKey("accounts.id"), nullable=True),
    Column("service_id", String(ID), nullable=False),
    Column("scheduled_start", UtcInstant(), nullable=False),
    Column("scheduled_end", UtcInstant(), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
    Column("total_fen", BigInteger(), nullable=False),
    Column("paid_fen", BigInteger(), nullable=False),
    Column("refunded_fen", BigInteger(), nullable=False),
    Column("placed_at", UtcInstant(), nullable=False),
    Column("state", String(NAME), nullable=False),
    Column("entered_at", UtcInstant(), nullable=False),
    Column("rejected_by", Text(), nullable=False),
    Column("arrived_at", UtcInstant(), nullable=True),
    Column("finished_at", UtcInstant(), nullable=True),
    Column("settlement_cause", String(NAME), nullable=True),
    Column("settlement_by", String(NAME), nullable=True),
    Column("settlement_refund_bp", Integer(), nullable=True),
    Column("settlement_therapist_bp", Integer(), nullable=True),
    Column("settlement_refund_fen", BigInteger(), nullable=True),
    Column("settlement_therapist_fen", BigInteger(), nullable=True),
    Column("settlement_platform_fen", BigInteger(), nullable=True),
    Column("penalty_therapist_id", String(ID), nullable=True),
    Column("penalty_cause", String(NAME), nullable=True),
    Column("penalty_at", UtcInstant(), nullable=True),
    Column("version", Integer(), nullable=False),
    Column("dispatch_mode", String(NAME), nullable=False, server_default="chosen"),
    Column("address_enc", Text(), nullable=True),
    Column("gender_preference", String(NAME), nullable=True),
    Column("late_minutes", Integer(), nullable=True),
    Column("late_penalty_therapist_id", String(ID), nullable=True),
    Column("late_penalty_at", UtcInstant(), nullable=True),
    Column("bill", Text(), nullable=False, server_default=""),
    Column("level", String(NAME), nullable=True),
    CheckConstraint("scheduled_end > scheduled_start", name="scheduled"),
    CheckConstraint("total_fen >= 0 AND refunded_fen >= 0 AND refunded_fen <= paid_fen", name="money"),
    CheckConstraint("(settlement_cause IS NULL) = (settlement_refund_fen IS NULL)", name="settlement"),
    CheckConstraint("(penalty_therapist_id IS NULL) = (penalty_at IS NULL)", name="penalty"),
    CheckConstraint("version >= 1", name="version_positive"),
    Index(None, "customer_id", "placed_at"),
    Index(None, "therapist_id", "state", "placed_at"),
    Index(None, "state", "placed_at"),
    Index(None, "state", "entered_at"),
)

order_timeline = Table(
    "order_timeline",
    metadata,
    Column("order_id", String(ID), ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("position", SmallInteger(), nullable=False),
    Column("at", UtcInstant(), nullable=False),
    Column("action", String(NAME), nullable=False),
    Column("party", String(NAME), nullable=False),
    Column("actor", String(ACTOR), nullable=False),
    Column("from_state", String(NAME), nullable=True),
    Column("to_state", String(NAME), nullable=False),
    Column("note_enc", Text(), nullable=True),
    PrimaryKeyConstraint("order_id", "position"),
    Index(None, "actor", "action", "at"),
    Index(None, "action", "at"),
)
