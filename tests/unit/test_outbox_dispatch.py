"""The outbox writer and dispatcher, the inbox and preferences on the memory adapters (issue 7 P3; 0041)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

import pendulum
import pytest

from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.ids import SequentialIdGenerator
from massage_core.adapters.memory.notifiers import SandboxPushNotifier, SandboxSmsNotifier
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from massage_core.domain.inbox import InboxItem
from massage_core.domain.notifications import Category, Channel, Urgency
from massage_core.domain.outbox import OutboxState, RetryPolicy
from massage_core.ports.notifiers import DeliveryFailed, Notifier
from massage_core.domain.outbox import OutboxMessage
from massage_core.services.base import Policies
from massage_core.services.notifications import DispatchReport
from massage_core.services.notify import Note, enqueue

from catalog_support import make_profile
from conftest import Kit, fast_hasher
from outbox_support import DiesAfterSending, Killed, Recording, finished, write

SYSTEM = Actor.system()
ZONE = "Asia/Shanghai"
RETRY = RetryPolicy(base_seconds=30, factor=2, cap_seconds=3600, max_attempts=3)


def make(clock: FixedClock, **notifiers: Notifier) -> Kit:
    channels = {Channel(name): notifier for name, notifier in notifiers.items()}
    platform = Platform.in_memory(clock=clock, ids=SequentialIdGenerator(), hasher=fast_hasher(),
                                  policies=Policies(outbox_retry=RETRY), notifiers=channels)
    return Kit(platform, clock)


@pytest.fixture
def sms() -> SandboxSmsNotifier:
    return SandboxSmsNotifier()


@pytest.fixture
def push() -> SandboxPushNotifier:
    return SandboxPushNotifier()


@pytest.fixture
def k(clock: FixedClock, sms: SandboxSmsNotifier, push: SandboxPushNotifier) -> Kit:
    return make(clock, sms=sms, push=push)


def mine(k: Kit, key: str = "order:") -> list[OutboxMessage]:
    return sorted((m for m in k.tables.outbox.values() if m.dedupe_key.startswith(key)),
                  key=lambda m: m.dedupe_key)


def at_shanghai(clock: FixedClock, hour: int, minute: int = 0) -> None:
    clock.set(pendulum.datetime(2026, 1, 5, hour, minute, tz=ZONE))


# -- the writer ----------------------------------------------------------------------------------------------


def test_enqueue_writes_one_message_per_recipient_and_channel_once(k: Kit) -> None:
    a, b = k.customer_by_phone(), k.customer_by_phone()
    assert write(k.platform, finished("o1", [a.account_id, b.account_id, a.account_id])) == 6
    messages = mine(k)
    assert {(m.recipient, m.channel) for m in messages} == {
        (who, channel) for who in (a.account_id, b.account_id) for channel in (Channel.INBOX, Channel.PUSH,
                                                                                 Channel.SMS)}
    assert all(m.state is OutboxState.PENDING and m.due_at == k.clock.now() for m in messages)
    assert messages[0].subject == "服务已完成" and "o1" in messages[0].body
    assert write(k.platform, finished("o1", [a.account_id, b.account_id])) == 0
    assert len(mine(k)) == 6


def test_a_rolled_back_unit_writes_no_message(k: Kit) -> None:
    a = k.customer_by_phone()
    assert write(k.platform, finished("o1", [a.account_id]), commit=False) == 3
    assert mine(k) == []


def test_a_failing_producer_rolls_its_messages_back_with_its_change(k: Kit) -> None:
    a = k.customer_by_phone()
    with pytest.raises(ValidationError) as caught, k.platform.deps.uow() as uow:
        enqueue(uow, k.platform.deps, finished("o1", [a.account_id]), k.clock.now())
        enqueue(uow, k.platform.deps, Note("order.finished", "order:o2:finished", (a.account_id,), {},
                                           Category.ORDERS), k.clock.now())
        uow.commit()
    assert caught.value.code == "template.values"
    assert mine(k) == []


def test_unknown_and_suspended_recipients_are_skipped(k: Kit) -> None:
    a, gone = k.customer_by_phone(), k.customer_by_phone()
    k.platform.users.suspend(k.superadmin().actor, gone.account_id, "spam")
    assert write(k.platform, finished("o1", [a.account_id, gone.account_id, "acc_0000000000000000000000000Z"])) == 3
    assert {m.recipient for m in mine(k)} == {a.account_id}


def test_values_per_recipient_and_locale_and_the_therapists_zone(k: Kit) -> None:
    customer, therapist = k.customer_by_phone(), k.therapist()
    with k.platform.deps.uow() as uow:
        uow.therapists.add(make_profile(therapist.account_id, time_zone="Asia/Urumqi"))
        uow.commit()
    k.platform.notifications.set_preferences(customer.actor, locale="en")
    start = pendulum.datetime(2026, 1, 6, 2, 0, tz="UTC")
    note = Note("order.reminder", "order:o1:remind:120", (customer.account_id, therapist.account_id),
                lambda who: {"order": "o1", "start": start, "service": "Tuina" if who == customer.account_id
                             else "推拿"}, Category.ORDERS)
    write(k.platform, note)
    inbox = {m.recipient: m for m in mine(k) if m.channel is Channel.INBOX}
    assert inbox[customer.account_id].body == "Order o1 starts at Tue 6 Jan 10:00 (Tuina)."
    assert "2026-01-06 08:00" in inbox[therapist.account_id].body and "推拿" in inbox[therapist.account_id].body
    assert k.platform.notifications.preferences(therapist.actor).zone == "Asia/Urumqi"


# -- preferences and quiet hours -----------------------------------------------------------------------------


def test_preferences_choose_channels_per_category_safety_always_everywhere(k: Kit) -> None:
    a = k.customer_by_phone()
    view = k.platform.notifications.set_preferences(a.actor, channels={"orders": ["sms"], "safety": []})
    assert view.channels["orders"] == ("inbox", "sms") and view.channels["safety"] == ("email", "inbox", "push",
                                                                                       "sms")
    write(k.platform, finished("o1", [a.account_id]))
    write(k.platform, Note("sos.alert", "order:o1:sos", (a.account_id,), {"order": "o1", "at": k.clock.now()},
                           Category.SAFETY, Urgency.URGENT))
    assert {m.channel for m in mine(k, "order:o1:finished")} == {Channel.INBOX, Channel.SMS}
    assert {m.channel for m in mine(k, "order:o1:sos")} == set(Channel)
    with pytest.raises(ValidationError) as caught:
        k.platform.notifications.set_preferences(a.actor, channels={"orders": ["fax"]})
    assert caught.value.code == "notification.channels"
    with pytest.raises(ValidationError) as caught:
        k.platform.notifications.set_preferences(a.actor, locale="fr")
    assert caught.value.code == "notification.locale"


def test_quiet_hours_delay_normal_messages_and_urgent_ones_go_at_once(k: Kit, clock: FixedClock,
                                                                      push: SandboxPushNotifier) -> None:
    a = k.customer_by_phone()
    k.platform.notifications.set_preferences(a.actor, quiet_hours="22:00-08:00",
                                             channels={"orders": ["push"]})
    assert k.platform.notifications.preferences(a.actor).quiet_hours == "22:00-08:00"
    at_shanghai(clock, 23, 30)
    write(k.platform, finished("o1", [a.account_id]))
    write(k.platform, finished("o2", [a.account_id], urgency=Urgency.URGENT))
    morning = pendulum.datetime(2026, 1, 6, 8, 0, tz=ZONE)
    held = {m.channel: m.due_at for m in mine(k, "order:o1")}
    assert held == {Channel.PUSH: morning, Channel.INBOX: clock.now()}  # the silent inbox is never held
    assert {m.due_at for m in mine(k, "order:o2")} == {clock.now()}
    assert k.platform.notifications.dispatch(SYSTEM).sent == 3  # o1's inbox item; o2: inbox and push
    assert [d.dedupe_key for d in push.delivered(a.account_id)] == [f"order:o2:finished|{a.account_id}|push"]
    assert k.platform.notifications.unread_count(a.actor) == 2
    clock.set(morning - dt.timedelta(minutes=1))
    assert k.platform.notifications.dispatch(SYSTEM).sent == 0
    clock.set(morning)
    assert k.platform.notifications.dispatch(SYSTEM).sent == 1
    assert len(push.delivered(a.account_id)) == 2
    k.platform.notifications.set_preferences(a.actor, quiet_hours="off")
    assert k.platform.notifications.preferences(a.actor).quiet_hours is None


# -- the dispatcher ------------------------------------------------------------------------------------------


def test_dispatch_delivers_each_channel_to_its_address(k: Kit, sms: SandboxSmsNotifier,
                                                       push: SandboxPushNotifier) -> None:
    a = k.customer_by_phone()
    write(k.platform, finished("o1", [a.account_id]))
    report = k.platform.notifications.dispatch(SYSTEM)
    assert (report.sent, report.retried, report.dead) == (3, 0, 0)
    assert [d.body for d in sms.delivered(f"+86{a.phone}")] == ["订单 o1 已完成，欢迎评价本次服务。"]
    assert len(push.delivered(a.account_id)) == 1
    assert [i.subject for i in k.platform.notifications.inbox(a.actor)] == ["服务已完成"]
    assert {m.state for m in mine(k)} == {OutboxState.SENT}
    assert k.platform.notifications.dispatch(SYSTEM) == type(report)()


def test_failures_back_off_then_park_dead_and_an_admin_retries(k: Kit, clock: FixedClock,
                                                               sms: SandboxSmsNotifier) -> None:
    a = k.customer_by_phone()
    k.platform.notifications.set_preferences(a.actor, channels={"orders": ["sms"]})
    phone = f"+86{a.phone}"
    sms.fail(phone)
    write(k.platform, finished("o1", [a.account_id]))
    assert k.platform.notifications.dispatch(SYSTEM).retried == 1  # the inbox one is sent
    (failed,) = [m for m in mine(k) if m.channel is Channel.SMS]
    assert (failed.attempts, failed.due_at) == (1, clock.now() + dt.timedelta(seconds=30))
    assert failed.last_error == "the sms provider is unavailable (sandbox)"
    assert k.platform.notifications.dispatch(SYSTEM).retried == 0  # not due yet
    clock.advance(dt.timedelta(seconds=30))
    assert k.platform.notifications.dispatch(SYSTEM).retried == 1
    assert [m for m in mine(k) if m.channel is Channel.SMS][0].due_at == clock.now() + dt.timedelta(seconds=60)
    clock.advance(dt.timedelta(seconds=60))
    assert k.platform.notifications.dispatch(SYSTEM).dead == 1
    admin = k.superadmin().actor
    (dead,) = k.platform.notifications.outbox(admin, "dead")
    assert (dead.attempts, dead.last_error, dead.recipient) == (3, failed.last_error, a.account_id)
    assert not hasattr(dead, "body")
    assert k.platform.notifications.counts(admin) == {"pending": 0, "sent": 1, "dead": 1}
    clock.advance(dt.timedelta(days=1))
    assert k.platform.notifications.dispatch(SYSTEM).dead == 0
    sms.recover(phone)
    assert k.platform.notifications.retry(admin, dead.id).state == "pending"
    assert [e.action for e in k.audit_entries() if e.outcome is AuditOutcome.OK][-1] == "outbox.retry"
    assert k.platform.notifications.dispatch(SYSTEM).sent == 1
    assert len(sms.delivered(phone)) == 1
    with pytest.raises(Conflict) as caught:
        k.platform.notifications.retry(admin, dead.id)
    assert caught.value.code == "outbox.state"
    with pytest.raises(NotFound):
        k.platform.notifications.retry(admin, "ntf_00000000000000000000000000")


def test_missing_notifier_or_address_fails_with_a_clear_reason(clock: FixedClock) -> None:
    k = make(clock)  # no notifiers at all: only the inbox works
    a = k.customer_by_phone()
    write(k.platform, Note("vetting.approved", "vetting:a1:approved", (a.account_id,), {}, Category.ACCOUNT))
    report = k.platform.notifications.dispatch(SYSTEM)
    assert (report.sent, report.retried) == (1, 1)
    (email,) = [m for m in mine(k, "vetting:") if m.channel is Channel.EMAIL]
    assert email.last_error == "no notifier is configured for the email channel"
    k2 = make(clock, email=Recording(Channel.EMAIL))
    b = k2.customer_by_phone()  # has a phone, no e-mail
    write(k2.platform, Note("vetting.approved", "vetting:b1:approved", (b.account_id,), {}, Category.ACCOUNT))
    k2.platform.notifications.dispatch(SYSTEM)
    (email,) = [m for m in mine(k2, "vetting:") if m.channel is Channel.EMAIL]
    assert email.last_error == "the recipient has no address for the email channel"


class Leaky(Notifier):
    channel = Channel.PUSH

    def send(self, message: OutboxMessage, address: str) -> None:
        raise DeliveryFailed("refused by provider for 13800138000, see http://push.example.cn/x")


class Broken(Notifier):
    channel = Channel.SMS

    def send(self, message: OutboxMessage, address: str) -> None:
        raise ConnectionRefusedError("connection refused")


def test_errors_are_stored_masked_and_a_broken_notifier_does_not_stop_the_run(clock: FixedClock) -> None:
    k = make(clock, push=Leaky(), sms=Broken())
    a = k.customer_by_phone()
    write(k.platform, finished("o1", [a.account_id]))
    report = k.platform.notifications.dispatch(SYSTEM)
    assert (report.sent, report.retried) == (1, 2)
    errors = {m.channel: m.last_error for m in mine(k)}
    assert errors[Channel.PUSH] is not None and "13800138000" not in errors[Channel.PUSH]
    assert "push.example.cn" not in errors[Channel.PUSH] and errors[Channel.PUSH].startswith("refused by")
    assert errors[Channel.SMS] == "ConnectionRefusedError: connection refused"


def test_a_dispatcher_killed_after_sending_sends_again_with_the_same_key_and_shows_it_once(
        clock: FixedClock, push: SandboxPushNotifier) -> None:
    dying = DiesAfterSending(push)
    k = make(clock, push=dying)
    a = k.customer_by_phone()
    k.platform.notifications.set_preferences(a.actor, channels={"orders": ["push"]})
    write(k.platform, Note("order.finished", "order:o1:finished", (a.account_id,), {"order": "o1"},
                           Category.ORDERS, Urgency.URGENT))
    with pytest.raises(Killed):
        for _ in range(2):  # the inbox message may come first; the push send dies
            k.platform.notifications.dispatch(SYSTEM, limit=1, lease_seconds=60)
    (pushed,) = [m for m in mine(k) if m.channel is Channel.PUSH]
    assert pushed.state is OutboxState.PENDING and push.attempts(a.account_id) == 1
    assert k.platform.notifications.dispatch(SYSTEM).sent == 0  # still leased by the dead dispatcher
    clock.advance(dt.timedelta(seconds=60))
    assert k.platform.notifications.dispatch(SYSTEM).sent == 1
    assert push.attempts(a.account_id) == 2
    assert [d.dedupe_key for d in push.delivered(a.account_id)] == [pushed.dedupe_key]
    assert {m.state for m in mine(k)} == {OutboxState.SENT}


class Slow(Notifier):
    """Every send takes 40 s of the clock; during the second one, ``other`` (a second dispatcher) runs once."""

    channel = Channel.PUSH

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.sends: list[str] = []
        self.other: Callable[[], object] | None = None

    def send(self, message: OutboxMessage, address: str) -> None:
        self.sends.append(message.dedupe_key)
        self.clock.advance(dt.timedelta(seconds=40))
        if len(self.sends) == 2 and self.other is not None:
            other, self.other = self.other, None
            other()


def test_a_run_whose_lease_ran_out_leaves_the_rest_to_the_run_that_claimed_them(clock: FixedClock) -> None:
    slow = Slow(clock)
    k = make(clock, push=slow)
    people = [k.customer_by_phone() for _ in range(3)]
    for person in people:
        k.platform.notifications.set_preferences(person.actor, channels={"orders": ["push"]})
    write(k.platform, finished("o1", [p.account_id for p in people]))
    pushes = [m.dedupe_key for m in mine(k) if m.channel is Channel.PUSH]
    assert len(pushes) == 3
    second: list[DispatchReport] = []
    slow.other = lambda: second.append(k.platform.notifications.dispatch(SYSTEM, lease_seconds=60))
    first = k.platform.notifications.dispatch(SYSTEM, lease_seconds=60)
    # the first run's lease (60 s) ran out during its second push; the second run claimed what was left (the
    # push in flight too: that one is the documented at-least-once case, shown once by its dedupe key) and
    # the first run stopped instead of sending the third push again
    assert Counter(slow.sends) == {pushes[0]: 1, pushes[1]: 2, pushes[2]: 1}
    assert (first.sent, second[0].sent) == (3, 3)
    assert {m.state for m in mine(k)} == {OutboxState.SENT}


def test_the_inbox_shows_a_message_once_even_when_delivered_twice(k: Kit) -> None:
    a, b = k.customer_by_phone(), k.customer_by_phone()
    item = InboxItem("ntf_01", a.account_id, f"order:o1:finished|{a.account_id}|inbox", Category.ORDERS,
                     "服务已完成", "订单 o1 已完成", k.clock.now() - dt.timedelta(minutes=1))
    with k.platform.deps.uow() as uow:
        assert uow.inbox.deliver(item) is True
        assert uow.inbox.deliver(item) is False
        assert uow.inbox.deliver(InboxItem("ntf_02", a.account_id, item.dedupe_key, Category.ORDERS, "x", "y",
                                           k.clock.now())) is False
        uow.commit()
    write(k.platform, finished("o2", [a.account_id, b.account_id]))
    k.platform.notifications.dispatch(SYSTEM)
    notes = k.platform.notifications
    assert [i.id for i in notes.inbox(a.actor)][-1] == "ntf_01" and len(notes.inbox(a.actor)) == 2
    assert notes.unread_count(a.actor) == 2
    theirs = notes.inbox(b.actor)[0].id
    assert notes.mark_read(a.actor, ["ntf_01", theirs, "nope"]) == 1
    assert notes.mark_read(a.actor, ["ntf_01"]) == 0
    assert (notes.unread_count(a.actor), notes.unread_count(b.actor)) == (1, 1)
    assert [i.id for i in notes.inbox(a.actor, unread_only=True)] != ["ntf_01"]
    assert notes.inbox(a.actor, offset=1, limit=1)[0].read_at == k.clock.now()


def test_bad_arguments_and_denials(k: Kit) -> None:
    a = k.customer_by_phone()
    for kwargs, code in (({"limit": 0}, "outbox.limit"), ({"lease_seconds": 3601}, "outbox.lease_seconds"),
                         ({"limit": True}, "outbox.limit")):
        with pytest.raises(ValidationError) as caught:
            k.platform.notifications.dispatch(SYSTEM, **kwargs)
        assert caught.value.code == code
    with pytest.raises(PermissionDenied):
        k.platform.notifications.dispatch(a.actor)
    with pytest.raises(ValidationError) as caught:
        k.platform.notifications.outbox(SYSTEM, "lost")
    assert caught.value.code == "outbox.state_name"
    with pytest.raises(ValidationError) as caught:
        k.platform.notifications.mark_read(a.actor, "ntf_01")
    assert caught.value.code == "inbox.ids"
    with pytest.raises(ValidationError) as caught:
        k.platform.notifications.inbox(SYSTEM)
    assert caught.value.code == "actor.no_account"
