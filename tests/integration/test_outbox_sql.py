"""The outbox, the inbox and preferences on SQLite and PostgreSQL (issue 7 P3, acceptance 1 and 2; 0041):
the repositories' contracts (memory too), the round trip, subject and body encrypted at rest, idempotent writes and deliveries, and two dispatchers
at once -- also after a dispatcher died between a send and its record -- sending each message once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping

import pytest
from sqlalchemy import select

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.sql.tables_notifications import inbox_items, outbox_messages
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, Role
from massage_core.domain.inbox import InboxItem, NotificationSettings
from massage_core.domain.notifications import Category, Channel, Preferences, Urgency
from massage_core.domain.errors import NotFound
from massage_core.domain.outbox import OutboxMessage, OutboxState, RetryPolicy
from massage_core.ports.notifiers import Notifier
from massage_core.ports.unit_of_work import UnitOfWork
from outbox_support import DiesAfterSending, Killed, Recording, finished, write
from storage_support import T0, Backend, make_account

SYSTEM = Actor.system()
PEOPLE = 8


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing.generate()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


class Platforms:
    """Platforms on one database (one per dispatcher), sharing the key ring, the clock and the notifiers."""

    def __init__(self, url: str, keyring: KeyRing, clock: FixedClock) -> None:
        self.url, self.keyring, self.clock = url, keyring, clock
        self.made: list[Platform] = []

    def new(self, notifiers: Mapping[Channel, Notifier]) -> Platform:
        platform = Platform.from_url(self.url, keyring=self.keyring, clock=self.clock,
                                     hasher=Argon2idPasswordHasher.for_tests(), notifiers=notifiers)
        self.made.append(platform)
        return platform


@pytest.fixture
def platforms(sql_backend: Backend, keyring: KeyRing, clock: FixedClock) -> Iterator[Platforms]:
    assert sql_backend.url is not None
    made = Platforms(sql_backend.url, keyring, clock)
    yield made
    for platform in made.made:
        platform.close()


def accounts(platform: Platform, n: int) -> list[str]:
    made = [make_account(roles=frozenset({Role.CUSTOMER})) for _ in range(n)]
    with platform.deps.uow() as uow:
        for account in made:
            uow.accounts.add(account)
        uow.commit()
    return [a.id for a in made]


def test_round_trip_idempotent_writes_and_encryption_at_rest(platforms: Platforms, clock: FixedClock) -> None:
    push, sms = Recording(Channel.PUSH), Recording(Channel.SMS)
    platform = platforms.new({Channel.PUSH: push, Channel.SMS: sms})
    a, b = accounts(platform, 2)
    clock.set(T0 + dt.timedelta(hours=13))  # 23:00 in Shanghai: inside b's quiet hours
    with platform.deps.uow() as uow:
        uow.notification_preferences.set(b, NotificationSettings(
            Preferences({"orders": ["push"]}, "22:00-08:00"), "en"))
        uow.commit()
    assert write(platform, finished("o1", [a, b]), commit=False) == 5
    assert write(platform, finished("o1", [a, b])) == 5
    assert write(platform, finished("o1", [a, b])) == 0
    with platform.deps.uow() as uow:
        assert uow.notification_preferences.get(a) is None
        stored = uow.notification_preferences.get(b)
        assert stored is not None and stored.locale == "en" and str(stored.preferences.quiet_hours) == "22:00-08:00"
        assert stored.preferences.channels_for(Category.ORDERS) == {Channel.INBOX, Channel.PUSH}
        listed = uow.outbox.list()
        assert len(listed) == 5 and {m.state for m in listed} == {OutboxState.PENDING}
        mine = next(m for m in listed if m.recipient == a and m.channel is Channel.SMS)
        assert uow.outbox.get(mine.id) == mine and mine.body == "订单 o1 已完成，欢迎评价本次服务。"
        assert uow.outbox.counts() == {OutboxState.PENDING: 5, OutboxState.SENT: 0, OutboxState.DEAD: 0}
    assert platform.engine is not None
    with platform.engine.connect() as connection:
        raw = " ".join(str(v) for row in connection.execute(select(outbox_messages)) for v in row)
    assert "已完成" not in raw and "finished" not in raw.replace("order:o1:finished", "") and mine.id in raw
    report = platform.notifications.dispatch(SYSTEM)
    assert (report.sent, report.retried, report.dead) == (4, 0, 0)  # b's push waits for the quiet hours to end
    with platform.engine.connect() as connection:
        raw = " ".join(str(v) for row in connection.execute(select(inbox_items)) for v in row)
    assert "已完成" not in raw
    items = platform.notifications.inbox(Actor(a, roles=frozenset({Role.CUSTOMER})))
    assert [i.body for i in items] == ["订单 o1 已完成，欢迎评价本次服务。"]
    with platform.deps.uow() as uow:
        assert uow.inbox.deliver(InboxItem("ntf_x", a, items[0].dedupe_key, Category.ORDERS, "s", "b", T0)) is False
        assert uow.inbox.mark_read(b, [items[0].id], T0) == 0
        assert uow.inbox.mark_read(a, [items[0].id, "nope"], T0) == 1
        assert uow.inbox.unread_count(a) == 0 and uow.inbox.list(a, unread_only=True) == []
        uow.commit()
    clock.advance(dt.timedelta(hours=12))
    assert platform.notifications.dispatch(SYSTEM).sent == 1  # b's push; b's inbox item was not held
    assert platform.notifications.counts(SYSTEM) == {"pending": 0, "sent": 5, "dead": 0}


def message(n: int, *, key: str | None = None, due: dt.datetime = T0) -> OutboxMessage:
    return OutboxMessage(f"ntf_{n:026d}", key or f"order:o{n}:finished|acc_x|push", "acc_x", Channel.PUSH,
                         Category.ORDERS, Urgency.NORMAL, f"subject {n}", f"正文 {n}", T0, due)


def test_the_outbox_contract(uow_factory: Callable[[], UnitOfWork]) -> None:
    """Memory, SQLite and PostgreSQL: idempotent add, get, leased claims oldest due first, save, list, counts."""
    minute, policy = dt.timedelta(minutes=1), RetryPolicy(max_attempts=2)
    first, second, third = message(1, due=T0 + minute), message(2), message(3, due=T0 + 5 * minute)
    with uow_factory() as uow:
        assert uow.outbox.add([first, second, third, message(4, key=first.dedupe_key)]) == 3
        assert uow.outbox.add([message(5, key=second.dedupe_key)]) == 0
        uow.commit()
    with uow_factory() as uow:
        assert uow.outbox.get(first.id) == first
        with pytest.raises(NotFound):
            uow.outbox.get(message(4).id)
        now = T0 + minute
        assert uow.outbox.claim_due(now, now + minute, 0) == []
        assert uow.outbox.claim_due(now, now + minute, 10) == [second, first]  # oldest due first
        assert uow.outbox.claim_due(now, now + minute, 10) == []  # leased
        uow.outbox.save(second.failed("down", now, policy))  # releases the lease, due again in 30 s
        with pytest.raises(NotFound):
            uow.outbox.save(message(4))
        uow.commit()
    with uow_factory() as uow:
        later = T0 + 2 * minute
        assert [m.id for m in uow.outbox.claim_due(later, later + minute, 10)] == [first.id, second.id]
        uow.outbox.save(uow.outbox.get(first.id).delivered(later))
        uow.outbox.save(uow.outbox.get(second.id).failed("down again", later, policy))
        uow.commit()
    with uow_factory() as uow:
        assert uow.outbox.counts() == {OutboxState.PENDING: 1, OutboxState.SENT: 1, OutboxState.DEAD: 1}
        assert [m.id for m in uow.outbox.list()] == [first.id, second.id, third.id]
        assert [m.id for m in uow.outbox.list(offset=1, limit=1)] == [second.id]
        (dead,) = uow.outbox.list(OutboxState.DEAD)
        assert (dead.attempts, dead.last_error, dead.due_at) == (2, "down again", T0 + minute + dt.timedelta(seconds=30))
        assert uow.outbox.list(OutboxState.SENT)[0].sent_at == T0 + 2 * minute
        assert uow.outbox.claim_due(T0 + 10 * minute, T0 + 11 * minute, 10) == [third]


def test_the_inbox_and_preferences_contract(uow_factory: Callable[[], UnitOfWork]) -> None:
    """Memory, SQLite and PostgreSQL: one item per dedupe key, reads and marks scoped to the recipient."""
    me, them = make_account(), make_account()
    item = InboxItem("ntf_1", me.id, "k1", Category.ORDERS, "主题", "正文", T0)
    with uow_factory() as uow:
        uow.accounts.add(me)
        uow.accounts.add(them)
        assert uow.inbox.deliver(item) is True
        assert uow.inbox.deliver(item) is False
        assert uow.inbox.deliver(InboxItem("ntf_2", me.id, "k1", Category.ORDERS, "x", "y", T0)) is False
        assert uow.inbox.deliver(InboxItem("ntf_3", me.id, "k3", Category.MONEY, "", "钱", T0 + dt.timedelta(1)))
        assert uow.inbox.deliver(InboxItem("ntf_4", them.id, "k4", Category.ORDERS, "s", "b", T0))
        uow.commit()
    with uow_factory() as uow:
        assert [i.id for i in uow.inbox.list(me.id)] == ["ntf_3", "ntf_1"]
        assert uow.inbox.list(me.id, offset=1, limit=5) == [item]
        assert uow.inbox.mark_read(me.id, ["ntf_1", "ntf_4", "nope"], T0 + dt.timedelta(hours=1)) == 1
        assert uow.inbox.mark_read(me.id, ["ntf_1"], T0 + dt.timedelta(hours=2)) == 0
        assert [i.id for i in uow.inbox.list(me.id, unread_only=True)] == ["ntf_3"]
        assert (uow.inbox.unread_count(me.id), uow.inbox.unread_count(them.id)) == (1, 1)
        assert uow.inbox.list(me.id)[1].read_at == T0 + dt.timedelta(hours=1)
        assert uow.notification_preferences.get(me.id) is None
        chosen = NotificationSettings(Preferences({"promotions": []}, "22:30-07:00"), "en")
        uow.notification_preferences.set(me.id, chosen)
        uow.notification_preferences.set(me.id, chosen)
        uow.commit()
    with uow_factory() as uow:
        assert uow.notification_preferences.get(me.id) == chosen
        assert uow.notification_preferences.get(them.id) is None


def dispatch_until_done(platform: Platform, crashes: list[BaseException]) -> None:
    while True:
        try:
            report = platform.notifications.dispatch(SYSTEM, limit=3)
        except Killed as killed:
            crashes.append(killed)
            return
        if report.sent + report.retried + report.dead == 0:
            return


def two_at_once(first: Platform, second: Platform) -> list[BaseException]:
    crashes: list[BaseException] = []
    start = threading.Barrier(2)

    def run(platform: Platform) -> None:
        start.wait()
        dispatch_until_done(platform, crashes)

    threads = [threading.Thread(target=run, args=(p,)) for p in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return crashes


def test_an_outcome_is_recorded_only_under_the_runs_own_lease(uow_factory: Callable[[], UnitOfWork]) -> None:
    """Memory, SQLite and PostgreSQL: ``record`` is a compare-and-set on the lease and the pending state."""
    minute, policy = dt.timedelta(minutes=1), RetryPolicy(max_attempts=2)
    first, second = message(1), message(2)
    with uow_factory() as uow:
        uow.outbox.add([first, second])
        uow.commit()
    with uow_factory() as uow:
        assert uow.outbox.claim_due(T0, T0 + minute, 10) == [first, second]  # run A's lease
        uow.commit()
    with uow_factory() as uow:  # A's lease ran out; run B claims both again
        assert uow.outbox.claim_due(T0 + minute, T0 + 2 * minute, 10) == [first, second]
        uow.commit()
    with uow_factory() as uow:
        assert uow.outbox.record(first.failed("timed out", T0 + minute, policy), T0 + minute) is False  # A: lost
        assert uow.outbox.record(second.delivered(T0 + minute), T0 + minute) is False
        assert uow.outbox.record(first.delivered(T0 + minute), T0 + 2 * minute) is True  # B: its own lease
        assert uow.outbox.record(message(3), T0 + 2 * minute) is False  # no such message
        uow.commit()
    with uow_factory() as uow:
        assert uow.outbox.get(second.id) == second  # untouched, still B's
        assert uow.outbox.claim_due(T0 + minute, T0 + 3 * minute, 10) == []
        assert uow.outbox.record(first.failed("late", T0 + minute, policy), T0 + 2 * minute) is False  # not pending
        assert (uow.outbox.get(first.id).state, uow.outbox.get(first.id).attempts) == (OutboxState.SENT, 1)
        assert uow.outbox.record(second.failed("down", T0 + minute, policy), T0 + 2 * minute) is True
        uow.commit()
    with uow_factory() as uow:  # recorded and the lease released: due again after the backoff
        assert uow.outbox.get(second.id).attempts == 1
        assert [m.id for m in uow.outbox.claim_due(T0 + 2 * minute, T0 + 3 * minute, 10)] == [second.id]


def test_two_dispatchers_at_once_send_each_message_once(platforms: Platforms) -> None:
    push, sms = Recording(Channel.PUSH), Recording(Channel.SMS)
    one, two = (platforms.new({Channel.PUSH: push, Channel.SMS: sms}) for _ in range(2))
    people = accounts(one, PEOPLE)
    for n in range(3):
        write(one, finished(f"o{n}", people))
    assert two_at_once(one, two) == []
    for notifier in (push, sms):
        assert len(notifier.keys) == 3 * PEOPLE and len(notifier.visible()) == 3 * PEOPLE
    with one.deps.uow() as uow:
        assert uow.outbox.counts()[OutboxState.SENT] == 9 * PEOPLE
        assert sum(len(uow.inbox.list(p)) for p in people) == 3 * PEOPLE


def test_after_a_crash_and_the_lease_two_dispatchers_send_it_again_once_and_show_it_once(
        platforms: Platforms, clock: FixedClock) -> None:
    push, sms = Recording(Channel.PUSH), Recording(Channel.SMS)
    dying = DiesAfterSending(push)
    crashing = platforms.new({Channel.PUSH: dying, Channel.SMS: sms})
    one, two = (platforms.new({Channel.PUSH: push, Channel.SMS: sms}) for _ in range(2))
    people = accounts(one, PEOPLE)
    for n in range(2):
        write(one, finished(f"o{n}", people))
    crashes: list[BaseException] = []
    dispatch_until_done(crashing, crashes)
    assert len(crashes) == 1 and len(push.keys) == 1
    (killed_key,) = push.keys
    assert two_at_once(one, two) == []  # the crashed message is still leased: not sent again yet
    assert Counter(push.keys)[killed_key] == 1
    with one.deps.uow() as uow:
        assert uow.outbox.counts()[OutboxState.PENDING] >= 1
    clock.advance(dt.timedelta(seconds=60))
    assert two_at_once(one, two) == []
    sends = Counter(push.keys)
    assert sends[killed_key] == 2 and all(n == 1 for key, n in sends.items() if key != killed_key)
    assert len(push.visible()) == 2 * PEOPLE and len(sms.keys) == 2 * PEOPLE
    with one.deps.uow() as uow:
        assert uow.outbox.counts() == {OutboxState.PENDING: 0, OutboxState.SENT: 6 * PEOPLE, OutboxState.DEAD: 0}
