"""The in-memory store shared by every memory unit of work."""

from __future__ import annotations

import threading

import attrs

from massage_core.adapters.memory.grid import GridIndex
from massage_core.domain.accounts import Account
from massage_core.domain.audit import AuditEntry
from massage_core.domain.authentication import LoginRecord, OneTimeCode, Session
from massage_core.domain.catalog import Category, Package, Service, TherapistLevel
from massage_core.domain.media import Medium
from massage_core.domain.orders import Order
from massage_core.domain.outbox import OutboxMessage
from massage_core.domain.chat import ChatMessage, NumberBinding
from massage_core.domain.announcements import Announcement, Receipt
from massage_core.domain.inbox import InboxItem, NotificationSettings
from massage_core.domain.coupons import Coupon, CouponRedemption
from massage_core.domain.customers import CustomerProfile
from massage_core.domain.invoices import Invoice
from massage_core.domain.ledger import JournalEntry
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.reservations import Reservation
from massage_core.domain.schedules import Schedule
from massage_core.domain.search import Rating
from massage_core.domain.time import Instant
from massage_core.domain.withdrawals import Withdrawal
from massage_core.domain.sanctions import Sanction
from massage_core.domain.complaints import Complaint
from massage_core.domain.feedback import Feedback
from massage_core.domain.reviews import CustomerFeedback, Review


