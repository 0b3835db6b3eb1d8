"""Invoices (发票) for paid orders: the title, the unified social credit code, and the invoice workflow.

Scope (decision 0030): the ordinary electronic invoice (电子普通发票) only.  Its title is either
*personal* (a name) or a *company* (a name plus the company's unified social credit code, the taxpayer
number every enterprise must give since 2017).  The special VAT invoice (增值税专用发票) with the buyer's
address, phone, bank and account is out of scope.

The unified social credit code (统一社会信用代码, GB 32100-2015) has 18 characters from the 31-character
alphabet ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, Z, S, V):

- 1: registration authority code; 2: organisation type code (both any alphabet character here: the
  authorities and their type codes are a table outside the standard that keeps growing);
- 3-8: the administrative division of the registration authority (GB/T 2260), six digits;
- 9-17: the subject identifier, which is the organisation code of GB 11714: eight characters and its own
  check character -- weights 3, 7, 9, 10, 5, 8, 4, 2 over the values (digits 0-9, letters A=10 .. Z=35),
  ``11 - (sum mod 11)`` with 10 written ``X`` and 11 written ``0``;
- 18: the check character -- weights ``3**i mod 31`` (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24,
  10, 30, 28) over the alphabet values of the first 17 characters, ``31 - (sum mod 31)`` with 31 written
  ``0``, as the alphabet character of that value.

Refusals, in this order: ``invoice.credit_code`` (shape), ``invoice.credit_code_org`` (the GB 11714 check
character), ``invoice.credit_code_check`` (the 18th character).  A few codes issued in pilot regions before
the standard do not satisfy it; they are refused (the tax system refuses them too).

Workflow: ``requested`` -> ``issued`` (number, issue date, amount) -> ``voided`` (reason); a request may be
voided (declined) before it is issued.  An illegal action raises ``InvalidTransition`` naming the state,
the action and the allowed actions.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import NewType

from attrs import evolve, field, frozen

from massage_core.domain.catalog import text
from massage_core.domain.contact import Email
from massage_core.domain.errors import InvalidTransition, ValidationError
from massage_core.domain.ids import AccountId, check_id
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderId, order_id
from massage_core.domain.time import Instant, utc

InvoiceId = NewType("InvoiceId", str)

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of a unified social credit code, in value order (0..30)."""
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
"""GB 32100-2015 weights of characters 1..17 (``3**i mod 31``)."""
ORGANISATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
"""GB 11714 weights of the eight body characters of an organisation code."""

_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_NUMBER = re.compile(r"^[0-9]{8,20}$")
NAME_MAX = 100
REASON_MAX = 200


def invoice_id(raw: object) -> InvoiceId:
    """Validate and type an invoice id (``inv_`` + 26 base32 characters)."""
    return InvoiceId(check_id("invoice", raw))


