"""An SOS reaches on-duty support at once (issue 7; decision 0044): urgent, every channel, quiet hours
ignored; nobody on duty -> every support admin; a replay writes nothing new."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Kit, Person
from massage_core.domain.errors import NotFound, PermissionDenied, ValidationError
from massage_core.domain.inbox import NotificationSettings
from massage_core.domain.notifications import Channel, Preferences, QuietHours
from massage_core.domain.orders import Order
from massage_core.domain.outbox import OutboxMessage
from massage_core.domain.order_states import OrderId
from massage_core.services.duty import notify_sos
from order_kit import SYSTEM, advance, book, catalogue, make_public, pay


@pytest.fixture
def sos_order(kit: Kit) -> tuple[str, Person]:
    """An order whose therapist has arrived, and that therapist."""
    shop = catalogue(kit.platform)
    therapist, customer = kit.therapist(), kit.customer_by_phone()
    make_public(kit.platform, therapist.account_id, shop)
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, order)
    advance(kit.platform, order, therapist.actor, customer.actor, "arrived")
    return order, therapist


def _sos_messages(kit: Kit, order: str) -> list[OutboxMessage]:
    return [m for m in kit.tables.outbox.values() if m.dedupe_key.startswith(f"sos:{order}:")]


def _quiet_all_day(kit: Kit, person: Person) -> None:
    with kit.platform.deps.uow() as uow:
        uow.notification_preferences.set(person.account_id, NotificationSettings(
            Preferences(quiet_hours=QuietHours.parse("00:00-23:59"))))
        uow.commit()


def test_on_duty_support_gets_an_urgent_message_on_every_channel_despite_quiet_hours(
        kit: Kit, sos_order: tuple[str, Person]) -> None:
    order, therapist = sos_order
    on, off = kit.support(), kit.support()
    kit.superadmin()
    kit.platform.duty.set_on_duty(on.actor, True)
    _quiet_all_day(kit, on)
    kit.platform.orders.sos(therapist.actor, order, "help")
    messages = _sos_messages(kit, order)
    assert {m.recipient for m in messages} == {on.account_id}
    assert {m.channel for m in messages} == set(Channel)
    now = kit.clock.now()
    assert all(m.urgency.value == "urgent" and m.category.value == "safety" and m.due_at == now for m in messages)
    assert all(m.dedupe_key.startswith(f"sos:{order}:1|") for m in messages)
    assert {m.subject for m in messages} == {"紧急求助"} and order in messages[0].body
    assert off.account_id not in {m.recipient for m in messages}


def test_nobody_on_duty_means_every_support_admin(kit: Kit, sos_order: tuple[str, Person]) -> None:
    order, therapist = sos_order
    a, b = kit.support(), kit.support()
    superadmin = kit.superadmin()
    kit.finance()
    kit.platform.duty.set_on_duty(a.actor, True)
    kit.platform.duty.set_on_duty(a.actor, False)
    kit.platform.orders.sos(therapist.actor, order, "help")
    assert {m.recipient for m in _sos_messages(kit, order)} == {a.account_id, b.account_id, superadmin.account_id}


def test_a_replay_sends_once_and_a_second_sos_sends_again(kit: Kit, sos_order: tuple[str, Person]) -> None:
    order, therapist = sos_order
    support = kit.support()
    kit.platform.duty.set_on_duty(support.actor, True)
    kit.platform.orders.sos(therapist.actor, order, "help")
    first = len(_sos_messages(kit, order))
    assert first == len(Channel)
    with kit.platform.deps.uow() as uow:
        stored: Order = uow.orders.get(OrderId(order))
        assert notify_sos(uow, kit.platform.deps, stored, kit.clock.now()) == 0
        uow.commit()
    assert len(_sos_messages(kit, order)) == first
    kit.clock.advance(dt.timedelta(minutes=2))
    kit.platform.orders.sos(therapist.actor, order, "still here")
    keys = {m.dedupe_key.split("|")[0] for m in _sos_messages(kit, order)}
    assert keys == {f"sos:{order}:1", f"sos:{order}:2"}


def test_a_refused_sos_writes_no_message(kit: Kit, sos_order: tuple[str, Person]) -> None:
    order, _ = sos_order
    kit.support()
    stranger = kit.therapist()
    with pytest.raises(NotFound):
        kit.platform.orders.sos(stranger.actor, order, "not my order")
    assert _sos_messages(kit, order) == []


def test_duty_is_audited_and_only_support_staff_may_go_on_duty(kit: Kit) -> None:
    support = kit.support()
    first = kit.platform.duty.set_on_duty(support.actor, True)
    again = kit.platform.duty.set_on_duty(support.actor, True)
    assert (first.on_duty, first.changed, again.changed) == (True, True, False)
    entries = [e for e in kit.audit_entries() if e.action == "duty.set"]
    assert [(e.actor, dict(e.details)["on"]) for e in entries] == [(support.account_id, "true")]
    roster = kit.platform.duty.roster(support.actor)
    assert [(s.account_id, s.on_duty) for s in roster if s.account_id == support.account_id] == [
        (support.account_id, True)]
    for person in (kit.finance(), kit.customer_by_phone(), kit.therapist()):
        with pytest.raises(PermissionDenied):
            kit.platform.duty.set_on_duty(person.actor, True)
        assert any(e.action == "duty.set" and e.actor == person.account_id for e in kit.denied_entries())
    with pytest.raises(ValidationError):
        kit.platform.duty.set_on_duty(SYSTEM, True)
    with pytest.raises(ValidationError):
        kit.platform.duty.set_on_duty(support.actor, "yes")  # type: ignore[arg-type]
