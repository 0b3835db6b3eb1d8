"""Announcements and training notices (``platform.announcements``, issue 7; decision 0044).

* ``send`` (``announcements.manage``: support, superadmin, system; audited): resolves the audience at send
  time -- every active account of the audience's roles, a page of ``AUDIENCE_PAGE`` at a time, narrowed for
  therapists by city (``Policies.quality.cities``; the centre of the service area) and level -- writes a
  receipt per recipient and one outbox ``Note`` per page (category ``announcements``, key
  ``announcement:<id>``), all in one unit of work: the announcement and its messages exist together or not
  at all.
* ``list``, ``stats`` (targeted, delivered in the inbox, read) and ``not_read`` (who has not read it, paged):
  ``announcements.manage``.
* ``get``: managers, and the announcement's recipients; to anybody else it looks missing.
* ``mine`` and ``mark_read``: a recipient's own announcements and read receipt; somebody else's announcement
  looks missing (audited).  Reading the inbox item does not count as reading: the receipt is the explicit
  ``mark_read`` of the app's announcement screen.
"""

from __future__ import annotations

from collections.abc import Iterable

from attrs import frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.announcements import (
    Announcement,
    Receipt,
    Stats,
    announcement_id,
    reaches,
)
from massage_core.domain.errors import NotFound, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.notifications import Category
from massage_core.domain.time import Instant
from massage_core.ports.announcements import AUDIENCE_PAGE
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Service, not_found, page_bounds
from massage_core.services.notify import Note, enqueue

MAX_PAGE = 200


@frozen
class MyAnnouncement:
    """An announcement as its recipient sees it, with when they read it (None: unread)."""

    announcement: Announcement
    read_at: Instant | None


