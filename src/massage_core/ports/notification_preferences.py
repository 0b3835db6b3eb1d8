"""Notification preferences (``uow.notification_preferences``): what each account chose to hear, and how.

An account that never chose anything has no stored settings; the writer then uses the defaults
(``NotificationSettings()``: ``DEFAULT_CHANNELS``, no quiet hours, zh-CN).
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping

from massage_core.domain.ids import AccountId
from massage_core.domain.inbox import NotificationSettings

Recipient = tuple[NotificationSettings | None, str | None]
"""What the outbox writer needs of one recipient: the stored settings (None: never chose any) and the therapist
profile's zone (None: no therapist profile)."""


class NotificationPreferencesRepository(abc.ABC):
    """Stored ``NotificationSettings`` per account id."""

    @abc.abstractmethod
    def get(self, account: str) -> NotificationSettings | None:
        """The account's stored settings, or None when it never chose any."""

    @abc.abstractmethod
    def recipients(self, accounts: Collection[str]) -> Mapping[AccountId, Recipient]:
        """The ``Recipient`` of each ACTIVE account among ``accounts`` (unknown and suspended ones are left out;
        an id named twice appears once), in one statement per 1,000 distinct ids: the accounts' status, their
        stored settings and their therapist zone, and nothing encrypted (decision 0041, amendment)."""

    @abc.abstractmethod
    def set(self, account: str, settings: NotificationSettings) -> None:
        """Store (replace) the account's settings."""
