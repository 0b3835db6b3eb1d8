"""The schema as SQLAlchemy Core tables (the migrations create exactly this).

Personal data (phone, email, real name, ID number, address, third-party
subject, IP, device) lives only in ``*_enc`` columns as FieldCipher tokens;
``*_idx`` columns hold keyed blind indexes for equality lookups and
uniqueness.  Times use ``UtcInstant``.  Constraint names follow
``NAMING_CONVENTION`` so migrations can refer to them on every backend.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from massage_core.adapters.sql.types import UtcInstant

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = 40
"""Width of id columns (``acc_`` + 26 characters, with room to spare)."""
DIGEST = 64
"""Width of blind indexes and SHA-256 hex digests."""
KEY = 128
"""Width of subject keys and token hashes."""
NAME = 32
"""Width of enum-valued columns."""

metadata = MetaData(naming_convention=NAMING_CONVENTION)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("created_at", UtcInstant(), nullable=False),
    Column("roles", String(200), nullable=False),
    Column("admin_roles", String(200), nullable=False),
    Column("status", String(NAME), nullable=False),
    Column("display_name", Text(), nullable=False),
    Column("real_name_enc", Text(), nullable=True),
    Column("id_number_enc", Text(), nullable=True),
    Column("id_number_idx", String(DIGEST), nullable=True),
    Column("address_enc", Text(), nullable=True),
    Column("phone_enc", Text(), nullable=True),
    Column("phone_idx", String(DIGEST), nullable=True),
    Column("email_enc", Text(), nullable=True),
    Column("email_idx", String(DIGEST), nullable=True),
    Column("password_hash", Text(), nullable=True),
    Column("suspended_reason", Text(), nullable=False),
    Column("version", Integer(), nullable=False),
    UniqueConstraint("id_number_idx"),
    UniqueConstraint("phone_idx"),
    UniqueConstraint("email_idx"),
    CheckConstraint("version >= 1", name="version_positive"),
    Index(None, "created_at", "id"),
)

account_identities = Table(
    "account_identities",
    metadata,
    Column("account_id", String(ID), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("provider", String(NAME), nullable=False),
    Column("position", SmallInteger(), nullable=False),
    Column("subject_enc", Text(), nullable=False),
    Column("subject_idx", String(DIGEST), nullable=False),
    PrimaryKeyConstraint("account_id", "provider"),
    UniqueConstraint("provider", "subject_idx"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("token_hash", String(KEY), nullable=False),
    Column("method", String(NAME), nullable=False),
    Column("created_at", UtcInstant(), nullable=False),
    Column("expires_at", UtcInstant(), nullable=False),
    Column("revoked_at", UtcInstant(), nullable=True),
    Column("ip_enc", Text(), nullable=True),
    Column("device_enc", Text(), nullable=True),
    UniqueConstraint("token_hash"),
    Index(None, "account_id", "created_at"),
)

login_records = Table(
    "login_records",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("at", UtcInstant(), nullable=False),
    Column("method", String(NAME), nullable=False),
    Column("subject_key", String(KEY), nullable=False),
    Column("outcome", String(NAME), nullable=False),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=True),
    Column("ip_enc", Text(), nullable=True),
    Column("device_enc", Text(), nullable=True),
    Index(None, "subject_key", "at"),
    Index(None, "account_id", "at"),
)

one_time_codes = Table(
    "one_time_codes",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("subject_key", String(KEY), nullable=False),
    Column("purpose", String(NAME), nullable=False),
    Column("code_hash", String(KEY), nullable=False),
    Column("created_at", UtcInstant(), nullable=False),
    Column("expires_at", UtcInstant(), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("consumed_at", UtcInstant(), nullable=True),
    Index(None, "subject_key", "created_at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("sequence", BigInteger(), primary_key=True, autoincrement=False),
    Column("id", String(ID), nullable=False),
    Column("at", UtcInstant(), nullable=False),
    Column("actor", Text(), nullable=False),
    Column("action", Text(), nullable=False),
    Column("target", Text(), nullable=False),
    Column("outcome", String(NAME), nullable=False),
    Column("details", Text(), nullable=False),
    Column("prev_hash", String(DIGEST), nullable=False),
    Column("hash", String(DIGEST), nullable=False),
    UniqueConstraint("id"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=False),
    Column("sequence", BigInteger(), nullable=False),
    Column("hash", String(DIGEST), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)
"""One row (id 1): the sequence and hash of the newest audit entry, kept apart from the log."""

AUDIT_HEAD_ROW = 1

# Other modules register their tables on ``metadata``; importing them here lets compare_metadata see them.
from massage_core.adapters.sql import tables_therapists as tables_therapists  # noqa: E402
from massage_core.adapters.sql import tables_schedules as tables_schedules  # noqa: E402,F401  (registers its tables on metadata)
from massage_core.adapters.sql import tables_search as tables_search  # noqa: E402,F401  (registers its tables on metadata)
from massage_core.adapters.sql import tables_orders as tables_orders  # noqa: E402,F401  (registers its tables on metadata)
from massage_core.adapters.sql import tables_coupons as tables_coupons  # noqa: E402,F401  (registers its tables on metadata)
from massage_core.adapters.sql import tables_customers as tables_customers  # noqa: E402,F401  (registers its tables on metadata)
from massage_core.adapters.sql import tables_ledger as tables_ledger  # noqa: E402,F401  (registers its tables on metadata)
from massage_core.adapters.sql import tables_invoices as tables_invoices  # noqa: E402,F401  (registers its tables on metadata)
from massage_core.adapters.sql import tables_withdrawals as tables_withdrawals  # noqa: E402,F401  (registers its tables on metadata)
from massage_core.adapters.sql import tables_sanctions as tables_sanctions  # noqa: E402,F401  (registers its tables on metadata)
from massage_core.adapters.sql import tables_reviews as tables_reviews  # noqa: E402,F401  (registers its tables on metadata)
from massage_core.adapters.sql import tables_complaints as tables_complaints  # noqa: E402,F401  (registers its tables on metadata)
from massage_core.adapters.sql import tables_chat as tables_chat  # noqa: E402,F401  (registers its tables on metadata)
from massage_core.adapters.sql import tables_notifications as tables_notifications  # noqa: E402,F401  (registers its tables on metadata)
from massage_core.adapters.sql import tables_announcements as tables_announcements  # noqa: E402,F401  (registers its tables on metadata)
