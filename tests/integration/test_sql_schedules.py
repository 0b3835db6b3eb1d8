"""The SQL side of schedules and reservations: references, the exclusion constraint, migration 0003."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import inspect, text

from massage_core.adapters.sql.engine import make_engine
from massage_core.adapters.sql.migrate import alembic_config, upgrade
from massage_core.adapters.sql.tables_schedules import NO_OVERLAP
from massage_core.domain.errors import Conflict
from massage_core.domain.ids import AccountId
from massage_core.domain.schedules import Schedule
from schedule_support import reservation
from storage_support import T0, Backend, new_id

SCHEDULE_TABLES = {"schedules", "schedule_rules", "reservations"}


def test_schedules_and_reservations_need_an_existing_account(sql_backend: Backend) -> None:
    stranger = AccountId(new_id("account"))
    with sql_backend.new_uow() as uow:
        for write in (lambda: uow.schedules.add(Schedule.new(stranger)),
                      lambda: uow.reservations.add(reservation(stranger, T0 + timedelta(days=1)), T0)):
            with pytest.raises(Conflict) as caught:
                write()
            assert caught.value.code == "conflict.reference"


def test_postgres_has_the_exclusion_constraint_on_btree_gist(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        with engine.connect() as connection:
            definition = connection.execute(text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :name"), {"name": NO_OVERLAP},
            ).scalar_one()
            extensions = connection.execute(text("SELECT extname FROM pg_extension")).scalars().all()
    finally:
        engine.dispose()
    assert definition == ("EXCLUDE USING gist (therapist_id WITH =, tstzrange(blocked_start, blocked_end, "
                          "'[)'::text) WITH &&) WHERE (active)")
    assert "btree_gist" in extensions


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_blank_url"))


def test_downgrading_0003_removes_only_its_tables(blank_url: str) -> None:
    upgrade(blank_url)
    engine = make_engine(blank_url)
    try:
        before = set(inspect(engine).get_table_names())
        assert SCHEDULE_TABLES <= before
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0002")
        later = {"therapist_ratings", "orders", "order_timeline",  # created by migrations 0004 and 0005
                 "coupons", "coupon_redemptions",  # and 0006
                 "customer_profiles",  # and 0007
                 "ledger_entries", "ledger_lines", "ledger_balances",  # and 0010
                 "invoices",  # and 0011
                 "withdrawals",  # and 0013
                 "reviews", "customer_feedback",  # and 0014
                 "complaints", "complaint_steps", "platform_feedback", "platform_feedback_replies",  # and 0015
                 "sanctions", "sanction_appeals",  # and 0016
                 "outbox_messages", "inbox_items", "notification_preferences",  # and 0017
                 "announcements", "announcement_recipients", "support_duty",  # and 0018
                 "chat_messages", "chat_reads", "number_bindings"}  # and 0019
        assert set(inspect(engine).get_table_names()) == before - SCHEDULE_TABLES - later
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) == before
    finally:
        engine.dispose()
