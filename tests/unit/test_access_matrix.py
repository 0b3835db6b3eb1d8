"""The access matrix: every public service method, every kind of actor, own and other objects.

``MATRIX`` names each public method as ``"service.method"`` and gives, per
actor kind (and per own/other object for methods that take an account id),
the expected outcome, plus a builder for the call.  One test fails when a
public method is missing from it; another runs every cell on a fresh
platform and checks that every denial was audited as ``denied``.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import Conflict, MassageError, NotFound, PermissionDenied, ValidationError
from massage_core.services.base import Service

import matrix_therapists as mt
import matrix_schedules as ms
import matrix_orders as mo
import matrix_coupons as mc
import matrix_customers as mcu
import matrix_invoices as mi
import matrix_ledger as ml
import matrix_withdrawals as mw
import matrix_payouts as mp
import matrix_earnings as me
import matrix_complaints as mcp
import matrix_reviews as mr
import matrix_sanctions as msn
import matrix_announcements as man
import matrix_chat as mch
import matrix_notifications as mn

if TYPE_CHECKING:
    from conftest import Kit, Person

PASSWORD = "Blue-Harbour-Lantern-42"
NEW_PASSWORD = "Quiet-Meadow-Compass-77"

SERVICES = ("accounts", "users", "audit", "keys", "catalog", "therapists", "media", "schedules", "search",
            "coupons", "orders", "jobs", "customers", "ledger", "invoices", "withdrawals",
            "earnings", "reviews", "sanctions", "quality", "complaints", "feedback", "notifications",
            "chat", "announcements", "duty")
KINDS = ("anonymous", "customer", "therapist", "support", "finance", "auditor", "superadmin", "system")
ACCOUNT_KINDS = ("customer", "therapist", "support", "finance", "auditor", "superadmin")


# -- outcomes ---------------------------------------------------------------------------------------------

ALLOWED = "allowed"


@dataclass(frozen=True)
class Refused:
    error: type[MassageError]
    code: str

    @property
    def is_denial(self) -> bool:
        """An access denial (to be audited), as opposed to a business rule or bad input."""
        return self.error in (PermissionDenied, NotFound)

    def __repr__(self) -> str:
        return f"{self.error.__name__}({self.code})"


DENIED = Refused(PermissionDenied, "permission_denied")
HIDDEN = Refused(NotFound, "not_found")
NO_ACCOUNT = Refused(ValidationError, "actor.no_account")  # the system has no account of its own
PARTY = Refused(PermissionDenied, "order.party")  # the order state machine refuses the system party

Outcome = str | Refused


def everyone() -> dict[str, Outcome]:
    return {kind: ALLOWED for kind in KINDS}


def own_account() -> dict[str, Outcome]:
    """Methods on the actor's own account: every account holder, nobody else."""
    return {kind: ALLOWED if kind in ACCOUNT_KINDS else (DENIED if kind == "anonymous" else NO_ACCOUNT)
            for kind in KINDS}


def own_object() -> dict[str, Outcome]:
    """Methods on an account object that only its owner may see: someone else's looks missing."""
    table: dict[str, Outcome] = {"anonymous/other": DENIED, "system/other": NO_ACCOUNT}
    for kind in ACCOUNT_KINDS:
        table[f"{kind}/own"] = ALLOWED
        table[f"{kind}/other"] = HIDDEN
    return table


def granted(*allowed: str, scoped: bool = False, **overrides: Outcome) -> dict[str, Outcome]:
    """Role-gated methods: ``allowed`` kinds may, others get PermissionDenied; ``overrides`` by key."""
    table: dict[str, Outcome] = {}
    for kind in KINDS:
        outcome: Outcome = ALLOWED if kind in allowed else DENIED
        if scoped:
            if kind in ACCOUNT_KINDS:
                table[f"{kind}/own"] = outcome
            table[f"{kind}/other"] = outcome
        else:
            table[kind] = outcome
    for key, outcome in overrides.items():
        key = key.replace("__", "/")
        assert key in table, key
        table[key] = outcome
    return table


USERS_READERS = ("support", "finance", "auditor", "superadmin", "system")
RECORD_READERS = ("support", "auditor", "superadmin", "system")
SUSPENDERS = ("support", "superadmin", "system")
ROLE_MANAGERS = ("superadmin", "system")
AUDIT_READERS = ("auditor", "superadmin", "system")
KEY_MANAGERS = ("superadmin", "system")
CATALOG_MANAGERS = ("superadmin", "system")
THERAPIST_READERS = ("support", "auditor", "superadmin", "system")
VETTERS = ("support", "superadmin", "system")


