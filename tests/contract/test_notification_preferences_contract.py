"""Run the NotificationPreferencesRepository contract against every backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from .notification_preferences import NotificationPreferencesRepositoryContract


class TestNotificationPreferencesRepository(NotificationPreferencesRepositoryContract):
    """NotificationPreferencesRepository on every backend."""
