"""Catalogue and therapists: levels, categories, services, prices, packages, profiles, certificates, vetting log, media.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.types import UtcInstant

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the catalogue and therapist tables."""
    op.create_table(
        "therapist_levels",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_therapist_levels")),
        sa.UniqueConstraint("rank", name=op.f("uq_therapist_levels_rank")),
    )
    op.create_table(
        "catalog_categories",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcInstant(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_categories")),
        sa.UniqueConstraint("name", name=op.f("uq_catalog_categories_name")),
    )
    op.create_table(
        "catalog_services",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("category_id", sa.String(40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("contraindications", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcInstant(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["catalog_categories.id"], name=op.f("fk_catalog_services_category_id_catalog_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_services")),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_catalog_services_duration_positive")),
    )
    op.create_index(op.f("ix_catalog_services_category_id"), "catalog_services", ["category_id"])
    op.create_table(
        "catalog_service_prices",
        sa.Column("service_id", sa.String(40), nullable=False),
        sa.Column("level_code", sa.String(32), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["catalog_services.id"], name=op.f("fk_catalog_service_prices_service_id_catalog_services"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["level_code"], ["therapist_levels.code"],
            name=op.f("fk_catalog_service_prices_level_code_therapist_levels"),
        ),
        sa.PrimaryKeyConstraint("service_id", "level_code", name=op.f("pk_catalog_service_prices")),
        sa.CheckConstraint("price_fen >= 0", name=op.f("ck_catalog_service_prices_price_not_negative")),
    )
    op.create_table(
        "catalog_packages",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("service_id", sa.String(40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcInstant(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["catalog_services.id"], name=op.f("fk_catalog_packages_service_id_catalog_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_packages")),
        sa.CheckConstraint("sessions > 0", name=op.f("ck_catalog_packages_sessions_positive")),
        sa.CheckConstraint("validity_days > 0", name=op.f("ck_catalog_packages_validity_positive")),
        sa.CheckConstraint("price_fen >= 0", name=op.f("ck_catalog_packages_price_not_negative")),
    )
    op.create_index(op.f("ix_catalog_packages_service_id"), "catalog_packages", ["service_id"])
    op.create_table(
        "therapist_profiles",
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("real_name_enc", sa.Text(), nullable=True),
        sa.Column("id_number_enc", sa.Text(), nullable=True),
        sa.Column("id_number_idx", sa.String(64), nullable=False),
        sa.Column("gender", sa.String(32), nullable=False),
        sa.Column("years_experience", sa.Integer(), nullable=False),
        sa.Column("specialties", sa.Text(), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column("area_lat_e6", sa.BigInteger(), nullable=False),
        sa.Column("area_lng_e6", sa.BigInteger(), nullable=False),
        sa.Column("area_radius_m", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("level_code", sa.String(32), nullable=True),
        sa.Column("vetting_state", sa.String(32), nullable=False),
        sa.Column("rejection_reasons", sa.Text(), nullable=False),
        sa.Column("background_reference", sa.Text(), nullable=False),
        sa.Column("background_outcome", sa.String(32), nullable=False),
        sa.Column("skill_examiner", sa.String(40), nullable=True),
        sa.Column("skill_score", sa.Integer(), nullable=True),
        sa.Column("skill_pass_mark", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("suspended_reason", sa.Text(), nullable=False),
        sa.Column("created_at", UtcInstant(), nullable=False),
        sa.Column("updated_at", UtcInstant(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_therapist_profiles_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["level_code"], ["therapist_levels.code"], name=op.f("fk_therapist_profiles_level_code_therapist_levels"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_therapist_profiles")),
        sa.UniqueConstraint("id_number_idx", name=op.f("uq_therapist_profiles_id_number_idx")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_therapist_profiles_version_positive")),
    )
    op.create_index(op.f("ix_therapist_profiles_vetting_state"), "therapist_profiles", ["vetting_state"])
    op.create_index(
        op.f("ix_therapist_profiles_area_lat_e6_area_lng_e6"), "therapist_profiles", ["area_lat_e6", "area_lng_e6"],
    )
    op.create_table(
        "therapist_certificates",
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["therapist_profiles.account_id"],
            name=op.f("fk_therapist_certificates_account_id_therapist_profiles"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "position", name=op.f("pk_therapist_certificates")),
    )
    op.create_index(op.f("ix_therapist_certificates_expires_on"), "therapist_certificates", ["expires_on"])
    op.create_table(
        "therapist_services",
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("service_id", sa.String(40), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["therapist_profiles.account_id"],
            name=op.f("fk_therapist_services_account_id_therapist_profiles"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["catalog_services.id"], name=op.f("fk_therapist_services_service_id_catalog_services"),
        ),
        sa.PrimaryKeyConstraint("account_id", "service_id", name=op.f("pk_therapist_services")),
    )
    op.create_index(op.f("ix_therapist_services_service_id"), "therapist_services", ["service_id"])
    op.create_table(
        "therapist_vetting_log",
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("at", UtcInstant(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor_id", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(32), nullable=False),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["therapist_profiles.account_id"],
            name=op.f("fk_therapist_vetting_log_account_id_therapist_profiles"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "position", name=op.f("pk_therapist_vetting_log")),
    )
    op.create_table(
        "therapist_media",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("therapist_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UtcInstant(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reviewed_by", sa.String(40), nullable=False),
        sa.Column("reviewed_at", UtcInstant(), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["therapist_id"], ["therapist_profiles.account_id"],
            name=op.f("fk_therapist_media_therapist_id_therapist_profiles"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_therapist_media")),
    )
    op.create_index(op.f("ix_therapist_media_therapist_id_created_at"), "therapist_media",
                    ["therapist_id", "created_at"])
    op.create_index(op.f("ix_therapist_media_status_created_at"), "therapist_media", ["status", "created_at"])


def downgrade() -> None:
    """Drop the catalogue and therapist tables."""
    op.drop_index(op.f("ix_therapist_media_status_created_at"), table_name="therapist_media")
    op.drop_index(op.f("ix_therapist_media_therapist_id_created_at"), table_name="therapist_media")
    op.drop_table("therapist_media")
    op.drop_table("therapist_vetting_log")
    op.drop_index(op.f("ix_therapist_services_service_id"), table_name="therapist_services")
    op.drop_table("therapist_services")
    op.drop_index(op.f("ix_therapist_certificates_expires_on"), table_name="therapist_certificates")
    op.drop_table("therapist_certificates")
    op.drop_index(op.f("ix_therapist_profiles_area_lat_e6_area_lng_e6"), table_name="therapist_profiles")
    op.drop_index(op.f("ix_therapist_profiles_vetting_state"), table_name="therapist_profiles")
    op.drop_table("therapist_profiles")
    op.drop_index(op.f("ix_catalog_packages_service_id"), table_name="catalog_packages")
    op.drop_table("catalog_packages")
    op.drop_table("catalog_service_prices")
    op.drop_index(op.f("ix_catalog_services_category_id"), table_name="catalog_services")
    op.drop_table("catalog_services")
    op.drop_table("catalog_categories")
    op.drop_table("therapist_levels")
