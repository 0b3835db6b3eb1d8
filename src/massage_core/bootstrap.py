"""The composition root: builds a Platform from settings or from given adapters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from massage_core.adapters.crypto.field_cipher import AesGcmFieldCipher
from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.identity import SandboxIdentityProvider
from massage_core.adapters.memory.sms import SandboxCodeSender
from massage_core.adapters.memory.notifiers import SandboxPushNotifier, SandboxSmsNotifier
from massage_core.adapters.memory.background_check import SandboxBackgroundCheck
from massage_core.adapters.files.media_store import FilesystemMediaStore
from massage_core.adapters.memory.clock import SystemClock
from massage_core.adapters.memory.media import MemoryMediaStore
from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.adapters.memory.ids import UlidGenerator
from massage_core.adapters.memory.key_rotation import MemoryFieldReencryptor
from massage_core.adapters.memory.store import MemoryStore
from massage_core.adapters.memory.invoices import SandboxInvoiceIssuer
from massage_core.adapters.memory.payouts import SandboxPayoutGateway
from massage_core.adapters.memory.uow import MemoryUnitOfWork
from massage_core.adapters.passwords.common_list import ZxcvbnCommonPasswords
from massage_core.domain.errors import MassageError
from massage_core.ports.background_check import BackgroundCheck
from massage_core.ports.clock import Clock
from massage_core.ports.media import MediaStore
from massage_core.ports.identity import IdentityProvider, OneTimeCodeSender
from massage_core.ports.ids import IdGenerator
from massage_core.ports.invoices import InvoiceIssuer
from massage_core.ports.passwords import PasswordHasher
from massage_core.ports.payouts import PayoutGateway
from massage_core.ports.payments import PaymentGateway
from massage_core.ports.notifiers import Notifier
from massage_core.domain.notifications import Channel
from massage_core.services.accounts import AccountsService
from massage_core.services.audit import AuditService
from massage_core.services.base import Dependencies, Policies
from massage_core.services.keys import KeysService
from massage_core.services.schedules import SchedulesService
from massage_core.services.search import SearchService
from massage_core.services.users import UsersService
from massage_core.services.catalog import CatalogService
from massage_core.services.coupons import CouponsService
from massage_core.services.customers import CustomersService
from massage_core.services.earnings import EarningsService
from massage_core.services.invoices import InvoicesService
from massage_core.services.jobs import JobsService
from massage_core.services.ledger import LedgerService
from massage_core.services.media import MediaService
from massage_core.services.orders import OrdersService
from massage_core.services.therapists import TherapistsService
from massage_core.services.withdrawals import WithdrawalsService
from massage_core.services.quality import QualityService
from massage_core.services.sanctions import SanctionsService
from massage_core.services.complaints import ComplaintsService
from massage_core.services.feedback import FeedbackService
from massage_core.services.reviews import ReviewsService
from massage_core.services.chat import ChatService
from massage_core.adapters.memory.virtual_numbers import SandboxVirtualNumbers
from massage_core.ports.virtual_numbers import VirtualNumbers
from massage_core.services.announcements import AnnouncementsService
from massage_core.services.duty import DutyService
from massage_core.services.notifications import NotificationsService

DEFAULT_URL = "sqlite:///massage.db"
DEFAULT_MEDIA_DIR = "massage-media"


def sandbox_notifiers() -> dict[Channel, Notifier]:
    """The default channel adapters: the sandbox SMS and push providers (no e-mail until one is given)."""
    return {Channel.SMS: SandboxSmsNotifier(), Channel.PUSH: SandboxPushNotifier()}


class Platform:
    """The library's front door: one service object per context, all sharing one set of adapters.

    ``accounts`` (register, log in, own account), ``users`` (back office),
    ``audit`` (operation log), ``keys`` (re-encryption after rotation),
    ``catalog`` (levels, categories, services, packages), ``therapists`` (onboarding,
    vetting, oversight, the public directory), ``media`` (therapist photos and videos),
    ``schedules`` (working hours, free slots, reservations), ``search`` (therapists near a point),
    ``coupons`` (promotions: management, and what a coupon would take off),
    ``customers`` (a customer's own profile with health data; the back office's masked view),
    ``ledger`` (balances, entries and verification of the double-entry ledger),
    ``earnings`` (a therapist's balances, per-order earnings and period totals; admins' bonuses and penalties),
    ``invoices`` (invoice requests for paid orders; finance issues and voids them through
    ``invoice_issuer``, the deterministic sandbox unless one is given),
    ``withdrawals`` (therapists' withdrawal requests; finance approves or rejects them and pays them out
    through ``payout_gateway``, the deterministic sandbox unless one is given),
    ``reviews`` (customers' double-blind reviews, therapists' replies and private ratings of customers,
    moderation, Bayesian ratings fed to search),
    ``complaints`` (customers' complaints about orders, therapists' answers, mediation with refund or penalty
    outcomes), ``feedback`` (feedback and suggestions to the platform, with admins' replies),
    ``sanctions`` (deductions, warnings and suspensions of therapists, with one appeal decided by another admin),
    ``quality`` (therapists' quality scores and the rankings per city and service),
    ``chat`` (the masked order chat of a customer and their therapist, and the virtual number they call through
    ``virtual_numbers``, the sandbox pool unless one is given),
    ``announcements`` (announcements and training notices to customers and therapists, with read receipts),
    ``duty`` (support admins on and off SOS duty),
    ``notifications`` (the outbox dispatcher delivering through ``notifiers`` -- one per channel besides the
    in-app inbox, which the library keeps itself; default ``sandbox_notifiers()`` --, the account's own inbox
    and notification preferences).
    """

    def __init__(self, deps: Dependencies, *, engine: Any = None, invoice_issuer: InvoiceIssuer | None = None,
                 payout_gateway: PayoutGateway | None = None,
                 notifiers: Mapping[Channel, Notifier] | None = None,
                 virtual_numbers: VirtualNumbers | None = None) -> None:
        self.deps = deps
        self.engine = engine
        self.invoice_issuer = invoice_issuer or SandboxInvoiceIssuer(deps.clock)
        self.payout_gateway = payout_gateway or SandboxPayoutGateway()
        self.virtual_numbers = virtual_numbers or SandboxVirtualNumbers(deps.clock)
        self.accounts = AccountsService(deps)
        self.users = UsersService(deps)
        self.audit = AuditService(deps)
        self.keys = KeysService(deps)
        self.catalog = CatalogService(deps)
        self.therapists = TherapistsService(deps)
        self.media = MediaService(deps)
        self.schedules = SchedulesService(deps)
        self.search = SearchService(deps)
        self.orders = OrdersService(deps)
        self.coupons = CouponsService(deps)
        self.customers = CustomersService(deps)
        self.invoices = InvoicesService(deps, self.invoice_issuer)
        self.jobs = JobsService(deps, self.virtual_numbers)
        self.ledger = LedgerService(deps)
        self.earnings = EarningsService(deps)
        self.withdrawals = WithdrawalsService(deps, self.payout_gateway)
        self.sanctions = SanctionsService(deps)
        self.quality = QualityService(deps)
        self.complaints = ComplaintsService(deps)
        self.feedback = FeedbackService(deps)
        self.reviews = ReviewsService(deps)
        self.chat = ChatService(deps, self.virtual_numbers)
        self.announcements = AnnouncementsService(deps)
        self.duty = DutyService(deps)
        self.notifiers: Mapping[Channel, Notifier] = dict(notifiers if notifiers is not None else sandbox_notifiers())
        self.notifications = NotificationsService(deps, self.notifiers)

    @classmethod
    def in_memory(
        cls,
        *,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        hasher: PasswordHasher | None = None,
        code_sender: OneTimeCodeSender | None = None,
        identity_provider: IdentityProvider | None = None,
        keyring: KeyRing | None = None,
        policies: Policies | None = None,
        background_check: BackgroundCheck | None = None,
        media_store: MediaStore | None = None,
        payment_gateway: PaymentGateway | None = None,
        invoice_issuer: InvoiceIssuer | None = None,
        notifiers: Mapping[Channel, Notifier] | None = None,
        payout_gateway: PayoutGateway | None = None,
        virtual_numbers: VirtualNumbers | None = None,
    ) -> Platform:
        """Everything in memory: for tests, demos and embedders' own test suites.

        Password hashing is production-strength unless ``hasher`` is given
        (tests pass ``Argon2idPasswordHasher.for_tests()``).  SMS codes and
        third-party logins go to sandbox adapters, reachable as
        ``platform.deps.code_sender`` and ``platform.deps.identity_provider``;
        background checks to the deterministic sandbox (``platform.deps.background_check``),
        media bytes to a memory store (``platform.deps.media_store``); payouts, invoices, virtual numbers
        and the SMS / push channels to their sandboxes unless given (e-mail only when a notifier is given).
        """
        clock = clock or SystemClock()
        ids = ids or UlidGenerator()
        store = MemoryStore()
        deps = Dependencies(
            uow=lambda: MemoryUnitOfWork(store, ids),
            clock=clock,
            ids=ids,
            cipher=AesGcmFieldCipher(keyring or KeyRing.generate()),
            hasher=hasher or Argon2idPasswordHasher(),
            common_passwords=ZxcvbnCommonPasswords(),
            code_sender=code_sender or SandboxCodeSender(),
            identity_provider=identity_provider or SandboxIdentityProvider(clock),
            reencryptor=MemoryFieldReencryptor(),
            policies=policies or Policies(),
            background_check=background_check or SandboxBackgroundCheck(),
            media_store=media_store or MemoryMediaStore(),
            payment_gateway=payment_gateway or SandboxPaymentGateway(clock),
        )
        return cls(deps, invoice_issuer=invoice_issuer, notifiers=notifiers, payout_gateway=payout_gateway,
                   virtual_numbers=virtual_numbers)

    @classmethod
    def from_url(
        cls,
        url: str = DEFAULT_URL,
        *,
        keyring: KeyRing,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        hasher: PasswordHasher | None = None,
        code_sender: OneTimeCodeSender | None = None,
        identity_provider: IdentityProvider | None = None,
        policies: Policies | None = None,
        background_check: BackgroundCheck | None = None,
        media_store: MediaStore | None = None,
        payment_gateway: PaymentGateway | None = None,
        engine_options: dict[str, Any] | None = None,
        check_schema: bool = True,
        invoice_issuer: InvoiceIssuer | None = None,
        notifiers: Mapping[Channel, Notifier] | None = None,
        payout_gateway: PayoutGateway | None = None,
        virtual_numbers: VirtualNumbers | None = None,
    ) -> Platform:
        """A platform on a database: ``sqlite:///file.db`` (embedded) or ``postgresql+psycopg://...``.

        The schema must be current (``massage db upgrade`` or
        ``massage_core.adapters.sql.migrate.upgrade``); otherwise MassageError
        (``db.schema``) is raised unless ``check_schema=False``.  ``keyring`` holds the
        field-encryption keys (``KeyRing.load(path)``).  Photo and video bytes go to ``media_store``
        (default: files under ``./massage-media``).  TLS to PostgreSQL: pass
        ``engine_options={"connect_args": {"sslmode": "verify-full", "sslrootcert": ...}}``.
        """
        from massage_core.adapters.sql.engine import make_engine
        from massage_core.adapters.sql.key_rotation import SqlFieldReencryptor
        from massage_core.adapters.sql.migrate import current_revision, head_revision
        from massage_core.adapters.sql.uow import SqlUnitOfWork

        clock = clock or SystemClock()
        ids = ids or UlidGenerator()
        cipher = AesGcmFieldCipher(keyring)
        engine = make_engine(url, **(engine_options or {}))
        if check_schema:
            current, head = current_revision(engine), head_revision()
            if current != head:
                engine.dispose()
                raise MassageError(
                    f"database schema is at {current or 'nothing'}, this library needs {head}: "
                    "run `massage db upgrade` (or adapters.sql.migrate.upgrade)",
                    code="db.schema",
                )
        deps = Dependencies(
            uow=lambda: SqlUnitOfWork(engine, cipher, ids),
            clock=clock,
            ids=ids,
            cipher=cipher,
            hasher=hasher or Argon2idPasswordHasher(),
            common_passwords=ZxcvbnCommonPasswords(),
            code_sender=code_sender or SandboxCodeSender(),
            identity_provider=identity_provider or SandboxIdentityProvider(clock),
            reencryptor=SqlFieldReencryptor(engine, cipher),
            policies=policies or Policies(),
            background_check=background_check or SandboxBackgroundCheck(),
            media_store=media_store or FilesystemMediaStore(DEFAULT_MEDIA_DIR),
            payment_gateway=payment_gateway or SandboxPaymentGateway(clock),
        )
        return cls(deps, engine=engine, invoice_issuer=invoice_issuer, notifiers=notifiers,
                   payout_gateway=payout_gateway, virtual_numbers=virtual_numbers)

    def close(self) -> None:
        """Release database connections."""
        if self.engine is not None:
            self.engine.dispose()
