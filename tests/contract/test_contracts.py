"""Run every port contract against every backend of the ``uow_factory`` fixture (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from .accounts import AccountRepositoryContract
from .audit import AuditTrailContract
from .login_records import LoginRecordRepositoryContract
from .one_time_codes import OneTimeCodeRepositoryContract
from .sessions import SessionRepositoryContract
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
