"""The dispatcher's outcomes on the memory adapters (issue 7 review; decision 0041): an outcome is recorded
only under the run's own lease, and a message to an account suspended after it was written is withheld,
except a safety alert."""

from __future__ import annotations

import datetime as dt

from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.notifiers import SandboxPushNotifier, SandboxSmsNotifier
from massage_core.domain.access import Actor
from massage_core.domain.notifications import Category, Channel, Urgency
from massage_core.domain.outbox import OutboxMessage, OutboxState
from massage_core.ports.notifiers import DeliveryFailed, Notifier
from massage_core.services.notifications import WITHHELD, DispatchReport
from massage_core.services.notify import Note

from conftest import Kit
from outbox_support import finished, write
from test_outbox_dispatch import make, mine

SYSTEM = Actor.system()
LEASE = dt.timedelta(seconds=60)


class LosesItsLease(Notifier):
    """A push provider so slow that the lease runs out: meanwhile another run claims the message (its lease
    is kept in ``claimed_until``); then the send fails."""

    channel = Channel.PUSH

    def __init__(self, kit: list[Kit]) -> None:
        self.kit = kit
        self.claimed_until: dt.datetime | None = None

    def send(self, message: OutboxMessage, address: str) -> None:
        k = self.kit[0]
        k.clock.advance(LEASE + dt.timedelta(seconds=1))
        now = k.clock.now()
        with k.platform.deps.uow() as uow:
            assert [m.id for m in uow.outbox.claim_due(now, now + LEASE, 10)] == [message.id]
            uow.commit()
        self.claimed_until = now + LEASE
        raise DeliveryFailed("timed out")


def test_a_run_that_lost_its_lease_does_not_overwrite_the_next_runs_outcome(clock: FixedClock) -> None:
    holder: list[Kit] = []
    slow = LosesItsLease(holder)
    k = make(clock, push=slow)
    holder.append(k)
    a = k.customer_by_phone()
    push = OutboxMessage("ntf_push", f"order:o1:finished|{a.account_id}|push", a.account_id, Channel.PUSH,
                         Category.ORDERS, Urgency.NORMAL, "s", "b", k.clock.now(), k.clock.now())
    with k.platform.deps.uow() as uow:
        uow.outbox.add([push])
        uow.commit()
    assert k.platform.notifications.dispatch(SYSTEM, lease_seconds=60) == DispatchReport()  # lost: not counted
    stored = k.tables.outbox[push.id]
    assert (stored.state, stored.attempts, stored.last_error) == (OutboxState.PENDING, 0, None)  # not recorded
    assert slow.claimed_until is not None and k.tables.outbox_leases[push.id] == slow.claimed_until  # still held
    assert k.platform.notifications.dispatch(SYSTEM) == DispatchReport()  # nobody else may take it meanwhile
    with k.platform.deps.uow() as uow:  # the run holding the lease records its own outcome
        assert uow.outbox.record(stored.delivered(k.clock.now()), slow.claimed_until) is True
        uow.commit()
    assert (k.tables.outbox[push.id].state, k.tables.outbox[push.id].attempts) == (OutboxState.SENT, 1)


def test_a_message_to_an_account_suspended_since_is_withheld_dead(clock: FixedClock) -> None:
    sms, push = SandboxSmsNotifier(), SandboxPushNotifier()
    k = make(clock, sms=sms, push=push)
    a, b = k.customer_by_phone(), k.customer_by_phone()
    write(k.platform, finished("o1", [a.account_id, b.account_id]))
    k.platform.users.suspend(k.superadmin().actor, a.account_id, "spam")
    report = k.platform.notifications.dispatch(SYSTEM)
    assert report == DispatchReport(sent=3, dead=3)
    theirs = [m for m in mine(k) if m.recipient == a.account_id]
    assert {m.channel for m in theirs} == {Channel.INBOX, Channel.PUSH, Channel.SMS}
    assert all((m.state, m.attempts, m.last_error) == (OutboxState.DEAD, 0, WITHHELD) for m in theirs)
    assert sms.attempts(f"+86{a.phone}") == 0 and len(sms.delivered(f"+86{b.phone}")) == 1
    assert push.attempts(a.account_id) == 0 and len(push.delivered(b.account_id)) == 1
    with k.platform.deps.uow() as uow:
        assert uow.inbox.list(a.account_id) == [] and len(uow.inbox.list(b.account_id)) == 1
    k.platform.users.reactivate(k.superadmin().actor, a.account_id)
    k.platform.notifications.retry(SYSTEM, theirs[0].id)  # an admin may send it after all
    assert k.platform.notifications.dispatch(SYSTEM).sent == 1


def test_a_safety_alert_still_reaches_a_support_admin_suspended_after_the_sos(clock: FixedClock) -> None:
    sms, push = SandboxSmsNotifier(), SandboxPushNotifier()
    k = make(clock, sms=sms, push=push)
    support = k.support()
    write(k.platform, Note("sos.alert", "sos:o1:1", (support.account_id,), {"order": "o1", "at": k.clock.now()},
                           Category.SAFETY, Urgency.URGENT))
    write(k.platform, finished("o1", [support.account_id]))
    k.platform.users.suspend(k.superadmin().actor, support.account_id, "left the company")
    k.platform.notifications.dispatch(SYSTEM)
    sos = mine(k, "sos:o1:1|")
    assert {m.channel for m in sos if m.state is OutboxState.SENT} == {Channel.INBOX, Channel.PUSH, Channel.SMS}
    assert all(m.last_error != WITHHELD for m in sos)  # e-mail: no notifier here, retried as before
    assert all(m.state is OutboxState.DEAD and m.last_error == WITHHELD for m in mine(k, "order:o1:"))
    assert len(push.delivered(support.account_id)) == 1
