"""Notification preferences (``uow.notification_preferences``): what each account chose to hear, and how.

An account that never chose anything has no stored settings; the writer then uses the defaults
(``NotificationSettings()``: ``DEFAULT_CHANNELS``, no quiet hours, zh-CN).
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping

from massage_core.domain.inbox import NotificationSettings


class NotificationPreferencesRepository(abc.ABC):
    """Stored ``NotificationSettings`` per account id."""

    @abc.abstractmethod
    def get(self, account: str) -> NotificationSettings | None:
        """The account's stored settings, or None when it never chose any."""

    @abc.abstractmethod
    def get_many(self, accounts: Collection[str]) -> Mapping[str, NotificationSettings]:
        """The stored settings of those of ``accounts`` that chose any (the others are left out), in a
        bounded number of statements whatever the number of accounts."""

    @abc.abstractmethod
    def set(self, account: str, settings: NotificationSettings) -> None:
        """Store (replace) the account's settings."""
