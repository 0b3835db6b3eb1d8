"""The NotificationPreferencesRepository contract."""

from __future__ import annotations

from collections.abc import Callable

from massage_core.domain.ids import AccountId
from massage_core.domain.inbox import NotificationSettings
from massage_core.domain.notifications import Category, Channel, Preferences, QuietHours
from massage_core.ports.unit_of_work import UnitOfWork
from storage_support import make_account

UowFactory = Callable[[], UnitOfWork]


class NotificationPreferencesRepositoryContract:
    """Every NotificationPreferencesRepository adapter behaves like this."""

    def test_get_many_returns_the_stored_settings_of_those_who_chose_any(self, uow_factory: UowFactory) -> None:
        chose, replaced, silent = make_account(), make_account(), make_account()
        mine = NotificationSettings(Preferences({Category.ORDERS: frozenset({Channel.INBOX, Channel.EMAIL})},
                                                QuietHours.parse("22:00-08:00")), "en")
        with uow_factory() as uow:
            for account in (chose, replaced, silent):
                uow.accounts.add(account)
            uow.notification_preferences.set(chose.id, mine)
            uow.notification_preferences.set(replaced.id, mine)
            uow.notification_preferences.set(replaced.id, NotificationSettings())
            uow.commit()
        unknown = [AccountId(f"acc_{n:026d}") for n in range(1500)]  # sort before: more than one batch
        with uow_factory() as uow:
            found = uow.notification_preferences.get_many([*unknown, chose.id, replaced.id, silent.id, chose.id])
            assert dict(found) == {chose.id: mine, replaced.id: NotificationSettings()}
            assert found[chose.id] == uow.notification_preferences.get(chose.id)
            assert uow.notification_preferences.get(silent.id) is None
            assert dict(uow.notification_preferences.get_many([])) == {}
