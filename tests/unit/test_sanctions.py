"""``platform.sanctions`` on memory (decision 0039): deductions, warnings and suspensions imposed with a reason;
one appeal within the window, decided by an admin other than the imposer; the reversal of an upheld appeal
(posted once); the jobs rule lifting suspensions; audit entries; access."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Kit, Person
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.money import Money
from massage_core.services.base import Policies
from search_support import Shop

SYSTEM = Actor.system()


def payable(kit: Kit, who: str) -> int:
    with kit.platform.deps.uow() as uow:
        return uow.ledger.balance(LedgerAccount.of(Book.THERAPIST_PAYABLE, who)).fen


def actions(kit: Kit, prefix: str = "sanctions.") -> list[tuple[str, str, AuditOutcome]]:
    return [(e.action, e.target, e.outcome) for e in kit.audit_entries() if e.action.startswith(prefix)]


def fund(kit: Kit, therapist: Person, fen: int) -> None:
    kit.platform.earnings.grant_bonus(kit.superadmin().actor, therapist.account_id, Money(fen), "welcome")


def test_a_warning_is_appealed_once_and_struck_by_another_admin(kit: Kit, therapist: Person) -> None:
    root, other = kit.superadmin(), kit.another_superadmin()
    made = kit.platform.sanctions.impose(root.actor, therapist.account_id, "warning", "  rude to a customer ")
    assert (made.kind, made.reason, made.state, made.imposed_by, made.amount) == (
        "warning", "rude to a customer", "in_force", root.account_id, None)
    [mine] = kit.platform.sanctions.mine(therapist.actor)
    assert (mine.id, mine.imposed_by, mine.appeal_state) == (made.id, None, None)  # admins' ids are for staff
    assert mine.appeal_deadline == kit.clock.now() + dt.timedelta(days=7)
    appealed = kit.platform.sanctions.appeal(therapist.actor, made.id, "The customer was rude first.")
    assert (appealed.appeal_state, appealed.appeal_text) == ("pending", "The customer was rude first.")
    with pytest.raises(Conflict) as twice:
        kit.platform.sanctions.appeal(therapist.actor, made.id, "again")
    assert twice.value.code == "appeal.once"
    with pytest.raises(PermissionDenied) as same:
        kit.platform.sanctions.decide_appeal(root.actor, made.id, True, "my own call")
    assert same.value.code == "appeal.same_admin"
    decided = kit.platform.sanctions.decide_appeal(other.actor, made.id, True, "the recording backs her")
    assert (decided.state, decided.appeal_state, decided.decided_by, decided.decision_reason) == (
        "reversed", "upheld", other.account_id, "the recording backs her")
    [seen] = kit.platform.sanctions.mine(therapist.actor)
    assert (seen.state, seen.appeal_state, seen.decision_reason, seen.decided_by) == (
        "reversed", "upheld", "the recording backs her", None)
    assert actions(kit) == [("sanctions.impose", made.id, AuditOutcome.OK),
                            ("sanctions.appeal", made.id, AuditOutcome.OK),
                            ("sanctions.decide_appeal", made.id, AuditOutcome.DENIED),
                            ("sanctions.decide_appeal", made.id, AuditOutcome.OK)]
    assert all("rude" not in value for e in kit.audit_entries() for _, value in e.details)  # texts stay encrypted


def test_an_upheld_deduction_is_paid_back_exactly_once(kit: Kit, therapist: Person) -> None:
    fund(kit, therapist, 50_000)
    root, other = kit.superadmin(), kit.support()
    made = kit.platform.sanctions.impose(root.actor, therapist.account_id, "deduction", "no-show", amount=12_000)
    assert made.amount == Money(12_000) and payable(kit, therapist.account_id) == 38_000
    kit.platform.sanctions.appeal(therapist.actor, made.id, "I was in hospital; see the note")
    kit.platform.sanctions.decide_appeal(other.actor, made.id, True, "medical note verified")
    assert payable(kit, therapist.account_id) == 50_000
    with pytest.raises(InvalidTransition):
        kit.platform.sanctions.decide_appeal(other.actor, made.id, True, "again")
    assert payable(kit, therapist.account_id) == 50_000
    with kit.platform.deps.uow() as uow:
        keys = [e.key for e in uow.ledger.entries(LedgerAccount.of(Book.THERAPIST_PAYABLE, therapist.account_id))]
    assert sorted(k for k in keys if made.id in k) == [f"penalty:{made.id}", f"penalty:{made.id}:reversed"]
    assert kit.platform.ledger.verify(SYSTEM).ok
    [month] = kit.platform.earnings.totals(therapist.actor, period="month")
    assert month.penalties == Money(0) and month.bonuses == Money(50_000)


def test_a_rejected_appeal_lets_the_deduction_stand(kit: Kit, therapist: Person) -> None:
    fund(kit, therapist, 10_000)
    made = kit.platform.sanctions.impose(kit.superadmin().actor, therapist.account_id, "deduction", "late",
                                         amount=Money(3_000))
    kit.platform.sanctions.appeal(therapist.actor, made.id, "traffic")
    decided = kit.platform.sanctions.decide_appeal(kit.support().actor, made.id, False, "traffic is foreseeable")
    assert (decided.state, decided.appeal_state) == ("in_force", "rejected")
    assert payable(kit, therapist.account_id) == 7_000


def test_the_appeal_window_closes_after_the_configured_days(make_kit: object, shop: Shop) -> None:
    for days, allowed in ((3, True), (3, False)):
        kit = make_kit(policies=Policies(appeal_window_days=days))  # type: ignore[operator]
        therapist = kit.therapist()
        made = kit.platform.sanctions.impose(SYSTEM, therapist.account_id, "warning", "dirty towels")
        kit.clock.advance(dt.timedelta(days=days) + (dt.timedelta(0) if allowed else dt.timedelta(seconds=1)))
        if allowed:
            assert kit.platform.sanctions.appeal(therapist.actor, made.id, "they were clean").appeal_state == "pending"
        else:
            with pytest.raises(Conflict) as late:
                kit.platform.sanctions.appeal(therapist.actor, made.id, "they were clean")
            assert late.value.code == "appeal.window_closed"


def test_a_timed_suspension_hides_the_therapist_until_the_jobs_rule_lifts_it(kit: Kit, therapist: Person) -> None:
    ends = kit.clock.now() + dt.timedelta(days=3)
    made = kit.platform.sanctions.impose(kit.support().actor, therapist.account_id, "suspension", "unsafe driving",
                                         ends_at=ends)
    with pytest.raises(NotFound):
        kit.platform.therapists.public_profile(SYSTEM, therapist.account_id)
    assert kit.platform.jobs.run_due(SYSTEM).lift_suspensions.fired == 0
    kit.clock.advance(dt.timedelta(days=3))
    report = kit.platform.jobs.run_due(SYSTEM)
    assert report.lift_suspensions.fired == 1 and report.rules()["lift_suspensions"].fired == 1
    assert kit.platform.therapists.public_profile(SYSTEM, therapist.account_id).id == therapist.account_id
    seen = kit.platform.sanctions.get(therapist.actor, made.id)
    assert (seen.state, seen.ended_at) == ("ended", kit.clock.now())
    assert kit.platform.jobs.run_due(SYSTEM).lift_suspensions.fired == 0
    assert ("sanctions.lift", made.id, AuditOutcome.OK) in actions(kit)


def test_lifting_never_reinstates_a_suspension_made_by_somebody_else(kit: Kit, therapist: Person) -> None:
    support = kit.support()
    kit.platform.sanctions.impose(support.actor, therapist.account_id, "suspension", "checks",
                                  ends_at=kit.clock.now() + dt.timedelta(hours=1))
    kit.platform.therapists.reinstate(support.actor, therapist.account_id)
    kit.platform.therapists.suspend(support.actor, therapist.account_id, "police inquiry")
    kit.clock.advance(dt.timedelta(hours=2))
    assert kit.platform.jobs.run_due(SYSTEM).lift_suspensions.fired == 1
    assert kit.platform.therapists.profile(support.actor, therapist.account_id).suspended


def test_an_upheld_indefinite_suspension_reinstates_the_therapist(kit: Kit, therapist: Person) -> None:
    made = kit.platform.sanctions.impose(kit.superadmin().actor, therapist.account_id, "suspension", "fraud?")
    assert made.ends_at is None
    with pytest.raises(Conflict) as twice:
        kit.platform.sanctions.impose(kit.superadmin().actor, therapist.account_id, "suspension", "more")
    assert twice.value.code == "therapist.already_suspended"
    kit.platform.sanctions.appeal(therapist.actor, made.id, "It was my sister's account.")
    kit.platform.sanctions.decide_appeal(kit.support().actor, made.id, True, "identity confirmed")
    assert kit.platform.therapists.public_profile(SYSTEM, therapist.account_id).id == therapist.account_id


@pytest.mark.parametrize(("kind", "extra", "code"), [
    ("fine", {}, "sanction.kind"),
    ("deduction", {}, "sanction.amount"),
    ("warning", {"amount": 100}, "sanction.amount"),
    ("deduction", {"amount": 0}, "sanction.amount"),
    ("deduction", {"amount": 1_000_001}, "sanction.amount"),
    ("deduction", {"amount": 60_000}, "sanction.exceeds_available"),
    ("warning", {"ends_at": dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc)}, "sanction.ends_at"),
    ("suspension", {"ends_at": dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)}, "sanction.ends_at"),
    ("suspension", {"ends_at": dt.datetime(2027, 1, 1)}, "time.naive"),
])
def test_bad_impositions_are_refused_with_stable_codes(kit: Kit, therapist: Person, kind: str,
                                                       extra: dict[str, object], code: str) -> None:
    fund(kit, therapist, 50_000)
    with pytest.raises(ValidationError) as bad:
        kit.platform.sanctions.impose(SYSTEM, therapist.account_id, kind, "reason", **extra)  # type: ignore[arg-type]
    assert bad.value.code == code
    with pytest.raises(ValidationError) as blank:
        kit.platform.sanctions.impose(SYSTEM, therapist.account_id, "warning", "   ")
    assert blank.value.code == "sanction.reason"
    assert payable(kit, therapist.account_id) == 50_000 and not kit.platform.sanctions.list(SYSTEM)


def test_nobody_sanctions_themselves_or_a_non_therapist(kit: Kit) -> None:
    root = kit.superadmin()
    with pytest.raises(Conflict) as own:
        kit.platform.sanctions.impose(root.actor, root.account_id, "warning", "me")
    assert own.value.code == "sanction.self"
    with pytest.raises(NotFound):
        kit.platform.sanctions.impose(root.actor, kit.customer().account_id, "warning", "not a therapist")


def test_another_therapists_sanction_looks_missing_and_the_denial_is_audited(kit: Kit, therapist: Person) -> None:
    made = kit.platform.sanctions.impose(SYSTEM, therapist.account_id, "warning", "late twice")
    stranger = kit.therapist()
    missing = made.id[:-4] + "ZZZZ"
    for ident in (made.id, missing):
        with pytest.raises(NotFound) as hidden:
            kit.platform.sanctions.appeal(stranger.actor, ident, "not mine")
        assert (hidden.value.kind, hidden.value.code) == ("sanction", "not_found")
        with pytest.raises(NotFound):
            kit.platform.sanctions.get(stranger.actor, ident)
    with pytest.raises(NotFound):
        kit.platform.sanctions.of_therapist(stranger.actor, therapist.account_id)
    assert kit.platform.sanctions.mine(stranger.actor) == []
    denied = [e for e in kit.denied_entries() if e.action.startswith("sanctions.")]
    assert [e.action for e in denied] == ["sanctions.appeal", "sanctions.get", "sanctions.get",
                                          "sanctions.of_therapist"]  # (a missing id is simply missing)
    assert all(e.actor == stranger.account_id for e in denied)
    with pytest.raises(PermissionDenied):
        kit.platform.sanctions.impose(therapist.actor, stranger.account_id, "warning", "revenge")


def test_staff_read_everything_and_the_appeal_queue(kit: Kit, therapist: Person) -> None:
    auditor, root = kit.auditor(), kit.superadmin()
    first = kit.platform.sanctions.impose(root.actor, therapist.account_id, "warning", "one")
    kit.clock.advance(dt.timedelta(minutes=1))
    second = kit.platform.sanctions.impose(root.actor, therapist.account_id, "warning", "two")
    kit.platform.sanctions.appeal(therapist.actor, second.id, "no")
    kit.clock.advance(dt.timedelta(minutes=1))
    kit.platform.sanctions.appeal(therapist.actor, first.id, "no")
    assert [s.id for s in kit.platform.sanctions.list(auditor.actor)] == [second.id, first.id]
    assert [s.id for s in kit.platform.sanctions.list(auditor.actor, appeal="pending")] == [second.id, first.id]
    assert kit.platform.sanctions.list(auditor.actor, appeal="upheld") == []
    listed = kit.platform.sanctions.of_therapist(auditor.actor, therapist.account_id)
    assert [s.imposed_by for s in listed] == [root.account_id] * 2
    assert ("sanctions.of_therapist", therapist.account_id, AuditOutcome.OK) in actions(kit)
    with pytest.raises(ValidationError):
        kit.platform.sanctions.list(auditor.actor, appeal="maybe")
    with pytest.raises(PermissionDenied):
        kit.platform.sanctions.decide_appeal(auditor.actor, first.id, True, "auditors only read")
    with pytest.raises(ValidationError) as nameless:
        kit.platform.sanctions.decide_appeal(SYSTEM, first.id, True, "the system has no name")
    assert nameless.value.code == "actor.no_account"


def test_a_retried_imposition_with_a_request_id_changes_nothing_again(kit: Kit, therapist: Person) -> None:
    fund(kit, therapist, 10_000)
    support = kit.support()
    sanctions = kit.platform.sanctions
    made = sanctions.impose(support.actor, therapist.account_id, "deduction", "no-show", amount=8_000,
                            request_id="ticket-42")
    kit.clock.advance(dt.timedelta(minutes=2))
    # the retry is answered although the first deduction left less than its amount available
    again = sanctions.impose(support.actor, therapist.account_id, "deduction", " no-show ", amount=Money(8_000),
                             request_id="ticket-42")
    assert again == made and payable(kit, therapist.account_id) == 2_000
    with kit.platform.deps.uow() as uow:
        keys = [e.key for e in uow.ledger.entries(LedgerAccount.of(Book.THERAPIST_PAYABLE, therapist.account_id))]
    assert [k for k in keys if k.startswith("penalty:")] == [f"penalty:{made.id}"]
    ends = kit.clock.now() + dt.timedelta(days=2)
    suspended = sanctions.impose(support.actor, therapist.account_id, "suspension", "checks", ends_at=ends,
                                 request_id="ticket-43")
    assert sanctions.impose(support.actor, therapist.account_id, "suspension", "checks", ends_at=ends,
                            request_id="ticket-43") == suspended  # not therapist.already_suspended
    assert [s.id for s in sanctions.list(SYSTEM)] == [suspended.id, made.id]
    impositions = [e for e in kit.audit_entries() if e.action == "sanctions.impose"]
    assert [(e.target, dict(e.details)["request"]) for e in impositions] == [(made.id, "ticket-42"),
                                                                            (suspended.id, "ticket-43")]
    theirs = sanctions.impose(kit.superadmin().actor, therapist.account_id, "warning", "no-show",
                              request_id="ticket-42")  # another admin's request id is another request
    assert theirs.id not in (made.id, suspended.id)
    assert len(sanctions.list(SYSTEM)) == 3
    assert kit.platform.ledger.verify(SYSTEM).ok


def test_a_request_id_reused_for_another_sanction_is_refused(kit: Kit, therapist: Person) -> None:
    fund(kit, therapist, 10_000)
    support, other = kit.support(), kit.therapist()
    sanctions = kit.platform.sanctions
    sanctions.impose(support.actor, therapist.account_id, "deduction", "no-show", amount=1_000, request_id="r1")
    ends = kit.clock.now() + dt.timedelta(days=1)
    attempts: list[tuple[str, str, str, dict[str, object]]] = [
        (therapist.account_id, "deduction", "no-show", {"amount": 1_001}),
        (other.account_id, "deduction", "no-show", {"amount": 1_000}),
        (therapist.account_id, "deduction", "rude", {"amount": 1_000}),
        (therapist.account_id, "warning", "no-show", {}),
        (therapist.account_id, "suspension", "no-show", {"ends_at": ends}),
    ]
    for who, kind, reason, extra in attempts:
        with pytest.raises(Conflict) as refused:
            sanctions.impose(support.actor, who, kind, reason, request_id="r1", **extra)  # type: ignore[arg-type]
        assert refused.value.code == "request.reused", (who, kind, reason)
    assert payable(kit, therapist.account_id) == 9_000 and len(sanctions.list(SYSTEM)) == 1
    for bad in ("", "x" * 65, "a/b", 42):
        with pytest.raises(ValidationError) as invalid:
            sanctions.impose(support.actor, therapist.account_id, "warning", "x",
                             request_id=bad)  # type: ignore[arg-type]
        assert invalid.value.code == "request.id"


def test_exceeds_available_names_the_balance_only_to_ledger_readers(kit: Kit, therapist: Person) -> None:
    fund(kit, therapist, 1_234)
    for person, shown in ((kit.support(), False), (kit.superadmin(), True)):  # support lacks ledger.read
        with pytest.raises(ValidationError) as refused:
            kit.platform.sanctions.impose(person.actor, therapist.account_id, "deduction", "x", amount=1_235)
        assert refused.value.code == "sanction.exceeds_available"
        assert ("12.34" in refused.value.message) is shown, refused.value.message
        assert "available balance" in refused.value.message


def test_a_staff_read_of_one_sanction_is_audited(kit: Kit, therapist: Person) -> None:
    made = kit.platform.sanctions.impose(SYSTEM, therapist.account_id, "warning", "late twice")
    auditor = kit.auditor()
    assert kit.platform.sanctions.get(auditor.actor, made.id).id == made.id
    kit.platform.sanctions.get(therapist.actor, made.id)  # the therapist's own read, and the system's: not audited
    kit.platform.sanctions.get(SYSTEM, made.id)
    reads = [e for e in kit.audit_entries() if e.action == "sanctions.get"]
    assert [(e.actor, e.target, e.outcome, dict(e.details)) for e in reads] == [
        (auditor.account_id, made.id, AuditOutcome.OK, {"therapist": therapist.account_id})]