def credit_check_character(first17: str) -> str:
    """The 18th character of a unified social credit code for its first 17 (GB 32100-2015)."""
    total = sum(CREDIT_CODE_ALPHABET.index(ch) * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def _organisation_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def organisation_check_character(body8: str) -> str:
    """The 9th character of a GB 11714 organisation code for its first eight (0-9, X)."""
    total = sum(_organisation_value(ch) * w for ch, w in zip(body8, ORGANISATION_CODE_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


@frozen
class CreditCode:
    """A valid unified social credit code (upper case, 18 characters); build it with ``parse``."""

    value: str

    @classmethod
    def parse(cls, raw: object) -> CreditCode:
        """Strip, upper-case and validate (see the module docstring for the order of the refusals)."""
        if not isinstance(raw, str) or not _SHAPE.fullmatch(raw.strip().upper()):
            raise ValidationError("a unified social credit code is 18 characters: 2 of 0-9 and capital letters "
                                  "except I, O, S, V, Z, 6 digits, then 10 more of those characters",
                                  code="invoice.credit_code", field="credit_code")
        value = raw.strip().upper()
        if organisation_check_character(value[8:16]) != value[16]:
            raise ValidationError("the organisation code inside the credit code (characters 9-17) fails its "
                                  "check", code="invoice.credit_code_org", field="credit_code")
        if credit_check_character(value[:17]) != value[17]:
            raise ValidationError("the credit code's check character (the 18th) is wrong",
                                  code="invoice.credit_code_check", field="credit_code")
        return cls(value)

    @property
    def registration_authority(self) -> str:
        return self.value[0]

    @property
    def organisation_type(self) -> str:
        return self.value[1]

    @property
    def division(self) -> str:
        """The registration authority's administrative division (GB/T 2260)."""
        return self.value[2:8]

    @property
    def organisation_code(self) -> str:
        """The subject identifier: a GB 11714 organisation code (with its check character)."""
        return self.value[8:17]

    def __str__(self) -> str:
        return self.value


class TitleKind(enum.StrEnum):
    """Whom the invoice is made out to."""

    PERSONAL = "personal"
    COMPANY = "company"


def _title_name(value: object) -> str:
    return text(value, "title", "invoice.title", high=NAME_MAX)


@frozen
class InvoiceTitle:
    """The invoice's title (抬头): a person's name, or a company's name and credit code."""

    kind: TitleKind
    name: str = field(converter=_title_name)
    credit_code: CreditCode | None = None

    def __attrs_post_init__(self) -> None:
        if (self.kind is TitleKind.COMPANY) != (self.credit_code is not None):
            raise ValidationError("a company title needs the company's credit code; a personal one has none",
                                  code="invoice.title", field="credit_code")

    @classmethod
    def personal(cls, name: object) -> InvoiceTitle:
        return cls(TitleKind.PERSONAL, _title_name(name))

    @classmethod
    def company(cls, name: object, credit_code: object) -> InvoiceTitle:
        code = credit_code if isinstance(credit_code, CreditCode) else CreditCode.parse(credit_code)
        return cls(TitleKind.COMPANY, _title_name(name), code)

    @classmethod
    def of(cls, name: object, credit_code: object | None = None) -> InvoiceTitle:
        """Personal without a credit code, company with one."""
        return cls.personal(name) if credit_code is None else cls.company(name, credit_code)


class InvoiceState(enum.StrEnum):
    REQUESTED = "requested"
    ISSUED = "issued"
    VOIDED = "voided"


class InvoiceAction(enum.StrEnum):
    ISSUE = "issue"
    VOID = "void"


def transitions() -> dict[tuple[InvoiceState, InvoiceAction], InvoiceState]:
    """The invoice workflow: (state, action) -> next state; anything else is an InvalidTransition."""
    s, a = InvoiceState, InvoiceAction
    return {
        (s.REQUESTED, a.ISSUE): s.ISSUED,
        (s.REQUESTED, a.VOID): s.VOIDED,
        (s.ISSUED, a.VOID): s.VOIDED,
    }


def allowed_actions(state: InvoiceState) -> tuple[InvoiceAction, ...]:
    return tuple(action for (st, action) in transitions() if st is state)


def invoice_number(raw: object) -> str:
    """An invoice number as the tax system gives it: 8..20 digits; ValidationError ``invoice.number``."""
    if not isinstance(raw, str) or not _NUMBER.fullmatch(raw):
        raise ValidationError("an invoice number is 8..20 digits", code="invoice.number", field="number")
    return raw


def _email(value: object) -> str:
    return value.address if isinstance(value, Email) else Email.parse(value).address


def _void_reason(value: object) -> str:
    return text(value, "reason", "invoice.reason", high=REASON_MAX)


@frozen
class Invoice:
    """An invoice request for one paid order of ``customer_id``, delivered by email to ``email``.

    ``amount`` (what the customer paid net of refunds when it was issued), ``number`` and ``issued_on``
    (the tax system's; a date in China) are set by ``issue``; ``voided_at`` and ``void_reason`` by
    ``void``.  ``version`` is the repository's optimistic lock (0 before it is stored).
    """

    id: InvoiceId = field(converter=invoice_id)
    order_id: OrderId = field(converter=order_id)
    customer_id: AccountId
    title: InvoiceTitle
    email: str = field(converter=_email)
    requested_at: Instant = field(converter=utc)
    state: InvoiceState = InvoiceState.REQUESTED
    amount: Money | None = None
    number: str | None = None
    issued_on: dt.date | None = None
    issued_at: Instant | None = None
    voided_at: Instant | None = None
    void_reason: str | None = None
    version: int = 0

    @classmethod
    def request(cls, ident: str, order: str, customer: AccountId, title: InvoiceTitle, email: object,
                now: dt.datetime) -> Invoice:
        """A new request (state ``requested``)."""
        return cls(InvoiceId(ident), OrderId(order), customer, title, _email(email), now)

    @property
    def is_live(self) -> bool:
        """Not voided: an order has at most one live invoice."""
        return self.state is not InvoiceState.VOIDED

    def next_state(self, action: InvoiceAction) -> InvoiceState:
        """The state ``action`` leads to from here; InvalidTransition when it is not allowed."""
        target = transitions().get((self.state, action))
        if target is None:
            raise InvalidTransition(self.state.value, action.value, [a.value for a in allowed_actions(self.state)])
        return target

    def for_amount(self, amount: Money) -> Invoice:
        """This request with the amount it is about to be issued for (what the issuer is given)."""
        return evolve(self, amount=amount)

    def issue(self, number: str, issued_on: dt.date, amount: Money, net_paid: Money, now: dt.datetime) -> Invoice:
        """Issued as ``number`` on ``issued_on`` for ``amount``, which must be more than zero and at most the
        order's ``net_paid`` (ValidationError ``invoice.amount``).  InvalidTransition unless requested."""
        target = self.next_state(InvoiceAction.ISSUE)
        if not isinstance(issued_on, dt.date) or isinstance(issued_on, dt.datetime):
            raise ValidationError("an issue date is a date", code="invoice.issued_on", field="issued_on")
        if amount.currency != net_paid.currency or not Money(1, amount.currency) <= amount <= net_paid:
            raise ValidationError(f"an invoice of {amount} does not fit what the customer paid net of refunds "
                                  f"({net_paid})", code="invoice.amount", field="amount")
        return evolve(self, state=target, number=invoice_number(number), issued_on=issued_on, amount=amount,
                      issued_at=utc(now))

    def void(self, reason: str, now: dt.datetime) -> Invoice:
        """Voided (a request declined, or an issued invoice cancelled) with ``reason`` (1..200 characters;
        ValidationError ``invoice.reason``).  InvalidTransition when already voided."""
        target = self.next_state(InvoiceAction.VOID)
        return evolve(self, state=target, void_reason=_void_reason(reason), voided_at=utc(now))
