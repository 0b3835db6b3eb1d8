"""``platform.ledger`` on memory: reads with their access rules and audit, and ``verify`` finding every kind of
problem (a tampered balance, a negative therapist balance, an unbalanced entry, an unsplit completed order)."""

from __future__ import annotations

import pendulum
import pytest

from conftest import Kit, Person
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import NotFound, PermissionDenied, ValidationError
from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount, credit, debit
from massage_core.domain.money import Money
from massage_core.services import ledger as ledger_service
from massage_core.services.ledger import ProblemKind, completion_key
from order_kit import advance, book, pay
from search_support import Shop

SYSTEM = Actor.system()
AT = pendulum.datetime(2026, 1, 5, 2, tz="UTC")
CLEARING = LedgerAccount.of(Book.GATEWAY_CLEARING)
PREPAID = LedgerAccount.of(Book.CUSTOMER_PREPAYMENTS)
COMMISSION = LedgerAccount.of(Book.COMMISSION_REVENUE)


def post(kit: Kit, *entries: JournalEntry) -> None:
    with kit.platform.deps.uow() as uow:
        for entry in entries:
            uow.ledger.post(entry)
        uow.commit()


def completion(order: str, therapist: str, paid: int = 10_000, share: int = 7_000) -> JournalEntry:
    return JournalEntry(completion_key(order), AT, (
        debit(PREPAID, Money(paid)), credit(LedgerAccount.of(Book.THERAPIST_PAYABLE, therapist), Money(share)),
        credit(COMMISSION, Money(paid - share))))


def test_a_sound_ledger_verifies_and_the_run_is_audited(kit: Kit) -> None:
    therapist = kit.therapist()
    post(kit, JournalEntry("order:o1:captured", AT, (debit(CLEARING, Money(10_000)), credit(PREPAID, Money(10_000)))),
         completion("o1", therapist.account_id))
    finance = kit.admin("finance")
    report = kit.platform.ledger.verify(finance.actor)
    assert report.ok and (report.entries, report.accounts, report.problems) == (2, 4, ())
    last = kit.audit_entries()[-1]
    assert (last.action, last.outcome, dict(last.details)) == ("ledger.verify", AuditOutcome.OK,
                                                               {"entries": "2", "problems": "0"})


def test_verify_names_a_tampered_balance_and_a_negative_therapist_balance(kit: Kit) -> None:
    therapist = kit.therapist()
    payable = LedgerAccount.of(Book.THERAPIST_PAYABLE, therapist.account_id)
    post(kit, completion("o2", therapist.account_id),
         JournalEntry("penalty:p1", AT, (debit(payable, Money(9_000)), credit(LedgerAccount.of(Book.PENALTY_REVENUE),
                                                                            Money(9_000)))))
    fen, at = kit.tables.ledger_balances[COMMISSION.code]
    kit.tables.ledger_balances[COMMISSION.code] = (fen + 1, at)  # below the repository
    del kit.tables.ledger_balances[PREPAID.code]
    report = kit.platform.ledger.verify(SYSTEM)
    found = {(p.kind, p.subject) for p in report.problems}
    assert found == {(ProblemKind.BALANCE_MISMATCH, COMMISSION.code), (ProblemKind.BALANCE_MISMATCH, PREPAID.code),
                     (ProblemKind.NEGATIVE_BALANCE, payable.code)}
    texts = {str(p) for p in report.problems}
    assert "balance_mismatch commission_revenue: stored ¥30.01, recomputed from the entries ¥30.00" in texts
    assert "balance_mismatch customer_prepayments: no balance row, recomputed from the entries -¥100.00" in texts
    assert not report.ok


def test_verify_finds_an_unbalanced_entry_slipped_under_the_repository(kit: Kit) -> None:
    good = JournalEntry("order:o3:captured", AT, (debit(CLEARING, Money(500)), credit(PREPAID, Money(500))))
    post(kit, good)
    # Only tampering can make one: forge the stored entry's lines after construction.
    forged = good.lines + (credit(COMMISSION, Money(1)),)
    object.__setattr__(kit.tables.ledger_entries[good.key], "lines", forged)
    report = kit.platform.ledger.verify(SYSTEM)
    assert (ProblemKind.UNBALANCED_ENTRY, good.key) in {(p.kind, p.subject) for p in report.problems}


