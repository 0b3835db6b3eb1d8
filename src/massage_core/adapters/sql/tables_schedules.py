"""Schedule and reservation tables, on the shared ``metadata`` of ``tables.py``.

``schedule_rules`` holds every range of a schedule, one row each, by ``kind``:
``hours`` and ``break`` (weekly: ``weekday`` set), ``extra`` and ``dated_break``
(``day`` set), ``day_off`` (``day`` set, the whole day).  Minutes are wall-clock
minutes after local midnight in the schedule's ``zone``.

``reservations.active`` is true while a row counts for the no-overlap rule:
set false when it is released, and when an expired hold is retired by the
insert of a reservation it is in the way of (decision 0012).  On PostgreSQL
the exclusion constraint ``ex_reservations_no_overlap`` (btree_gist) makes two
active rows of one therapist with overlapping ``[blocked_start, blocked_end)``
impossible; SQLite re-checks inside its serialised write transaction.
"""

from __future__ import annotations

from sqlalchemy import (
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
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint

from massage_core.adapters.sql.tables import ID, NAME, metadata
from massage_core.adapters.sql.types import UtcInstant

ZONE = 64
REFERENCE = 100
MADE_BY = 64
NO_OVERLAP = "ex_reservations_no_overlap"

schedules = Table(
    "schedules",
    metadata,
    Column("therapist_id", String(ID), ForeignKey("accounts.id"), primary_key=True),
    Column("zone", String(ZONE), nullable=False),
    Column("online", Boolean(), nullable=False),
    Column("version", Integer(), nullable=False),
    CheckConstraint("version >= 1", name="version_positive"),
)

schedule_rules = Table(
    "schedule_rules",
    metadata,
    Column("therapist_id", String(ID), ForeignKey("schedules.therapist_id", ondelete="CASCADE"), nullable=False),
    Column("position", SmallInteger(), nullable=False),
    Column("kind", String(NAME), nullable=False),
    Column("weekday", SmallInteger(), nullable=True),
    Column("day", Date(), nullable=True),
    Column("start_minute", SmallInteger(), nullable=False),
    Column("end_minute", SmallInteger(), nullable=False),
    PrimaryKeyConstraint("therapist_id", "position"),
    CheckConstraint("start_minute >= 0 AND end_minute > start_minute AND end_minute <= 1440", name="minutes"),
    CheckConstraint("(weekday IS NULL) <> (day IS NULL)", name="weekday_or_day"),
)

reservations = Table(
    "reservations",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("therapist_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("starts_at", UtcInstant(), nullable=False),
    Column("ends_at", UtcInstant(), nullable=False),
    Column("blocked_start", UtcInstant(), nullable=False),
    Column("blocked_end", UtcInstant(), nullable=False),
    Column("reference", String(REFERENCE), nullable=False),
    Column("made_by", String(MADE_BY), nullable=False),
    Column("created_at", UtcInstant(), nullable=False),
    Column("hold_until", UtcInstant(), nullable=True),
    Column("released_at", UtcInstant(), nullable=True),
    Column("active", Boolean(), nullable=False),
    Column("version", Integer(), nullable=False),
    CheckConstraint("ends_at > starts_at AND blocked_start <= starts_at AND blocked_end >= ends_at",
                    name="interval"),
    CheckConstraint("version >= 1", name="version_positive"),
    Index(None, "therapist_id", "blocked_start"),
    ExcludeConstraint(
        ("therapist_id", "="),
        (func.tstzrange(literal_column("blocked_start"), literal_column("blocked_end"), literal_column("'[)'")),
         "&&"),
        where=text("active"),
        using="gist",
        name=NO_OVERLAP,
    ).ddl_if(dialect="postgresql"),
)
