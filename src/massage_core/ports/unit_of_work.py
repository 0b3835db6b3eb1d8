"""The UnitOfWork port: one transaction around one use case."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self

from massage_core.domain.events import DomainEvent
from massage_core.ports.repositories import (
    AccountRepository,
    AuditTrail,
    LoginRecordRepository,
    OneTimeCodeRepository,
    SessionRepository,
)
from massage_core.ports.catalog import CategoryRepository, LevelRepository, PackageRepository, ServiceRepository
from massage_core.ports.media import MediaRepository
from massage_core.ports.orders import OrderRepository
from massage_core.ports.outbox import OutboxRepository
from massage_core.ports.announcements import AnnouncementRepository, DutyRoster
from massage_core.ports.inbox import InboxRepository
from massage_core.ports.notification_preferences import NotificationPreferencesRepository
from massage_core.ports.coupons import CouponRepository
from massage_core.ports.customers import CustomerProfileRepository
from massage_core.ports.invoices import InvoiceRepository
from massage_core.ports.ledger import LedgerRepository
from massage_core.ports.therapists import TherapistRepository
from massage_core.ports.schedules import ReservationRepository, ScheduleRepository
from massage_core.ports.search import TherapistLocator
from massage_core.ports.withdrawals import WithdrawalRepository
from massage_core.ports.sanctions import SanctionRepository
from massage_core.ports.complaints import ComplaintsRepository
from massage_core.ports.feedback import FeedbackRepository
from massage_core.ports.reviews import ReviewRepository
from massage_core.ports.chat import ChatRepository


class UnitOfWork(abc.ABC):
    """A context manager that rolls back unless ``commit`` was called.

    Usage::

        with uow_factory() as uow:
            account = uow.accounts.get(account_id)
            uow.accounts.save(account.suspend("spam", now))
            uow.commit()
    """

    accounts: AccountRepository
    sessions: SessionRepository
    login_records: LoginRecordRepository
    one_time_codes: OneTimeCodeRepository
    audit: AuditTrail
    levels: LevelRepository
    categories: CategoryRepository
    catalog_services: ServiceRepository
    packages: PackageRepository
    therapists: TherapistRepository
    media: MediaRepository
    schedules: ScheduleRepository
    reservations: ReservationRepository
    locator: TherapistLocator
    orders: OrderRepository
    coupons: CouponRepository
    customers: CustomerProfileRepository
    invoices: InvoiceRepository
    ledger: LedgerRepository
    withdrawals: WithdrawalRepository
    outbox: OutboxRepository
    announcements: AnnouncementRepository
    duty: DutyRoster
    inbox: InboxRepository
    notification_preferences: NotificationPreferencesRepository
    sanctions: SanctionRepository
    complaints: ComplaintsRepository
    feedback: FeedbackRepository
    reviews: ReviewRepository
    chat: ChatRepository

    def __init__(self) -> None:
        self._events: list[DomainEvent] = []
        self._committed = False

    def __enter__(self) -> Self:
        self._events = []
        self._committed = False
        self._begin()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._committed:
            self.rollback()
        self._end()

    def record(self, events: tuple[DomainEvent, ...]) -> None:
        """Collect domain events raised by a saved aggregate."""
        self._events.extend(events)

    def collect_events(self) -> list[DomainEvent]:
        """Return (and forget) the events collected since the unit began."""
        events, self._events = self._events, []
        return events

    def commit(self) -> None:
        """Make every change durable at once. Raises ``Conflict`` when storage refuses."""
        self._commit()
        self._committed = True

    def rollback(self) -> None:
        """Forget every change since the unit began."""
        self._rollback()

    @abc.abstractmethod
    def _begin(self) -> None:
        """Start the transaction."""

    @abc.abstractmethod
    def _commit(self) -> None:
        """Commit the transaction."""

    @abc.abstractmethod
    def _rollback(self) -> None:
        """Roll the transaction back."""

    def _end(self) -> None:
        """Release resources (a connection); called on every exit."""
