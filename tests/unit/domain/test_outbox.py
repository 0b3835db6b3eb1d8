"""Outbox messages: sent once, retried with exponential backoff, parked as dead, revived by an admin."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.notifications import Category, Channel, Urgency
from massage_core.domain.outbox import OutboxMessage, OutboxState, RetryPolicy, dedupe_key

T0 = pendulum.datetime(2026, 11, 25, 8)


def message() -> OutboxMessage:
    return OutboxMessage("msg_1", dedupe_key("order:ord_1:accepted", "acc_1", Channel.SMS), "acc_1", Channel.SMS,
                         Category.ORDERS, Urgency.URGENT, "已接单", "技师已接单", T0, T0)


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_seconds=30, factor=2, cap_seconds=600, max_attempts=10)
    assert [policy.delay(n).total_seconds() for n in range(1, 8)] == [30, 60, 120, 240, 480, 600, 600]
    assert RetryPolicy().delay(10_000) == dt.timedelta(seconds=3600)


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "2"])
def test_bad_policies_are_refused(bad: object) -> None:
    for name in ("base_seconds", "factor", "cap_seconds", "max_attempts"):
        with pytest.raises(ValidationError) as refused:
            RetryPolicy(**{name: bad})  # type: ignore[arg-type]
        assert refused.value.code == "outbox.policy"


def test_a_failing_message_is_retried_then_parked_dead_then_revived() -> None:
    policy = RetryPolicy(base_seconds=10, factor=3, cap_seconds=1000, max_attempts=3)
    first = message().failed("connection refused", T0, policy)
    assert (first.state, first.attempts, first.due_at, first.last_error) == (
        OutboxState.PENDING, 1, T0 + dt.timedelta(seconds=10), "connection refused")
    second = first.failed("timeout", T0 + dt.timedelta(seconds=10), policy)
    assert second.due_at == T0 + dt.timedelta(seconds=40)
    dead = second.failed("x" * 2000, T0 + dt.timedelta(seconds=40), policy)
    assert (dead.state, dead.attempts, len(dead.last_error or "")) == (OutboxState.DEAD, 3, 500)
    with pytest.raises(Conflict):
        dead.delivered(T0)
    later = T0 + dt.timedelta(hours=5)
    revived = dead.revived(later)
    assert (revived.state, revived.attempts, revived.due_at) == (OutboxState.PENDING, 0, later)
    sent = revived.delivered(later)
    assert (sent.state, sent.sent_at, sent.last_error) == (OutboxState.SENT, later, None)
    for illegal in (lambda: sent.delivered(later), lambda: sent.failed("e", later, policy), lambda: sent.revived(later),
                    lambda: message().revived(later)):
        with pytest.raises(Conflict) as refused:
            illegal()
        assert refused.value.code == "outbox.state"


def test_dedupe_keys_are_per_event_recipient_and_channel() -> None:
    keys = {dedupe_key(event, who, channel) for event in ("order:ord_1:accepted", "order:ord_1:arrived")
            for who in ("acc_1", "acc_2") for channel in Channel}
    assert len(keys) == 2 * 2 * len(Channel)
    for event, who in (("bad key", "acc_1"), ("order:1", "acc 1"), ("", "acc_1"), ("a" * 300, "acc_1")):
        with pytest.raises(ValidationError) as refused:
            dedupe_key(event, who, Channel.SMS)
        assert refused.value.code == "outbox.key"


@given(failures=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12))
def test_attempts_are_counted_and_the_due_time_never_goes_back(failures: list[int]) -> None:
    policy = RetryPolicy(max_attempts=6)
    current, now = message(), T0
    for seconds in failures:
        now += dt.timedelta(seconds=seconds)
        if current.state is OutboxState.DEAD:
            break
        previous = current
        current = current.failed("refused", now, policy)
        assert current.attempts == previous.attempts + 1
        assert current.due_at >= previous.due_at or current.state is OutboxState.DEAD
    assert current.attempts == min(len(failures), 6)
    assert (current.state is OutboxState.DEAD) == (len(failures) >= 6)
