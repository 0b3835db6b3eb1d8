"""What every service shares: its dependencies, permission checks and denial auditing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from attrs import field, frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.audit import AuditOutcome, AuditRecord
from massage_core.domain.authentication import OneTimeCodePolicy, SessionPolicy, ThrottlePolicy
from massage_core.domain.errors import MassageError, NotFound, PermissionDenied, ValidationError
from massage_core.domain.schedules import SchedulingPolicy
from massage_core.domain.cancellation import CancellationPolicy
from massage_core.domain.dispatch import DispatchPolicy
from massage_core.domain.postings import CommissionPolicy
from massage_core.domain.pricing import PricingPolicy
from massage_core.domain.withdrawals import WithdrawalPolicy
from massage_core.domain.quality import QualityPolicy
from massage_core.domain.outbox import RetryPolicy
from massage_core.domain.search import RatingPrior
from massage_core.domain.time import Instant
from massage_core.ports.background_check import BackgroundCheck
from massage_core.ports.cipher import FieldCipher
from massage_core.ports.clock import Clock
from massage_core.ports.identity import IdentityProvider, OneTimeCodeSender
from massage_core.ports.ids import IdGenerator
from massage_core.ports.key_rotation import FieldReencryptor
from massage_core.ports.media import MediaStore
from massage_core.ports.passwords import CommonPasswords, PasswordHasher
from massage_core.ports.payments import PaymentGateway
from massage_core.ports.unit_of_work import UnitOfWork


def page_bounds(offset: object, limit: object, max_limit: int = 200) -> tuple[int, int]:
    """Validate a page: ``offset`` >= 0 (ValidationError ``page.offset``), ``limit`` 1..``max_limit``
    (``page.limit``); booleans are not numbers here."""
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ValidationError("offset must be a non-negative integer", code="page.offset", field="offset")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= max_limit:
        raise ValidationError(f"limit must be 1..{max_limit}", code="page.limit", field="limit")
    return offset, limit


@frozen
class Policies:
    """Every tunable rule of the accounts context, in one configuration object."""

    sessions: SessionPolicy = SessionPolicy()
    throttle: ThrottlePolicy = ThrottlePolicy()
    codes: OneTimeCodePolicy = OneTimeCodePolicy()
    password_min_length: int = 8
    password_max_length: int = 128
    scheduling: SchedulingPolicy = SchedulingPolicy()
    pricing: PricingPolicy = PricingPolicy()
    cancellation: CancellationPolicy = CancellationPolicy()
    payment_window_minutes: int = 15
    acceptance_timeout_minutes: int = 10
    auto_complete_hours: int = 24
    reminder_leads_minutes: tuple[int, ...] = (120, 30)
    dispatch: DispatchPolicy = DispatchPolicy()
    commission: CommissionPolicy = CommissionPolicy()
    withdrawals: WithdrawalPolicy = WithdrawalPolicy()
    settlement_days: int = 7
    """Completed orders' pending income and tips become payable this many days after completion (T+N)."""
    adjustment_cap_fen: int = 1_000_000
    """The largest single bonus or penalty an admin may post, in fen (default 10,000 yuan)."""
    batch_two_admin_threshold_fen: int = 5_000_000
    """A payout batch whose total net is above this (fen; default 50,000 yuan) needs two admins' approvals."""
    appeal_window_days: int = 7
    """A therapist may appeal a sanction this many days after it was imposed (decision 0039)."""
    quality: QualityPolicy = QualityPolicy()
    """The quality score's weights, priors and window, and the rankings' cities (decision 0039)."""
    complaint_answer_hours: int = 48
    """The hours a therapist has to answer a complaint; then it goes to mediation (decision 0038)."""
    review_window_days: int = 7
    """After completion, the days in which the customer may review an order and the therapist rate its customer;
    a review stays hidden (double-blind) until both did or this window closed (decision 0037)."""
    rating_prior: RatingPrior = RatingPrior()
    """The Bayesian prior of the reviews' ratings (decision 0037)."""
    review_words: tuple[str, ...] | None = None
    """The sensitive-word list of review and reply screening; None: the screener's default list."""
    chat_after_completion_hours: int = 24
    """An order's chat (and its virtual number) stays open this many hours after completion (decision 0045)."""
    chat_per_minute: int = 30
    """The most messages one party may send in one order's chat in any 60 seconds (decision 0045)."""
    payment_expiry_notice_minutes: int = 5
    """The customer is told this many minutes before the payment window closes (decision 0043)."""
    certificate_notice_days: int = 30
    """A therapist is told this many days before a certificate's last valid day (decision 0043)."""
    outbox_retry: RetryPolicy = RetryPolicy()
    """The notification dispatcher's backoff and attempts before a message is parked as dead (decision 0041)."""


@frozen
class Dependencies:
    """The ports a service needs, wired by the composition root (bootstrap)."""

    uow: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator
    cipher: FieldCipher
    hasher: PasswordHasher
    common_passwords: CommonPasswords
    code_sender: OneTimeCodeSender
    identity_provider: IdentityProvider
    reencryptor: FieldReencryptor
    policies: Policies = Policies()
    background_check: BackgroundCheck = field(kw_only=True)
    media_store: MediaStore = field(kw_only=True)
    payment_gateway: PaymentGateway = field(kw_only=True)


class Denied(Exception):
    """Raised inside a use case when access is refused; turned into the public error after auditing."""

    def __init__(self, public: MassageError) -> None:
        super().__init__(str(public))
        self.public = public


def not_found(kind: str, ident: str) -> Denied:
    """A denial that must look exactly like a missing object."""
    return Denied(NotFound(kind, ident))


class Service:
    """Base of every service: time, unit of work, authorisation and the audit of denials."""

    def __init__(self, deps: Dependencies) -> None:
        self._deps = deps

    def _now(self) -> Instant:
        return self._deps.clock.now()

    def _uow(self) -> UnitOfWork:
        return self._deps.uow()

    @contextmanager
    def _guard(self, actor: Actor, action: str, target: str) -> Iterator[None]:
        """Turn a ``Denied`` raised inside into its public error, after writing the audit entry.

        Put it outside the unit of work (``with self._guard(...), self._uow() as uow:``)
        so the entry is written in its own transaction once the use case rolled back.
        """
        try:
            yield
        except Denied as denied:
            self._audit_denied(actor, action, target, denied.public.code)
            raise denied.public from None

    def _require(self, actor: Actor, permission: Permission, action: str, target: str) -> None:
        """Refuse (audited) unless the actor's roles grant ``permission``."""
        if not actor.may(permission):
            self._audit_denied(actor, action, target, PermissionDenied.code)
            raise PermissionDenied(f"not allowed to {action}", code="permission_denied")

    def _audit_denied(self, actor: Actor, action: str, target: str, why: str) -> None:
        record = AuditRecord(actor.label, action, target, AuditOutcome.DENIED, (("error", why),))
        with self._uow() as uow:
            uow.audit.append(record, self._now())
            uow.commit()

    @staticmethod
    def _audit_ok(uow: UnitOfWork, actor: Actor, action: str, target: str, at: Instant,
                  **details: str) -> None:
        """Append a successful privileged action inside the use case's own transaction."""
        record = AuditRecord(actor.label, action, target, AuditOutcome.OK, tuple(sorted(details.items())))
        uow.audit.append(record, at)
