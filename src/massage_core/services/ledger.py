"""The ledger context (``platform.ledger``): balances, entries and verification of the double-entry ledger.

Who may read (decision 0029): ``ledger.read`` -- finance admins, auditors and superadmins (and the system) --
reads every account and runs ``verify``; a therapist (``own_ledger.read``) reads their own per-owner accounts
(``therapist_payable:<their id>``...), and anybody else's account, or a platform account, looks exactly like a
missing one (NotFound).  Staff reads of a person's account (a per-owner book) are audited, as every ``verify``
run is; reads of the platform's own accounts and a therapist's reads of their own are not.

Posting belongs to the money use cases (payments, completion, withdrawals), which call ``uow.ledger.post``
inside their own unit of work, so an entry commits or rolls back with the change it records.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence

from attrs import frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import PermissionDenied
from massage_core.domain.ledger import PER_OWNER, JournalEntry, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderId, OrderState
from massage_core.domain.time import Instant, utc
from massage_core.ports.ledger import PAGE
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Service, not_found, page_bounds
from massage_core.services.reconciliation import Reconciliation

ORDER_PAGE = 500
MAX_PAGE = 500
KEY_BATCH = 500


class ProblemKind(enum.StrEnum):
    """What ``verify`` can find wrong."""

    BALANCE_MISMATCH = "balance_mismatch"
    """The maintained balance differs from the one recomputed from the lines (or has no row)."""
    NEGATIVE_BALANCE = "negative_balance"
    """A therapist's account (payable, pending, tips, holds) is below zero."""
    UNBALANCED_ENTRY = "unbalanced_entry"
    """An entry's debits differ from its credits, or it has fewer than two lines."""
    ORDER_NOT_SPLIT = "order_not_split"
    """A completed order has no completion entry (``order:<id>:completed``)."""


@frozen
class LedgerProblem:
    """One finding: its kind, what it is about (an account code, an entry key, an order id) and the detail."""

    kind: ProblemKind
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.value} {self.subject}: {self.detail}"


