"""The outbox writer's reads on SQLite and PostgreSQL (decision 0041 and its amendment): one ``enqueue`` reads
its recipients in ONE statement -- who is active, their stored settings and their therapist zones, joined --
whether it names 10 or 600 people, selecting no encrypted column; everything else it runs is the outbox's own
insert."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, insert

from catalog_support import make_profile
from massage_core.adapters.sql.tables import accounts
from massage_core.bootstrap import Platform
from massage_core.domain.ids import AccountId
from massage_core.domain.inbox import NotificationSettings
from massage_core.domain.notifications import Category, Channel, Preferences
from massage_core.services.notify import Note, enqueue
from storage_support import T0, new_id

SUSPENDED, THERAPISTS, CHOOSERS = 3, 2, 2
"""Of each batch: suspended accounts, therapists (with a profile zone), accounts with stored settings."""


@contextmanager
def statements(platform: Platform) -> Iterator[list[str]]:
    """Every statement the platform's engine sends to the driver while the block runs."""
    assert platform.engine is not None
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        seen.append(statement)

    event.listen(platform.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(platform.engine, "before_cursor_execute", count)


def _accounts(platform: Platform, count: int) -> list[AccountId]:
    """``count`` active customers, the first ``SUSPENDED`` of them suspended, in one multi-row insert."""
    assert platform.engine is not None
    made = [AccountId(new_id("account")) for _ in range(count)]
    with platform.engine.begin() as connection:
        connection.execute(insert(accounts), [
            {"id": ident, "created_at": T0, "roles": "customer", "admin_roles": "",
             "status": "suspended" if n < SUSPENDED else "active", "display_name": "", "suspended_reason": "",
             "version": 1} for n, ident in enumerate(made)])
    return made


def _batch(platform: Platform, count: int) -> tuple[list[AccountId], list[AccountId]]:
    """``count`` accounts plus one unknown id: (every id to name, the active ones).  Two active ones get a
    therapist profile in Urumqi, two others stored settings (English; SMS too for announcements)."""
    made = _accounts(platform, count)
    active = made[SUSPENDED:]
    with platform.deps.uow() as uow:
        for ident in active[:THERAPISTS]:
            uow.therapists.add(make_profile(ident, time_zone="Asia/Urumqi"))
        for ident in active[THERAPISTS:THERAPISTS + CHOOSERS]:
            uow.notification_preferences.set(ident, NotificationSettings(Preferences(
                {Category.ANNOUNCEMENTS: frozenset({Channel.INBOX, Channel.SMS})}), "en"))
        uow.commit()
    return [*made, AccountId(new_id("account")), made[-1]], active


def _enqueue(platform: Platform, recipients: Sequence[AccountId], key: str) -> tuple[int, list[str]]:
    note = Note("announcement", key, tuple(recipients), {"title": "通知", "text": "平台升级。"},
                Category.ANNOUNCEMENTS)
    with platform.deps.uow() as uow:
        with statements(platform) as seen:
            written = enqueue(uow, platform.deps, note, platform.deps.clock.now())
        uow.commit()
    return written, seen


@pytest.mark.parametrize("count", [10, 600])
def test_one_enqueue_reads_its_recipients_in_one_statement(platform: Platform, count: int) -> None:
    named, active = _batch(platform, count)
    written, seen = _enqueue(platform, named, f"announcement:n{count}")
    reads = [s for s in seen if "outbox_messages" not in s]
    assert len(reads) == 1, reads
    assert all(table in reads[0] for table in ("accounts", "notification_preferences", "therapist_profiles"))
    assert all(s.lstrip().upper().startswith("SELECT") and "_enc" not in s for s in reads), reads
    assert all(s.lstrip().upper().startswith("INSERT") for s in seen if s not in reads)
    # inbox and push for each active account (the defaults), inbox and SMS for those who chose so
    assert written == 2 * len(active)
    with platform.deps.uow() as uow:
        mine = [m for m in uow.outbox.list(limit=2 * count + 10) if m.dedupe_key.startswith(f"announcement:n{count}")]
    assert {m.recipient for m in mine} == set(active)
    choosers = set(active[THERAPISTS:THERAPISTS + CHOOSERS])
    assert {(m.recipient, m.channel) for m in mine if m.recipient in choosers} == {
        (who, channel) for who in choosers for channel in (Channel.INBOX, Channel.SMS)}
    assert {m.subject for m in mine} == {"通知"}
