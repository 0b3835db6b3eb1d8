"""Review tables, on the shared ``metadata`` of ``tables.py`` (decision 0037; migration 0014).

``reviews`` holds one row per review: the order (unique: one review per order, enforced here too), the
customer and the therapist, the three scores, the text (in clear: it is meant to be public once approved),
the tags (comma-joined), when it was submitted and when its blind lifts at the latest (``blind_until``),
``both_sides``, the moderation of the text (``state``, the screener's finding kinds comma-joined, the
rejection reason, who decided and when, ``masked``), the reply with its own moderation in ``reply_*``
(all NULL without a reply), ``counted`` (bookkeeping of the rating feed) and the optimistic ``version``.

``customer_feedback`` holds the therapist's feedback on an order's customer, keyed by the order: the private
rating (``stars``, the note as a FieldCipher token in ``note_enc``) and the abuse flag (the reason as a token
in ``flag_reason_enc``), each bound to the order id.
"""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, SmallInteger, String, Table, Text

from massage_core.adapters.sql.tables import ID, metadata
from massage_core.adapters.sql.types import UtcInstant

STATE = 16
KINDS = 200
TAGS = 200
STATES = "('pending', 'approved', 'rejected')"

reviews = Table(
    "reviews",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("order_id", String(ID), ForeignKey("orders.id"), nullable=False, unique=True),
    Column("customer_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("therapist_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("attitude", SmallInteger(), nullable=False),
    Column("skill", SmallInteger(), nullable=False),
    Column("pressure", SmallInteger(), nullable=False),
    Column("text", Text(), nullable=False),
    Column("tags", String(TAGS), nullable=False),
    Column("submitted_at", UtcInstant(), nullable=False),
    Column("blind_until", UtcInstant(), nullable=False),
    Column("both_sides", Boolean(), nullable=False),
    Column("state", String(STATE), nullable=False),
    Column("findings", String(KINDS), nullable=False),
    Column("reason", Text(), nullable=True),
    Column("decided_by", String(ID), nullable=True),
    Column("decided_at", UtcInstant(), nullable=True),
    Column("masked", Boolean(), nullable=False),
    Column("reply_text", Text(), nullable=True),
    Column("reply_at", UtcInstant(), nullable=True),
    Column("reply_state", String(STATE), nullable=True),
    Column("reply_findings", String(KINDS), nullable=True),
    Column("reply_reason", Text(), nullable=True),
    Column("reply_decided_by", String(ID), nullable=True),
    Column("reply_decided_at", UtcInstant(), nullable=True),
    Column("reply_masked", Boolean(), nullable=True),
    Column("counted", Boolean(), nullable=False),
    Column("version", Integer(), nullable=False),
    CheckConstraint("attitude BETWEEN 1 AND 5 AND skill BETWEEN 1 AND 5 AND pressure BETWEEN 1 AND 5",
                    name="scores"),
    CheckConstraint(f"state IN {STATES}", name="state"),
    CheckConstraint(f"reply_state IS NULL OR reply_state IN {STATES}", name="reply_state"),
    CheckConstraint("version >= 1", name="version_positive"),
    Index(None, "therapist_id", "submitted_at"),
    Index(None, "customer_id", "submitted_at"),
    Index(None, "state", "submitted_at"),
    Index(None, "reply_state", "submitted_at"),
)

customer_feedback = Table(
    "customer_feedback",
    metadata,
    Column("order_id", String(ID), ForeignKey("orders.id"), primary_key=True),
    Column("therapist_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("customer_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("stars", SmallInteger(), nullable=True),
    Column("note_enc", Text(), nullable=True),
    Column("rated_at", UtcInstant(), nullable=True),
    Column("flag_reason_enc", Text(), nullable=True),
    Column("flagged_at", UtcInstant(), nullable=True),
    Column("version", Integer(), nullable=False),
    CheckConstraint("stars IS NULL OR stars BETWEEN 1 AND 5", name="stars"),
    CheckConstraint("version >= 1", name="version_positive"),
    Index(None, "flagged_at"),
)