@frozen
class VerifyReport:
    """What ``verify`` checked and found; ``ok`` when nothing."""

    entries: int
    accounts: int
    completed_orders: int
    problems: tuple[LedgerProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def completion_key(order_id: str) -> str:
    """The business key of an order's completion split (the posting rules' ``order:<id>:completed``)."""
    return f"order:{order_id}:completed"


def completed_orders(uow: UnitOfWork) -> Iterator[OrderId]:
    """The orders that must have been split exactly once: those in ``completed``, a page at a time.

    (A hook for the posting rules: a disputed or refunded order was completed first, too; adjust here.)
    """
    offset = 0
    while True:
        page = uow.orders.list_by_state({OrderState.COMPLETED}, offset=offset, limit=ORDER_PAGE)
        yield from (order.id for order in page)
        if len(page) < ORDER_PAGE:
            return
        offset += ORDER_PAGE


def unsplit_orders(uow: UnitOfWork) -> Iterator[tuple[int, OrderId | None]]:
    """Yield ``(orders seen so far, order without its completion entry or None)`` over the completed orders.

    The business key is unique in the storage, so "present" is "exactly once"; an order split twice would
    need two keys, which the posting rules never make.
    """
    seen, batch = 0, list[OrderId]()

    def flush() -> Iterator[tuple[int, OrderId | None]]:
        posted = uow.ledger.posted_keys([completion_key(o) for o in batch])
        for order in batch:
            if completion_key(order) not in posted:
                yield seen, order
        batch.clear()

    for order in completed_orders(uow):
        seen += 1
        batch.append(order)
        if len(batch) >= KEY_BATCH:
            yield from flush()
    yield from flush()
    yield seen, None



def _yuan(fen: int) -> str:
    return str(Money(fen))


class LedgerService(Reconciliation, Service):
    """Reads, verification and reconciliation (``reconcile``, from ``services.reconciliation``) of the
    ledger; see the module docstring."""

    def _account(self, actor: Actor, account: str, action: str) -> tuple[LedgerAccount, bool]:
        """The parsed account and whether reading it is a staff read of a person's account (to audit).

        Raises ValidationError (``ledger.account``), PermissionDenied, or (inside ``_guard``) a NotFound
        denial for somebody else's account.
        """
        parsed = LedgerAccount.parse(account)
        target = parsed.owner or parsed.code
        if actor.may(Permission.LEDGER_READ):
            return parsed, parsed.owner is not None and not actor.owns(parsed.owner) and not actor.is_system
        if actor.may(Permission.OWN_LEDGER_READ):
            if parsed.owner is not None and actor.owns(parsed.owner):
                return parsed, False
            raise not_found("ledger account", parsed.code)
        self._require(actor, Permission.LEDGER_READ, action, target)
        raise PermissionDenied(f"not allowed to {action}", code="permission_denied")  # pragma: no cover

    def balance(self, actor: Actor, account: str) -> Money:
        """The stored balance of ``account`` (``book`` or ``book:<account id>``), in its normal sense.

        Raises ValidationError (``ledger.account``), NotFound for another person's account (or a platform
        account) read by a therapist, PermissionDenied without ``ledger.read`` / ``own_ledger.read``.
        Example: ``platform.ledger.balance(me, f"therapist_payable:{me.account_id}")`` -> ``Money(18060)``.
        """
        with self._guard(actor, "ledger.balance", _target(account)):
            parsed, audited = self._account(actor, account, "ledger.balance")
            with self._uow() as uow:
                balance = uow.ledger.balance(parsed)
                if audited:
                    self._audit_ok(uow, actor, "ledger.balance", parsed.code, self._now())
                    uow.commit()
                return balance

    def entries(self, actor: Actor, account: str, *, since: Instant | None = None, until: Instant | None = None,
                offset: int = 0, limit: int = PAGE) -> Sequence[JournalEntry]:
        """The entries touching ``account``, newest first, those with ``since <= at < until`` when given.

        Same access as ``balance``; ValidationError (``time.naive``) for a naive bound, ``page.offset``,
        ``page.limit`` (1..500).
        """
        start, size = page_bounds(offset, limit, MAX_PAGE)
        low = utc(since) if since is not None else None
        high = utc(until) if until is not None else None
        with self._guard(actor, "ledger.entries", _target(account)):
            parsed, audited = self._account(actor, account, "ledger.entries")
            with self._uow() as uow:
                found = list(uow.ledger.entries(parsed, since=low, until=high, offset=start, limit=size))
                if audited:
                    self._audit_ok(uow, actor, "ledger.entries", parsed.code, self._now())
                    uow.commit()
                return found

    def verify(self, actor: Actor) -> VerifyReport:
        """Recompute every balance from the lines and compare; check every entry balances, no therapist
        account is negative and every completed order was split.  Audited (``ledger.verify``).

        Returns a ``VerifyReport`` listing every problem (empty when the ledger is sound).  Raises
        PermissionDenied without ``ledger.read``.  One unit of work: on SQLite it holds the writer lock
        while it runs (seconds for a million entries); on PostgreSQL the balance comparison is one statement.
        """
        self._require(actor, Permission.LEDGER_READ, "ledger.verify", "ledger")
        problems: list[LedgerProblem] = []
        with self._uow() as uow:
            accounts = 0
            for code, recomputed, stored in uow.ledger.compared_balances():
                accounts += 1
                if stored != recomputed:
                    shown = "no balance row" if stored is None else f"stored {_yuan(stored)}"
                    problems.append(LedgerProblem(ProblemKind.BALANCE_MISMATCH, code,
                                                  f"{shown}, recomputed from the entries {_yuan(recomputed)}"))
                if recomputed < 0 and LedgerAccount.parse(code).book in PER_OWNER:
                    problems.append(LedgerProblem(ProblemKind.NEGATIVE_BALANCE, code,
                                                  f"a therapist's balance is {_yuan(recomputed)}"))
            for key in uow.ledger.unbalanced_entries():
                problems.append(LedgerProblem(ProblemKind.UNBALANCED_ENTRY, key,
                                              "debits differ from credits, or fewer than two lines"))
            orders = 0
            for orders, order in unsplit_orders(uow):
                if order is not None:
                    problems.append(LedgerProblem(ProblemKind.ORDER_NOT_SPLIT, order,
                                                  f"completed, but no {completion_key(order)} entry"))
            report = VerifyReport(uow.ledger.entry_count(), accounts, orders, tuple(problems))
            self._audit_ok(uow, actor, "ledger.verify", "ledger", self._now(), entries=str(report.entries),
                           problems=str(len(report.problems)))
            uow.commit()
        return report


def _target(account: object) -> str:
    """What a denial is audited against: the owner's account id, else the code as given."""
    text = str(account)
    book, _, owner = text.partition(":")
    return owner or book
