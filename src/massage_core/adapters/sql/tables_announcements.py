"""Announcement tables, on the shared ``metadata`` of ``tables.py`` (decision 0044; migration 0018).

``announcements`` holds what was sent (kind, title, text, audience, the city and the comma-separated level
codes that narrowed it, who sent it and when, and how many it reached); ``announcement_recipients`` one row
per recipient with when they read it (NULL: unread; the primary key makes a recipient appear once);
``support_duty`` one row per support admin on duty.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from massage_core.adapters.sql.tables import ID, NAME, metadata
from massage_core.adapters.sql.types import UtcInstant

LEVELS = 400

announcements = Table(
    "announcements",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("kind", String(NAME), nullable=False),
    Column("title", Text(), nullable=False),
    Column("text", Text(), nullable=False),
    Column("audience", String(NAME), nullable=False),
    Column("city", String(NAME), nullable=True),
    Column("levels", String(LEVELS), nullable=False),
    Column("sent_by", String(ID), nullable=False),
    Column("sent_at", UtcInstant(), nullable=False),
    Column("targeted", Integer(), nullable=False),
    CheckConstraint("kind IN ('announcement', 'training')", name="kind"),
    CheckConstraint("audience IN ('customers', 'therapists', 'both')", name="audience"),
    CheckConstraint("targeted >= 0", name="targeted_not_negative"),
    Index(None, "sent_at", "id"),
)

announcement_recipients = Table(
    "announcement_recipients",
    metadata,
    Column("announcement_id", String(ID), ForeignKey("announcements.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("read_at", UtcInstant(), nullable=True),
    PrimaryKeyConstraint("announcement_id", "account_id"),
    Index(None, "account_id", "announcement_id"),
)

support_duty = Table(
    "support_duty",
    metadata,
    Column("account_id", String(ID), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("since", UtcInstant(), nullable=False),
)
