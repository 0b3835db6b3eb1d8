"""The OneTimeCodeRepository contract."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import attrs
import pytest

from massage_core.domain.authentication import CodePurpose
from massage_core.domain.errors import Conflict, NotFound
from massage_core.ports.unit_of_work import UnitOfWork
from storage_support import T0, make_code, subject_key

UowFactory = Callable[[], UnitOfWork]


class OneTimeCodeRepositoryContract:
    """Every OneTimeCodeRepository adapter behaves like this."""

    def test_latest_is_the_newest_for_the_phone_and_purpose(self, uow_factory: UowFactory) -> None:
        key, other = subject_key(), subject_key()
        codes = [
            make_code(key, at=T0),
            make_code(key, at=T0 + timedelta(minutes=2)),
            make_code(key, at=T0 + timedelta(minutes=1)),
            make_code(key, at=T0 + timedelta(minutes=3), purpose=CodePurpose.LINK),
            make_code(other, at=T0 + timedelta(minutes=9)),
        ]
        with uow_factory() as uow:
            for code in codes:
                uow.one_time_codes.add(code)
            uow.commit()
        with uow_factory() as uow:
            assert uow.one_time_codes.latest(key, CodePurpose.LOGIN) == codes[1]
            assert uow.one_time_codes.latest(key, CodePurpose.LINK) == codes[3]
            assert uow.one_time_codes.latest(subject_key(), CodePurpose.LOGIN) is None

    def test_sent_since_lists_creation_times_of_any_purpose(self, uow_factory: UowFactory) -> None:
        key = subject_key()
        with uow_factory() as uow:
            uow.one_time_codes.add(make_code(key, at=T0 - timedelta(seconds=1)))
            uow.one_time_codes.add(make_code(key, at=T0 + timedelta(minutes=2)))
            uow.one_time_codes.add(make_code(key, at=T0, purpose=CodePurpose.LINK))
            uow.one_time_codes.add(make_code(subject_key(), at=T0 + timedelta(minutes=1)))
            uow.commit()
        with uow_factory() as uow:
            assert sorted(uow.one_time_codes.sent_since(key, T0)) == [T0, T0 + timedelta(minutes=2)]
            assert uow.one_time_codes.sent_since(subject_key(), T0) == []

    def test_save_stores_attempts_and_consumption(self, uow_factory: UowFactory) -> None:
        code = make_code(subject_key())
        with uow_factory() as uow:
            uow.one_time_codes.add(code)
            uow.commit()
        used = attrs.evolve(code, attempts=2, consumed_at=T0 + timedelta(seconds=30))
        with uow_factory() as uow:
            uow.one_time_codes.save(used)
            uow.commit()
        with uow_factory() as uow:
            assert uow.one_time_codes.latest(code.subject_key, code.purpose) == used

    def test_save_missing_raises_not_found(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow, pytest.raises(NotFound):
            uow.one_time_codes.save(make_code(subject_key()))

    def test_duplicate_id_is_refused(self, uow_factory: UowFactory) -> None:
        code = make_code(subject_key())
        with uow_factory() as uow:
            uow.one_time_codes.add(code)
            with pytest.raises(Conflict) as caught:
                uow.one_time_codes.add(make_code(subject_key(), id=code.id))
            assert caught.value.code == "otp.duplicate"
            uow.commit()
        with uow_factory() as uow:
            assert uow.one_time_codes.latest(code.subject_key, code.purpose) == code
