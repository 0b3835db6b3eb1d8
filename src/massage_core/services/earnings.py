"""Earnings (``platform.earnings``, issue 5 T6, read side; decision 0032): what a therapist earned, read from
the ledger, and the admins' bonuses and penalties.

* ``summary``: the balances -- pending (income and tips not yet settled: ``therapist_pending`` +
  ``tips_payable``), available (``therapist_payable``, what may be withdrawn) and on hold
  (``withdrawal_holds``).
* ``orders``: per completed order, newest first: what the customer paid, the commission rate (basis points)
  and amount, the therapist's income and tip, and whether it has settled -- all read from the stored
  completion entry, so a later change of the commission policy never rewrites history.  A cancellation or
  no-show that compensated the therapist is a row too (``kind`` ``cancelled``: what the split kept, the
  platform's part as the commission, no rate, the compensation as the income).
* ``totals``: income, tips, commission, bonuses and penalties per day, ISO week (Monday) or month, in the
  therapist's own time zone (their schedule's, else their profile's, else Asia/Shanghai).
* ``grant_bonus`` / ``deduct_penalty``: an admin's reward or deduction (``money.manage``: finance,
  superadmin), 1 fen .. ``Policies.adjustment_cap_fen``, with a reason, audited, posted against the
  therapist's payable balance under a generated reference (``adj_...``; with a ``request_id``, derived from
  the actor and the request id, so a retry posts nothing again).  A penalty never takes the available
  balance below zero (``earnings.exceeds_available``).

Who may read: a therapist (``own_ledger.read``) their own; ``ledger.read`` (finance, auditors, superadmins,
the system) anybody's, audited when staff read a person's earnings; another therapist's earnings look exactly
like a missing therapist (NotFound).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence

from attrs import frozen

from massage_core.domain.access import Actor, Permission, Role
from massage_core.domain import idempotency
from massage_core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from massage_core.domain.ids import AccountId, account_id
from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount, Side
from massage_core.domain.money import Money
from massage_core.domain.postings import bonus, penalty
from massage_core.domain.time import DEFAULT_ZONE, Instant, local, utc
from massage_core.ports.ledger import KEY_REUSED
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Service, not_found, page_bounds
from massage_core.services.deductions import exceeds_available, replayed

PERIODS = ("day", "week", "month")
MAX_PAGE = 500
MAX_SPAN_DAYS = 400
REASON_MAX = 200
_SCAN = 500
_RATE = re.compile(r"at (\d+) bp")


@frozen
class EarningsSummary:
    """A therapist's balances."""

    therapist: str
    pending: Money
    available: Money
    on_hold: Money


@frozen
class OrderEarning:
    """One order's money, as its completion entry (``kind`` ``completed``) or its cancellation split
    (``cancelled``: ``total`` is what the split kept, ``commission`` the platform's part) divided it."""

    order_id: str
    completed_at: Instant
    total: Money
    rate_bp: int | None
    commission: Money
    income: Money
    tip: Money
    settled: bool
    kind: str = "completed"


@frozen
class PeriodTotals:
    """The totals of one period; ``start`` is its first local date (a day, an ISO week's Monday, a month's 1st)."""

    start: dt.date
    income: Money
    tips: Money
    commission: Money
    bonuses: Money
    penalties: Money


@frozen
class Adjustment:
    """A bonus or penalty posted by an admin."""

    reference: str
    kind: str
    therapist: str
    amount: Money
    reason: str
    at: Instant


def _account(book: Book, therapist: str) -> LedgerAccount:
    return LedgerAccount.of(book, therapist)


def _signed(entry: JournalEntry, account: LedgerAccount) -> int:
    """The entry's effect on ``account`` in fen: credits up, debits down (every account read here is a
    liability or revenue)."""
    return sum(ln.amount.fen if ln.side is Side.CREDIT else -ln.amount.fen for ln in entry.lines
               if ln.account == account)


def _platform(entry: JournalEntry, book: Book, side: Side) -> int:
    return sum(ln.amount.fen for ln in entry.lines if ln.account.book is book and ln.side is side)


def _all_entries(uow: UnitOfWork, account: LedgerAccount, since: Instant | None,
                 until: Instant | None) -> Iterator[JournalEntry]:
    offset = 0
    while True:
        page = uow.ledger.entries(account, since=since, until=until, offset=offset, limit=_SCAN)
        yield from page
        if len(page) < _SCAN:
            return
        offset += _SCAN


