"""In-memory announcements, receipts and duty roster with the contract of the SQL ones."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TypeVar

import attrs

from massage_core.adapters.memory.store import Tables
from massage_core.domain.access import AdminRole, Role
from massage_core.domain.accounts import AccountStatus
from massage_core.domain.announcements import Announcement, AnnouncementId, AudienceMember, Receipt, StaffMember
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.notifications import Channel
from massage_core.domain.outbox import OutboxState, dedupe_key
from massage_core.domain.time import Instant
from massage_core.ports.announcements import AUDIENCE_PAGE, PAGE, AnnouncementRepository, DutyRoster


T = TypeVar("T")


def _page(found: Sequence[T], offset: int, limit: int) -> list[T]:
    start = max(offset, 0)
    return list(found[start:start + max(limit, 0)])


class MemoryAnnouncementRepository(AnnouncementRepository):
    """Announcements by id and receipts by (announcement, recipient)."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, announcement: Announcement) -> None:
        if announcement.id in self._t.announcements:
            raise Conflict(f"announcement {announcement.id} already exists", code="announcement.duplicate")
        self._t.announcements[announcement.id] = announcement

    def get(self, ident: AnnouncementId) -> Announcement:
        try:
            return self._t.announcements[ident]
        except KeyError:
            raise NotFound("announcement", ident) from None

    def set_targeted(self, ident: AnnouncementId, targeted: int) -> None:
        self._t.announcements[ident] = attrs.evolve(self.get(ident), targeted=targeted)

    def list(self, *, offset: int = 0, limit: int = PAGE) -> Sequence[Announcement]:
        found = sorted(self._t.announcements.values(), key=lambda a: (a.sent_at, a.id), reverse=True)
        return _page(found, offset, limit)

    def audience(self, roles: Collection[Role], *, after: AccountId | None = None,
                 limit: int = AUDIENCE_PAGE) -> Sequence[AudienceMember]:
        wanted = frozenset(roles)
        found: list[AudienceMember] = []
        for account in sorted(self._t.accounts.values(), key=lambda a: a.id):
            if (after is not None and account.id <= after) or account.status is not AccountStatus.ACTIVE \
                    or not account.roles & wanted:
                continue
            profile = self._t.therapists.get(account.id) if Role.THERAPIST in account.roles else None
            if profile is None:
                found.append(AudienceMember(account.id, account.roles))
            else:
                found.append(AudienceMember(account.id, account.roles, profile.area.lat, profile.area.lng,
                                            profile.level))
            if len(found) >= limit:
                break
        return found

    def add_recipients(self, ident: AnnouncementId, recipients: Sequence[AccountId]) -> int:
        self.get(ident)
        new = 0
        for recipient in recipients:
            if (ident, recipient) not in self._t.announcement_receipts:
                self._t.announcement_receipts[(ident, recipient)] = Receipt(ident, recipient)
                new += 1
        return new

    def receipt(self, ident: AnnouncementId, recipient: AccountId) -> Receipt | None:
        return self._t.announcement_receipts.get((ident, recipient))

    def mark_read(self, ident: AnnouncementId, recipient: AccountId, at: Instant) -> bool:
        found = self.receipt(ident, recipient)
        if found is None:
            raise NotFound("announcement", ident)
        if found.read_at is not None:
            return False
        self._t.announcement_receipts[(ident, recipient)] = attrs.evolve(found, read_at=at)
        return True

    def for_recipient(self, recipient: AccountId, *, unread_only: bool = False, offset: int = 0,
                      limit: int = PAGE) -> Sequence[tuple[Announcement, Receipt]]:
        mine = [(self._t.announcements[r.announcement_id], r) for (_, who), r in
                self._t.announcement_receipts.items() if who == recipient and not (unread_only and r.read_at)]
        mine.sort(key=lambda pair: (pair[0].sent_at, pair[0].id), reverse=True)
        return _page(mine, offset, limit)

    def read_count(self, ident: AnnouncementId) -> int:
        return sum(1 for (a, _), r in self._t.announcement_receipts.items() if a == ident and r.read_at)

    def delivered_count(self, ident: AnnouncementId) -> int:
        key = self.get(ident).event_key
        delivered = 0
        for (a, who) in self._t.announcement_receipts:
            message_id = self._t.outbox_keys.get(dedupe_key(key, who, Channel.INBOX)) if a == ident else None
            if message_id is not None and self._t.outbox[message_id].state is OutboxState.SENT:
                delivered += 1
        return delivered

    def unread(self, ident: AnnouncementId, *, offset: int = 0, limit: int = PAGE) -> Sequence[AccountId]:
        found = sorted(AccountId(who) for (a, who), r in self._t.announcement_receipts.items() if a == ident and not r.read_at)
        return _page(found, offset, limit)


class MemoryDutyRoster(DutyRoster):
    """The on-duty support admins in a dict."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def set(self, account: AccountId, on: bool, at: Instant) -> bool:
        if on == (account in self._t.on_duty):
            return False
        if on:
            self._t.on_duty[account] = at
        else:
            del self._t.on_duty[account]
        return True

    def staff(self, admin_roles: Collection[AdminRole]) -> Sequence[StaffMember]:
        wanted = frozenset(admin_roles)
        return [StaffMember(a.id, a.admin_roles, a.id in self._t.on_duty)
                for a in sorted(self._t.accounts.values(), key=lambda a: a.id)
                if a.status is AccountStatus.ACTIVE and Role.ADMIN in a.roles and a.admin_roles & wanted]
