"""The LoginRecordRepository contract."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from massage_core.domain.authentication import LoginOutcome
from massage_core.ports.unit_of_work import UnitOfWork
from storage_support import T0, make_account, make_record, subject_key

UowFactory = Callable[[], UnitOfWork]


def new_account(uow_factory: UowFactory) -> str:
    """A committed account for records to refer to."""
    with uow_factory() as uow:
        account = uow.accounts.add(make_account())
        uow.commit()
    return account.id


class LoginRecordRepositoryContract:
    """Every LoginRecordRepository adapter behaves like this."""

    def test_records_round_trip_newest_first_with_limit(self, uow_factory: UowFactory) -> None:
        account_id, key = new_account(uow_factory), subject_key()
        nobody = new_account(uow_factory)
        records = [
            make_record(key, at=T0 + timedelta(seconds=s), account_id=account_id, outcome=outcome,
                        ip="2001:db8::1", device="微信 8.0 / Android 14")
            for s, outcome in ((3, LoginOutcome.SUCCESS), (1, LoginOutcome.FAILED), (2, LoginOutcome.THROTTLED),
                               (4, LoginOutcome.SUSPENDED))
        ]
        with uow_factory() as uow:
            for record in records:
                uow.login_records.add(record)
            uow.login_records.add(make_record(key))  # no account
            uow.commit()
        newest_first = sorted(records, key=lambda r: r.at, reverse=True)
        with uow_factory() as uow:
            assert uow.login_records.list_for_account(account_id) == newest_first
            assert uow.login_records.list_for_account(account_id, limit=2) == newest_first[:2]
            assert uow.login_records.list_for_account(nobody) == []

    def test_failures_since_counts_failed_attempts_by_identifier_or_account(self, uow_factory: UowFactory) -> None:
        account_id, key, other_key = new_account(uow_factory), subject_key(), subject_key()
        other_account = new_account(uow_factory)
        since = T0
        records = [
            make_record(key, at=since - timedelta(microseconds=1)),  # too early
            make_record(key, at=since),  # boundary: counted
            make_record(key, at=since + timedelta(minutes=2)),
            make_record(key, at=since + timedelta(minutes=1), outcome=LoginOutcome.SUCCESS),
            make_record(key, at=since + timedelta(minutes=1), outcome=LoginOutcome.THROTTLED),
            make_record(other_key, at=since + timedelta(minutes=3), account_id=account_id),  # same account
            make_record(other_key, at=since + timedelta(minutes=4)),  # neither
            make_record(other_key, at=since + timedelta(minutes=5), account_id=other_account),
        ]
        with uow_factory() as uow:
            for record in records:
                uow.login_records.add(record)
            uow.commit()
        with uow_factory() as uow:
            by_key = sorted(uow.login_records.failures_since(key, None, since))
            assert by_key == [since, since + timedelta(minutes=2)]
            both = sorted(uow.login_records.failures_since(key, account_id, since))
            assert both == [since, since + timedelta(minutes=2), since + timedelta(minutes=3)]
            assert uow.login_records.failures_since(subject_key(), None, since) == []
            later = uow.login_records.failures_since(key, account_id, since + timedelta(minutes=2, seconds=1))
            assert list(later) == [since + timedelta(minutes=3)]