def _bound(value: object, name: str) -> Instant | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        raise ValidationError(f"{name} must be a timezone-aware datetime", code="time.naive", field=name)
    return utc(value)


class EarningsService(Service):
    """``platform.earnings``: see the module docstring."""

    # -- access -----------------------------------------------------------------------------------------

    def _therapist(self, actor: Actor, therapist: str | None, action: str) -> tuple[AccountId, bool]:
        """The therapist whose earnings are read and whether the read is audited (staff reading a person's).
        Raises ValidationError ``invalid_id``, PermissionDenied, or (inside ``_guard``) a NotFound denial."""
        if therapist is None:
            if actor.account_id is None:
                raise ValidationError("name the therapist", code="earnings.therapist", field="therapist")
            therapist = actor.account_id
        who = account_id(therapist)
        if actor.may(Permission.LEDGER_READ):
            return who, not actor.is_system and not actor.owns(who)
        if actor.may(Permission.OWN_LEDGER_READ):
            if actor.owns(who):
                return who, False
            raise not_found("therapist", who)
        self._require(actor, Permission.LEDGER_READ, action, who)
        raise PermissionDenied(f"not allowed to {action}", code="permission_denied")  # pragma: no cover

    def _read_audit(self, uow: UnitOfWork, actor: Actor, audited: bool, action: str, who: str) -> None:
        if audited:
            self._audit_ok(uow, actor, action, who, self._now())
            uow.commit()

    # -- reads ------------------------------------------------------------------------------------------

    def summary(self, actor: Actor, therapist: str | None = None) -> EarningsSummary:
        """Pending, available and on-hold balances of ``therapist`` (default: the actor).

        Raises ValidationError (``invalid_id``, ``earnings.therapist``), NotFound (another therapist's),
        PermissionDenied.  Example: ``platform.earnings.summary(me).available`` -> ``Money(18060)``.
        """
        with self._guard(actor, "earnings.summary", therapist or "self"):
            who, audited = self._therapist(actor, therapist, "earnings.summary")
            with self._uow() as uow:
                b = uow.ledger.balance
                found = EarningsSummary(who, b(_account(Book.THERAPIST_PENDING, who)) + b(_account(Book.TIPS_PAYABLE, who)),
                                        b(_account(Book.THERAPIST_PAYABLE, who)), b(_account(Book.WITHDRAWAL_HOLDS, who)))
                self._read_audit(uow, actor, audited, "earnings.summary", who)
                return found

    def orders(self, actor: Actor, therapist: str | None = None, *, since: Instant | None = None,
               until: Instant | None = None, offset: int = 0, limit: int = 50) -> Sequence[OrderEarning]:
        """The completed orders of ``therapist`` (and the cancelled / no-show ones that compensated them),
        newest completion first, those completed in ``since <= at < until`` when given, a page at a time
        (``offset``, ``limit`` 1..500).

        Same access as ``summary``; ValidationError ``time.naive``, ``page.offset``, ``page.limit``.
        """
        page_bounds(offset, limit, MAX_PAGE)
        low, high = _bound(since, "since"), _bound(until, "until")
        with self._guard(actor, "earnings.orders", therapist or "self"):
            who, audited = self._therapist(actor, therapist, "earnings.orders")
            with self._uow() as uow:
                completions: list[JournalEntry] = []
                skipped = 0
                for entry in _all_entries(uow, _account(Book.THERAPIST_PENDING, who), low, high):
                    if not (entry.key.startswith("order:") and entry.key.endswith((":completed", ":cancelled"))):
                        continue
                    if skipped < offset:
                        skipped += 1
                        continue
                    completions.append(entry)
                    if len(completions) >= limit:
                        break
                order_ids = [e.key.split(":")[1] for e in completions]
                settled = uow.ledger.posted_keys([f"order:{o}:settled" for o in order_ids])
                found = [self._order_earning(entry, oid, who, f"order:{oid}:settled" in settled)
                         for entry, oid in zip(completions, order_ids)]
                self._read_audit(uow, actor, audited, "earnings.orders", who)
                return found

    @staticmethod
    def _order_earning(entry: JournalEntry, order_id: str, who: str, settled: bool) -> OrderEarning:
        kind = entry.key.rsplit(":", 1)[1]
        rate = _RATE.search(entry.memo or "") if kind == "completed" else None
        platform_book = Book.COMMISSION_REVENUE if kind == "completed" else Book.CANCELLATION_REVENUE
        return OrderEarning(order_id, entry.at, Money(_platform(entry, Book.CUSTOMER_PREPAYMENTS, Side.DEBIT)),
                            int(rate.group(1)) if rate else None, Money(_platform(entry, platform_book, Side.CREDIT)),
                            Money(_signed(entry, _account(Book.THERAPIST_PENDING, who))),
                            Money(_signed(entry, _account(Book.TIPS_PAYABLE, who))), settled, kind)

    def totals(self, actor: Actor, therapist: str | None = None, *, period: str = "day",
               since: Instant | None = None, until: Instant | None = None) -> Sequence[PeriodTotals]:
        """Income, tips, commission, bonuses and penalties of ``therapist`` per ``period`` (``day``, ``week``:
        ISO weeks from Monday, ``month``) in the therapist's own time zone, oldest period first, only periods
        with any activity.  ``until`` defaults to just after now, ``since`` to 30 days (day), 12 weeks or 12 months
        before it; at most 400 days.

        Income is what completions and cancellations credited to the therapist (less refunds taking it back);
        settlements and withdrawals move money the therapist already earned and are not counted.
        Same access as ``summary``; ValidationError ``earnings.period``, ``earnings.range``, ``time.naive``.
        """
        if period not in PERIODS:
            raise ValidationError("period must be day, week or month", code="earnings.period", field="period")
        high = _bound(until, "until") or self._now() + dt.timedelta(seconds=1)  # until is exclusive
        default_days = {"day": 30, "week": 84, "month": 365}[period]
        low = _bound(since, "since") or high - dt.timedelta(days=default_days)
        if not low < high or high - low > dt.timedelta(days=MAX_SPAN_DAYS):
            raise ValidationError(f"since must be before until, at most {MAX_SPAN_DAYS} days apart",
                                  code="earnings.range", field="since")
        with self._guard(actor, "earnings.totals", therapist or "self"):
            who, audited = self._therapist(actor, therapist, "earnings.totals")
            with self._uow() as uow:
                zone = self._zone(uow, who)
                seen: dict[str, JournalEntry] = {}
                for book in (Book.THERAPIST_PENDING, Book.TIPS_PAYABLE, Book.THERAPIST_PAYABLE):
                    for entry in _all_entries(uow, _account(book, who), low, high):
                        seen.setdefault(entry.key, entry)
                buckets: dict[dt.date, list[int]] = {}
                for entry in seen.values():
                    start = _period_start(local(entry.at, zone).date(), period)
                    sums = buckets.setdefault(start, [0, 0, 0, 0, 0])
                    _add(sums, entry, who)
                found = [PeriodTotals(start, *(Money(fen) for fen in sums)) for start, sums in sorted(buckets.items())
                         if any(sums)]
                self._read_audit(uow, actor, audited, "earnings.totals", who)
                return found

    @staticmethod
    def _zone(uow: UnitOfWork, who: AccountId) -> str:
        schedule = uow.schedules.find(who)
        if schedule is not None:
            return schedule.zone
        profile = uow.therapists.find(who)
        return profile.time_zone if profile is not None else DEFAULT_ZONE

    # -- admin adjustments ---------------------------------------------------------------------------

    def grant_bonus(self, actor: Actor, therapist: str, amount: Money, reason: str, *,
                    request_id: str | None = None) -> Adjustment:
        """Credit ``amount`` to the therapist's available balance (``postings.bonus``); ``money.manage`` only,
        audited (``earnings.bonus``).  With a ``request_id`` the reference derives from (actor, request id), so a
        retried request returns the first adjustment and posts nothing again (decision 0032).

        Raises PermissionDenied (audited), ValidationError ``invalid_id``, ``earnings.amount`` (1 fen ..
        ``Policies.adjustment_cap_fen``), ``earnings.reason`` (1..200 characters), ``request.id`` (1..64 of
        ``A-Za-z0-9_-``), NotFound (no therapist), Conflict ``request.reused`` (the request id was used for
        another kind, therapist, amount or reason).
        """
        return self._adjust(actor, "bonus", therapist, amount, reason, request_id)

    def deduct_penalty(self, actor: Actor, therapist: str, amount: Money, reason: str, *,
                       request_id: str | None = None) -> Adjustment:
        """Debit ``amount`` from the therapist's available balance (``postings.penalty``); as ``grant_bonus``
        (audited as ``earnings.penalty``), and ValidationError ``earnings.exceeds_available`` when the
        available balance is smaller than ``amount`` (the message names the balance to ``ledger.read``
        holders only)."""
        return self._adjust(actor, "penalty", therapist, amount, reason, request_id)

    def _adjust(self, actor: Actor, kind: str, therapist: str, amount: Money, reason: str,
                request_id: str | None) -> Adjustment:
        action = f"earnings.{kind}"
        self._require(actor, Permission.MONEY_MANAGE, action, str(therapist)[:40])
        who = account_id(therapist)
        cap = self._deps.policies.adjustment_cap_fen
        if not isinstance(amount, Money) or amount.currency != "CNY" or not 1 <= amount.fen <= cap:
            raise ValidationError(f"amount must be 0.01..{Money(cap)} yuan", code="earnings.amount", field="amount")
        text = reason.strip() if isinstance(reason, str) else ""
        if not 1 <= len(text) <= REASON_MAX:
            raise ValidationError(f"a reason of 1..{REASON_MAX} characters is required", code="earnings.reason",
                                  field="reason")
        now = self._now()
        request = None if request_id is None else idempotency.request_id(request_id)
        reference = (self._deps.ids.new_id("adjustment") if request is None
                     else idempotency.derived_id("adjustment", actor.label, request))
        entry = (penalty if kind == "penalty" else bonus)(reference, who, amount, now, text)
        with self._uow() as uow:
            try:
                roles = uow.accounts.get(who).roles
            except NotFound:
                roles = frozenset()
            if Role.THERAPIST not in roles:
                raise NotFound("therapist", who)
            if kind == "penalty":
                uow.withdrawals.lock_therapist(who)  # serialised with withdrawal requests (decision 33)
            keys = (f"bonus:{reference}", f"penalty:{reference}")  # a request id names one adjustment of either kind
            first = None if request is None else replayed(uow, entry, keys, request)
            if first is not None:
                return Adjustment(reference, kind, who, amount, first.memo, first.at)
            if kind == "penalty":
                available = uow.ledger.balance(_account(Book.THERAPIST_PAYABLE, who))
                if available < amount:
                    raise exceeds_available(actor, available, "earnings.exceeds_available")
            try:
                posted = uow.ledger.post(entry)
            except Conflict as clash:  # a concurrent request with this id but other lines won
                if request is None or clash.code != KEY_REUSED:
                    raise
                raise idempotency.reused(request) from None
            if posted.already_posted and request is not None:  # a concurrent twin won: answer as a replay
                replayed(uow, entry, keys, request)  # Conflict request.reused when the twin's reason differs
                return Adjustment(reference, kind, who, amount, posted.entry.memo, posted.entry.at)
            self._audit_ok(uow, actor, action, who, now, amount=str(amount), reason=text, reference=reference,
                           **({"request": request} if request is not None else {}))
            uow.commit()
        return Adjustment(reference, kind, who, amount, text, now)


def _period_start(day: dt.date, period: str) -> dt.date:
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _add(sums: list[int], entry: JournalEntry, who: str) -> None:
    """Add one entry to [income, tips, commission, bonuses, penalties]."""
    key = entry.key
    payable = _account(Book.THERAPIST_PAYABLE, who)
    if key.endswith(":settled") or key.startswith("withdrawal:"):
        return
    if key.startswith("bonus:"):
        sums[3] += _signed(entry, payable)
    elif key.startswith("penalty:"):
        sums[4] -= _signed(entry, payable)
    else:
        sums[0] += _signed(entry, _account(Book.THERAPIST_PENDING, who)) + _signed(entry, payable)
        sums[1] += _signed(entry, _account(Book.TIPS_PAYABLE, who))
        sums[2] += _platform(entry, Book.COMMISSION_REVENUE, Side.CREDIT) - _platform(
            entry, Book.COMMISSION_REVENUE, Side.DEBIT)