def therapist_profile_readers() -> dict[str, Outcome]:
    """The owner, and admins who may read therapist profiles; someone else's looks missing to the rest."""
    table = own_object()
    for kind in THERAPIST_READERS:
        table[f"{kind}/other"] = ALLOWED
    return table


# -- cells and builders -------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One run: a fresh platform, the acting person (None for anonymous/system) and another customer."""

    kit: Kit
    kind: str
    scope: str | None
    actor: Actor
    me: Person | None
    other: Person

    @property
    def p(self) -> Platform:
        return self.kit.platform

    @property
    def target(self) -> str:
        if self.scope == "own":
            assert self.me is not None
            return self.me.account_id
        return self.other.account_id


Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    return fn, args, kwargs


@dataclass(frozen=True)
class Entry:
    build: Callable[[Cell], Call]
    outcomes: Mapping[str, Outcome]

    @property
    def scoped(self) -> bool:
        return any("/" in key for key in self.outcomes)


def b_login_with_code(c: Cell) -> Call:
    phone = c.kit.next_phone()
    c.p.accounts.request_login_code(phone)
    return call(c.p.accounts.login_with_code, phone, c.kit.code_for(phone))


def b_link_phone(c: Cell) -> Call:
    phone, code = c.kit.next_phone(), "123456"
    if c.me is not None:
        c.p.accounts.request_link_code(c.actor, phone)
        code = c.kit.code_for(phone)
    return call(c.p.accounts.link_phone, c.actor, phone, code)


def b_link_password(c: Cell) -> Call:
    if c.me is not None and c.me.password:  # the superadmin: swap its password login for a phone first
        phone = c.kit.next_phone()
        c.p.accounts.request_link_code(c.actor, phone)
        c.p.accounts.link_phone(c.actor, phone, c.kit.code_for(phone))
        c.p.accounts.unlink(c.actor, "password")
    return call(c.p.accounts.link_password, c.actor, c.kit.next_email(), PASSWORD)


def b_change_password(c: Cell) -> Call:
    if c.me is not None and not c.me.password:
        c.p.accounts.link_password(c.actor, c.kit.next_email(), PASSWORD)
    return call(c.p.accounts.change_password, c.actor, PASSWORD, NEW_PASSWORD)


def b_unlink(c: Cell) -> Call:
    if c.me is not None:
        c.p.accounts.link_identity(c.actor, "wechat", c.kit.issue("wechat", c.kit.next_subject()))
    return call(c.p.accounts.unlink, c.actor, "wechat")


def b_reactivate(c: Cell) -> Call:
    c.p.users.suspend(Actor.system(), c.target, "to be lifted")
    return call(c.p.users.reactivate, c.actor, c.target)


def b_set_roles(c: Cell) -> Call:
    if c.scope == "own" and c.me is not None:
        return call(c.p.users.set_roles, c.actor, c.target, list(c.me.roles), list(c.me.admin_roles))
    return call(c.p.users.set_roles, c.actor, c.target, ["customer", "therapist"])


SELF = Refused(Conflict, "account.self")

