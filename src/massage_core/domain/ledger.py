"""The double-entry ledger (P2): accounts, journal entries and balances, all in integer fen.

Every money movement is one ``JournalEntry`` whose debit lines and credit lines add up to the same amount (the
balance rule, checked on construction, so an unbalanced entry cannot exist in memory).  Entries are immutable;
a correction is a reversing entry (``reversal``).  Each entry carries a *business key* naming the event it
records (``order:<id>:captured``, ...): posting the same key twice is a no-op when the lines are the same and an
error when they differ (``same_posting``), which the storage enforces with a unique key.

Accounts are a *book* (the kind of money) and, for the books kept per person, the owner's account id
(``therapist_payable`` of one therapist).  Each book has a normal side: assets and expenses grow with debits,
liabilities and revenue with credits; ``signed`` turns a line into its effect on the balance as people read it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable

from attrs import field, frozen

from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import AccountId, account_id
from massage_core.domain.money import Money
from massage_core.domain.time import Instant, utc

MAX_LINES = 20
MAX_MEMO = 200
_KEY = re.compile(r"^[A-Za-z0-9_:.\-]{3,120}$")


class Kind(enum.StrEnum):
    """What an account is, which fixes its normal side."""

    ASSET = "asset"
    LIABILITY = "liability"
    REVENUE = "revenue"
    EXPENSE = "expense"

    @property
    def debit_normal(self) -> bool:
        return self in (Kind.ASSET, Kind.EXPENSE)


class Book(enum.StrEnum):
    """The kinds of money the platform keeps apart; ``PER_OWNER`` books have one account per person."""

    GATEWAY_CLEARING = "gateway_clearing"
    CUSTOMER_PREPAYMENTS = "customer_prepayments"
    THERAPIST_PAYABLE = "therapist_payable"
    THERAPIST_PENDING = "therapist_pending"
    TIPS_PAYABLE = "tips_payable"
    WITHDRAWAL_HOLDS = "withdrawal_holds"
    PAYOUT_CLEARING = "payout_clearing"
    COMMISSION_REVENUE = "commission_revenue"
    CANCELLATION_REVENUE = "cancellation_revenue"
    PENALTY_REVENUE = "penalty_revenue"
    FEE_REVENUE = "fee_revenue"
    COUPON_EXPENSE = "coupon_expense"
    BONUS_EXPENSE = "bonus_expense"
    GATEWAY_FEES = "gateway_fees"

    @property
    def kind(self) -> Kind:
        return _KINDS[self]

    @property
    def per_owner(self) -> bool:
        return self in PER_OWNER


_KINDS: dict[Book, Kind] = {
    Book.GATEWAY_CLEARING: Kind.ASSET, Book.PAYOUT_CLEARING: Kind.LIABILITY,
    Book.CUSTOMER_PREPAYMENTS: Kind.LIABILITY, Book.THERAPIST_PAYABLE: Kind.LIABILITY,
    Book.THERAPIST_PENDING: Kind.LIABILITY, Book.TIPS_PAYABLE: Kind.LIABILITY, Book.WITHDRAWAL_HOLDS: Kind.LIABILITY,
    Book.COMMISSION_REVENUE: Kind.REVENUE, Book.CANCELLATION_REVENUE: Kind.REVENUE,
    Book.PENALTY_REVENUE: Kind.REVENUE, Book.FEE_REVENUE: Kind.REVENUE,
    Book.COUPON_EXPENSE: Kind.EXPENSE, Book.BONUS_EXPENSE: Kind.EXPENSE, Book.GATEWAY_FEES: Kind.EXPENSE,
}
PER_OWNER = frozenset({Book.THERAPIST_PAYABLE, Book.THERAPIST_PENDING, Book.TIPS_PAYABLE, Book.WITHDRAWAL_HOLDS})


def _owner(instance: LedgerAccount, _attribute: object, value: AccountId | None) -> None:
    if instance.book.per_owner != (value is not None):
        need = "needs" if instance.book.per_owner else "takes no"
        raise ValidationError(f"the {instance.book} book {need} an owner", code="ledger.account")
    if value is not None:
        account_id(value)


@frozen(order=True)
class LedgerAccount:
    """One account: a book, and the owner for the per-person books."""

    book: Book = field(converter=Book)
    owner: AccountId | None = field(default=None, validator=_owner)

    @classmethod
    def of(cls, book: Book, owner: str | None = None) -> LedgerAccount:
        return cls(book, AccountId(owner) if owner is not None else None)

    @classmethod
    def parse(cls, code: str) -> LedgerAccount:
        """The account named by ``code`` (``book`` or ``book:owner``); ValidationError ``ledger.account``."""
        book, _, owner = str(code).partition(":")
        try:
            return cls(Book(book), AccountId(owner) if owner else None)
        except ValueError:
            raise ValidationError(f"unknown ledger account {code!r}", code="ledger.account") from None

    @property
    def code(self) -> str:
        return self.book.value if self.owner is None else f"{self.book.value}:{self.owner}"


class Side(enum.StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


def _positive(_instance: object, _attribute: object, value: Money) -> None:
    if not isinstance(value, Money) or value.fen <= 0:
        raise ValidationError("a journal line moves a positive amount", code="ledger.amount")


@frozen
class JournalLine:
    """One side of an entry: ``amount`` (positive) debited or credited to ``account``."""

    account: LedgerAccount
    side: Side = field(converter=Side)
    amount: Money = field(validator=_positive)

    @property
    def signed(self) -> int:
        """The line's effect on the account's balance in fen, in the account's normal sense."""
        grows = (self.side is Side.DEBIT) == self.account.book.kind.debit_normal
        return self.amount.fen if grows else -self.amount.fen


