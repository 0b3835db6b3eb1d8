"""The outbox writer every producer uses: ``enqueue(uow, deps, Note(...), now)`` (issue 7 P3; decision 0041).

A producer calls it inside its own unit of work, next to the change that caused the message, so the
messages exist exactly when that change commits and not at all when it rolls back.  Nothing is sent here:
``platform.notifications.dispatch`` delivers them later.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

import attrs
from attrs import field, frozen

from massage_core.domain.ids import AccountId
from massage_core.domain.inbox import NotificationSettings
from massage_core.domain.notifications import Category, Channel, Urgency
from massage_core.domain.outbox import OutboxMessage, dedupe_key
from massage_core.domain.templates import Value, render
from massage_core.domain.time import DEFAULT_ZONE, Instant, utc
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Dependencies

Values = Mapping[str, Value] | Callable[[AccountId], Mapping[str, Value]]


@frozen
class Note:
    """What happened and who hears about it.

    ``event`` is a template key of ``domain.templates``; ``key`` the event's business key
    (``order:<id>:accepted``), which with the recipient and the channel makes the dedupe key; ``values``
    the template's values, the same for every recipient or a function of the recipient (each recipient
    must only get what they may see); ``category`` selects the channels from each recipient's preferences;
    ``urgency`` ``urgent`` ignores quiet hours.
    """

    event: str
    key: str
    recipients: tuple[AccountId, ...]
    values: Values
    category: Category = field(converter=Category)
    urgency: Urgency = field(default=Urgency.NORMAL, converter=Urgency)


def _resolved(stored: NotificationSettings | None, zone: str | None) -> tuple[NotificationSettings, str]:
    return stored or NotificationSettings(), zone or DEFAULT_ZONE


def settings_of(uow: UnitOfWork, recipient: str) -> tuple[NotificationSettings, str]:
    """The recipient's stored settings (defaults when none) and the zone their quiet hours and times are
    read in: a therapist's profile zone when they have a profile, else ``DEFAULT_ZONE``.  Whatever the
    account's status (the preferences screen of its owner): the stored settings and the zone column alone."""
    zone = uow.therapists.zones_of([AccountId(recipient)]).get(AccountId(recipient))
    return _resolved(uow.notification_preferences.get(recipient), zone)


def settings_of_many(uow: UnitOfWork, recipients: Collection[str]) -> dict[str, tuple[NotificationSettings, str]]:
    """``settings_of`` for each ACTIVE account among ``recipients`` (unknown and suspended ones are left
    out), in one read per 1,000 of them: ``notification_preferences.recipients`` (the accounts' status, the
    stored settings and the therapist zones in one statement; nothing encrypted is read)."""
    if not recipients:
        return {}
    found = uow.notification_preferences.recipients(recipients)
    return {r: _resolved(*found[AccountId(r)]) for r in dict.fromkeys(recipients) if AccountId(r) in found}


def enqueue(uow: UnitOfWork, deps: Dependencies, note: Note, now: Instant) -> int:
    """Write one outbox message per recipient and channel chosen by the recipient's preferences (locale, zone,
    quiet hours -> due_at) in the CALLER's unit of work; returns how many were new (duplicates: 0).

    Per recipient (a recipient named twice counts once): the stored ``NotificationSettings`` (defaults when
    none), the zone of ``settings_of``; the message is rendered with ``domain.templates.render`` in the
    recipient's locale and zone, due at ``Preferences.deliver_at(now, urgency)`` (the ``inbox`` channel at
    ``now``: it interrupts nobody, so quiet hours do not hold it), one per channel of
    ``channels_for(category)`` with ``dedupe_key(note.key, recipient, channel)``.  Unknown and suspended
    accounts are skipped (nothing is written for them).  Nothing is committed here.

    The recipients are read in one batch (decision 0041 and its amendment): which are active, their stored
    settings and their therapist zones in one statement per call (per 1,000 recipients), not per recipient --
    plus the outbox's own insert.

    Errors: ValidationError ``template.event`` / ``template.values`` (a producer's bug: the caller's unit
    rolls back), ``outbox.key`` (a key that is not a short id).
    """
    at = utc(now)
    named = tuple(dict.fromkeys(note.recipients))
    chosen = settings_of_many(uow, named)
    recipients = [r for r in named if r in chosen]
    messages: list[OutboxMessage] = []
    for recipient in recipients:
        settings, zone_name = chosen[recipient]
        prefs = attrs.evolve(settings.preferences, zone_name=zone_name)
        values = note.values(recipient) if callable(note.values) else note.values
        rendered = render(note.event, settings.locale, values, zone_name)
        held = prefs.deliver_at(at, note.urgency)
        for channel in sorted(prefs.channels_for(note.category)):
            due = at if channel is Channel.INBOX else held  # the in-app inbox rings nobody: never held
            messages.append(OutboxMessage(
                id=deps.ids.new_id("notification"), dedupe_key=dedupe_key(note.key, recipient, channel),
                recipient=recipient, channel=channel, category=note.category, urgency=note.urgency,
                subject=rendered.subject, body=rendered.body, created_at=at, due_at=due))
    return uow.outbox.add(messages) if messages else 0
