"""Catalogue and therapist tables, on the shared ``metadata`` of ``tables.py``.

Prices are integer fen (``BigInteger``).  Coordinates are integer
micro-degrees and radii integer metres, so they compare exactly and a
bounding-box prefilter can use plain indexes.  A therapist's real name and
resident ID number live only in ``*_enc`` columns (FieldCipher tokens) with
a blind index for uniqueness of the ID number.  Small lists (specialties,
rejection reasons) are JSON text; contraindications are comma-separated codes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from massage_core.adapters.sql.tables import DIGEST, ID, NAME, metadata
from massage_core.adapters.sql.types import UtcInstant

CURRENCY = 3
ZONE = 64

therapist_levels = Table(
    "therapist_levels",
    metadata,
    Column("code", String(NAME), primary_key=True),
    Column("name", Text(), nullable=False),
    Column("rank", Integer(), nullable=False),
    Column("version", Integer(), nullable=False),
    UniqueConstraint("rank"),
)

catalog_categories = Table(
    "catalog_categories",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", Text(), nullable=False),
    Column("description", Text(), nullable=False),
    Column("active", Boolean(), nullable=False),
    Column("created_at", UtcInstant(), nullable=False),
    Column("version", Integer(), nullable=False),
    UniqueConstraint("name"),
)

catalog_services = Table(
    "catalog_services",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("category_id", String(ID), ForeignKey("catalog_categories.id"), nullable=False),
    Column("name", Text(), nullable=False),
    Column("description", Text(), nullable=False),
    Column("duration_minutes", Integer(), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
    Column("contraindications", String(200), nullable=False),
    Column("active", Boolean(), nullable=False),
    Column("created_at", UtcInstant(), nullable=False),
    Column("version", Integer(), nullable=False),
    CheckConstraint("duration_minutes > 0", name="duration_positive"),
    Index(None, "category_id"),
)

catalog_service_prices = Table(
    "catalog_service_prices",
    metadata,
    Column("service_id", String(ID), ForeignKey("catalog_services.id", ondelete="CASCADE"), nullable=False),
    Column("level_code", String(NAME), ForeignKey("therapist_levels.code"), nullable=False),
    Column("price_fen", BigInteger(), nullable=False),
    PrimaryKeyConstraint("service_id", "level_code"),
    CheckConstraint("price_fen >= 0", name="price_not_negative"),
)

catalog_packages = Table(
    "catalog_packages",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("service_id", String(ID), ForeignKey("catalog_services.id"), nullable=False),
    Column("name", Text(), nullable=False),
    Column("sessions", Integer(), nullable=False),
    Column("price_fen", BigInteger(), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
    Column("validity_days", Integer(), nullable=False),
    Column("active", Boolean(), nullable=False),
    Column("created_at", UtcInstant(), nullable=False),
    Column("version", Integer(), nullable=False),
    CheckConstraint("sessions > 0", name="sessions_positive"),
    CheckConstraint("validity_days > 0", name="validity_positive"),
    CheckConstraint("price_fen >= 0", name="price_not_negative"),
    Index(None, "service_id"),
)

therapist_profiles = Table(
    "therapist_profiles",
    metadata,
    Column("account_id", String(ID), ForeignKey("accounts.id"), primary_key=True),
    Column("real_name_enc", Text(), nullable=True),
    Column("id_number_enc", Text(), nullable=True),
    Column("id_number_idx", String(DIGEST), nullable=False),
    Column("gender", String(NAME), nullable=False),
    Column("years_experience", Integer(), nullable=False),
    Column("specialties", Text(), nullable=False),
    Column("bio", Text(), nullable=False),
    Column("area_lat_e6", BigInteger(), nullable=False),
    Column("area_lng_e6", BigInteger(), nullable=False),
    Column("area_radius_m", Integer(), nullable=False),
    Column("time_zone", String(ZONE), nullable=False),
    Column("level_code", String(NAME), ForeignKey("therapist_levels.code"), nullable=True),
    Column("vetting_state", String(NAME), nullable=False),
    Column("rejection_reasons", Text(), nullable=False),
    Column("background_reference", Text(), nullable=False),
    Column("background_outcome", String(NAME), nullable=False),
    Column("skill_examiner", String(ID), nullable=True),
    Column("skill_score", Integer(), nullable=True),
    Column("skill_pass_mark", Integer(), nullable=True),
    Column("active", Boolean(), nullable=False),
    Column("suspended", Boolean(), nullable=False),
    Column("suspended_reason", Text(), nullable=False),
    Column("created_at", UtcInstant(), nullable=False),
    Column("updated_at", UtcInstant(), nullable=False),
    Column("version", Integer(), nullable=False),
    UniqueConstraint("id_number_idx"),
    CheckConstraint("version >= 1", name="version_positive"),
    Index(None, "vetting_state"),
    Index(None, "area_lat_e6", "area_lng_e6"),
)

therapist_certificates = Table(
    "therapist_certificates",
    metadata,
    Column(
        "account_id", String(ID), ForeignKey("therapist_profiles.account_id", ondelete="CASCADE"), nullable=False,
    ),
    Column("position", SmallInteger(), nullable=False),
    Column("issuer", Text(), nullable=False),
    Column("number", Text(), nullable=False),
    Column("expires_on", Date(), nullable=False),
    PrimaryKeyConstraint("account_id", "position"),
    Index(None, "expires_on"),
)

therapist_services = Table(
    "therapist_services",
    metadata,
    Column(
        "account_id", String(ID), ForeignKey("therapist_profiles.account_id", ondelete="CASCADE"), nullable=False,
    ),
    Column("service_id", String(ID), ForeignKey("catalog_services.id"), nullable=False),
    PrimaryKeyConstraint("account_id", "service_id"),
    Index(None, "service_id"),
)

therapist_vetting_log = Table(
    "therapist_vetting_log",
    metadata,
    Column(
        "account_id", String(ID), ForeignKey("therapist_profiles.account_id", ondelete="CASCADE"), nullable=False,
    ),
    Column("position", Integer(), nullable=False),
    Column("at", UtcInstant(), nullable=False),
    Column("action", String(NAME), nullable=False),
    Column("actor_id", String(ID), nullable=False),
    Column("from_state", String(NAME), nullable=False),
    Column("to_state", String(NAME), nullable=False),
    Column("note", Text(), nullable=False),
    PrimaryKeyConstraint("account_id", "position"),
)

therapist_media = Table(
    "therapist_media",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column(
        "therapist_id", String(ID), ForeignKey("therapist_profiles.account_id", ondelete="CASCADE"), nullable=False,
    ),
    Column("kind", String(NAME), nullable=False),
    Column("content_type", String(NAME), nullable=False),
    Column("size_bytes", BigInteger(), nullable=False),
    Column("sha256", String(DIGEST), nullable=False),
    Column("created_at", UtcInstant(), nullable=False),
    Column("status", String(NAME), nullable=False),
    Column("reviewed_by", String(ID), nullable=False),
    Column("reviewed_at", UtcInstant(), nullable=True),
    Column("rejection_reason", Text(), nullable=False),
    Column("version", Integer(), nullable=False),
    Index(None, "therapist_id", "created_at"),
    Index(None, "status", "created_at"),
)
