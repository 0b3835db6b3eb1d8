"""Search tables: the rating read model of therapists and the index of the locator's bounding-box prefilter.

Registered on the shared ``metadata`` (``tables.py`` imports this module); created by migration 0004.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table

from massage_core.adapters.sql.tables import ID, metadata
from massage_core.adapters.sql.tables_therapists import therapist_profiles

therapist_ratings = Table(
    "therapist_ratings",
    metadata,
    Column("therapist_id", String(ID), ForeignKey("therapist_profiles.account_id", ondelete="CASCADE"),
           primary_key=True),
    Column("average_e3", Integer(), nullable=False),
    Column("reviews", Integer(), nullable=False),
    CheckConstraint("average_e3 >= 1000 AND average_e3 <= 5000 AND reviews >= 1", name="valid"),
)
"""Average stars in thousandths (4.667 -> 4667) over ``reviews`` reviews; no row: unrated."""

PUBLIC_AREA_INDEX = Index(
    "ix_therapist_profiles_vetting_state_area_lat_e6_area_lng_e6",
    therapist_profiles.c.vetting_state, therapist_profiles.c.area_lat_e6, therapist_profiles.c.area_lng_e6,
)
"""Approved therapists by latitude then longitude: the bounding-box prefilter reads a slice of it."""