MATRIX: dict[str, Entry] = {
    # anonymous entry points: no actor, open to everybody
    "accounts.request_login_code": Entry(lambda c: call(c.p.accounts.request_login_code, c.kit.next_phone()),
                                         everyone()),
    "accounts.login_with_code": Entry(b_login_with_code, everyone()),
    "accounts.register_with_password": Entry(
        lambda c: call(c.p.accounts.register_with_password, c.kit.next_email(), PASSWORD), everyone()),
    "accounts.login_with_password": Entry(
        lambda c: call(c.p.accounts.login_with_password, c.other.email, PASSWORD), everyone()),
    "accounts.login_with_identity": Entry(
        lambda c: call(c.p.accounts.login_with_identity, "wechat", c.kit.issue("wechat", c.kit.next_subject())),
        everyone()),
    "accounts.authenticate": Entry(lambda c: call(c.p.accounts.authenticate, c.other.token), everyone()),
    "accounts.logout": Entry(lambda c: call(c.p.accounts.logout, c.other.token), everyone()),
    # one's own account
    "accounts.me": Entry(lambda c: call(c.p.accounts.me, c.actor), own_account()),
    "accounts.personal_details": Entry(lambda c: call(c.p.accounts.personal_details, c.actor, c.target),
                                       own_object()),
    "accounts.update_profile": Entry(
        lambda c: call(c.p.accounts.update_profile, c.actor, c.target, display_name="Renamed"), own_object()),
    "accounts.request_link_code": Entry(lambda c: call(c.p.accounts.request_link_code, c.actor, c.kit.next_phone()),
                                        own_account()),
    "accounts.link_phone": Entry(b_link_phone, own_account()),
    "accounts.link_password": Entry(b_link_password, own_account()),
    "accounts.change_password": Entry(b_change_password, own_account()),
    "accounts.link_identity": Entry(
        lambda c: call(c.p.accounts.link_identity, c.actor, "alipay", c.kit.issue("alipay", c.kit.next_subject())),
        own_account()),
    "accounts.unlink": Entry(b_unlink, own_account()),
    "accounts.my_login_records": Entry(lambda c: call(c.p.accounts.my_login_records, c.actor), own_account()),
    "accounts.logout_everywhere": Entry(lambda c: call(c.p.accounts.logout_everywhere, c.actor), own_account()),
    # back office
    "users.search": Entry(lambda c: call(c.p.users.search, c.actor, phone=c.other.phone), granted(*USERS_READERS)),
    "users.list": Entry(lambda c: call(c.p.users.list, c.actor), granted(*USERS_READERS)),
    "users.show": Entry(lambda c: call(c.p.users.show, c.actor, c.target), granted(*USERS_READERS, scoped=True)),
    "users.login_records": Entry(lambda c: call(c.p.users.login_records, c.actor, c.target),
                                 granted(*RECORD_READERS, scoped=True)),
    "users.suspend": Entry(lambda c: call(c.p.users.suspend, c.actor, c.target, "abuse"),
                           granted(*SUSPENDERS, scoped=True, support__own=SELF, superadmin__own=SELF)),
    "users.reactivate": Entry(b_reactivate, granted(*SUSPENDERS, scoped=True)),
    "users.set_roles": Entry(b_set_roles, granted(*ROLE_MANAGERS, scoped=True)),
    "users.create_superadmin": Entry(
        lambda c: call(c.p.users.create_superadmin, c.actor, c.kit.next_email("root"), PASSWORD),
        granted(*ROLE_MANAGERS, system=Refused(Conflict, "admin.exists"))),  # a superadmin exists in every cell
    # audit log and keys
    "audit.entries": Entry(lambda c: call(c.p.audit.entries, c.actor), granted(*AUDIT_READERS)),
    "audit.verify": Entry(lambda c: call(c.p.audit.verify, c.actor), granted(*AUDIT_READERS)),
    "keys.pending": Entry(lambda c: call(c.p.keys.pending, c.actor), granted(*KEY_MANAGERS)),
    "keys.reencrypt": Entry(lambda c: call(c.p.keys.reencrypt, c.actor), granted(*KEY_MANAGERS)),
    # catalogue: managed by catalog.manage, browsed by everybody
    "catalog.define_level": Entry(lambda c: call(c.p.catalog.define_level, c.actor, "master", "Master", 99),
                                  granted(*CATALOG_MANAGERS)),
    "catalog.levels": Entry(lambda c: call(c.p.catalog.levels, c.actor), everyone()),
    "catalog.add_category": Entry(lambda c: call(c.p.catalog.add_category, c.actor, "Foot"),
                                  granted(*CATALOG_MANAGERS)),
    "catalog.update_category": Entry(mt.update_category, granted(*CATALOG_MANAGERS)),
    "catalog.categories": Entry(lambda c: call(c.p.catalog.categories, c.actor), everyone()),
    "catalog.add_service": Entry(mt.add_service, granted(*CATALOG_MANAGERS)),
    "catalog.update_service": Entry(mt.update_service, granted(*CATALOG_MANAGERS)),
    "catalog.services": Entry(lambda c: call(c.p.catalog.services, c.actor), everyone()),
    "catalog.service": Entry(mt.service, everyone()),
    "catalog.add_package": Entry(mt.add_package, granted(*CATALOG_MANAGERS)),
    "catalog.update_package": Entry(mt.update_package, granted(*CATALOG_MANAGERS)),
    "catalog.packages": Entry(lambda c: call(c.p.catalog.packages, c.actor), everyone()),
    # therapists: one's own profile
    "therapists.register": Entry(mt.register, own_object()),
    "therapists.profile": Entry(mt.own("profile"), therapist_profile_readers()),
    "therapists.update_profile": Entry(mt.own("update_profile", bio="New bio"), own_object()),
    "therapists.submit": Entry(mt.own("submit"), own_object()),
    "therapists.set_active": Entry(mt.own("set_active", active=False), own_object()),
    # therapists: back office
    "therapists.list": Entry(lambda c: call(c.p.therapists.list, c.actor), granted(*THERAPIST_READERS)),
    "therapists.suspend": Entry(mt.on_other("suspend", "draft", "complaint"), granted(*VETTERS)),
    "therapists.reinstate": Entry(mt.reinstate, granted(*VETTERS)),
    "therapists.set_level": Entry(mt.on_other("set_level", "draft", "senior"), granted(*VETTERS)),
    "therapists.start_review": Entry(mt.on_other("start_review", "submitted"), granted(*VETTERS)),
    "therapists.accept_documents": Entry(mt.on_other("accept_documents", "document_review"), granted(*VETTERS)),
    "therapists.run_background_check": Entry(mt.on_other("run_background_check", "background_check"),
                                             granted(*VETTERS)),
    "therapists.record_skill_test": Entry(mt.on_other("record_skill_test", "skill_test", score=80, pass_mark=60),
                                          granted(*VETTERS)),
    "therapists.reject": Entry(mt.on_other("reject", "submitted", ["no certificate photo"]), granted(*VETTERS)),
    "therapists.restore_badge": Entry(mt.restore_badge, granted(*VETTERS)),
    "therapists.suspend_expired_badges": Entry(lambda c: call(c.p.therapists.suspend_expired_badges, c.actor),
                                               granted(*VETTERS)),
    # therapists: the public directory
    "therapists.public_profile": Entry(mt.on_other("public_profile", "approved"), everyone()),
    "therapists.list_public": Entry(lambda c: call(c.p.therapists.list_public, c.actor), everyone()),
    # media: therapists upload their own, vetters moderate, approved media of visible therapists are public
    "media.upload": Entry(mt.upload, own_object()),
    "media.media_of": Entry(lambda c: call(c.p.media.media_of, c.actor, mt.profile_for(c)),
                            therapist_profile_readers()),
    "media.pending": Entry(lambda c: call(c.p.media.pending, c.actor), granted(*VETTERS)),
    "media.approve": Entry(mt.review("approve"), granted(*VETTERS)),
    "media.reject": Entry(mt.review("reject", "blurred"), granted(*VETTERS)),
    "media.public_media": Entry(lambda c: call(c.p.media.public_media, c.actor, mt.profile_for(c, "approved")),
                                everyone()),
    "media.content": Entry(mt.content, everyone()),
    # schedules: the therapist (and the system) manage their own; anybody asks for free slots
    "schedules.schedule": Entry(ms.on_schedule("schedule"), granted(*ms.READERS)),
    "schedules.set_time_zone": Entry(ms.on_schedule("set_time_zone", "Asia/Hong_Kong"), granted(*ms.MANAGERS)),
    "schedules.set_weekly_hours": Entry(ms.on_schedule("set_weekly_hours", {"mon": [("10:00", "16:00")]}),
                                        granted(*ms.MANAGERS)),
    "schedules.add_day_off": Entry(ms.on_schedule("add_day_off", "2026-01-20"), granted(*ms.MANAGERS)),
    "schedules.add_extra_hours": Entry(ms.on_schedule("add_extra_hours", "2026-01-20", "20:00", "22:00"),
                                       granted(*ms.MANAGERS)),
    "schedules.clear_exceptions": Entry(ms.clear_exceptions, granted(*ms.MANAGERS)),
    "schedules.add_break": Entry(ms.on_schedule("add_break", "12:00", "13:00", weekday="mon"),
                                 granted(*ms.MANAGERS)),
    "schedules.remove_break": Entry(ms.remove_break, granted(*ms.MANAGERS)),
    "schedules.set_online": Entry(ms.on_schedule("set_online", False), granted(*ms.MANAGERS)),
    "schedules.free_slots": Entry(ms.on_schedule("free_slots", 60, "2026-01-06", "2026-01-12"), everyone()),
    # reservations: bookings by the system and reservation managers; a therapist blocks and frees own time
    "schedules.reserve": Entry(ms.reserve, granted(*ms.RESERVERS)),
    "schedules.confirm": Entry(ms.on_reservation("confirm"), granted(*ms.RESERVERS)),
    "schedules.release": Entry(ms.on_reservation("release"), granted(*ms.RESERVERS)),
    "schedules.reservations": Entry(ms.on_schedule("reservations"), granted(*ms.READERS)),
    # search: open to everybody, anonymous callers included
    "search.therapists": Entry(lambda c: call(c.p.search.therapists, c.actor, lat=31.23, lng=121.47), everyone()),
    # coupons: managed by catalog.manage; any account holder checks what a coupon would take off
    "coupons.create": Entry(mc.create, granted(*mc.MANAGERS)),
    "coupons.list": Entry(lambda c: call(c.p.coupons.list, c.actor), granted(*mc.MANAGERS)),
    "coupons.deactivate": Entry(mc.deactivate, granted(*mc.MANAGERS)),
    "coupons.check": Entry(mc.check, own_account()),
    # orders: customers book theirs, the assigned therapist serves, support and superadmins oversee (decision 19)
    "orders.quote": Entry(mo.booking("quote"), granted("customer", system=NO_ACCOUNT)),
    "orders.book": Entry(mo.booking("book"), granted("customer", system=NO_ACCOUNT)),
    "orders.payment_callback": Entry(mo.callback, everyone()),
    "orders.accept": Entry(mo.on_order("accept", "awaiting_acceptance"), granted("therapist", system=PARTY)),
    "orders.reject": Entry(mo.on_order("reject", "awaiting_acceptance", "too far"), granted("therapist", "system")),
    "orders.depart": Entry(mo.on_order("depart", "accepted"), granted("therapist", system=PARTY)),
    "orders.arrive": Entry(mo.on_order("arrive", "departed"), granted("therapist", system=PARTY)),
    "orders.start": Entry(mo.on_order("start", "arrived"), granted("therapist", system=PARTY)),
    "orders.finish": Entry(mo.on_order("finish", "in_service"), granted("therapist", system=PARTY)),
    "orders.sos": Entry(mo.on_order("sos", "departed", "help"), granted("therapist", system=PARTY)),
    "orders.complete": Entry(mo.on_order("complete", "finished"), granted("customer", "system")),
    "orders.dispute": Entry(mo.on_order("dispute", "finished", "too short"), granted("customer", system=PARTY)),
    "orders.cancel": Entry(mo.on_order("cancel", "accepted"), granted(*mo.CANCELLERS, system=PARTY)),
    "orders.refund": Entry(mo.on_order("refund", "disputed", 100), granted("support", "superadmin", system=PARTY)),
    "orders.get": Entry(mo.on_order("get", "pending_payment"), granted(*mo.READERS)),
    "orders.list_mine": Entry(mo.mine("list_mine"), granted("customer", "therapist", system=NO_ACCOUNT)),
    "orders.spending": Entry(mo.mine("spending"), granted("customer", system=NO_ACCOUNT)),
    "orders.list_all": Entry(mo.mine("list_all"), granted(*mo.MANAGERS)),
    "orders.offers": Entry(mo.mine("offers"), granted("therapist", system=NO_ACCOUNT)),
    "orders.grab": Entry(mo.grab, granted("therapist", system=NO_ACCOUNT)),
    "orders.sos_alerts": Entry(mo.mine("sos_alerts"), granted(*mo.MANAGERS)),
    # orders: no-shows, disputes, penalty and payment records (decision 23)
    "orders.mark_no_show": Entry(mo.no_show, granted(*mo.CANCELLERS, system=PARTY)),
    "orders.dismiss_dispute": Entry(mo.on_order("dismiss_dispute", "disputed", "served in full"),
                                    granted("support", "superadmin", system=PARTY)),
    "orders.penalties": Entry(mo.penalties, granted("therapist", *mo.MANAGERS)),
    "orders.payments": Entry(mo.on_order("payments", "accepted"), granted("customer", *mo.MANAGERS)),
    "orders.payment_history": Entry(mo.mine("payment_history"), granted("customer", system=NO_ACCOUNT)),
    # jobs: the timers, run by the system (cron) or a superadmin (decision 21)
    "jobs.run_due": Entry(lambda c: call(c.p.jobs.run_due, c.actor), granted("superadmin", "system")),
    # customers: a customer declares and reads their own profile; support and superadmins see it masked (0022)
    "customers.set_profile": Entry(mcu.set_profile, granted("customer", system=NO_ACCOUNT)),
    "customers.profile": Entry(mcu.profile, granted("customer", system=NO_ACCOUNT)),
    "customers.profile_of": Entry(mcu.profile_of, granted(*mcu.READERS, customer=HIDDEN)),
    # ledger: finance, auditors and superadmins read every account; a therapist their own (decision 0029)
    "ledger.balance": Entry(ml.balance, granted(*ml.READERS, scoped=True, therapist__own=ALLOWED,
                                                therapist__other=HIDDEN)),
    "ledger.entries": Entry(ml.entries, granted(*ml.READERS, scoped=True, therapist__own=ALLOWED,
                                                therapist__other=HIDDEN)),
    "ledger.verify": Entry(ml.verify, granted(*ml.READERS)),
    # invoices: a customer asks for their paid order's invoice; finance and superadmins issue and void (0030)
    "invoices.request": Entry(mi.request, granted("customer", system=NO_ACCOUNT)),
    "invoices.list_mine": Entry(mi.list_mine, granted("customer", system=NO_ACCOUNT)),
    "invoices.get": Entry(mi.get, granted("customer", *mi.MANAGERS)),
    "invoices.list": Entry(mi.list_queue, granted(*mi.MANAGERS)),
    "invoices.issue": Entry(mi.issue, granted(*mi.MANAGERS)),
    "invoices.void": Entry(mi.void, granted(*mi.MANAGERS)),
    # withdrawals: a therapist requests from their own balance; finance and superadmins decide (decision 0033)
    "withdrawals.request": Entry(mw.request, granted("therapist", system=NO_ACCOUNT)),
    "withdrawals.mine": Entry(mw.mine, granted("therapist", system=NO_ACCOUNT)),
    "withdrawals.list": Entry(mw.list_queue, granted(*mw.MANAGERS)),
    "withdrawals.approve": Entry(mw.approve, granted(*mw.MANAGERS)),
    "withdrawals.reject": Entry(mw.reject, granted(*mw.MANAGERS)),
    "withdrawals.pay": Entry(mw.pay, granted(*mw.MANAGERS)),
    # reconciliation: the gateway's statement of a day against the ledger, by ledger readers (decision 0034)
    "ledger.reconcile": Entry(lambda c: call(c.p.ledger.reconcile, c.actor, dt.date(2026, 1, 5)),
                              granted(*ml.READERS)),
    # earnings: ledger readers read anybody's (a therapist's own: test_earnings); money managers adjust (0032)
    "earnings.summary": Entry(me.summary, granted(*me.READERS, therapist=HIDDEN)),
    "earnings.orders": Entry(me.orders, granted(*me.READERS, therapist=HIDDEN)),
    "earnings.totals": Entry(me.totals, granted(*me.READERS, therapist=HIDDEN)),
    "earnings.grant_bonus": Entry(me.grant_bonus, granted(*me.MANAGERS)),
    "earnings.deduct_penalty": Entry(me.deduct_penalty, granted(*me.MANAGERS)),
    # payout batches: money managers; an approval is by a named admin, not the system (decision 0033)
    "withdrawals.batch": Entry(mp.batch, granted(*mw.MANAGERS)),
    "withdrawals.approve_batch": Entry(mp.approve_batch, granted(*mw.MANAGERS, system=NO_ACCOUNT)),
    "withdrawals.run_batch": Entry(mp.run_batch, granted(*mw.MANAGERS)),
    # reviews: customers review their own orders, therapists rate back and reply, moderators moderate (0037)
    "reviews.submit": Entry(mr.submit, granted("customer", system=NO_ACCOUNT)),
    "reviews.mine": Entry(mr.mine, granted("customer", system=NO_ACCOUNT)),
    "reviews.rate_customer": Entry(mr.rate_customer, granted("therapist", system=NO_ACCOUNT)),
    "reviews.flag_customer": Entry(mr.flag_customer, granted("therapist", system=NO_ACCOUNT)),
    "reviews.reply": Entry(mr.reply, granted("therapist", system=NO_ACCOUNT)),
    "reviews.about_me": Entry(mr.about_me, granted("therapist", system=NO_ACCOUNT)),
    "reviews.for_therapist": Entry(mr.for_therapist, everyone()),
    "reviews.rating": Entry(mr.rating, everyone()),
    "reviews.get": Entry(mr.get_blind, granted("customer", *mr.MODERATORS, anonymous=HIDDEN, therapist=HIDDEN,
                                               finance=HIDDEN, auditor=HIDDEN)),
    "reviews.queue": Entry(mr.queue, granted(*mr.MODERATORS)),
    "reviews.flags": Entry(mr.flags, granted(*mr.MODERATORS)),
    "reviews.approve": Entry(mr.approve, granted(*mr.MODERATORS)),
    "reviews.reject": Entry(mr.reject, granted(*mr.MODERATORS)),
    "reviews.mask": Entry(mr.mask, granted(*mr.MODERATORS)),
    "reviews.release_due": Entry(mr.release_due, granted("superadmin", "system")),
    # sanctions: support and superadmins impose and decide appeals (never their own), auditors read, the
    # therapist sees and appeals their own once; quality scores and rankings for the same readers (0039)
    "sanctions.impose": Entry(msn.impose, granted(*msn.MANAGERS)),
    "sanctions.appeal": Entry(msn.appeal, granted("therapist", system=NO_ACCOUNT)),
    "sanctions.decide_appeal": Entry(msn.decide_appeal, granted("support", "superadmin", system=NO_ACCOUNT)),
    "sanctions.mine": Entry(msn.mine, granted("therapist", system=NO_ACCOUNT)),
    "sanctions.of_therapist": Entry(msn.of_therapist, granted(*msn.READERS, therapist=HIDDEN)),
    "sanctions.get": Entry(msn.get, granted(*msn.READERS, therapist=HIDDEN)),
    "sanctions.list": Entry(msn.list_all, granted(*msn.READERS)),
    "sanctions.lift_expired": Entry(msn.lift_expired, granted("superadmin", "system")),
    "quality.score": Entry(msn.score, granted(*msn.READERS, therapist=HIDDEN)),
    "quality.ranking": Entry(msn.ranking, granted(*msn.READERS)),
    # complaints: the customer files and withdraws, the therapist answers, named mediators take and resolve;
    # the parties and mediators read; feedback: every account submits and reads its own, mediators reply (0038)
    "complaints.file": Entry(mcp.file, granted("customer", system=NO_ACCOUNT)),
    "complaints.withdraw": Entry(mcp.withdraw, granted("customer", system=NO_ACCOUNT)),
    "complaints.respond": Entry(mcp.respond, granted("therapist", system=NO_ACCOUNT)),
    "complaints.take": Entry(mcp.take, granted(*mcp.MEDIATORS, system=NO_ACCOUNT)),
    "complaints.resolve": Entry(mcp.resolve, granted(*mcp.MEDIATORS, system=NO_ACCOUNT)),
    "complaints.escalate_overdue": Entry(mcp.escalate_overdue, granted("superadmin", "system")),
    "complaints.get": Entry(mcp.get, granted("customer", "therapist", *mcp.MEDIATORS, "system")),
    "complaints.mine": Entry(mcp.mine, granted("customer", system=NO_ACCOUNT)),
    "complaints.about_me": Entry(mcp.about_me, granted("therapist", system=NO_ACCOUNT)),
    "complaints.list": Entry(mcp.list_queue, granted(*mcp.MEDIATORS, "system")),
    "feedback.submit": Entry(mcp.feedback_submit, own_account()),
    "feedback.mine": Entry(mcp.feedback_mine, own_account()),
    "feedback.get": Entry(mcp.feedback_get, granted(*ACCOUNT_KINDS, "system")),
    "feedback.list": Entry(mcp.feedback_list, granted(*mcp.MEDIATORS, "system")),
    "feedback.reply": Entry(mcp.feedback_reply, granted(*mcp.MEDIATORS, system=NO_ACCOUNT)),
    # notifications: superadmins and the system run the dispatcher and manage the outbox; every account reads
    # and marks its own inbox and chooses its own preferences (decision 0041)
    "notifications.dispatch": Entry(mn.dispatch, granted(*mn.MANAGERS)),
    "notifications.retry": Entry(mn.retry, granted(*mn.MANAGERS)),
    "notifications.outbox": Entry(mn.outbox, granted(*mn.MANAGERS)),
    "notifications.counts": Entry(mn.counts, granted(*mn.MANAGERS)),
    "notifications.inbox": Entry(mn.inbox, own_account()),
    "notifications.unread_count": Entry(mn.unread_count, own_account()),
    "notifications.mark_read": Entry(mn.mark_read, own_account()),
    "notifications.preferences": Entry(mn.preferences, own_account()),
    "notifications.set_preferences": Entry(mn.set_preferences, own_account()),
    # chat: the order's two parties write and read from acceptance; mediators read only while a complaint is
    # live (audited); the timer releases ended orders' virtual numbers (0045)
    "chat.send": Entry(mch.send, granted(*mch.PARTIES, system=NO_ACCOUNT)),
    "chat.messages": Entry(mch.messages, granted(*mch.PARTIES, *mch.MEDIATORS, system=NO_ACCOUNT)),
    "chat.mark_read": Entry(mch.mark_read, granted(*mch.PARTIES, system=NO_ACCOUNT)),
    "chat.unread": Entry(mch.unread, granted(*mch.PARTIES, system=NO_ACCOUNT)),
    "chat.call_number": Entry(mch.call_number, granted(*mch.PARTIES, system=NO_ACCOUNT)),
    "chat.release_ended": Entry(mch.release_ended, granted("superadmin", "system")),
    # announcements: support and superadmins (and the system) send them and read their stats; a recipient reads
    # and marks their own, anyone else's looks missing; support staff go on and off SOS duty (0044)
    "announcements.send": Entry(man.send, granted(*man.MANAGERS)),
    "announcements.list": Entry(man.list_all, granted(*man.MANAGERS)),
    "announcements.stats": Entry(man.stats, granted(*man.MANAGERS)),
    "announcements.not_read": Entry(man.not_read, granted(*man.MANAGERS)),
    "announcements.get": Entry(man.get, granted(*man.MANAGERS, *man.RECIPIENTS, finance=HIDDEN, auditor=HIDDEN)),
    "announcements.mark_read": Entry(man.mark_read, granted(*man.RECIPIENTS, support=HIDDEN, finance=HIDDEN,
                                                            auditor=HIDDEN, superadmin=HIDDEN, system=NO_ACCOUNT)),
    "announcements.mine": Entry(man.mine, own_account()),
    "duty.set_on_duty": Entry(man.set_on_duty, granted("support", "superadmin", system=NO_ACCOUNT)),
    "duty.roster": Entry(man.roster, granted(*man.MANAGERS)),
    # -- later contexts add their entries above this line --
}