def debit(account: LedgerAccount, amount: Money) -> JournalLine:
    return JournalLine(account, Side.DEBIT, amount)


def credit(account: LedgerAccount, amount: Money) -> JournalLine:
    return JournalLine(account, Side.CREDIT, amount)


def business_key(raw: object) -> str:
    """Validate a business key: 3..120 characters of letters, digits and ``_ : . -``."""
    if not isinstance(raw, str) or not _KEY.fullmatch(raw):
        raise ValidationError("a business key is 3..120 letters, digits and _:.-", code="ledger.key", field="key")
    return raw


def _lines(values: Iterable[JournalLine]) -> tuple[JournalLine, ...]:
    lines = tuple(line for line in values if line is not None)
    if not 2 <= len(lines) <= MAX_LINES:
        raise ValidationError(f"an entry has 2..{MAX_LINES} lines", code="ledger.lines")
    return lines


@frozen
class JournalEntry:
    """A balanced, immutable set of lines recording one business event (see the module docstring)."""

    key: str = field(converter=business_key)
    at: Instant = field(converter=utc)
    lines: tuple[JournalLine, ...] = field(converter=_lines)
    memo: str = ""

    def __attrs_post_init__(self) -> None:
        if len({line.amount.currency for line in self.lines}) != 1:
            raise ValidationError("an entry is in one currency", code="ledger.currency")
        if self.total(Side.DEBIT) != self.total(Side.CREDIT):
            raise ValidationError(f"debits {self.total(Side.DEBIT)} != credits {self.total(Side.CREDIT)}",
                                  code="ledger.unbalanced")
        if not isinstance(self.memo, str) or len(self.memo) > MAX_MEMO:
            raise ValidationError(f"a memo is at most {MAX_MEMO} characters", code="ledger.memo")

    def total(self, side: Side) -> Money:
        """The sum of the lines on ``side``."""
        currency = self.lines[0].amount.currency
        return Money(sum(line.amount.fen for line in self.lines if line.side is side), currency)

    def effects(self) -> dict[LedgerAccount, int]:
        """Account -> the entry's net effect on its balance (fen, normal sense)."""
        out: dict[LedgerAccount, int] = {}
        for line in self.lines:
            out[line.account] = out.get(line.account, 0) + line.signed
        return out

    def same_posting(self, other: JournalEntry) -> bool:
        """True when ``other`` records the same movement (the same lines, in any order): a repeated posting."""
        def canon(entry: JournalEntry) -> list[tuple[str, str, int, str]]:
            return sorted((ln.account.code, ln.side.value, ln.amount.fen, ln.amount.currency) for ln in entry.lines)
        return self.key == other.key and canon(self) == canon(other)

    def reversal(self, key: str, at: Instant, memo: str = "") -> JournalEntry:
        """The entry that undoes this one: every line on the other side."""
        flipped = tuple(JournalLine(ln.account, Side.CREDIT if ln.side is Side.DEBIT else Side.DEBIT, ln.amount)
                        for ln in self.lines)
        return JournalEntry(key, at, flipped, memo or f"reverses {self.key}")
