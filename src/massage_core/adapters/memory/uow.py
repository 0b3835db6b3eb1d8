"""The in-memory unit of work: a lock plus a snapshot to roll back to."""

from __future__ import annotations

from massage_core.adapters.memory.repositories import (
    MemoryAccountRepository,
    MemoryAuditTrail,
    MemoryLoginRecordRepository,
    MemoryOneTimeCodeRepository,
    MemorySessionRepository,
)
from massage_core.adapters.memory.catalog import (
    MemoryCategoryRepository,
    MemoryLevelRepository,
    MemoryPackageRepository,
    MemoryServiceRepository,
)
from massage_core.adapters.memory.locator import MemoryTherapistLocator, reindex
from massage_core.adapters.memory.media import MemoryMediaRepository
from massage_core.adapters.memory.orders import MemoryOrderRepository
from massage_core.adapters.memory.outbox import MemoryOutboxRepository
from massage_core.adapters.memory.announcements import MemoryAnnouncementRepository, MemoryDutyRoster
from massage_core.adapters.memory.inbox import MemoryInboxRepository, MemoryNotificationPreferencesRepository
from massage_core.adapters.memory.coupons import MemoryCouponRepository
from massage_core.adapters.memory.customers import MemoryCustomerProfileRepository
from massage_core.adapters.memory.invoices import MemoryInvoiceRepository
from massage_core.adapters.memory.ledger import MemoryLedgerRepository
from massage_core.adapters.memory.store import MemoryStore, Tables
from massage_core.adapters.memory.therapists import MemoryTherapistRepository
from massage_core.adapters.memory.withdrawals import MemoryWithdrawalRepository
from massage_core.adapters.memory.sanctions import MemorySanctionRepository
from massage_core.adapters.memory.complaints import MemoryComplaintsRepository
from massage_core.adapters.memory.feedback import MemoryFeedbackRepository
from massage_core.adapters.memory.reviews import MemoryReviewRepository
from massage_core.adapters.memory.chat import MemoryChatRepository
from massage_core.adapters.memory.schedules import MemoryReservationRepository, MemoryScheduleRepository
from massage_core.ports.ids import IdGenerator
from massage_core.ports.unit_of_work import UnitOfWork

LOCK_TIMEOUT_SECONDS = 10.0


class MemoryUnitOfWork(UnitOfWork):
    """Serialises units of work on the store's lock; rollback restores the snapshot taken at the start.

    Like SQLite's single writer, a second unit of work waits for the first; a
    unit of work opened inside another on the same thread is a programming
    error and fails after a timeout instead of deadlocking.
    """

    def __init__(self, store: MemoryStore, ids: IdGenerator) -> None:
        super().__init__()
        self._store = store
        self._ids = ids
        self._snapshot: Tables | None = None
        self._bind(store.tables)

    def _bind(self, tables: Tables) -> None:
        self.accounts = MemoryAccountRepository(tables)
        self.sessions = MemorySessionRepository(tables)
        self.login_records = MemoryLoginRecordRepository(tables)
        self.one_time_codes = MemoryOneTimeCodeRepository(tables)
        self.audit = MemoryAuditTrail(tables, self._ids)
        self.levels = MemoryLevelRepository(tables)
        self.categories = MemoryCategoryRepository(tables)
        self.catalog_services = MemoryServiceRepository(tables)
        self.packages = MemoryPackageRepository(tables)
        self.therapists = MemoryTherapistRepository(tables)
        self.media = MemoryMediaRepository(tables)
        self.schedules = MemoryScheduleRepository(tables)
        self.reservations = MemoryReservationRepository(tables)
        self.locator = MemoryTherapistLocator(tables)
        self.orders = MemoryOrderRepository(tables)
        self.coupons = MemoryCouponRepository(tables)
        self.customers = MemoryCustomerProfileRepository(tables)
        self.invoices = MemoryInvoiceRepository(tables)
        self.ledger = MemoryLedgerRepository(tables)
        self.withdrawals = MemoryWithdrawalRepository(tables)
        self.outbox = MemoryOutboxRepository(tables)
        self.announcements = MemoryAnnouncementRepository(tables)
        self.duty = MemoryDutyRoster(tables)
        self.inbox = MemoryInboxRepository(tables)
        self.notification_preferences = MemoryNotificationPreferencesRepository(tables)
        self.sanctions = MemorySanctionRepository(tables)
        self.complaints = MemoryComplaintsRepository(tables)
        self.feedback = MemoryFeedbackRepository(tables)
        self.reviews = MemoryReviewRepository(tables)
        self.chat = MemoryChatRepository(tables)

    def _begin(self) -> None:
        if not self._store.lock.acquire(timeout=LOCK_TIMEOUT_SECONDS):
            raise RuntimeError("memory store busy: a unit of work was opened inside another one?")
        self._snapshot = self._store.tables.snapshot()
        self._bind(self._store.tables)

    def _commit(self) -> None:
        self._store.tables.located.clear()
        self._snapshot = self._store.tables.snapshot()

    def _rollback(self) -> None:
        if self._snapshot is not None:
            touched = self._store.tables.located
            self._store.tables = self._snapshot
            reindex(self._store.tables, touched)
            self._snapshot = self._store.tables.snapshot()
            self._bind(self._store.tables)

    def _end(self) -> None:
        self._snapshot = None
        self._store.lock.release()