def _levels(values: Iterable[str] | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        raise ValidationError("levels are a collection of level codes", code="announcement.levels")
    return tuple(values)


class AnnouncementsService(Service):
    """``platform.announcements``: see the module docstring."""

    def send(self, actor: Actor, title: str, text: str, *, audience: str = "both", kind: str = "announcement",
             city: str | None = None, levels: Iterable[str] | None = None) -> Announcement:
        """Send an announcement (``kind`` ``announcement`` or ``training``) to ``audience`` (``customers``,
        ``therapists``, ``both``), for therapists optionally only in ``city`` and of ``levels``; returns it
        with ``targeted``, the number of recipients.

        Raises PermissionDenied (audited); ValidationError ``announcement.title`` (1..100 characters, one
        line), ``announcement.text`` (1..2000), ``announcement.kind``, ``announcement.audience`` (unknown, or
        a city / levels for an audience that is not ``therapists``), ``announcement.levels`` (unknown level
        codes), ``quality.city`` (not a configured city).
        Example: ``platform.announcements.send(admin, "新规", "…", audience="therapists", city="shanghai")``.
        """
        self._require(actor, Permission.ANNOUNCEMENTS_MANAGE, "announcements.send", "announcements")
        now = self._now()
        place = self._deps.policies.quality.city(city) if city is not None else None
        draft = Announcement(announcement_id(self._deps.ids.new_id("announcement")), kind, title, text,
                             audience, place.name if place else None, _levels(levels), actor.label, now)
        with self._uow() as uow:
            for code in sorted(draft.levels):
                try:
                    uow.levels.get(code)
                except NotFound:
                    raise ValidationError(f"no therapist level {code!r}", code="announcement.levels") from None
            uow.announcements.add(draft)
            targeted = self._deliver(uow, draft, now)
            uow.announcements.set_targeted(draft.id, targeted)
            self._audit_ok(uow, actor, "announcements.send", draft.id, now, audience=draft.audience.value,
                           kind=draft.kind.value, targeted=str(targeted))
            sent = uow.announcements.get(draft.id)
            uow.commit()
        return sent

    def _deliver(self, uow: UnitOfWork, announcement: Announcement, now: Instant) -> int:
        """Resolve the audience a page at a time; receipts and one outbox note per page.  Returns how many."""
        place = self._deps.policies.quality.city(announcement.city) if announcement.city else None
        values = {"title": announcement.title, "text": announcement.text}
        targeted, after = 0, None
        while True:
            page = uow.announcements.audience(announcement.audience.roles(), after=after, limit=AUDIENCE_PAGE)
            chosen = tuple(m.account_id for m in page if reaches(m, announcement.audience, place,
                                                                 announcement.levels))
            if chosen:
                targeted += uow.announcements.add_recipients(announcement.id, chosen)
                enqueue(uow, self._deps, Note("announcement", announcement.event_key, chosen, values,
                                              Category.ANNOUNCEMENTS), now)
            if len(page) < AUDIENCE_PAGE:
                return targeted
            after = page[-1].account_id

    def list(self, actor: Actor, *, offset: int = 0, limit: int = 50) -> tuple[Announcement, ...]:
        """Announcements sent, newest first (``announcements.manage``).  Raises PermissionDenied,
        ValidationError ``page.offset`` / ``page.limit`` (1..200)."""
        page_bounds(offset, limit, MAX_PAGE)
        self._require(actor, Permission.ANNOUNCEMENTS_MANAGE, "announcements.list", "announcements")
        with self._uow() as uow:
            return tuple(uow.announcements.list(offset=offset, limit=limit))

    def get(self, actor: Actor, announcement: str) -> Announcement:
        """One announcement: managers any, a recipient their own.  Raises ValidationError ``invalid_id``,
        PermissionDenied anonymous, NotFound (none, or not sent to the actor: audited)."""
        ident = announcement_id(announcement)
        manager = actor.may(Permission.ANNOUNCEMENTS_MANAGE)
        me = None if manager else self._me(actor, "announcements.get")
        with self._guard(actor, "announcements.get", ident), self._uow() as uow:
            if me is not None and uow.announcements.receipt(ident, me) is None:
                raise not_found("announcement", ident)
            return uow.announcements.get(ident)

    def mark_read(self, actor: Actor, announcement: str) -> Receipt:
        """The actor read an announcement sent to them; the first call sets the read time, later ones keep it.
        Raises ValidationError ``invalid_id``, ``actor.no_account``; NotFound (none, or not sent to the actor:
        audited)."""
        ident = announcement_id(announcement)
        me = self._me(actor, "announcements.mark_read")
        now = self._now()
        with self._guard(actor, "announcements.mark_read", ident), self._uow() as uow:
            if uow.announcements.receipt(ident, me) is None:
                raise not_found("announcement", ident)
            uow.announcements.mark_read(ident, me, now)
            receipt = uow.announcements.receipt(ident, me)
            uow.commit()
        assert receipt is not None
        return receipt

    def mine(self, actor: Actor, *, unread_only: bool = False, offset: int = 0,
             limit: int = 50) -> tuple[MyAnnouncement, ...]:
        """The announcements sent to the actor, newest first, with when they read each.  Raises
        ValidationError ``actor.no_account``, ``page.offset`` / ``page.limit``; PermissionDenied anonymous."""
        page_bounds(offset, limit, MAX_PAGE)
        me = self._me(actor, "announcements.mine")
        with self._uow() as uow:
            found = uow.announcements.for_recipient(me, unread_only=bool(unread_only), offset=offset, limit=limit)
        return tuple(MyAnnouncement(a, r.read_at) for a, r in found)

    def stats(self, actor: Actor, announcement: str) -> Stats:
        """How many the announcement targeted, how many got its inbox message, how many read it
        (``announcements.manage``).  Raises PermissionDenied, ValidationError ``invalid_id``, NotFound."""
        ident = announcement_id(announcement)
        self._require(actor, Permission.ANNOUNCEMENTS_MANAGE, "announcements.stats", ident)
        with self._uow() as uow:
            found = uow.announcements.get(ident)
            return Stats(ident, found.targeted, uow.announcements.delivered_count(ident),
                         uow.announcements.read_count(ident))

    def not_read(self, actor: Actor, announcement: str, *, offset: int = 0,
                 limit: int = 50) -> tuple[AccountId, ...]:
        """The recipients who have not read the announcement, by account id, a page at a time
        (``announcements.manage``).  Raises PermissionDenied, ValidationError ``invalid_id``,
        ``page.offset`` / ``page.limit``; NotFound."""
        ident = announcement_id(announcement)
        page_bounds(offset, limit, MAX_PAGE)
        self._require(actor, Permission.ANNOUNCEMENTS_MANAGE, "announcements.not_read", ident)
        with self._uow() as uow:
            uow.announcements.get(ident)
            return tuple(uow.announcements.unread(ident, offset=offset, limit=limit))

    def _me(self, actor: Actor, action: str) -> AccountId:
        """The acting account: PermissionDenied (audited) for nobody, ValidationError for the system."""
        if actor.is_system:
            raise ValidationError("the system has no announcements of its own", code="actor.no_account")
        if actor.account_id is None:
            self._require(actor, Permission.OWN_ACCOUNT_READ, action, "announcements")
        assert actor.account_id is not None
        return actor.account_id
