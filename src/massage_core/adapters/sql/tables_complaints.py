"""Complaint and feedback tables, on the shared ``metadata`` of ``tables.py`` (decision 0038; migration 0015).

``complaints`` holds one row per complaint: the order, the customer and the therapist, the category, the
evidence references (newline-separated; opaque ids, not personal data), the state, the answer deadline, who
mediates, the outcome with its amount in integer fen, and the optimistic ``version``.  A partial unique index on
``order_id`` over the live states keeps one live complaint per order even against concurrent filings.

``complaint_steps`` holds the timeline, one row per step by ``position``; the free text of a step (the
description, the therapist's answer, the mediator's notes) is a FieldCipher token in ``note_enc`` bound to
(complaint id, position).  The complaint's description, answer and resolution note are read back from their
steps, so each text is stored (encrypted) once.

``platform_feedback`` and ``platform_feedback_replies``: feedback, suggestions and bug reports, with the admins'
replies; both texts are tokens bound to their row.
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
    text,
)

from massage_core.adapters.sql.tables import ID, NAME, metadata
from massage_core.adapters.sql.types import UtcInstant

CURRENCY = 3
ACTOR = 64
LIVE = "state IN ('open', 'therapist_responded', 'under_mediation')"

complaints = Table(
    "complaints",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("order_id", String(ID), ForeignKey("orders.id"), nullable=False),
    Column("customer_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("therapist_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("category", String(NAME), nullable=False),
    Column("evidence", Text(), nullable=False),
    Column("state", String(NAME), nullable=False),
    Column("filed_at", UtcInstant(), nullable=False),
    Column("answer_due", UtcInstant(), nullable=False),
    Column("answered_at", UtcInstant(), nullable=True),
    Column("mediator_id", String(ID), nullable=True),
    Column("outcome", String(NAME), nullable=True),
    Column("currency", String(CURRENCY), nullable=True),
    Column("amount_fen", BigInteger(), nullable=True),
    Column("resolved_by", String(ID), nullable=True),
    Column("resolved_at", UtcInstant(), nullable=True),
    Column("version", Integer(), nullable=False),
    CheckConstraint("state IN ('open', 'therapist_responded', 'under_mediation', 'resolved', 'withdrawn')",
                    name="state"),
    CheckConstraint("(outcome IS NULL) = (state <> 'resolved')", name="outcome"),
    CheckConstraint("amount_fen IS NULL OR amount_fen >= 0", name="amount"),
    CheckConstraint("version >= 1", name="version_positive"),
    Index(None, "order_id", unique=True, sqlite_where=text(LIVE), postgresql_where=text(LIVE)),
    Index(None, "customer_id", "filed_at"),
    Index(None, "therapist_id", "state"),
    Index(None, "state", "filed_at"),
    Index(None, "state", "answer_due"),
)
# The unique index above gets the default name ``ix_complaints_order_id``; migration 0015 creates it by that name.

complaint_steps = Table(
    "complaint_steps",
    metadata,
    Column("complaint_id", String(ID), ForeignKey("complaints.id", ondelete="CASCADE"), nullable=False),
    Column("position", SmallInteger(), nullable=False),
    Column("at", UtcInstant(), nullable=False),
    Column("action", String(NAME), nullable=False),
    Column("party", String(NAME), nullable=False),
    Column("actor", String(ACTOR), nullable=False),
    Column("from_state", String(NAME), nullable=True),
    Column("to_state", String(NAME), nullable=False),
    Column("note_enc", Text(), nullable=True),
    PrimaryKeyConstraint("complaint_id", "position"),
)

platform_feedback = Table(
    "platform_feedback",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("author_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("kind", String(NAME), nullable=False),
    Column("text_enc", Text(), nullable=True),
    Column("state", String(NAME), nullable=False),
    Column("submitted_at", UtcInstant(), nullable=False),
    Column("version", Integer(), nullable=False),
    CheckConstraint("kind IN ('feedback', 'suggestion', 'bug')", name="kind"),
    CheckConstraint("state IN ('open', 'answered')", name="state"),
    CheckConstraint("version >= 1", name="version_positive"),
    Index(None, "author_id", "submitted_at"),
    Index(None, "state", "submitted_at"),
)

platform_feedback_replies = Table(
    "platform_feedback_replies",
    metadata,
    Column("feedback_id", String(ID), ForeignKey("platform_feedback.id", ondelete="CASCADE"), nullable=False),
    Column("position", SmallInteger(), nullable=False),
    Column("at", UtcInstant(), nullable=False),
    Column("admin_id", String(ID), nullable=False),
    Column("text_enc", Text(), nullable=True),
    PrimaryKeyConstraint("feedback_id", "position"),
)
