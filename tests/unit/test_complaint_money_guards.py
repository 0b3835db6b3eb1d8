"""Review R1 of issue 6: a complaint's resolution checks everything before money leaves the platform, and the
mediator's free text never reaches the (immutable, unencrypted) ledger (decision 0038)."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Kit, Person
from massage_core.domain import postings
from massage_core.domain.access import Actor
from massage_core.domain.complaints import ComplaintState, Outcome
from massage_core.domain.errors import ValidationError
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderState
from order_kit import advance, book, gateway, pay
from search_support import Shop

SYSTEM = Actor.system()
A = LedgerAccount.of


def balance(kit: Kit, account: LedgerAccount) -> Money:
    with kit.platform.deps.uow() as uow:
        return uow.ledger.balance(account)


@pytest.fixture
def mediated(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> tuple[str, str, Person]:
    """A completed order and its complaint under mediation; (order, complaint, mediator)."""
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, order)
    advance(kit.platform, order, therapist.actor, customer.actor, "completed")
    filed = kit.platform.complaints.file(customer.actor, order, "service_quality", "Only 40 of 60 minutes.")
    support = kit.support()
    kit.platform.complaints.take(support.actor, filed.id)
    return order, filed.id, support


@pytest.mark.parametrize("outcome", ["partial_refund", "full_refund"])
@pytest.mark.parametrize("note", ["", "   ", "n" * 1001])
def test_a_bad_note_is_refused_before_the_gateway_refunds(kit: Kit, mediated: tuple[str, str, Person],
                                                           outcome: str, note: str) -> None:
    order, complaint, support = mediated
    ledger = dict(kit.tables.ledger_entries)
    with pytest.raises(ValidationError) as refused:
        kit.platform.complaints.resolve(support.actor, complaint, outcome, note,
                                        1_000 if outcome == "partial_refund" else None)
    assert refused.value.code == "complaint.note"
    assert gateway(kit.platform).query(order).refunded == Money(0)  # no money left the platform
    assert dict(kit.tables.ledger_entries) == ledger
    assert kit.platform.orders.get(SYSTEM, order).state is OrderState.COMPLETED
    # the mediator may still decide otherwise, and the books and the gateway agree
    done = kit.platform.complaints.resolve(support.actor, complaint, "no_action", "Nothing to refund after all.")
    assert (done.state, done.outcome) == (ComplaintState.RESOLVED, Outcome.NO_ACTION)
    assert gateway(kit.platform).query(order).refunded == Money(0)


def test_a_penalty_keeps_the_mediators_note_out_of_the_ledger(kit: Kit, mediated: tuple[str, str, Person],
                                                              therapist: Person) -> None:
    _, complaint, support = mediated
    with kit.platform.deps.uow() as uow:
        uow.ledger.post(postings.bonus("r1-fund", therapist.account_id, Money(5_000), kit.clock.now(), "fund"))
        uow.commit()
    note = "Customer Wang Li (138 0013 8000) says she was insulted"
    kit.platform.complaints.resolve(support.actor, complaint, "penalty", note, 2_000)
    entry = kit.tables.ledger_entries[f"penalty:{complaint}"]
    assert entry.memo == f"complaint {complaint}"
    assert kit.platform.complaints.get(support.actor, complaint).resolution_note == note  # kept, encrypted at rest


def test_a_partial_refund_of_a_finished_visit_leaves_the_rest_to_the_therapist(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    """Resolved before the customer confirmed: the visit is completed first, so what the refund leaves is split
    and settles like any completed order's -- nothing stays in customer prepayments for ever."""
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, order)
    advance(kit.platform, order, therapist.actor, customer.actor, "finished")
    filed = kit.platform.complaints.file(customer.actor, order, "service_quality", "Only 40 of 60 minutes.")
    support = kit.support()
    kit.platform.complaints.take(support.actor, filed.id)
    kit.platform.complaints.resolve(support.actor, filed.id, "partial_refund", "20 minutes short", 1_000)
    done = kit.platform.orders.get(SYSTEM, order)
    assert (done.state, done.refunded) == (OrderState.REFUNDED, Money(1_000))
    assert [s.action.value for s in done.timeline][-3:] == ["complete", "dispute", "refund"]
    assert balance(kit, A(Book.CUSTOMER_PREPAYMENTS)) == Money(0)
    kit.clock.advance(dt.timedelta(days=kit.platform.deps.policies.settlement_days + 1))
    kit.platform.jobs.run_due(SYSTEM)
    payable = balance(kit, A(Book.THERAPIST_PAYABLE, therapist.account_id))
    assert balance(kit, A(Book.THERAPIST_PENDING, therapist.account_id)) == Money(0)
    assert payable.fen > 0
    assert payable + balance(kit, A(Book.COMMISSION_REVENUE)) == done.paid - Money(1_000)  # every fen split
    assert kit.platform.ledger.verify(SYSTEM).ok


def test_every_step_is_audited_with_what_moved_and_without_the_texts(
        kit: Kit, mediated: tuple[str, str, Person], therapist: Person, customer: Person, shop: Shop) -> None:
    """Acceptance 4 of issue 6 ("everything audited") for the steps the workflow tests leave out: a withdrawal,
    a refund outcome and a penalty outcome, each with the money it moved and none of the free texts."""
    order, complaint, support = mediated
    kit.platform.complaints.resolve(support.actor, complaint, "partial_refund", "Refund of twenty minutes", 1_000)
    second = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, second)
    advance(kit.platform, second, therapist.actor, customer.actor, "completed")
    withdrawn = kit.platform.complaints.file(customer.actor, second, "conduct", "Secret text one")
    kit.platform.complaints.withdraw(customer.actor, withdrawn.id, "Secret text two")
    with kit.platform.deps.uow() as uow:
        uow.ledger.post(postings.bonus("r1-fund-2", therapist.account_id, Money(5_000), kit.clock.now(), "fund"))
        uow.commit()
    penalised = kit.platform.complaints.file(customer.actor, second, "conduct", "Secret text three")
    kit.platform.complaints.take(support.actor, penalised.id)
    kit.platform.complaints.resolve(support.actor, penalised.id, "penalty", "Secret text four", 700)
    entries = {(e.action, e.target): dict(e.details) for e in kit.audit_entries()
               if e.action.startswith("complaints.")}
    assert entries[("complaints.withdraw", withdrawn.id)] == {"state": "withdrawn"}
    refund = entries[("complaints.resolve", complaint)]
    assert (refund["outcome"], refund["amount"], refund["order"]) == ("partial_refund", "1000", order)
    penalty = entries[("complaints.resolve", penalised.id)]
    assert (penalty["outcome"], penalty["amount"], penalty["penalty"]) == ("penalty", "700",
                                                                          f"penalty:{penalised.id}")
    assert not [v for e in kit.audit_entries() for _, v in e.details if "Secret text" in v or "twenty" in v]