def test_verify_reports_a_completed_order_without_its_split(kit: Kit, shop: Shop, therapist: Person,
                                                           customer: Person) -> None:
    p = kit.platform
    order = book(p, customer.actor, therapist.account_id, shop.tuina).id
    pay(p, order)
    advance(p, order, therapist.actor, customer.actor, "completed")
    with p.deps.uow() as uow:
        split = uow.ledger.entry(completion_key(order))
    if split is None:  # until the posting rules run on completion
        report = p.ledger.verify(SYSTEM)
        assert report.completed_orders == 1
        assert [(x.kind, x.subject) for x in report.problems] == [(ProblemKind.ORDER_NOT_SPLIT, order)]
        post(kit, completion(order, therapist.account_id))
    assert not [x for x in p.ledger.verify(SYSTEM).problems if x.kind is ProblemKind.ORDER_NOT_SPLIT]


def test_the_completed_orders_hook_is_batched(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    therapist = kit.therapist()
    orders = [f"ord_{n:026d}" for n in range(1_203)]
    monkeypatch.setattr(ledger_service, "completed_orders", lambda uow: iter(orders))
    post(kit, *(completion(o, therapist.account_id) for o in orders[::2]))
    report = kit.platform.ledger.verify(SYSTEM)
    assert report.completed_orders == 1_203
    assert [x.subject for x in report.problems] == orders[1::2]


def test_a_therapist_reads_their_own_balance_and_entries_only(kit: Kit) -> None:
    me, other = kit.therapist(), kit.therapist()
    post(kit, completion("o4", me.account_id), completion("o5", other.account_id, share=6_000))
    mine = f"therapist_payable:{me.account_id}"
    before = len(kit.audit_entries())
    assert kit.platform.ledger.balance(me.actor, mine) == Money(7_000)
    assert [e.key for e in kit.platform.ledger.entries(me.actor, mine)] == ["order:o4:completed"]
    assert kit.audit_entries()[before:] == []  # an owner's reads are not audited
    for account in (f"therapist_payable:{other.account_id}", "commission_revenue"):
        with pytest.raises(NotFound):
            kit.platform.ledger.balance(me.actor, account)
    with pytest.raises(ValidationError) as bad:
        kit.platform.ledger.balance(me.actor, "piggy_bank")
    assert bad.value.code == "ledger.account"
    with pytest.raises(PermissionDenied):
        kit.platform.ledger.balance(kit.customer_by_phone().actor, mine)


def test_staff_reads_of_a_persons_account_are_audited_platform_accounts_are_not(kit: Kit) -> None:
    therapist = kit.therapist()
    post(kit, completion("o6", therapist.account_id))
    auditor = kit.admin("auditor")
    before = len(kit.audit_entries())
    assert kit.platform.ledger.balance(auditor.actor, "commission_revenue") == Money(3_000)
    assert kit.audit_entries()[before:] == []
    code = f"therapist_payable:{therapist.account_id}"
    assert kit.platform.ledger.balance(auditor.actor, code) == Money(7_000)
    since = pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai")
    assert len(kit.platform.ledger.entries(auditor.actor, code, since=since, until=since.add(days=30))) == 1
    new = kit.audit_entries()[before:]
    assert [(e.action, e.target, e.actor) for e in new] == [("ledger.balance", code, auditor.account_id),
                                                           ("ledger.entries", code, auditor.account_id)]


def test_entry_pages_and_bounds_are_validated(kit: Kit) -> None:
    for kwargs, code in (({"limit": 0}, "page.limit"), ({"limit": 501}, "page.limit"), ({"offset": -1}, "page.offset"),
                         ({"since": pendulum.naive(2026, 1, 1)}, "time.naive")):
        with pytest.raises(ValidationError) as bad:
            kit.platform.ledger.entries(SYSTEM, "commission_revenue", **kwargs)
        assert bad.value.code == code
