"""The SQL unit of work: one connection and one transaction per unit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection, Engine

from massage_core.adapters.sql.engine import translating
from massage_core.adapters.sql.fields import FieldCodec
from massage_core.adapters.sql.repositories import (
    SqlAccountRepository,
    SqlAuditTrail,
    SqlLoginRecordRepository,
    SqlOneTimeCodeRepository,
    SqlSessionRepository,
)
from massage_core.adapters.sql.repositories.catalog import (
    SqlCategoryRepository,
    SqlLevelRepository,
    SqlPackageRepository,
    SqlServiceRepository,
)
from massage_core.adapters.sql.repositories.locator import SqlTherapistLocator
from massage_core.adapters.sql.repositories.media import SqlMediaRepository
from massage_core.adapters.sql.repositories.orders import SqlOrderRepository
from massage_core.adapters.sql.repositories.coupons import SqlCouponRepository
from massage_core.adapters.sql.repositories.customers import SqlCustomerProfileRepository
from massage_core.adapters.sql.repositories.ledger import SqlLedgerRepository
from massage_core.adapters.sql.repositories.invoices import SqlInvoiceRepository
from massage_core.adapters.sql.repositories.therapists import SqlTherapistRepository
from massage_core.adapters.sql.repositories.reservations import SqlReservationRepository
from massage_core.adapters.sql.repositories.schedules import SqlScheduleRepository
from massage_core.adapters.sql.repositories.withdrawals import SqlWithdrawalRepository
from massage_core.adapters.sql.repositories.sanctions import SqlSanctionRepository
from massage_core.adapters.sql.repositories.reviews import SqlReviewRepository
from massage_core.adapters.sql.repositories.complaints import SqlComplaintsRepository
from massage_core.adapters.sql.repositories.feedback import SqlFeedbackRepository
from massage_core.adapters.sql.repositories.chat import SqlChatRepository
from massage_core.adapters.sql.repositories.outbox import SqlOutboxRepository
from massage_core.adapters.sql.repositories.announcements import SqlAnnouncementRepository, SqlDutyRoster
from massage_core.adapters.sql.repositories.inbox import SqlInboxRepository, SqlNotificationPreferencesRepository
from massage_core.ports.cipher import FieldCipher
from massage_core.ports.ids import IdGenerator
from massage_core.ports.unit_of_work import UnitOfWork


_Factory = Callable[[Connection, FieldCodec, IdGenerator], Any]
_REPOSITORIES: dict[str, _Factory] = {
    "accounts": lambda c, codec, ids: SqlAccountRepository(c, codec),
    "sessions": lambda c, codec, ids: SqlSessionRepository(c, codec),
    "login_records": lambda c, codec, ids: SqlLoginRecordRepository(c, codec),
    "one_time_codes": lambda c, codec, ids: SqlOneTimeCodeRepository(c),
    "audit": lambda c, codec, ids: SqlAuditTrail(c, ids),
    "levels": lambda c, codec, ids: SqlLevelRepository(c),
    "categories": lambda c, codec, ids: SqlCategoryRepository(c),
    "catalog_services": lambda c, codec, ids: SqlServiceRepository(c),
    "packages": lambda c, codec, ids: SqlPackageRepository(c),
    "therapists": lambda c, codec, ids: SqlTherapistRepository(c, codec),
    "media": lambda c, codec, ids: SqlMediaRepository(c),
    "schedules": lambda c, codec, ids: SqlScheduleRepository(c),
    "reservations": lambda c, codec, ids: SqlReservationRepository(c),
    "locator": lambda c, codec, ids: SqlTherapistLocator(c),
    "orders": lambda c, codec, ids: SqlOrderRepository(c, codec),
    "coupons": lambda c, codec, ids: SqlCouponRepository(c),
    "customers": lambda c, codec, ids: SqlCustomerProfileRepository(c, codec),
    "ledger": lambda c, codec, ids: SqlLedgerRepository(c),
    "invoices": lambda c, codec, ids: SqlInvoiceRepository(c, codec),
    "withdrawals": lambda c, codec, ids: SqlWithdrawalRepository(c),
    "sanctions": lambda c, codec, ids: SqlSanctionRepository(c, codec),
    "reviews": lambda c, codec, ids: SqlReviewRepository(c, codec),
    "complaints": lambda c, codec, ids: SqlComplaintsRepository(c, codec),
    "feedback": lambda c, codec, ids: SqlFeedbackRepository(c, codec),
    "chat": lambda c, codec, ids: SqlChatRepository(c, codec),
    "outbox": lambda c, codec, ids: SqlOutboxRepository(c, codec),
    "announcements": lambda c, codec, ids: SqlAnnouncementRepository(c),
    "duty": lambda c, codec, ids: SqlDutyRoster(c),
    "inbox": lambda c, codec, ids: SqlInboxRepository(c, codec),
    "notification_preferences": lambda c, codec, ids: SqlNotificationPreferencesRepository(c),
}


class SqlUnitOfWork(UnitOfWork):
    """Opens a connection and a transaction on enter; rolls back unless committed; closes on exit.

    The repositories are bound to that connection, so everything they do
    is one transaction.  On SQLite the transaction starts with ``BEGIN
    IMMEDIATE`` (see ``make_engine``), so a second unit waits for the
    first; when the wait exceeds the busy timeout, entering raises
    ``Conflict("conflict.busy")``.  A commit the database refuses raises
    ``Conflict`` as well.  After ``rollback()`` inside the block the unit goes
    on in a new transaction, with fresh repositories.  One instance may be
    entered again after it exits.

    Each repository is made on its first use in the unit (most units use two
    or three of them).
    """

    def __init__(self, engine: Engine, cipher: FieldCipher, ids: IdGenerator) -> None:
        """Use ``engine`` for connections, ``cipher`` for personal data and ``ids`` for audit entry ids."""
        super().__init__()
        self._engine = engine
        self._codec = FieldCodec(cipher)
        self._ids = ids
        self._connection: Connection | None = None
        self._bound: Connection | None = None

    @property
    def connection(self) -> Connection:
        """The connection of the running unit (RuntimeError outside ``with``)."""
        if self._connection is None:
            raise RuntimeError("the unit of work is not running; use it in a with block")
        return self._connection

    def _bind(self, connection: Connection) -> None:
        """Forget the repositories of the previous binding; ``__getattr__`` makes them for ``connection``."""
        state = self.__dict__
        for name in _REPOSITORIES:
            state.pop(name, None)
        self._bound = connection

    def __getattr__(self, name: str) -> Any:
        """A repository, made on first use and kept until the next binding."""
        factory = _REPOSITORIES.get(name)
        bound = self.__dict__.get("_bound")
        if factory is None or bound is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        repository = factory(bound, self._codec, self._ids)
        self.__dict__[name] = repository
        return repository

    def _begin(self) -> None:
        if self._connection is not None:
            raise RuntimeError("this unit of work is already running")
        with translating():
            connection = self._engine.connect()
        try:
            with translating():
                connection.begin()
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        self._bind(connection)

    def _commit(self) -> None:
        with translating():
            self.connection.commit()

    def _rollback(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.rollback()
        except BaseException:
            self._end()
            raise
        self._bind(self._connection)  # fresh repositories: what they remembered of the transaction is gone

    def _end(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