# -- completeness -------------------------------------------------------------------------------------------


def public_methods(platform: Platform) -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for service in SERVICES:
        for name, member in inspect.getmembers(getattr(platform, service), predicate=inspect.isroutine):
            if not name.startswith("_"):
                found[f"{service}.{name}"] = member
    return found


def test_the_platform_has_exactly_these_services(platform: Platform) -> None:
    assert sorted(name for name, value in vars(platform).items() if isinstance(value, Service)) == sorted(SERVICES)


def test_every_public_method_is_in_the_matrix(platform: Platform) -> None:
    missing = sorted(set(public_methods(platform)) - set(MATRIX))
    assert not missing, f"public methods missing from MATRIX: {', '.join(missing)}"


def test_the_matrix_names_no_method_that_does_not_exist(platform: Platform) -> None:
    stale = sorted(set(MATRIX) - set(public_methods(platform)))
    assert not stale, f"MATRIX entries without a public method: {', '.join(stale)}"


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_every_entry_covers_every_actor_kind(platform: Platform, name: str) -> None:
    entry = MATRIX[name]
    takes_object = "account" in inspect.signature(public_methods(platform)[name]).parameters
    assert entry.scoped == takes_object, f"{name}: own/other cells iff the method takes an account id"
    if entry.scoped:
        expected = {f"{k}/own" for k in ACCOUNT_KINDS} | {f"{k}/other" for k in KINDS}
    else:
        expected = set(KINDS)
    assert set(entry.outcomes) == expected


