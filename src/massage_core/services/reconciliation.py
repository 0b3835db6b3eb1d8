"""Reconciliation (``platform.ledger.reconcile``): the gateway's statement of a day against the ledger.

``reconcile(actor, day)`` reads the payment gateway's statement of the calendar day (``PaymentGateway.statement``)
and the ledger entries of the same day that touch ``gateway_clearing`` (day boundaries in Asia/Shanghai unless
another zone is given), matches them by business key -- a payment line is ``order:<ref>:captured``, a refund
line ``refund:<our refund number>`` (decision 0031) -- and lists every mismatch (decision 0034):

- ``missing``: on the statement, no entry of that day in the ledger (the detail says when the entry exists but
  was posted on another day, e.g. across midnight);
- ``extra``: a capture or refund entry in the ledger that the statement does not list;
- ``amount_differs``: both have it, with different amounts (the entry's amount is what it moved on
  gateway clearing);
- ``duplicate``: the statement lists the same key more than once (the later lines).

Entries on ``gateway_clearing`` under other keys (none today) are counted in ``other_entries`` and not
compared.  Nothing is written but the audit entry (``ledger.reconcile``).  Access: ``ledger.read`` (finance
admins, auditors, superadmins, the system).
"""

from __future__ import annotations

import datetime as dt
import enum

from attrs import frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.payments import StatementLine, statement_day
from massage_core.domain.time import DEFAULT_ZONE, Instant
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Service

CLEARING = LedgerAccount.of(Book.GATEWAY_CLEARING)
ENTRY_PAGE = 500


class MismatchKind(enum.StrEnum):
    """How the statement and the ledger disagree about one business key."""

    MISSING = "missing"
    """On the gateway's statement, not in the ledger that day."""
    EXTRA = "extra"
    """In the ledger that day, not on the gateway's statement."""
    AMOUNT_DIFFERS = "amount_differs"
    """In both, with different amounts."""
    DUPLICATE = "duplicate"
    """The statement lists the key more than once."""


@frozen
class Mismatch:
    """One disagreement: its kind, the business key, each side's amount (None where that side has nothing)
    and a readable detail (the statement line's provider id, or the entry's memo)."""

    kind: MismatchKind
    key: str
    statement: Money | None
    ledger: Money | None
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.value} {self.key}: {self.detail}"


@frozen
class ReconcileReport:
    """What ``reconcile`` compared and found; ``ok`` when every line matched an entry and vice versa."""

    day: dt.date
    zone: str
    statement_lines: int
    ledger_entries: int
    matched: int
    other_entries: int
    mismatches: tuple[Mismatch, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches


def is_gateway_key(key: str) -> bool:
    """Whether ``key`` names something the gateway's statement lists: a capture or a refund."""
    return key.startswith("refund:") or (key.startswith("order:") and key.endswith(":captured"))


def clearing_amount(entry: JournalEntry) -> Money:
    """What ``entry`` moved on gateway clearing (its net effect there, as a positive amount)."""
    return Money(abs(entry.effects().get(CLEARING, 0)))


def _describe(line: StatementLine) -> str:
    return f"{line.kind.value} {line.provider_id} of {line.amount} at {line.at.isoformat()}"


class Reconciliation(Service):
    """``reconcile``, mixed into ``LedgerService``; see the module docstring."""

    def reconcile(self, actor: Actor, day: dt.date, zone: str = DEFAULT_ZONE) -> ReconcileReport:
        """Compare the gateway's statement of ``day`` (in ``zone``) with the ledger and list every mismatch.

        Returns a ``ReconcileReport`` (mismatches ordered as the statement lists its lines, then the extra
        entries by time).  Raises PermissionDenied without ``ledger.read``; ValidationError (``payment.day``,
        ``time.zone``); the gateway's errors as they come (``PaymentError`` ``payment.unsupported`` from an
        adapter that cannot fetch statements, ``payment.unavailable``).  Audited (``ledger.reconcile``).
        Example: ``platform.ledger.reconcile(finance, date(2026, 1, 5)).ok`` -> ``True``.
        """
        self._require(actor, Permission.LEDGER_READ, "ledger.reconcile", "ledger")
        since, until = statement_day(day, zone)
        lines = list(self._deps.payment_gateway.statement(day, zone))
        mismatches: list[Mismatch] = []
        with self._uow() as uow:
            entries = self._day_entries(uow, since, until)
            gateway_entries = {e.key: e for e in entries if is_gateway_key(e.key)}
            seen: set[str] = set()
            for line in lines:
                key = line.business_key
                if key in seen:
                    mismatches.append(Mismatch(MismatchKind.DUPLICATE, key, line.amount, None,
                                               f"listed again: {_describe(line)}"))
                    continue
                seen.add(key)
                entry = gateway_entries.get(key)
                if entry is None:
                    elsewhere = uow.ledger.entry(key)
                    where = ("no ledger entry" if elsewhere is None
                             else f"ledger entry posted on another day ({elsewhere.at.isoformat()})")
                    mismatches.append(Mismatch(MismatchKind.MISSING, key, line.amount,
                                               None if elsewhere is None else clearing_amount(elsewhere),
                                               f"{_describe(line)}; {where}"))
                    continue
                booked = clearing_amount(entry)
                if booked != line.amount:
                    mismatches.append(Mismatch(MismatchKind.AMOUNT_DIFFERS, key, line.amount, booked,
                                               f"statement {line.amount}, ledger {booked} ({line.provider_id})"))
            extra = sorted((e for k, e in gateway_entries.items() if k not in seen), key=lambda e: e.at)
            for entry in extra:
                mismatches.append(Mismatch(MismatchKind.EXTRA, entry.key, None, clearing_amount(entry),
                                           f"ledger {clearing_amount(entry)} at {entry.at.isoformat()}, "
                                           "not on the statement"))
            differing = sum(1 for m in mismatches if m.kind is MismatchKind.AMOUNT_DIFFERS)
            matched = len(seen & gateway_entries.keys()) - differing
            report = ReconcileReport(day, zone, len(lines), len(gateway_entries), matched,
                                     len(entries) - len(gateway_entries), tuple(mismatches))
            self._audit_ok(uow, actor, "ledger.reconcile", day.isoformat(), self._now(), zone=zone,
                           lines=str(report.statement_lines), entries=str(report.ledger_entries),
                           mismatches=str(len(report.mismatches)))
            uow.commit()
        return report

    @staticmethod
    def _day_entries(uow: UnitOfWork, since: Instant, until: Instant) -> list[JournalEntry]:
        """Every entry on gateway clearing with ``since <= at < until``, a page at a time."""
        found: list[JournalEntry] = []
        offset = 0
        while True:
            page = list(uow.ledger.entries(CLEARING, since=since, until=until, offset=offset, limit=ENTRY_PAGE))
            found.extend(page)
            if len(page) < ENTRY_PAGE:
                return found
            offset += ENTRY_PAGE
