"""Therapist search: the rating read model and the index of the locator's bounding-box prefilter.

Revision ID: 0004
Revises: 0003
Create Date: 2026-01-19
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

AREA_INDEX = "ix_therapist_profiles_vetting_state_area_lat_e6_area_lng_e6"


def upgrade() -> None:
    """Create therapist_ratings and the (vetting_state, area_lat_e6, area_lng_e6) index."""
    op.create_table(
        "therapist_ratings",
        sa.Column("therapist_id", sa.String(40), nullable=False),
        sa.Column("average_e3", sa.Integer(), nullable=False),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["therapist_id"], ["therapist_profiles.account_id"],
                                name=op.f("fk_therapist_ratings_therapist_id_therapist_profiles"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("therapist_id", name=op.f("pk_therapist_ratings")),
        sa.CheckConstraint("average_e3 >= 1000 AND average_e3 <= 5000 AND reviews >= 1",
                           name=op.f("ck_therapist_ratings_valid")),
    )
    op.create_index(op.f(AREA_INDEX), "therapist_profiles", ["vetting_state", "area_lat_e6", "area_lng_e6"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index(op.f(AREA_INDEX), table_name="therapist_profiles")
    op.drop_table("therapist_ratings")
