"""The SQL unit of work: one connection and one transaction per unit."""

from __future__ import annotations

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
from massage_core.adapters.sql.repositories.therapists import SqlTherapistRepository
from massage_core.adapters.sql.repositories.reservations import SqlReservationRepository
from massage_core.adapters.sql.repositories.schedules import SqlScheduleRepository
from massage_core.ports.cipher import FieldCipher
from massage_core.ports.ids import IdGenerator
from massage_core.ports.unit_of_work import UnitOfWork


class SqlUnitOfWork(UnitOfWork):
    """Opens a connection and a transaction on enter; rolls back unless committed; closes on exit.

    The repositories are bound to that connection, so everything they do
    is one transaction.  On SQLite the transaction starts with ``BEGIN
    IMMEDIATE`` (see ``make_engine``), so a second unit waits for the
    first; when the wait exceeds the busy timeout, entering raises
    ``Conflict("conflict.busy")``.  A commit the database refuses raises
    ``Conflict`` as well.  After ``rollback()`` inside the block the unit goes
    on in a new transaction.  One instance may be entered again after it exits.
    """

    def __init__(self, engine: Engine, cipher: FieldCipher, ids: IdGenerator) -> None:
        """Use ``engine`` for connections, ``cipher`` for personal data and ``ids`` for audit entry ids."""
        super().__init__()
        self._engine = engine
        self._codec = FieldCodec(cipher)
        self._ids = ids
        self._connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        """The connection of the running unit (RuntimeError outside ``with``)."""
        if self._connection is None:
            raise RuntimeError("the unit of work is not running; use it in a with block")
        return self._connection

    def _bind(self, connection: Connection) -> None:
        self.accounts = SqlAccountRepository(connection, self._codec)
        self.sessions = SqlSessionRepository(connection, self._codec)
        self.login_records = SqlLoginRecordRepository(connection, self._codec)
        self.one_time_codes = SqlOneTimeCodeRepository(connection)
        self.audit = SqlAuditTrail(connection, self._ids)
        self.levels = SqlLevelRepository(connection)
        self.categories = SqlCategoryRepository(connection)
        self.catalog_services = SqlServiceRepository(connection)
        self.packages = SqlPackageRepository(connection)
        self.therapists = SqlTherapistRepository(connection, self._codec)
        self.media = SqlMediaRepository(connection)
        self.schedules = SqlScheduleRepository(connection)
        self.reservations = SqlReservationRepository(connection)
        self.locator = SqlTherapistLocator(connection)
        self.orders = SqlOrderRepository(connection, self._codec)
        self.coupons = SqlCouponRepository(connection)
        self.customers = SqlCustomerProfileRepository(connection, self._codec)

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

    def _end(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
