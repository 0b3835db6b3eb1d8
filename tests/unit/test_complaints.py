"""``platform.complaints`` on memory (decision 0038): every workflow path, the refusals with their stable codes,
the answer deadline with the fixed clock and ``jobs.run_due``, and the money outcomes reflected exactly once in
the ledger (entries by key, balances, the gateway's own record), on a retry and on a second resolution."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from conftest import Kit, Person
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.complaints import ComplaintAction, ComplaintParty, ComplaintState, Outcome
from massage_core.domain.errors import (
    Conflict,
    InvalidTransition,
    MassageError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderAction, OrderState
from massage_core.domain import postings
from massage_core.services.complaint_views import PLATFORM, ComplaintView
from massage_core.services.complaints import ComplaintsService
from order_kit import START, advance, book, gateway, pay
from search_support import Shop

SYSTEM = Actor.system()
A = LedgerAccount.of


def order_in(kit: Kit, shop: Shop, therapist: Person, customer: Person, state: str = "completed") -> str:
    made = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, made)
    advance(kit.platform, made, therapist.actor, customer.actor, state)
    return made


def file(kit: Kit, customer: Person, order: str, **changes: Any) -> ComplaintView:
    args: dict[str, Any] = {"category": "service_quality", "description": "Only 40 of the 60 minutes were given.",
                            "evidence": ["med_01HZZZZZZZZZZZZZZZZZZZZZZZ", "receipt:42"]}
    args.update(changes)
    return kit.platform.complaints.file(customer.actor, order, **args)


def raises(error: type[MassageError], code: str, call: Callable[[], object]) -> None:
    with pytest.raises(error) as caught:
        call()
    assert caught.value.code == code, caught.value


def balance(kit: Kit, account: LedgerAccount) -> Money:
    with kit.platform.deps.uow() as uow:
        return uow.ledger.balance(account)


def entries(kit: Kit) -> dict[str, Any]:
    return dict(kit.tables.ledger_entries)


@pytest.fixture
def completed(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> str:
    return order_in(kit, shop, therapist, customer)


# -- the workflow -------------------------------------------------------------------------------------------------


def test_file_answer_mediate_and_resolve_without_action(kit: Kit, therapist: Person, customer: Person,
                                                        completed: str) -> None:
    complaints, support = kit.platform.complaints, kit.support()
    filed = file(kit, customer, completed)
    assert (filed.state, filed.order_id, filed.therapist_id, filed.customer_id) == (
        ComplaintState.OPEN, completed, therapist.account_id, customer.account_id)
    assert filed.answer_due == kit.clock.now() + dt.timedelta(hours=48)
    assert filed.evidence == ("med_01HZZZZZZZZZZZZZZZZZZZZZZZ", "receipt:42")
    answered = complaints.respond(therapist.actor, filed.id, "The customer asked to stop early.")
    assert (answered.state, answered.answer) == (ComplaintState.THERAPIST_RESPONDED,
                                                 "The customer asked to stop early.")
    taken = complaints.take(support.actor, filed.id, "looking into it")
    assert (taken.state, taken.mediator) == (ComplaintState.UNDER_MEDIATION, support.account_id)
    done = complaints.resolve(support.actor, filed.id, "no_action", "The customer confirmed stopping early.")
    assert (done.state, done.outcome, done.amount) == (ComplaintState.RESOLVED, Outcome.NO_ACTION, Money(0))
    assert [s.action for s in done.timeline] == [ComplaintAction.FILE, ComplaintAction.RESPOND,
                                                 ComplaintAction.TAKE, ComplaintAction.RESOLVE]
    # the parties read the same timeline, without the admin's account id
    for party in (customer, therapist):
        seen = complaints.get(party.actor, filed.id)
        assert seen.mediator == PLATFORM
        assert [s.actor for s in seen.timeline] == [customer.account_id, therapist.account_id, PLATFORM, PLATFORM]
        assert seen.timeline[-1].note == "The customer confirmed stopping early."
    audited = [(e.action, e.target) for e in kit.audit_entries() if e.outcome is AuditOutcome.OK
               and e.action.startswith("complaints.")]
    assert audited == [(f"complaints.{a}", filed.id) for a in ("file", "respond", "take", "resolve")]
    assert kit.platform.complaints.mine(customer.actor).items[0].id == filed.id
    assert kit.platform.complaints.about_me(therapist.actor).items[0].id == filed.id


def test_warning_resolves_an_answered_complaint_taking_it_first(kit: Kit, therapist: Person, customer: Person,
                                                               completed: str) -> None:
    filed = file(kit, customer, completed, category="conduct")
    kit.platform.complaints.respond(therapist.actor, filed.id, "Sorry.")
    before = entries(kit)
    done = kit.platform.complaints.resolve(kit.support().actor, filed.id, Outcome.WARNING, "Be polite.")
    assert (done.state, done.outcome) == (ComplaintState.RESOLVED, Outcome.WARNING)
    assert [s.action for s in done.timeline][-2:] == [ComplaintAction.TAKE, ComplaintAction.RESOLVE]
    assert entries(kit) == before  # no money


def test_withdrawn_by_the_customer_then_a_new_complaint_may_be_filed(kit: Kit, customer: Person,
                                                                     completed: str) -> None:
    complaints = kit.platform.complaints
    first = file(kit, customer, completed)
    raises(Conflict, "complaint.already_open", lambda: file(kit, customer, completed))
    gone = complaints.withdraw(customer.actor, first.id, "sorted it out")
    assert gone.state is ComplaintState.WITHDRAWN
    raises(InvalidTransition, "invalid_transition", lambda: complaints.withdraw(customer.actor, first.id))
    raises(InvalidTransition, "invalid_transition",
           lambda: complaints.take(kit.support().actor, first.id))
    second = file(kit, customer, completed)
    assert second.id != first.id and second.state is ComplaintState.OPEN


def test_resolution_needs_mediation_and_is_final(kit: Kit, customer: Person, completed: str) -> None:
    complaints, support = kit.platform.complaints, kit.support()
    filed = file(kit, customer, completed)
    with pytest.raises(InvalidTransition) as caught:
        complaints.resolve(support.actor, filed.id, "no_action", "too early")
    assert "respond" in str(caught.value) and "take" in str(caught.value)
    complaints.take(support.actor, filed.id)
    complaints.resolve(support.actor, filed.id, "warning", "noted")
    for again in (lambda: complaints.resolve(support.actor, filed.id, "no_action", "again"),
                  lambda: complaints.withdraw(customer.actor, filed.id),
                  lambda: complaints.take(support.actor, filed.id)):
        raises(InvalidTransition, "invalid_transition", again)


def test_the_therapist_answers_once_before_the_deadline(kit: Kit, therapist: Person, customer: Person,
                                                       completed: str) -> None:
    complaints = kit.platform.complaints
    filed = file(kit, customer, completed)
    raises(ValidationError, "complaint.answer", lambda: complaints.respond(therapist.actor, filed.id, "  "))
    complaints.take(kit.support().actor, filed.id)  # mediation started: the therapist may still answer, once
    answered = complaints.respond(therapist.actor, filed.id, "I was on time.")
    assert (answered.state, answered.answer) == (ComplaintState.UNDER_MEDIATION, "I was on time.")
    raises(Conflict, "complaint.already_answered",
           lambda: complaints.respond(therapist.actor, filed.id, "and again"))


def test_an_answer_after_the_deadline_is_refused(kit: Kit, therapist: Person, customer: Person,
                                                 completed: str) -> None:
    complaints = kit.platform.complaints
    filed = file(kit, customer, completed)
    complaints.take(kit.support().actor, filed.id)
    kit.clock.advance(dt.timedelta(hours=48))
    raises(Conflict, "complaint.answer_late", lambda: complaints.respond(therapist.actor, filed.id, "late"))


def test_jobs_move_unanswered_complaints_to_mediation_at_the_deadline(kit: Kit, shop: Shop, therapist: Person,
                                                                     customer: Person, completed: str) -> None:
    complaints = kit.platform.complaints
    silent = file(kit, customer, completed)
    answered = file(kit, customer, order_in(kit, shop, therapist, customer))
    complaints.respond(therapist.actor, answered.id, "answered in time")
    kit.clock.advance(dt.timedelta(hours=47, minutes=59))
    assert kit.platform.jobs.run_due(SYSTEM).complaint_deadlines.fired == 0
    kit.clock.advance(dt.timedelta(minutes=1))
    report = kit.platform.jobs.run_due(SYSTEM)
    assert (report.complaint_deadlines.fired, report.complaint_deadlines.skipped) == (1, 0)
    moved = complaints.get(customer.actor, silent.id)
    assert moved.state is ComplaintState.UNDER_MEDIATION
    assert (moved.timeline[-1].action, moved.timeline[-1].party) == (ComplaintAction.ESCALATE, ComplaintParty.SYSTEM)
    assert complaints.get(customer.actor, answered.id).state is ComplaintState.THERAPIST_RESPONDED
    assert kit.platform.jobs.run_due(SYSTEM).complaint_deadlines.fired == 0  # once
    raises(Conflict, "complaint.answer_late", lambda: complaints.respond(therapist.actor, silent.id, "late"))
    assert [e.actor for e in kit.audit_entries() if e.action == "complaints.escalate"] == ["system"]


def test_filing_rules(kit: Kit, shop: Shop, therapist: Person, customer: Person, completed: str) -> None:
    complaints = kit.platform.complaints
    unpaid = book(kit.platform, customer.actor, therapist.account_id, shop.tuina,
                  start=book_start(2)).id
    raises(Conflict, "complaint.order_state", lambda: file(kit, customer, unpaid))
    pay(kit.platform, unpaid)
    raises(Conflict, "complaint.order_state", lambda: file(kit, customer, unpaid))  # not accepted yet
    stranger = kit.customer_by_phone()
    raises(NotFound, "not_found", lambda: file(kit, stranger, completed))
    raises(PermissionDenied, "permission_denied", lambda: file(kit, kit.finance(), completed))
    raises(ValidationError, "actor.no_account", lambda: complaints.file(SYSTEM, completed, "other", "x"))
    raises(ValidationError, "complaint.category", lambda: file(kit, customer, completed, category="weather"))
    raises(ValidationError, "complaint.description", lambda: file(kit, customer, completed, description=" "))
    raises(ValidationError, "complaint.description", lambda: file(kit, customer, completed, description="x" * 2001))
    for bad in (["a b"], ["x" * 129], [""], [f"ref{i}" for i in range(11)], "med_1", [7]):
        raises(ValidationError, "complaint.evidence", lambda bad=bad: file(kit, customer, completed, evidence=bad))
    raises(ValidationError, "invalid_id", lambda: file(kit, customer, "ord_nope"))
    assert file(kit, customer, completed, evidence=["a", "a", "b"]).evidence == ("a", "b")
    accepted = order_in(kit, shop, therapist, customer, "accepted")
    assert file(kit, customer, accepted).state is ComplaintState.OPEN


def book_start(hours_later: int) -> Any:
    return START.add(hours=hours_later)


# -- who sees what ------------------------------------------------------------------------------------------------


def test_only_the_parties_and_mediators_see_a_complaint(kit: Kit, therapist: Person, customer: Person,
                                                        completed: str) -> None:
    complaints = kit.platform.complaints
    filed = file(kit, customer, completed)
    other_customer, other_therapist = kit.customer_by_phone(), kit.therapist()
    for outsider in (other_customer, other_therapist):
        denied = len(kit.denied_entries())
        raises(NotFound, "not_found", lambda outsider=outsider: complaints.get(outsider.actor, filed.id))
        assert len(kit.denied_entries()) == denied + 1
    raises(NotFound, "not_found", lambda: complaints.respond(other_therapist.actor, filed.id, "not me"))
    raises(NotFound, "not_found", lambda: complaints.withdraw(other_customer.actor, filed.id))
    raises(PermissionDenied, "permission_denied", lambda: complaints.get(kit.finance().actor, filed.id))
    raises(PermissionDenied, "permission_denied", lambda: complaints.take(therapist.actor, filed.id))
    raises(ValidationError, "actor.no_account", lambda: complaints.take(SYSTEM, filed.id))
    staff = complaints.get(kit.support().actor, filed.id)
    assert staff.description == "Only 40 of the 60 minutes were given."
    assert [c.id for c in complaints.list(kit.superadmin().actor, "open").items] == [filed.id]
    assert complaints.list(SYSTEM, ComplaintState.RESOLVED).items == ()
    raises(ValidationError, "complaint.state", lambda: complaints.list(SYSTEM, "lost"))
    assert complaints.mine(other_customer.actor).items == ()


# -- money outcomes --------------------------------------------------------------------------------------------


def mediated(kit: Kit, customer: Person, order: str) -> tuple[str, Person]:
    support = kit.support()
    filed = file(kit, customer, order)
    kit.platform.complaints.take(support.actor, filed.id)
    return filed.id, support


def refund_entries(kit: Kit, order: str) -> list[str]:
    return [key for key in kit.tables.ledger_entries if key.startswith(f"refund:{order}-")]


def test_partial_refund_goes_through_the_order_and_the_ledger_exactly_once(kit: Kit, therapist: Person,
                                                                          customer: Person, completed: str) -> None:
    complaint, support = mediated(kit, customer, completed)
    paid = kit.platform.orders.get(SYSTEM, completed).paid
    pending = A(Book.THERAPIST_PENDING, therapist.account_id)
    before = {acc: balance(kit, acc) for acc in (A(Book.GATEWAY_CLEARING), pending, A(Book.COMMISSION_REVENUE))}
    count = len(entries(kit))
    raises(ValidationError, "complaint.amount",
           lambda: kit.platform.complaints.resolve(support.actor, complaint, "partial_refund", "too much", paid.fen + 1))
    raises(ValidationError, "complaint.amount",
           lambda: kit.platform.complaints.resolve(support.actor, complaint, "partial_refund", "none"))
    done = kit.platform.complaints.resolve(support.actor, complaint, "partial_refund", "20 minutes short", 8_000)
    assert (done.outcome, done.amount) == (Outcome.PARTIAL_REFUND, Money(8_000))
    order = kit.platform.orders.get(SYSTEM, completed)
    assert (order.state, order.refunded) == (OrderState.REFUNDED, Money(8_000))
    actions = [s.action for s in order.timeline]
    assert actions[-2:] == [OrderAction.DISPUTE, OrderAction.REFUND]
    assert order.timeline[-2].note == f"complaint {complaint}"
    [key] = refund_entries(kit, completed)
    assert key == f"refund:{completed}-r{len(order.timeline) - 1}"
    assert len(entries(kit)) == count + 1
    entry = kit.tables.ledger_entries[key]
    assert sum(ln.amount.fen for ln in entry.lines if ln.side.value == "credit") == 8_000
    assert balance(kit, A(Book.GATEWAY_CLEARING)) == before[A(Book.GATEWAY_CLEARING)] - Money(8_000)
    taken = (before[pending] - balance(kit, pending)) + (
        before[A(Book.COMMISSION_REVENUE)] - balance(kit, A(Book.COMMISSION_REVENUE)))
    assert taken == Money(8_000)  # exactly what the completion credited, in proportion
    assert gateway(kit.platform).query(completed).refunded == Money(8_000)
    # resolving again: refused, nothing moves
    raises(InvalidTransition, "invalid_transition",
           lambda: kit.platform.complaints.resolve(support.actor, complaint, "partial_refund", "again", 100))
    assert len(entries(kit)) == count + 1 and gateway(kit.platform).query(completed).refunded == Money(8_000)
    audit = [e for e in kit.audit_entries() if e.action == "complaints.resolve"][-1]
    assert dict(audit.details)["refund"] == key.removeprefix("refund:")


def test_full_refund_takes_back_everything_the_order_retains(kit: Kit, therapist: Person, customer: Person,
                                                            completed: str) -> None:
    complaint, support = mediated(kit, customer, completed)
    paid = kit.platform.orders.get(SYSTEM, completed).paid
    raises(ValidationError, "complaint.amount",
           lambda: kit.platform.complaints.resolve(support.actor, complaint, "full_refund", "x", paid.fen - 1))
    done = kit.platform.complaints.resolve(support.actor, complaint, "full_refund", "never came back")
    assert done.amount == paid
    assert kit.platform.orders.get(SYSTEM, completed).refunded == paid
    assert balance(kit, A(Book.THERAPIST_PENDING, therapist.account_id)) == Money(0)
    assert balance(kit, A(Book.GATEWAY_CLEARING)) == Money(0)
    assert len(refund_entries(kit, completed)) == 1
    kit.clock.advance(dt.timedelta(days=8))
    kit.platform.jobs.run_due(SYSTEM)
    assert balance(kit, A(Book.THERAPIST_PAYABLE, therapist.account_id)) == Money(0)


def test_a_retry_after_a_failed_commit_moves_the_money_once(kit: Kit, customer: Person, completed: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    complaint, support = mediated(kit, customer, completed)
    count = len(entries(kit))
    real = ComplaintsService._audit_ok
    failures = iter([True])

    def crash_once(uow: Any, actor: Actor, action: str, target: str, at: Any, **details: str) -> None:
        if action == "complaints.resolve" and next(failures, False):
            raise Conflict("the database went away", code="conflict.busy")
        real(uow, actor, action, target, at, **details)

    monkeypatch.setattr(ComplaintsService, "_audit_ok", staticmethod(crash_once))
    raises(Conflict, "conflict.busy",
           lambda: kit.platform.complaints.resolve(support.actor, complaint, "partial_refund", "short", 5_000))
    assert gateway(kit.platform).query(completed).refunded == Money(5_000)  # the gateway moved it already
    assert len(entries(kit)) == count and kit.platform.orders.get(SYSTEM, completed).state is OrderState.COMPLETED
    done = kit.platform.complaints.resolve(support.actor, complaint, "partial_refund", "short", 5_000)
    assert done.state is ComplaintState.RESOLVED
    assert gateway(kit.platform).query(completed).refunded == Money(5_000)  # same refund number: not twice
    assert len(entries(kit)) == count + 1 and len(refund_entries(kit, completed)) == 1


def test_a_disputed_order_is_refunded_without_a_second_dispute(kit: Kit, therapist: Person, customer: Person,
                                                                completed: str) -> None:
    kit.platform.orders.dispute(customer.actor, completed, "too short")
    complaint, support = mediated(kit, customer, completed)
    kit.platform.complaints.resolve(support.actor, complaint, "partial_refund", "short", 1_000)
    order = kit.platform.orders.get(SYSTEM, completed)
    assert [s.action for s in order.timeline].count(OrderAction.DISPUTE) == 1
    assert (order.state, order.refunded) == (OrderState.REFUNDED, Money(1_000))
    assert len(refund_entries(kit, completed)) == 1


def test_a_refund_outcome_needs_money_left_on_the_order(kit: Kit, shop: Shop, therapist: Person,
                                                       customer: Person) -> None:
    cancelled = order_in(kit, shop, therapist, customer, "accepted")
    kit.platform.orders.cancel(customer.actor, cancelled, "changed my mind")
    complaint, support = mediated(kit, customer, cancelled)
    count = len(entries(kit))
    raises(Conflict, "complaint.nothing_to_refund",
           lambda: kit.platform.complaints.resolve(support.actor, complaint, "full_refund", "refund"))
    assert len(entries(kit)) == count
    assert kit.platform.complaints.get(support.actor, complaint).state is ComplaintState.UNDER_MEDIATION


def fund(kit: Kit, therapist: Person, fen: int) -> None:
    with kit.platform.deps.uow() as uow:
        uow.ledger.post(postings.bonus("test-fund", therapist.account_id, Money(fen), kit.clock.now(), "fund"))
        uow.commit()


def test_penalty_posts_once_under_the_complaint_key(kit: Kit, therapist: Person, customer: Person,
                                                   completed: str) -> None:
    complaint, support = mediated(kit, customer, completed)
    payable = A(Book.THERAPIST_PAYABLE, therapist.account_id)
    fund(kit, therapist, 5_000)
    raises(ValidationError, "complaint.exceeds_available",
           lambda: kit.platform.complaints.resolve(support.actor, complaint, "penalty", "rude", 5_001))
    raises(ValidationError, "complaint.amount",
           lambda: kit.platform.complaints.resolve(support.actor, complaint, "penalty", "rude"))
    count = len(entries(kit))
    done = kit.platform.complaints.resolve(support.actor, complaint, "penalty", "rude to the customer", 3_000)
    assert (done.outcome, done.amount) == (Outcome.PENALTY, Money(3_000))
    entry = kit.tables.ledger_entries[f"penalty:{complaint}"]
    assert len(entries(kit)) == count + 1
    assert {(ln.account, ln.side.value, ln.amount) for ln in entry.lines} == {
        (payable, "debit", Money(3_000)), (A(Book.PENALTY_REVENUE), "credit", Money(3_000))}
    assert balance(kit, payable) == Money(2_000)
    raises(InvalidTransition, "invalid_transition",
           lambda: kit.platform.complaints.resolve(support.actor, complaint, "penalty", "again", 1_000))
    assert balance(kit, payable) == Money(2_000) and len(entries(kit)) == count + 1
    summary = kit.platform.earnings.summary(therapist.actor)
    assert summary.available == Money(2_000)


def test_no_money_outcomes_take_no_amount(kit: Kit, customer: Person, completed: str) -> None:
    complaint, support = mediated(kit, customer, completed)
    for outcome in ("no_action", "warning"):
        raises(ValidationError, "complaint.amount",
               lambda outcome=outcome: kit.platform.complaints.resolve(support.actor, complaint, outcome, "n", 1))
    raises(ValidationError, "complaint.outcome",
           lambda: kit.platform.complaints.resolve(support.actor, complaint, "banish", "n"))
    raises(ValidationError, "complaint.note",
           lambda: kit.platform.complaints.resolve(support.actor, complaint, "warning", " "))
    raises(ValidationError, "complaint.amount",
           lambda: kit.platform.complaints.resolve(support.actor, complaint, "penalty", "n", 1.5))  # type: ignore[arg-type]


def test_upheld_counts_count_resolved_outcomes_other_than_no_action(kit: Kit, shop: Shop, therapist: Person,
                                                                   customer: Person) -> None:
    other = kit.therapist()
    support = kit.support()
    outcomes = ["warning", "no_action", "warning", None, "withdraw"]
    for outcome in outcomes:
        complaint = file(kit, customer, order_in(kit, shop, therapist, customer)).id
        if outcome == "withdraw":
            kit.platform.complaints.withdraw(customer.actor, complaint)
        elif outcome is not None:
            kit.platform.complaints.take(support.actor, complaint)
            kit.platform.complaints.resolve(support.actor, complaint, outcome, "decided")
    with kit.platform.deps.uow() as uow:
        counts = uow.complaints.upheld_counts([therapist.account_id, other.account_id])
        assert uow.complaints.upheld_counts([]) == {}
    assert counts == {therapist.account_id: 2, other.account_id: 0}


def test_a_penalty_above_the_balance_names_it_only_to_ledger_readers(kit: Kit, therapist: Person, customer: Person,
                                                                     completed: str) -> None:
    complaint, support = mediated(kit, customer, completed)
    fund(kit, therapist, 1_234)
    for mediator, shown in ((support, False), (kit.superadmin(), True)):  # support mediates without ledger.read
        with pytest.raises(ValidationError) as refused:
            kit.platform.complaints.resolve(mediator.actor, complaint, "penalty", "rude", 1_235)
        assert refused.value.code == "complaint.exceeds_available"
        assert ("12.34" in refused.value.message) is shown, refused.value.message
    assert kit.platform.complaints.get(support.actor, complaint).state is ComplaintState.UNDER_MEDIATION


def test_a_mediators_read_of_one_complaint_is_audited_the_parties_are_not(kit: Kit, customer: Person,
                                                                         therapist: Person, completed: str) -> None:
    filed = file(kit, customer, completed)
    support = kit.support()
    kit.platform.complaints.get(customer.actor, filed.id)
    kit.platform.complaints.get(therapist.actor, filed.id)
    kit.platform.complaints.get(SYSTEM, filed.id)
    kit.platform.complaints.get(support.actor, filed.id)
    reads = [(e.actor, e.target, e.outcome) for e in kit.audit_entries() if e.action == "complaints.get"]
    assert reads == [(support.account_id, filed.id, AuditOutcome.OK)]
