"""Customer profile table (feature C2, decision 0022; migration 0007), on the shared ``metadata`` of ``tables.py``.

``customer_profiles`` holds at most one row per account.  The health data and the birth live only in
``*_enc`` columns (FieldCipher tokens bound to the row): ``birth_enc`` (``YYYY`` or ``YYYY-MM-DD``),
``conditions_enc`` (comma-joined contraindication codes) and ``health_note_enc``.  Each plaintext is padded
to a fixed block before encryption and every row stores all three tokens, so neither a NULL nor a token's
length tells whether (or which) conditions were declared.  Genders are plain enum values (not health data).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Table, Text

from massage_core.adapters.sql.tables import ID, NAME, metadata
from massage_core.adapters.sql.types import UtcInstant

customer_profiles = Table(
    "customer_profiles",
    metadata,
    Column("account_id", String(ID), ForeignKey("accounts.id"), primary_key=True),
    Column("gender", String(NAME), nullable=True),
    Column("preferred_therapist_gender", String(NAME), nullable=True),
    Column("birth_enc", Text(), nullable=False),
    Column("conditions_enc", Text(), nullable=False),
    Column("health_note_enc", Text(), nullable=False),
    Column("updated_at", UtcInstant(), nullable=False),
    Column("version", Integer(), nullable=False),
    CheckConstraint("version >= 1", name="version_positive"),
)
