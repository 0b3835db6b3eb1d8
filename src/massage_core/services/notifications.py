"""The notifications context (``platform.notifications``, issue 7 P3; decision 0041): the outbox dispatcher,
the in-app inbox and each account's preferences.  Producers write messages with ``services.notify.enqueue``.

* ``dispatch`` (``outbox.manage``: superadmins and the system; cron-friendly, safe to run twice at once):
  claims up to ``limit`` due pending messages in one unit of work (a lease of ``lease_seconds``), then
  delivers each one *outside* that transaction and records the outcome in a unit of its own; once the lease
  ran out the run stops (the messages left are another run's to claim, never sent twice at once).  An outcome
  is recorded only under the run's own lease (``outbox.record``, compare-and-set): a run whose lease ran out
  during a send never overwrites the outcome of the run that claimed the message after it.  A message whose
  recipient is no longer active (suspended, or gone) is not sent: it is parked ``dead`` with the reason
  ``WITHHELD`` (an admin's ``retry`` sends it after reinstatement) -- except the ``safety`` category (an SOS
  alert still reaches a support admin suspended after it was raised: decision 0041).  The ``inbox``
  channel is the library's own: the item is stored and the message marked sent in ONE unit of work.  The
  other channels go through the ``Notifier`` given for them; the address is read here -- ``email``: the
  account's e-mail, ``sms``: its phone (decrypted only for the send, never logged), ``push``: the account id
  (the push provider's device token is looked up by it).  A channel without a notifier, an account without
  that address, a ``DeliveryFailed`` or any other error of the notifier is a failed attempt: retried with
  ``Policies.outbox_retry``'s backoff, parked as ``dead`` with its last error once the attempts ran out.
  Errors are stored with phone numbers, e-mail addresses and links masked.  A dispatcher that dies after a
  send and before recording it leaves its lease to run out; the next run sends again with the same dedupe
  key, which the channels use to show the message once (at least once, never twice visibly).
* ``retry`` (audited), ``outbox`` and ``counts``: the admins' view of the outbox (the body stays out of it).
* ``inbox``, ``unread_count``, ``mark_read``: the acting account's own inbox (another person's items are
  never listed nor counted); ``preferences`` / ``set_preferences``: its own choices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence

from attrs import evolve, frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import NotFound, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.inbox import InboxItem, NotificationSettings, locale as check_locale
from massage_core.domain.notifications import Category, Channel, Preferences, QuietHours
from massage_core.domain.outbox import OutboxMessage, OutboxState
from massage_core.domain.screening import Screener
from massage_core.domain.time import Instant
from massage_core.ports.notifiers import DeliveryFailed, Notifier
from massage_core.services.base import Dependencies, Service, page_bounds
from massage_core.services.notify import settings_of

MAX_BATCH = 1000
MAX_LEASE_SECONDS = 3600
WITHHELD = "not sent: the recipient's account is no longer active"
"""The reason stored with a message withheld at dispatch (the recipient was suspended, or is gone)."""
_CONTACTS = Screener.with_words(())
"""Masks contact details (phones, e-mails, ids, links) in the errors stored with a message."""


@frozen
class DispatchReport:
    """One dispatcher run: messages ``sent``, ``retried`` later, and parked ``dead``."""

    sent: int = 0
    retried: int = 0
    dead: int = 0


@frozen
class OutboxView:
    """An outbox message as admins see it: its delivery, the subject, not the body."""

    id: str
    recipient: str
    channel: str
    category: str
    urgency: str
    state: str
    attempts: int
    subject: str
    created_at: dt.datetime
    due_at: dt.datetime
    sent_at: dt.datetime | None
    last_error: str | None

    @classmethod
    def of(cls, m: OutboxMessage) -> OutboxView:
        return cls(m.id, m.recipient, m.channel.value, m.category.value, m.urgency.value, m.state.value,
                   m.attempts, m.subject, m.created_at, m.due_at, m.sent_at, m.last_error)


@frozen
class PreferencesView:
    """An account's notification choices: channels per category, quiet hours, locale and the zone they
    are read in."""

    channels: Mapping[str, tuple[str, ...]]
    quiet_hours: str | None
    locale: str
    zone: str

    @classmethod
    def of(cls, settings: NotificationSettings, zone: str) -> PreferencesView:
        prefs = settings.preferences
        return cls({c.value: tuple(sorted(ch.value for ch in prefs.channels_for(c))) for c in Category},
                   str(prefs.quiet_hours) if prefs.quiet_hours is not None else None, settings.locale, zone)


def _state(value: OutboxState | str | None) -> OutboxState | None:
    if value is None or isinstance(value, OutboxState):
        return value
    try:
        return OutboxState(value)
    except ValueError:
        raise ValidationError("state must be pending, sent or dead", code="outbox.state_name",
                              field="state") from None


def _bounded(name: str, value: object, top: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
        raise ValidationError(f"{name} must be 1..{top}", code=f"outbox.{name}", field=name)
    return value


def _quiet(value: QuietHours | str) -> QuietHours | None:
    if isinstance(value, str) and value.strip().lower() in ("", "off", "none"):
        return None
    return value if isinstance(value, QuietHours) else QuietHours.parse(value)


class NotificationsService(Service):
    """``platform.notifications``: see the module docstring."""

    def __init__(self, deps: Dependencies, notifiers: Mapping[Channel, Notifier] | None = None) -> None:
        """Deliver the non-inbox channels through ``notifiers`` (a channel missing here cannot be sent)."""
        super().__init__(deps)
        self._notifiers = {Channel(channel): notifier for channel, notifier in (notifiers or {}).items()}

    # -- the dispatcher -------------------------------------------------------------------------------

    def dispatch(self, actor: Actor, *, limit: int = 100, lease_seconds: int = 60) -> DispatchReport:
        """Deliver up to ``limit`` due messages (see the module docstring).

        Errors: PermissionDenied (not ``outbox.manage``), ValidationError ``outbox.limit`` (1..1000),
        ``outbox.lease_seconds`` (1..3600).  A notifier's failure is never raised: it is recorded.
        Example: ``platform.notifications.dispatch(Actor.system())`` -> ``DispatchReport(sent=3, ...)``.
        """
        self._require(actor, Permission.OUTBOX_MANAGE, "outbox.dispatch", "outbox")
        limit = _bounded("limit", limit, MAX_BATCH)
        lease = dt.timedelta(seconds=_bounded("lease_seconds", lease_seconds, MAX_LEASE_SECONDS))
        now = self._now()
        lease_until = now + lease
        with self._uow() as uow:
            claimed = list(uow.outbox.claim_due(now, lease_until, limit))
            uow.commit()
        outcomes: list[OutboxState | None] = []
        for message in claimed:
            if self._now() >= lease_until:  # slow sends ate the lease: another run may hold the rest now
                break
            outcomes.append(self._deliver(message, lease_until))
        return DispatchReport(sent=outcomes.count(OutboxState.SENT), retried=outcomes.count(OutboxState.PENDING),
                              dead=outcomes.count(OutboxState.DEAD))

    def _deliver(self, message: OutboxMessage, lease_until: Instant) -> OutboxState | None:
        """Deliver one message claimed until ``lease_until`` and record the outcome under that lease; None
        when the lease was lost (another run claimed or finished the message: its outcome stands)."""
        if message.category is not Category.SAFETY:
            with self._uow() as uow:
                active = AccountId(message.recipient) in uow.accounts.active_among([AccountId(message.recipient)])
            if not active:
                return self._record(message.withheld(WITHHELD), lease_until)
        if message.channel is Channel.INBOX:
            with self._uow() as uow:
                now = self._now()
                if not uow.outbox.record(message.delivered(now), lease_until):
                    return None
                uow.inbox.deliver(InboxItem(message.id, message.recipient, message.dedupe_key, message.category,
                                            message.subject, message.body, now))
                uow.commit()
            return OutboxState.SENT
        error = self._send(message)
        now = self._now()
        if error is None:
            return self._record(message.delivered(now), lease_until)
        return self._record(message.failed(_CONTACTS.screen(error).masked(), now, self._deps.policies.outbox_retry),
                            lease_until)

    def _record(self, done: OutboxMessage, lease_until: Instant) -> OutboxState | None:
        with self._uow() as uow:
            if not uow.outbox.record(done, lease_until):
                return None
            uow.commit()
        return done.state

    def _send(self, message: OutboxMessage) -> str | None:
        """Send through the channel's notifier; the reason of a failure, None when sent."""
        notifier = self._notifiers.get(message.channel)
        if notifier is None:
            return f"no notifier is configured for the {message.channel} channel"
        address = self._address(message)
        if address is None:
            return f"the recipient has no address for the {message.channel} channel"
        try:
            notifier.send(message, address)
        except DeliveryFailed as exc:
            return (exc.message if exc.code == DeliveryFailed.code else str(exc)) or "delivery failed"
        except Exception as exc:  # a notifier's bug or an unexpected network error: retried, never fatal
            return f"{type(exc).__name__}: {exc}"
        return None

    def _address(self, message: OutboxMessage) -> str | None:
        if message.channel is Channel.PUSH:
            return message.recipient
        with self._uow() as uow:
            try:
                account = uow.accounts.get(AccountId(message.recipient))
            except NotFound:
                return None
        if message.channel is Channel.EMAIL:
            return account.email.address if account.email is not None else None
        return account.phone.e164 if account.phone is not None else None

    # -- admins ---------------------------------------------------------------------------------------

    def retry(self, actor: Actor, message_id: str) -> OutboxView:
        """Give a dead message a fresh set of attempts, due now (audited ``outbox.retry``).

        Errors: PermissionDenied, NotFound (no such message), Conflict ``outbox.state`` (not dead).
        """
        self._require(actor, Permission.OUTBOX_MANAGE, "outbox.retry", str(message_id))
        with self._uow() as uow:
            now = self._now()
            revived = uow.outbox.get(str(message_id)).revived(now)
            uow.outbox.save(revived)
            self._audit_ok(uow, actor, "outbox.retry", revived.id, now, channel=revived.channel.value)
            uow.commit()
        return OutboxView.of(revived)

    def outbox(self, actor: Actor, state: OutboxState | str | None = None, *, offset: int = 0,
               limit: int = 50) -> Sequence[OutboxView]:
        """Outbox messages (in ``state`` when given: pending, sent, dead), oldest first, without bodies.

        Errors: PermissionDenied, ValidationError ``outbox.state_name``, ``page.offset``, ``page.limit``.
        """
        self._require(actor, Permission.OUTBOX_MANAGE, "outbox.list", "outbox")
        wanted = _state(state)
        offset, limit = page_bounds(offset, limit)
        with self._uow() as uow:
            return [OutboxView.of(m) for m in uow.outbox.list(wanted, offset=offset, limit=limit)]

    def counts(self, actor: Actor) -> Mapping[str, int]:
        """How many messages are pending, sent and dead.  Errors: PermissionDenied."""
        self._require(actor, Permission.OUTBOX_MANAGE, "outbox.counts", "outbox")
        with self._uow() as uow:
            found = uow.outbox.counts()
        return {state.value: found.get(state, 0) for state in OutboxState}

    # -- the account's own inbox and preferences --------------------------------------------------------

    def _me(self, actor: Actor, permission: Permission, action: str) -> AccountId:
        self._require(actor, permission, action, actor.label)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        return actor.account_id

    def inbox(self, actor: Actor, *, unread_only: bool = False, offset: int = 0,
              limit: int = 50) -> Sequence[InboxItem]:
        """The actor's own inbox, newest first (only unread items when ``unread_only``).

        Errors: PermissionDenied (anonymous), ValidationError ``actor.no_account`` (the system),
        ``page.offset``, ``page.limit``.
        """
        me = self._me(actor, Permission.OWN_ACCOUNT_READ, "notifications.inbox")
        offset, limit = page_bounds(offset, limit)
        with self._uow() as uow:
            return list(uow.inbox.list(me, unread_only=bool(unread_only), offset=offset, limit=limit))

    def unread_count(self, actor: Actor) -> int:
        """How many items of the actor's own inbox are unread.  Errors: as ``inbox``."""
        me = self._me(actor, Permission.OWN_ACCOUNT_READ, "notifications.unread_count")
        with self._uow() as uow:
            return uow.inbox.unread_count(me)

    def mark_read(self, actor: Actor, ids: Collection[str]) -> int:
        """Mark items of the actor's own inbox read; returns how many changed (another person's items, unknown
        ids and items already read are not counted and not touched).

        Errors: PermissionDenied (anonymous), ValidationError ``actor.no_account``, ``inbox.ids`` (not a
        collection of ids, or more than 1000).
        """
        me = self._me(actor, Permission.OWN_ACCOUNT_MANAGE, "notifications.mark_read")
        if isinstance(ids, str) or not isinstance(ids, Iterable):
            raise ValidationError("ids are a collection of inbox item ids", code="inbox.ids", field="ids")
        wanted = {str(i) for i in ids}
        if len(wanted) > MAX_BATCH:
            raise ValidationError(f"at most {MAX_BATCH} ids at once", code="inbox.ids", field="ids")
        if not wanted:
            return 0
        with self._uow() as uow:
            changed = uow.inbox.mark_read(me, wanted, self._now())
            uow.commit()
        return changed

    def preferences(self, actor: Actor) -> PreferencesView:
        """The actor's own notification choices (the defaults until they chose).  Errors: as ``inbox``."""
        me = self._me(actor, Permission.OWN_ACCOUNT_READ, "notifications.preferences")
        with self._uow() as uow:
            settings, zone = settings_of(uow, me)
        return PreferencesView.of(settings, zone)

    def set_preferences(self, actor: Actor, *, channels: Mapping[str, Iterable[str]] | None = None,
                        quiet_hours: QuietHours | str | None = None, locale: str | None = None) -> PreferencesView:
        """Change the actor's own choices; what is not given stays.  ``channels``: category -> channel names
        (the categories given are replaced; the inbox stays on and safety stays on every channel);
        ``quiet_hours``: ``"22:00-08:00"`` or ``"off"``; ``locale``: ``zh-CN`` or ``en``.

        Errors: PermissionDenied (anonymous), ValidationError ``actor.no_account``,
        ``notification.channels``, ``notification.quiet_hours``, ``notification.locale``.
        Example: ``set_preferences(actor, channels={"promotions": []}, quiet_hours="22:00-08:00")``.
        """
        me = self._me(actor, Permission.OWN_ACCOUNT_MANAGE, "notifications.set_preferences")
        with self._uow() as uow:
            settings, zone = settings_of(uow, me)
            prefs = settings.preferences
            if channels is not None:
                if not isinstance(channels, Mapping):
                    raise ValidationError("channels are chosen per category", code="notification.channels")
                merged: dict[str, Iterable[str]] = {c.value: chosen for c, chosen in prefs.channels.items()}
                merged.update(channels)
                prefs = evolve(prefs, channels=merged)
            if quiet_hours is not None:
                prefs = evolve(prefs, quiet_hours=_quiet(quiet_hours))
            settings = NotificationSettings(Preferences(prefs.channels, prefs.quiet_hours),
                                            check_locale(locale) if locale is not None else settings.locale)
            uow.notification_preferences.set(me, settings)
            uow.commit()
        return PreferencesView.of(settings, zone)
