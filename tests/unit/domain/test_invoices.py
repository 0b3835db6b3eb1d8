"""Invoices in the domain: the unified social credit code (GB 32100-2015, with the GB 11714 organisation code
inside it), titles, and the invoice workflow's transition table (decision 0030)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from massage_core.domain.errors import InvalidTransition, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.invoices import (
    CREDIT_CODE_ALPHABET,
    CREDIT_CODE_WEIGHTS,
    CreditCode,
    Invoice,
    InvoiceAction,
    InvoiceState,
    InvoiceTitle,
    TitleKind,
    credit_check_character,
    organisation_check_character,
    transitions,
)
from massage_core.domain.money import Money
from storage_support import T0, new_id

REAL_CODES = [
    # Published codes found in public test suites and documentation; each satisfies both check characters.
    "91350500676532779B",
    "91510100350611266D",
    "91510100MA6BKY6U36",
    "91370100780603055K",
    "91330101589882738D",
    "91310110666007217T",
    "91350100M000100Y43",
]


def test_the_weights_are_powers_of_three_mod_31() -> None:
    assert CREDIT_CODE_WEIGHTS == tuple(pow(3, i, 31) for i in range(17))
    assert len(CREDIT_CODE_ALPHABET) == 31 and not set("IOZSV") & set(CREDIT_CODE_ALPHABET)


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_published_codes_are_accepted(code: str) -> None:
    parsed = CreditCode.parse(f"  {code.lower()} ")
    assert parsed.value == code and str(parsed) == code
    assert credit_check_character(code[:17]) == code[17]
    assert organisation_check_character(code[8:16]) == code[16]


def test_the_parts_of_a_code() -> None:
    code = CreditCode.parse("91350500676532779B")
    assert (code.registration_authority, code.organisation_type, code.division) == ("9", "1", "350500")
    assert code.organisation_code == "676532779"


@pytest.mark.parametrize(("raw", "error"), [
    (None, "invoice.credit_code"),
    (91350500676532779, "invoice.credit_code"),
    ("", "invoice.credit_code"),
    ("91350500676532779", "invoice.credit_code"),  # 17 characters
    ("91350500676532779BB", "invoice.credit_code"),  # 19
    ("9135050067653277IB", "invoice.credit_code"),  # I is not in the alphabet
    ("9135050067653277OB", "invoice.credit_code"),  # nor O
    ("91350500676532779Z", "invoice.credit_code"),  # nor Z
    ("9135050067653277SB", "invoice.credit_code"),  # nor S
    ("9135050067653277VB", "invoice.credit_code"),  # nor V
    ("913505A0676532779B", "invoice.credit_code"),  # the division is six digits
    ("91350500-676532779", "invoice.credit_code"),
    ("91350500676532778B", "invoice.credit_code_org"),  # the organisation code's check character
    ("91350500676532779C", "invoice.credit_code_check"),  # the 18th character
    ("91350100M0001TGQXM", "invoice.credit_code_check"),  # an early pilot code that breaks the standard
])
def test_malformed_codes_are_refused_with_stable_codes(raw: object, error: str) -> None:
    with pytest.raises(ValidationError) as err:
        CreditCode.parse(raw)
    assert err.value.code == error and err.value.field == "credit_code"


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    letters = st.sampled_from(CREDIT_CODE_ALPHABET)
    head = "".join(draw(st.lists(letters, min_size=2, max_size=2)))
    division = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=6, max_size=6)))
    body = "".join(draw(st.lists(letters, min_size=8, max_size=8)))
    first17 = head + division + body + organisation_check_character(body)
    return first17 + credit_check_character(first17)


@given(valid_codes(), st.integers(0, 17), st.characters(codec="ascii", exclude_characters="\x00"))
def test_a_valid_code_with_any_single_character_changed_is_refused(code: str, at: int, new: str) -> None:
    assert CreditCode.parse(code).value == code
    if new.upper() == code[at]:
        return
    changed = code[:at] + new + code[at + 1:]
    with pytest.raises(ValidationError):
        CreditCode.parse(changed)


@given(valid_codes(), st.integers(0, 17), st.sampled_from(CREDIT_CODE_ALPHABET))
def test_any_single_substitution_within_the_alphabet_is_caught(code: str, at: int, new: str) -> None:
    if new == code[at]:
        return
    with pytest.raises(ValidationError) as err:
        CreditCode.parse(code[:at] + new + code[at + 1:])
    assert err.value.code.startswith("invoice.credit_code")


# -- titles ---------------------------------------------------------------------------------------------------


def test_titles_are_personal_without_a_code_and_company_with_one() -> None:
    person = InvoiceTitle.of(" 张三 ")
    assert person.kind is TitleKind.PERSONAL and person.name == "张三" and person.credit_code is None
    firm = InvoiceTitle.of("厦门某某科技有限公司", "91350500676532779b")
    assert firm.kind is TitleKind.COMPANY and str(firm.credit_code) == "91350500676532779B"


@pytest.mark.parametrize(("build", "error"), [
    (lambda: InvoiceTitle.personal(""), "invoice.title"),
    (lambda: InvoiceTitle.personal("x" * 101), "invoice.title"),
    (lambda: InvoiceTitle.personal(42), "invoice.title"),
    (lambda: InvoiceTitle(TitleKind.COMPANY, "Firm"), "invoice.title"),
    (lambda: InvoiceTitle(TitleKind.PERSONAL, "Zhang", CreditCode.parse(REAL_CODES[0])), "invoice.title"),
    (lambda: InvoiceTitle.company("Firm", "123"), "invoice.credit_code"),
])
def test_bad_titles_are_refused(build: object, error: str) -> None:
    with pytest.raises(ValidationError) as err:
        build()  # type: ignore[operator]
    assert err.value.code == error


# -- the workflow ---------------------------------------------------------------------------------------------

ISSUED_ON = dt.date(2026, 1, 5)
NET = Money(19_800)


def requested() -> Invoice:
    return Invoice.request(new_id("invoice"), new_id("order"), AccountId(new_id("account")),
                           InvoiceTitle.personal("张三"), "zhang@example.com", T0)


def in_state(state: InvoiceState) -> Invoice:
    invoice = requested()
    if state is InvoiceState.REQUESTED:
        return invoice
    if state is InvoiceState.ISSUED:
        return invoice.issue("2026010500000001", ISSUED_ON, NET, NET, T0)
    return invoice.void("declined", T0)


def test_the_transition_table() -> None:
    s, a = InvoiceState, InvoiceAction
    assert transitions() == {(s.REQUESTED, a.ISSUE): s.ISSUED, (s.REQUESTED, a.VOID): s.VOIDED,
                             (s.ISSUED, a.VOID): s.VOIDED}


def test_a_request_is_issued_then_voided() -> None:
    invoice = requested()
    assert invoice.state is InvoiceState.REQUESTED and invoice.is_live and invoice.amount is None
    done = invoice.issue("2026010500000001", ISSUED_ON, Money(19_000), NET, T0)
    assert (done.state, done.number, done.issued_on, done.amount) == (InvoiceState.ISSUED, "2026010500000001",
                                                                      ISSUED_ON, Money(19_000))
    gone = done.void(" refunded after issue ", T0)
    assert gone.state is InvoiceState.VOIDED and not gone.is_live and gone.void_reason == "refunded after issue"
    assert gone.number == done.number  # the voided invoice keeps its number


ILLEGAL = [(state, action) for state in InvoiceState for action in InvoiceAction
           if (state, action) not in transitions()]


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_illegal_transitions_are_refused_naming_state_action_and_allowed(state: InvoiceState,
                                                                         action: InvoiceAction) -> None:
    invoice = in_state(state)
    with pytest.raises(InvalidTransition) as err:
        if action is InvoiceAction.ISSUE:
            invoice.issue("2026010500000002", ISSUED_ON, NET, NET, T0)
        else:
            invoice.void("again", T0)
    assert err.value.code == "invalid_transition"
    assert (err.value.state, err.value.action) == (state.value, action.value)
    assert err.value.allowed == tuple(sorted(a.value for (st_, a) in transitions() if st_ is state))


def test_illegal_transitions_cover_issued_and_voided() -> None:
    assert set(ILLEGAL) == {(InvoiceState.ISSUED, InvoiceAction.ISSUE), (InvoiceState.VOIDED, InvoiceAction.ISSUE),
                            (InvoiceState.VOIDED, InvoiceAction.VOID)}


@pytest.mark.parametrize(("amount", "net"), [(Money(0), NET), (Money(19_801), NET), (Money(-1), NET)])
def test_the_amount_is_positive_and_never_more_than_the_net_paid(amount: Money, net: Money) -> None:
    with pytest.raises(ValidationError) as err:
        requested().issue("2026010500000001", ISSUED_ON, amount, net, T0)
    assert err.value.code == "invoice.amount"


@pytest.mark.parametrize("number", ["", "1234567", "123456789012345678901", "2026-01-05", "abcdefgh"])
def test_an_invoice_number_is_8_to_20_digits(number: str) -> None:
    with pytest.raises(ValidationError) as err:
        requested().issue(number, ISSUED_ON, NET, NET, T0)
    assert err.value.code == "invoice.number"


@pytest.mark.parametrize(("field", "value", "error"), [
    ("email", "not-an-email", "email.invalid"), ("order_id", "ord_x", "invalid_id"), ("id", "cpn_x", "invalid_id"),
])
def test_a_request_validates_its_fields(field: str, value: str, error: str) -> None:
    args = {"ident": new_id("invoice"), "order": new_id("order"), "email": "a@example.com"}
    args[{"order_id": "order", "id": "ident"}.get(field, field)] = value
    with pytest.raises(ValidationError) as err:
        Invoice.request(args["ident"], args["order"], AccountId(new_id("account")), InvoiceTitle.personal("A"),
                        args["email"], T0)
    assert err.value.code == error


def test_a_void_needs_a_reason() -> None:
    for reason in ("", "  ", "x" * 201):
        with pytest.raises(ValidationError) as err:
            requested().void(reason, T0)
        assert err.value.code == "invoice.reason"
