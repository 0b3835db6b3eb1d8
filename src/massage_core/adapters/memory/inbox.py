"""In-memory inbox and notification preferences, with the contracts of the SQL ones."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from massage_core.adapters.memory.store import Tables
from massage_core.domain.ids import AccountId
from massage_core.domain.inbox import InboxItem, NotificationSettings
from massage_core.domain.time import Instant
from massage_core.ports.inbox import PAGE, InboxRepository
from massage_core.ports.notification_preferences import NotificationPreferencesRepository, Recipient


class MemoryInboxRepository(InboxRepository):
    """Items by id and the ids by dedupe key."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def deliver(self, item: InboxItem) -> bool:
        if item.dedupe_key in self._t.inbox_keys or item.id in self._t.inbox:
            return False
        self._t.inbox[item.id] = item
        self._t.inbox_keys[item.dedupe_key] = item.id
        return True

    def list(self, recipient: str, *, unread_only: bool = False, offset: int = 0,
             limit: int = PAGE) -> Sequence[InboxItem]:
        found = sorted((i for i in self._t.inbox.values()
                        if i.recipient == recipient and (i.unread or not unread_only)),
                       key=lambda i: (i.delivered_at, i.id), reverse=True)
        start = max(offset, 0)
        return found[start:start + max(limit, 0)]

    def unread_count(self, recipient: str) -> int:
        return sum(1 for i in self._t.inbox.values() if i.recipient == recipient and i.unread)

    def mark_read(self, recipient: str, ids: Collection[str], at: Instant) -> int:
        changed = 0
        for ident in set(ids):
            item = self._t.inbox.get(ident)
            if item is not None and item.recipient == recipient and item.unread:
                self._t.inbox[ident] = item.read(at)
                changed += 1
        return changed


class MemoryNotificationPreferencesRepository(NotificationPreferencesRepository):
    """Settings by account id."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def get(self, account: str) -> NotificationSettings | None:
        return self._t.notification_preferences.get(account)

    def recipients(self, accounts: Collection[str]) -> Mapping[AccountId, Recipient]:
        """The active accounts among ``accounts``: stored settings and therapist zone, each None when absent."""
        found: dict[AccountId, Recipient] = {}
        for ident in set(accounts):
            account = self._t.accounts.get(ident)
            if account is not None and account.is_active:
                profile = self._t.therapists.get(ident)
                found[account.id] = (self._t.notification_preferences.get(ident),
                                     profile.time_zone if profile is not None else None)
        return found

    def set(self, account: str, settings: NotificationSettings) -> None:
        self._t.notification_preferences[account] = settings
