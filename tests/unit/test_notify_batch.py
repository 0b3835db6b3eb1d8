"""The outbox writer reads its recipients in batches (decision 0041) and writes exactly what reading them one by
one wrote: the same messages for customers, therapists in their profile zone, stored settings, quiet hours,
duplicates, unknown and suspended ids -- on the memory adapters."""

from __future__ import annotations

import attrs
import pendulum
import pytest

from catalog_support import make_profile
from conftest import Kit
from massage_core.adapters.memory.inbox import MemoryNotificationPreferencesRepository
from massage_core.adapters.memory.repositories import MemoryAccountRepository
from massage_core.adapters.memory.therapists import MemoryTherapistRepository
from massage_core.domain.errors import NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.inbox import NotificationSettings
from massage_core.domain.notifications import Category, Channel, Preferences, QuietHours, Urgency
from massage_core.domain.outbox import dedupe_key
from massage_core.domain.templates import Value, render
from massage_core.domain.time import DEFAULT_ZONE, utc
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.notify import Note, enqueue, settings_of

Expected = tuple[str, str, Channel, Category, Urgency, str, str, object]
UNKNOWN = AccountId("acc_0000000000000000000000000Z")


def one_by_one(uow: UnitOfWork, note: Note, now: pendulum.DateTime) -> list[Expected]:
    """The messages the writer wrote when it read each recipient alone (account, settings, profile)."""
    expected: list[Expected] = []
    for recipient in dict.fromkeys(note.recipients):
        try:
            if not uow.accounts.get(recipient).is_active:
                continue
        except NotFound:
            continue
        settings = uow.notification_preferences.get(recipient) or NotificationSettings()
        profile = uow.therapists.find(recipient)
        zone = profile.time_zone if profile is not None else DEFAULT_ZONE
        prefs = attrs.evolve(settings.preferences, zone_name=zone)
        values = note.values(recipient) if callable(note.values) else note.values
        rendered = render(note.event, settings.locale, values, zone)
        for channel in sorted(prefs.channels_for(note.category)):
            expected.append((dedupe_key(note.key, recipient, channel), recipient, channel, note.category,
                             note.urgency, rendered.subject, rendered.body,
                             utc(now) if channel is Channel.INBOX else prefs.deliver_at(utc(now), note.urgency)))
    return sorted(expected, key=lambda e: e[0])


def written(k: Kit, key: str) -> list[Expected]:
    return sorted(((m.dedupe_key, m.recipient, m.channel, m.category, m.urgency, m.subject, m.body, m.due_at)
                   for m in k.tables.outbox.values() if m.dedupe_key.startswith(key)), key=lambda e: e[0])


def crowd(kit: Kit) -> tuple[AccountId, ...]:
    """Customers with and without stored settings, therapists with a profile zone and without a profile, a
    suspended account and an unknown id, some named twice."""
    plain, english = kit.customer_by_phone().account_id, kit.customer_by_phone().account_id
    urumqi, beijing, no_profile = (kit.therapist().account_id for _ in range(3))
    gone = kit.customer_by_phone().account_id
    kit.platform.users.suspend(kit.superadmin().actor, gone, "spam")
    quiet = QuietHours.parse("22:00-08:00")
    with kit.platform.deps.uow() as uow:
        uow.therapists.add(make_profile(urumqi, time_zone="Asia/Urumqi"))
        uow.therapists.add(make_profile(beijing))
        uow.notification_preferences.set(english, NotificationSettings(Preferences(
            {Category.ORDERS: frozenset({Channel.INBOX, Channel.SMS, Channel.EMAIL})}, quiet), "en"))
        uow.notification_preferences.set(urumqi, NotificationSettings(Preferences(quiet_hours=quiet), "en"))
        uow.notification_preferences.set(beijing, NotificationSettings(Preferences(quiet_hours=quiet)))
        uow.commit()
    return (plain, english, UNKNOWN, urumqi, gone, beijing, no_profile, plain, urumqi)


@pytest.mark.parametrize("urgency", list(Urgency))
def test_the_batch_writes_what_one_by_one_wrote(kit: Kit, monkeypatch: pytest.MonkeyPatch,
                                                 urgency: Urgency) -> None:
    recipients = crowd(kit)
    # 22:30 in Shanghai: quiet for those in Beijing's zone, 20:30 and not yet quiet in Urumqi
    kit.clock.set(pendulum.datetime(2026, 1, 5, 22, 30, tz="Asia/Shanghai"))
    now = kit.clock.now()
    start = pendulum.datetime(2026, 1, 6, 2, 0, tz="UTC")

    def values(who: AccountId) -> dict[str, Value]:
        return {"order": f"o-{who[-4:]}", "start": start, "service": "推拿"}

    note = Note("order.reminder", "order:o1:remind:120", recipients, values, Category.ORDERS, urgency)
    with kit.platform.deps.uow() as uow:
        expected = one_by_one(uow, note, now)

    def one_at_a_time(*args: object, **kwargs: object) -> None:
        raise AssertionError("enqueue must read its recipients in batches")

    for port, name in ((MemoryAccountRepository, "get"), (MemoryAccountRepository, "status_of"),
                       (MemoryNotificationPreferencesRepository, "get"), (MemoryTherapistRepository, "find")):
        monkeypatch.setattr(port, name, one_at_a_time)
    with kit.platform.deps.uow() as uow:
        count = enqueue(uow, kit.platform.deps, note, now)
        uow.commit()
    monkeypatch.undo()
    assert written(kit, "order:o1:") == expected and count == len(expected) == 15
    # what the mix is there for: the zone, the locale, the channels and the quiet hours all show
    by_recipient = {e[1]: e for e in expected if e[2] is Channel.INBOX}
    plain, english, _, urumqi, _, beijing, _, _, _ = recipients
    assert "6 Jan 08:00" in by_recipient[urumqi][6] and "2026-01-06 10:00" in by_recipient[beijing][6]
    assert (by_recipient[english][5], by_recipient[plain][5]) == ("Reminder", "服务提醒")
    assert {e[2] for e in expected if e[1] == english} == {Channel.INBOX, Channel.SMS, Channel.EMAIL}
    deferred = {e[1] for e in expected if e[7] != utc(now)}
    assert deferred == (set() if urgency is Urgency.URGENT else {english, beijing})
    with kit.platform.deps.uow() as uow:  # a second write of the same note is all duplicates
        assert enqueue(uow, kit.platform.deps, note, now) == 0


def test_settings_of_is_the_batch_read_of_one(kit: Kit) -> None:
    plain, english, unknown, urumqi, *_ = crowd(kit)
    with kit.platform.deps.uow() as uow:
        assert settings_of(uow, plain) == (NotificationSettings(), DEFAULT_ZONE)
        assert settings_of(uow, urumqi) == (uow.notification_preferences.get(urumqi), "Asia/Urumqi")
        assert settings_of(uow, english)[0].locale == "en"
        assert settings_of(uow, unknown) == (NotificationSettings(), DEFAULT_ZONE)


def test_nobody_to_hear_writes_nothing(kit: Kit) -> None:
    note = Note("announcement", "announcement:a1", (UNKNOWN,), {"title": "t", "text": "x"}, Category.ANNOUNCEMENTS)
    empty = attrs.evolve(note, recipients=())
    with kit.platform.deps.uow() as uow:
        assert enqueue(uow, kit.platform.deps, note, kit.clock.now()) == 0
        assert enqueue(uow, kit.platform.deps, empty, kit.clock.now()) == 0
        uow.commit()
    assert written(kit, "announcement:") == []
