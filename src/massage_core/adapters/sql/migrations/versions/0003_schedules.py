"""Schedules and reservations, with the no-overlap exclusion constraint on PostgreSQL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-01-12

On PostgreSQL this needs the ``btree_gist`` extension (contrib; a trusted
extension since PostgreSQL 13, so the database owner may create it).  The
downgrade leaves the extension in place: other objects may use it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.types import UtcInstant

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

NO_OVERLAP_SQL = (
    "ALTER TABLE reservations ADD CONSTRAINT ex_reservations_no_overlap EXCLUDE USING gist "
    "(therapist_id WITH =, tstzrange(blocked_start, blocked_end, '[)') WITH &&) WHERE (active)"
)


def upgrade() -> None:
    """Create schedules, schedule_rules and reservations (plus the exclusion constraint on PostgreSQL)."""
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "schedules",
        sa.Column("therapist_id", sa.String(40), nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["therapist_id"], ["accounts.id"], name=op.f("fk_schedules_therapist_id_accounts")),
        sa.PrimaryKeyConstraint("therapist_id", name=op.f("pk_schedules")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_schedules_version_positive")),
    )
    op.create_table(
        "schedule_rules",
        sa.Column("therapist_id", sa.String(40), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("start_minute", sa.SmallInteger(), nullable=False),
        sa.Column("end_minute", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(["therapist_id"], ["schedules.therapist_id"],
                                name=op.f("fk_schedule_rules_therapist_id_schedules"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("therapist_id", "position", name=op.f("pk_schedule_rules")),
        sa.CheckConstraint("start_minute >= 0 AND end_minute > start_minute AND end_minute <= 1440",
                           name=op.f("ck_schedule_rules_minutes")),
        sa.CheckConstraint("(weekday IS NULL) <> (day IS NULL)", name=op.f("ck_schedule_rules_weekday_or_day")),
    )
    op.create_table(
        "reservations",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("therapist_id", sa.String(40), nullable=False),
        sa.Column("starts_at", UtcInstant(), nullable=False),
        sa.Column("ends_at", UtcInstant(), nullable=False),
        sa.Column("blocked_start", UtcInstant(), nullable=False),
        sa.Column("blocked_end", UtcInstant(), nullable=False),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.Column("made_by", sa.String(64), nullable=False),
        sa.Column("created_at", UtcInstant(), nullable=False),
        sa.Column("hold_until", UtcInstant(), nullable=True),
        sa.Column("released_at", UtcInstant(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["therapist_id"], ["accounts.id"],
                                name=op.f("fk_reservations_therapist_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
        sa.CheckConstraint("ends_at > starts_at AND blocked_start <= starts_at AND blocked_end >= ends_at",
                           name=op.f("ck_reservations_interval")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_reservations_version_positive")),
    )
    op.create_index(op.f("ix_reservations_therapist_id_blocked_start"), "reservations",
                    ["therapist_id", "blocked_start"])
    if postgres:
        op.execute(NO_OVERLAP_SQL)


def downgrade() -> None:
    """Drop the three tables (the btree_gist extension stays)."""
    op.drop_index(op.f("ix_reservations_therapist_id_blocked_start"), table_name="reservations")
    op.drop_table("reservations")
    op.drop_table("schedule_rules")
    op.drop_table("schedules")
