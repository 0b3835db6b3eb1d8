"""Run every port contract against every backend of the ``uow_factory`` fixture (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from massage_core.adapters.files.media_store import FilesystemMediaStore
from massage_core.adapters.memory.media import MemoryMediaStore
from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import MediumId
from massage_core.ports.media import MediaStore

from .accounts import AccountRepositoryContract
from .audit import AuditTrailContract
from .coupons import CouponRepositoryContract
from .catalog import (
    CategoryRepositoryContract,
    LevelRepositoryContract,
    PackageRepositoryContract,
    ServiceRepositoryContract,
)
from .login_records import LoginRecordRepositoryContract
from .one_time_codes import OneTimeCodeRepositoryContract
from .orders import OrderRepositoryContract
from .schedules import ReservationRepositoryContract, ScheduleRepositoryContract
from .media import MediaRepositoryContract, MediaStoreContract
from .search import TherapistLocatorContract
from .sessions import SessionRepositoryContract
from .therapists import TherapistRepositoryContract
from .unit_of_work import UnitOfWorkContract


class TestAccountRepository(AccountRepositoryContract):
    """AccountRepository on every backend."""


class TestSessionRepository(SessionRepositoryContract):
    """SessionRepository on every backend."""


class TestLoginRecordRepository(LoginRecordRepositoryContract):
    """LoginRecordRepository on every backend."""


class TestOneTimeCodeRepository(OneTimeCodeRepositoryContract):
    """OneTimeCodeRepository on every backend."""


class TestAuditTrail(AuditTrailContract):
    """AuditTrail on every backend."""


class TestUnitOfWork(UnitOfWorkContract):
    """UnitOfWork on every backend."""


class TestLevelRepository(LevelRepositoryContract):
    """LevelRepository on every backend."""


class TestCategoryRepository(CategoryRepositoryContract):
    """CategoryRepository on every backend."""


class TestServiceRepository(ServiceRepositoryContract):
    """ServiceRepository on every backend."""


class TestPackageRepository(PackageRepositoryContract):
    """PackageRepository on every backend."""


class TestTherapistRepository(TherapistRepositoryContract):
    """TherapistRepository on every backend."""


class TestScheduleRepository(ScheduleRepositoryContract):
    """ScheduleRepository on every backend."""


class TestReservationRepository(ReservationRepositoryContract):
    """ReservationRepository on every backend."""


class TestOrderRepository(OrderRepositoryContract):
    """OrderRepository on every backend (memory, SQLite, PostgreSQL)."""


class TestCouponRepository(CouponRepositoryContract):
    """CouponRepository on every backend (memory, SQLite, PostgreSQL), the last-use race included."""


class TestMediaRepository(MediaRepositoryContract):
    """MediaRepository on every backend."""


class TestTherapistLocator(TherapistLocatorContract):
    """TherapistLocator on every backend (memory grid, SQLite and PostgreSQL bounding boxes)."""


@pytest.fixture(params=["memory", "filesystem"])
def media_store(request: pytest.FixtureRequest, tmp_path: Path) -> MediaStore:
    """Each MediaStore adapter."""
    if request.param == "memory":
        return MemoryMediaStore()
    return FilesystemMediaStore(tmp_path / "media")


class TestMediaStore(MediaStoreContract):
    """MediaStore on memory and the file system."""


def test_the_filesystem_store_refuses_keys_that_are_not_medium_ids(tmp_path: Path) -> None:
    store = FilesystemMediaStore(tmp_path / "media")
    for key in ("../escape", "med_../../etc", "acc_00000000000000000000000001"):
        with pytest.raises(ValidationError):
            store.put(MediumId(key), b"x")
    assert not (tmp_path / "escape").exists()