@attrs.define
class Tables:
    """Plain dictionaries of frozen objects: copying them is a cheap snapshot."""

    accounts: dict[str, Account] = attrs.field(factory=dict)
    sessions: dict[str, Session] = attrs.field(factory=dict)
    login_records: list[LoginRecord] = attrs.field(factory=list)
    one_time_codes: dict[str, OneTimeCode] = attrs.field(factory=dict)
    audit: list[AuditEntry] = attrs.field(factory=list)
    audit_head: tuple[int, str] = (0, "")
    levels: dict[str, TherapistLevel] = attrs.field(factory=dict)
    categories: dict[str, Category] = attrs.field(factory=dict)
    catalog_services: dict[str, Service] = attrs.field(factory=dict)
    packages: dict[str, Package] = attrs.field(factory=dict)
    therapists: dict[str, TherapistProfile] = attrs.field(factory=dict)
    media: dict[str, Medium] = attrs.field(factory=dict)
    schedules: dict[str, Schedule] = attrs.field(factory=dict)
    reservations: dict[str, tuple[Reservation, bool]] = attrs.field(factory=dict)
    """Each reservation with its "counts for overlap" flag (False once released or retired as expired)."""
    ratings: dict[str, Rating] = attrs.field(factory=dict)
    orders: dict[str, Order] = attrs.field(factory=dict)
    coupons: dict[str, Coupon] = attrs.field(factory=dict)
    coupon_redemptions: dict[str, CouponRedemption] = attrs.field(factory=dict)
    """Live redemptions by order id."""
    customer_profiles: dict[str, CustomerProfile] = attrs.field(factory=dict)
    invoices: dict[str, Invoice] = attrs.field(factory=dict)
    ledger_entries: dict[str, JournalEntry] = attrs.field(factory=dict)
    """Journal entries by business key, in posting order."""
    ledger_balances: dict[str, tuple[int, Instant | None]] = attrs.field(factory=dict)
    """Account code -> (balance in fen, normal sense; when a posting last changed it)."""
    withdrawals: dict[str, Withdrawal] = attrs.field(factory=dict)
    sanctions: dict[str, Sanction] = attrs.field(factory=dict)
    complaints: dict[str, Complaint] = attrs.field(factory=dict)
    platform_feedback: dict[str, Feedback] = attrs.field(factory=dict)
    reviews: dict[str, Review] = attrs.field(factory=dict)
    review_orders: dict[str, str] = attrs.field(factory=dict)
    """Review id by order id (one review per order)."""
    reviews_counted: set[str] = attrs.field(factory=set)
    """Reviews already in their therapist's rating."""
    customer_feedback: dict[str, CustomerFeedback] = attrs.field(factory=dict)
    outbox: dict[str, OutboxMessage] = attrs.field(factory=dict)
    outbox_keys: dict[str, str] = attrs.field(factory=dict)
    """Outbox message id by dedupe key."""
    outbox_leases: dict[str, Instant] = attrs.field(factory=dict)
    """Until when a dispatcher holds a claimed message."""
    inbox: dict[str, InboxItem] = attrs.field(factory=dict)
    inbox_keys: dict[str, str] = attrs.field(factory=dict)
    """Inbox item id by dedupe key."""
    notification_preferences: dict[str, NotificationSettings] = attrs.field(factory=dict)
    announcements: dict[str, Announcement] = attrs.field(factory=dict)
    announcement_receipts: dict[tuple[str, str], Receipt] = attrs.field(factory=dict)
    """Receipts by (announcement id, recipient)."""
    on_duty: dict[str, Instant] = attrs.field(factory=dict)
    """Support admins on duty, with when they went on duty."""
    chat_messages: dict[str, tuple[ChatMessage, ...]] = attrs.field(factory=dict)
    """Each order's chat messages (masked texts), oldest first."""
    chat_reads: dict[tuple[str, str], int] = attrs.field(factory=dict)
    """Read marks by (order id, account id)."""
    number_bindings: dict[str, NumberBinding] = attrs.field(factory=dict)
    """Virtual-number bindings by order id."""
    search_index: GridIndex = attrs.field(factory=GridIndex)
    """The locator's grid, shared by every snapshot (not copied): kept current by the repositories."""
    located: set[str] = attrs.field(factory=set)
    """Therapists re-indexed since the unit of work began (re-indexed again from the snapshot on rollback)."""

    def snapshot(self) -> Tables:
        return Tables(
            accounts=dict(self.accounts),
            sessions=dict(self.sessions),
            login_records=list(self.login_records),
            one_time_codes=dict(self.one_time_codes),
            audit=list(self.audit),
            audit_head=self.audit_head,
            levels=dict(self.levels),
            categories=dict(self.categories),
            catalog_services=dict(self.catalog_services),
            packages=dict(self.packages),
            therapists=dict(self.therapists),
            media=dict(self.media),
            schedules=dict(self.schedules),
            reservations=dict(self.reservations),
            ratings=dict(self.ratings),
            orders=dict(self.orders),
            coupons=dict(self.coupons),
            coupon_redemptions=dict(self.coupon_redemptions),
            customer_profiles=dict(self.customer_profiles),
            invoices=dict(self.invoices),
            ledger_entries=dict(self.ledger_entries),
            ledger_balances=dict(self.ledger_balances),
            withdrawals=dict(self.withdrawals),
            sanctions=dict(self.sanctions),
            complaints=dict(self.complaints),
            platform_feedback=dict(self.platform_feedback),
            reviews=dict(self.reviews),
            review_orders=dict(self.review_orders),
            reviews_counted=set(self.reviews_counted),
            customer_feedback=dict(self.customer_feedback),
            outbox=dict(self.outbox),
            outbox_keys=dict(self.outbox_keys),
            outbox_leases=dict(self.outbox_leases),
            inbox=dict(self.inbox),
            inbox_keys=dict(self.inbox_keys),
            notification_preferences=dict(self.notification_preferences),
            announcements=dict(self.announcements),
            announcement_receipts=dict(self.announcement_receipts),
            on_duty=dict(self.on_duty),
            chat_messages=dict(self.chat_messages),
            chat_reads=dict(self.chat_reads),
            number_bindings=dict(self.number_bindings),
            search_index=self.search_index,
        )


class MemoryStore:
    """Holds the tables and the lock that serialises units of work (like SQLite's writer lock)."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.lock = threading.Lock()
