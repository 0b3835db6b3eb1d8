"""Notification tables, on the shared ``metadata`` of ``tables.py`` (decision 0041; migration 0017).

``outbox_messages`` holds one row per message, recipient and channel: the unique ``dedupe_key`` makes a
second write of the same event a no-op (``INSERT ... ON CONFLICT DO NOTHING``), the subject and body are
FieldCipher tokens bound to the message id, ``lease_until`` is when a dispatcher's claim runs out; due
pending messages are found through ``(state, due_at)``.  ``inbox_items`` holds the in-app inbox: its id is
the outbox message's, the dedupe key is unique again (a second delivery is a no-op), subject and body are
encrypted.  ``notification_preferences`` holds each account's choices (channels per category as JSON,
quiet hours as ``HH:MM-HH:MM``, the locale) -- not personal data, stored in the clear.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from massage_core.adapters.sql.tables import ID, NAME, metadata
from massage_core.adapters.sql.types import UtcInstant

DEDUPE = 200
QUIET = 11
LOCALE = 8

outbox_messages = Table(
    "outbox_messages",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("dedupe_key", String(DEDUPE), nullable=False),
    Column("recipient", String(ID), nullable=False),
    Column("channel", String(NAME), nullable=False),
    Column("category", String(NAME), nullable=False),
    Column("urgency", String(NAME), nullable=False),
    Column("subject_enc", Text(), nullable=True),
    Column("body_enc", Text(), nullable=True),
    Column("created_at", UtcInstant(), nullable=False),
    Column("due_at", UtcInstant(), nullable=False),
    Column("state", String(NAME), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("last_error", Text(), nullable=True),
    Column("sent_at", UtcInstant(), nullable=True),
    Column("lease_until", UtcInstant(), nullable=True),
    UniqueConstraint("dedupe_key"),
    CheckConstraint("state IN ('pending', 'sent', 'dead')", name="state"),
    CheckConstraint("attempts >= 0", name="attempts"),
    Index(None, "state", "due_at"),
    Index(None, "created_at"),
)

inbox_items = Table(
    "inbox_items",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("recipient", String(ID), nullable=False),
    Column("dedupe_key", String(DEDUPE), nullable=False),
    Column("category", String(NAME), nullable=False),
    Column("subject_enc", Text(), nullable=True),
    Column("body_enc", Text(), nullable=True),
    Column("delivered_at", UtcInstant(), nullable=False),
    Column("read_at", UtcInstant(), nullable=True),
    UniqueConstraint("dedupe_key"),
    Index(None, "recipient", "delivered_at"),
)

notification_preferences = Table(
    "notification_preferences",
    metadata,
    Column("account_id", String(ID), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("channels", Text(), nullable=False),
    Column("quiet_hours", String(QUIET), nullable=True),
    Column("locale", String(LOCALE), nullable=False),
)
