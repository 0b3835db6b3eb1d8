"""Announcements, receipts and the duty roster on SQLite and PostgreSQL (decision 0044): the round trip through
the services, and a 1,000-recipient send in one unit of work whose audience and receipts cost a few statements
per page, not one per person."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, insert, select

from catalog_support import make_level, make_profile
from massage_core.adapters.sql.tables import accounts
from massage_core.adapters.sql.tables_announcements import announcement_recipients
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, AdminRole, Role
from massage_core.domain.accounts import Account, AccountStatus
from massage_core.domain.ids import AccountId
from massage_core.domain.therapist_values import ServiceArea
from storage_support import T0, make_account, new_id

SYSTEM = Actor.system()
SHANGHAI, BEIJING = (31.2304, 121.4737), (39.9042, 116.4074)


def _add(platform: Platform, *accounts: Account) -> list[AccountId]:
    with platform.deps.uow() as uow:
        for account in accounts:
            uow.accounts.add(account)
        uow.commit()
    return [a.id for a in accounts]


def _therapist(platform: Platform, where: tuple[float, float], level: str) -> AccountId:
    [made] = _add(platform, make_account(roles=frozenset({Role.THERAPIST})))
    with platform.deps.uow() as uow:
        stored = uow.therapists.add(make_profile(made, area=ServiceArea(where[0], where[1], 8)))
        uow.therapists.save(stored.with_level(level, T0))
        uow.commit()
    return made


def _staff(platform: Platform, sub: AdminRole) -> Actor:
    [made] = _add(platform, make_account(roles=frozenset({Role.ADMIN}), admin_roles=frozenset({sub})))
    return Actor(made, roles=frozenset({Role.ADMIN}), admin_roles=frozenset({sub}))


def test_round_trip(platform: Platform) -> None:
    with platform.deps.uow() as uow:
        for code, rank in (("senior", 20), ("junior", 10)):
            uow.levels.add(make_level(code, rank, code.title()))
        uow.commit()
    sh_senior = _therapist(platform, SHANGHAI, "senior")
    _therapist(platform, SHANGHAI, "junior")
    _therapist(platform, BEIJING, "senior")
    both = _add(platform, make_account(roles=frozenset({Role.CUSTOMER, Role.THERAPIST})))[0]
    customer, gone = _add(platform, make_account(), make_account(status=AccountStatus.SUSPENDED))
    support = _staff(platform, AdminRole.SUPPORT)
    service = platform.announcements
    narrow = service.send(support, "培训", "周六培训。", audience="therapists", kind="training", city="shanghai",
                          levels=["senior"])
    assert narrow.targeted == 1 and narrow.levels == frozenset({"senior"}) and narrow.city == "shanghai"
    assert service.not_read(support, narrow.id) == (sh_senior,)
    platform.deps.clock.advance(dt.timedelta(minutes=1))  # type: ignore[attr-defined]
    wide = service.send(support, "通知", "春节安排。", audience="customers")
    read_at = platform.deps.clock.now()
    assert wide.targeted == 2  # the customer and the account that is both; never the suspended one
    assert service.get(support, narrow.id) == narrow
    assert [a.id for a in service.list(support)] == [wide.id, narrow.id]
    assert service.not_read(support, wide.id) == tuple(sorted((customer, both)))
    me = Actor(customer, roles=frozenset({Role.CUSTOMER}))
    first = service.mark_read(me, wide.id)
    assert first.read_at == read_at
    platform.deps.clock.advance(dt.timedelta(minutes=3))  # type: ignore[attr-defined]
    assert service.mark_read(me, wide.id).read_at == read_at
    assert [(m.announcement.id, m.read_at) for m in service.mine(me)] == [(wide.id, read_at)]
    assert service.mine(me, unread_only=True) == ()
    assert service.not_read(support, wide.id) == (both,)
    now = platform.deps.clock.now()
    with platform.deps.uow() as uow:
        for message in uow.outbox.claim_due(now, now + dt.timedelta(minutes=1), 100):
            if message.recipient == customer:
                uow.outbox.save(message.delivered(now))
        uow.commit()
    stats = service.stats(support, wide.id)
    assert (stats.targeted, stats.delivered, stats.read) == (2, 1, 1)
    assert service.stats(support, narrow.id).delivered == 0
    therapist = Actor(sh_senior, roles=frozenset({Role.THERAPIST}))
    assert [m.announcement.title for m in service.mine(therapist)] == ["培训"]
    assert gone not in service.not_read(support, wide.id)
    duty = platform.duty
    assert duty.set_on_duty(support, True).changed
    assert not duty.set_on_duty(support, True).changed
    assert [(s.account_id, s.on_duty) for s in duty.roster(support)] == [(support.account_id, True)]
    assert duty.set_on_duty(support, False).changed
    assert [s.on_duty for s in duty.roster(support)] == [False]


@contextmanager
def statements(platform: Platform) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        seen.append(statement)

    event.listen(platform.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(platform.engine, "before_cursor_execute", count)


def test_a_thousand_recipients_in_one_send_without_a_statement_each(platform: Platform) -> None:
    assert platform.engine is not None
    with platform.engine.begin() as connection:  # one multi-row insert: the accounts are not what is measured
        connection.execute(insert(accounts), [
            {"id": new_id("account"), "created_at": T0, "roles": "customer", "admin_roles": "", "status": "active",
             "display_name": "", "suspended_reason": "", "version": 1} for _ in range(1000)])
    support = _staff(platform, AdminRole.SUPPORT)
    with statements(platform) as seen:
        sent = platform.announcements.send(support, "通知", "平台升级。", audience="customers")
    assert sent.targeted == 1000
    # the audience pages (accounts joined to therapist profiles) and the receipts: 3 pages of 500, per page one
    # look-up and one multi-row insert
    audience = [s for s in seen if "accounts.roles" in s and "therapist_profiles" in s]
    receipts = [s for s in seen if "announcement_recipients" in s]
    assert len(audience) == 3 and len(receipts) == 4, (len(audience), len(receipts))
    # the outbox writer reads a page's recipients in three statements, not three per recipient: all but the
    # outbox's own inserts is a few dozen statements (20 on SQLite, 28 on PostgreSQL; some 4,000 before)
    others = [s for s in seen if "outbox_messages" not in s]
    assert len(others) <= 40, len(others)
    with platform.deps.uow() as uow:
        assert uow.announcements.read_count(sent.id) == 0
        assert len(uow.announcements.unread(sent.id, limit=2000)) == 1000
        assert sum(uow.outbox.counts().values()) == 2000  # inbox and push per recipient (the defaults)
    with platform.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(announcement_recipients)).scalar_one() == 1000


def test_the_roles_are_matched_in_the_sql_so_no_page_comes_back_short(platform: Platform, monkeypatch: Any) -> None:
    """Rows that the old substring match caught and Python then dropped (a role name containing ``therapist``)
    sort first: the pages must still be full of real therapists, and paging must reach the last one."""
    assert platform.engine is not None
    monkeypatch.setattr("massage_core.services.announcements.AUDIENCE_PAGE", 3)
    with platform.engine.begin() as connection:
        connection.execute(insert(accounts), [
            {"id": f"acc_{n:026d}", "created_at": T0, "roles": "therapist-trainee", "admin_roles": "",
             "status": "active", "display_name": "", "suspended_reason": "", "version": 1} for n in range(1, 7)])
    real = sorted(_add(platform, *(make_account(roles=frozenset({Role.THERAPIST})) for _ in range(4))))
    with platform.deps.uow() as uow:
        page = uow.announcements.audience({Role.THERAPIST}, limit=3)
        assert [m.account_id for m in page] == real[:3]
        assert [m.account_id for m in uow.announcements.audience({Role.THERAPIST}, after=page[-1].account_id,
                                                                 limit=3)] == real[3:]
    with statements(platform) as seen:
        sent = platform.announcements.send(_staff(platform, AdminRole.SUPPORT), "培训", "周五培训。",
                                           audience="therapists")
    assert sent.targeted == 4
    assert len([s for s in seen if "accounts.roles" in s and "therapist_profiles" in s]) == 2  # one per page
    with platform.deps.uow() as uow:
        assert sorted(uow.announcements.unread(sent.id)) == real
