"""The sandbox SMS and push providers (decision 42): address shapes, dedupe by key, planned failures."""

from __future__ import annotations

import threading

import attrs
import pendulum
import pytest

from massage_core.adapters.memory.notifiers import ALWAYS, SandboxPushNotifier, SandboxSmsNotifier
from massage_core.domain.errors import ValidationError
from massage_core.domain.notifications import Category, Channel, Urgency
from massage_core.domain.outbox import OutboxMessage, dedupe_key
from massage_core.ports.notifiers import DeliveryFailed, Notifier

PHONE = "+8613800138000"
OTHER_PHONE = "+8613900139000"
ACCOUNT = "acc_01HZY3M4T7Q8R9S0V1W2X3Y4Z5"
AT = pendulum.datetime(2026, 3, 1, 6, 30, tz="UTC")


def _message(channel: Channel, event: str = "order:ord_01HZY3M4T7Q8R9S0V1W2X3Y4Z5:accepted",
             body: str = "王师傅 已接下订单，将于 16:30 上门。") -> OutboxMessage:
    return OutboxMessage(id=f"out_{event}", dedupe_key=dedupe_key(event, ACCOUNT, channel), recipient=ACCOUNT,
                         channel=channel, category=Category.ORDERS, urgency=Urgency.URGENT, subject="技师已接单",
                         body=body, created_at=AT, due_at=AT)


@pytest.mark.parametrize(("notifier", "channel", "address"), [
    (SandboxSmsNotifier, Channel.SMS, PHONE),
    (SandboxPushNotifier, Channel.PUSH, ACCOUNT),
])
def test_records_each_message_once_per_dedupe_key(notifier: type[Notifier], channel: Channel, address: str) -> None:
    sandbox = notifier()
    assert isinstance(sandbox, (SandboxSmsNotifier, SandboxPushNotifier)) and sandbox.channel is channel
    first, second = _message(channel), _message(channel, "order:ord_01HZY3M4T7Q8R9S0V1W2X3Y4Z5:arrived", "已到达")
    sandbox.send(first, address)
    sandbox.send(first, address)  # redelivered after a crash: accepted, not shown twice
    sandbox.send(second, address)
    shown = sandbox.delivered(address)
    assert [(d.dedupe_key, d.body) for d in shown] == [(first.dedupe_key, first.body), (second.dedupe_key, "已到达")]
    assert shown[0].subject == "技师已接单" and shown[0].address == address and shown[0].created_at == AT
    assert sandbox.attempts(address) == 3


def test_sms_addresses_must_be_e164() -> None:
    sandbox = SandboxSmsNotifier()
    for bad in ("13800138000", "+86 138 0013 8000", "+86123", "acc_01HZY3M4T7Q8R9S0V1W2X3Y4Z5", ""):
        with pytest.raises(DeliveryFailed) as refused:
            sandbox.send(_message(Channel.SMS), bad)
        assert refused.value.code == "notification.address"
        with pytest.raises(ValidationError):
            sandbox.delivered(bad)
    assert sandbox.delivered(PHONE) == []


def test_push_addresses_must_be_account_ids() -> None:
    sandbox = SandboxPushNotifier()
    for bad in (PHONE, "acc_short", "ord_01HZY3M4T7Q8R9S0V1W2X3Y4Z5", "device-token-123"):
        with pytest.raises(DeliveryFailed) as refused:
            sandbox.send(_message(Channel.PUSH), bad)
        assert refused.value.code == "notification.address"
    assert sandbox.delivered(ACCOUNT) == []


def test_a_message_of_another_channel_is_refused() -> None:
    with pytest.raises(DeliveryFailed) as refused:
        SandboxSmsNotifier().send(_message(Channel.PUSH), PHONE)
    assert refused.value.code == "notification.channel"
    with pytest.raises(DeliveryFailed):
        SandboxPushNotifier().send(_message(Channel.EMAIL), ACCOUNT)


def test_fails_a_number_of_times_then_delivers() -> None:
    sandbox = SandboxSmsNotifier()
    sandbox.fail(PHONE, times=2)
    message = _message(Channel.SMS)
    for _ in range(2):
        with pytest.raises(DeliveryFailed, match="unavailable") as failed:
            sandbox.send(message, PHONE)
        assert failed.value.code == "notification.delivery"
    sandbox.send(_message(Channel.SMS), OTHER_PHONE)  # another address is not affected
    sandbox.send(message, PHONE)
    assert [d.dedupe_key for d in sandbox.delivered(PHONE)] == [message.dedupe_key]
    assert sandbox.attempts(PHONE) == 3 and sandbox.attempts(OTHER_PHONE) == 1


def test_fails_always_until_it_recovers() -> None:
    sandbox = SandboxPushNotifier()
    sandbox.fail(ACCOUNT, times=ALWAYS)
    message = _message(Channel.PUSH)
    for _ in range(5):
        with pytest.raises(DeliveryFailed):
            sandbox.send(message, ACCOUNT)
    assert sandbox.delivered(ACCOUNT) == []
    sandbox.recover(ACCOUNT)
    sandbox.send(message, ACCOUNT)
    assert len(sandbox.delivered(ACCOUNT)) == 1 and sandbox.attempts(ACCOUNT) == 6


@pytest.mark.parametrize("times", [0, -2, True, 1.5])
def test_planned_failures_must_be_a_positive_count(times: object) -> None:
    with pytest.raises(ValidationError):
        SandboxSmsNotifier().fail(PHONE, times=times)  # type: ignore[arg-type]


def test_a_failed_attempt_does_not_count_as_delivered() -> None:
    sandbox = SandboxSmsNotifier()
    sandbox.fail(PHONE, times=1)
    message = _message(Channel.SMS)
    with pytest.raises(DeliveryFailed):
        sandbox.send(message, PHONE)
    sandbox.send(attrs.evolve(message, attempts=1), PHONE)
    assert len(sandbox.delivered(PHONE)) == 1


def test_concurrent_dispatchers_show_a_message_once() -> None:
    sandbox = SandboxSmsNotifier()
    messages = [_message(Channel.SMS, f"order:ord_01HZY3M4T7Q8R9S0V1W2X3Y4Z{i}:accepted") for i in range(8)]
    start = threading.Barrier(4)

    def run() -> None:
        start.wait()
        for message in messages:
            sandbox.send(message, PHONE)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(d.dedupe_key for d in sandbox.delivered(PHONE)) == sorted(m.dedupe_key for m in messages)
    assert sandbox.attempts(PHONE) == 32
