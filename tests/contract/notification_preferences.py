"""The NotificationPreferencesRepository contract."""

from __future__ import annotations

from collections.abc import Callable

from catalog_support import make_profile
from massage_core.domain.ids import AccountId
from massage_core.domain.inbox import NotificationSettings
from massage_core.domain.notifications import Category, Channel, Preferences, QuietHours
from massage_core.ports.unit_of_work import UnitOfWork
from storage_support import T0, make_account

UowFactory = Callable[[], UnitOfWork]


class NotificationPreferencesRepositoryContract:
    """Every NotificationPreferencesRepository adapter behaves like this."""

    def test_recipients_reads_the_active_accounts_with_their_settings_and_zone(self, uow_factory: UowFactory) -> None:
        chose, replaced, silent, therapist = (make_account() for _ in range(4))
        gone = make_account().suspend("fraud", T0)
        mine = NotificationSettings(Preferences({Category.ORDERS: frozenset({Channel.INBOX, Channel.EMAIL})},
                                                QuietHours.parse("22:00-08:00")), "en")
        with uow_factory() as uow:
            for account in (chose, replaced, silent, therapist, gone):
                uow.accounts.add(account)
            uow.therapists.add(make_profile(therapist.id, time_zone="Asia/Urumqi"))
            uow.therapists.add(make_profile(gone.id, time_zone="Asia/Urumqi"))
            uow.notification_preferences.set(chose.id, mine)
            uow.notification_preferences.set(replaced.id, mine)
            uow.notification_preferences.set(replaced.id, NotificationSettings())
            uow.notification_preferences.set(therapist.id, mine)
            uow.notification_preferences.set(gone.id, mine)
            uow.commit()
        unknown = [AccountId(f"acc_{n:026d}") for n in range(1500)]  # sort before: more than one batch
        with uow_factory() as uow:
            found = uow.notification_preferences.recipients(
                [*unknown, chose.id, replaced.id, silent.id, therapist.id, gone.id, chose.id])
            assert dict(found) == {chose.id: (mine, None), replaced.id: (NotificationSettings(), None),
                                   silent.id: (None, None), therapist.id: (mine, "Asia/Urumqi")}
            assert found[chose.id][0] == uow.notification_preferences.get(chose.id)
            assert uow.notification_preferences.get(silent.id) is None
            assert uow.notification_preferences.get(gone.id) == mine  # stored, only not a recipient
            assert dict(uow.notification_preferences.recipients([])) == {}
            assert dict(uow.notification_preferences.recipients(unknown[:3])) == {}