# -- the cells ----------------------------------------------------------------------------------------------


def make_cell(kit: Kit, kind: str, scope: str | None) -> Cell:
    kit.superadmin()
    other = kit.customer_by_phone()
    other.email, other.password = kit.next_email("other"), PASSWORD
    kit.platform.accounts.link_password(other.actor, other.email, PASSWORD)
    me: Person | None
    if kind == "anonymous":
        me, actor = None, Actor.anonymous()
    elif kind == "system":
        me, actor = None, Actor.system()
    else:
        me = {"customer": kit.customer_by_phone, "therapist": kit.therapist, "superadmin": kit.superadmin}.get(
            kind, lambda: kit.admin(kind))()
        actor = me.actor
    return Cell(kit, kind, scope, actor, me, other)


def cells() -> list[Any]:
    return [pytest.param(name, key, outcome, id=f"{name}[{key}]")
            for name, entry in MATRIX.items() for key, outcome in entry.outcomes.items()]


@pytest.mark.parametrize(("name", "key", "outcome"), cells())
def test_cell(kit: Kit, name: str, key: str, outcome: Outcome) -> None:
    kind, _, scope = key.partition("/")
    cell = make_cell(kit, kind, scope or None)
    fn, args, kwargs = MATRIX[name].build(cell)
    audit_before = len(kit.audit_entries())
    if outcome == ALLOWED:
        fn(*args, **kwargs)
        new = kit.audit_entries()[audit_before:]
        assert not [e for e in new if e.outcome is AuditOutcome.DENIED]
        return
    assert isinstance(outcome, Refused)
    with pytest.raises(MassageError) as err:
        fn(*args, **kwargs)
    assert type(err.value) is outcome.error, f"{name}[{key}] raised {err.value!r}"
    assert err.value.code == outcome.code
    new = kit.audit_entries()[audit_before:]
    if outcome.is_denial:
        assert len(new) == 1, f"{name}[{key}]: a denial must be audited once"
        [entry] = new
        assert entry.outcome is AuditOutcome.DENIED
        assert entry.actor == cell.actor.label
        assert dict(entry.details) == {"error": outcome.code}
        if scope and (outcome is HIDDEN or name.startswith("users.")):
            assert entry.target == cell.target  # (own-account refusals name the actor instead)
    else:
        assert not [e for e in new if e.outcome is AuditOutcome.DENIED]


def test_someone_elses_account_looks_exactly_like_a_missing_one(kit: Kit) -> None:
    cell = make_cell(kit, "customer", "other")
    missing = "acc_0000000000000000000000ZZZZ"
    for method in (kit.platform.accounts.personal_details, kit.platform.accounts.update_profile):
        errors = []
        for target in (cell.other.account_id, missing):
            with pytest.raises(NotFound) as err:
                method(cell.actor, target)
            errors.append(err.value)
        theirs, nobodys = errors
        assert (type(theirs), theirs.code, theirs.kind) == (type(nobodys), nobodys.code, nobodys.kind)
        assert theirs.message.replace(cell.other.account_id, "<id>") == nobodys.message.replace(missing, "<id>")
    assert kit.tables.accounts[cell.other.account_id].display_name == ""
