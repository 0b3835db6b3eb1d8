"""Complaints and feedback on SQLite and PostgreSQL (decision 0038): the repository round trip through the
services, the texts encrypted at rest and bound to their row, the grouped ``upheld_counts``, the deadline rule,
and the races -- two mediators resolving at once move the money once and store one outcome, two filings at once
store one live complaint."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pendulum
import pytest
from sqlalchemy import text

from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.bootstrap import Platform
from massage_core.domain import postings
from massage_core.domain.access import Actor, AdminRole, Role
from massage_core.domain.complaints import ComplaintAction, ComplaintState, Outcome
from massage_core.domain.errors import Conflict, IntegrityError, InvalidTransition, MassageError, PaymentError
from massage_core.domain.feedback import FeedbackState
from massage_core.domain.ids import AccountId
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderState
from search_support import shop, therapist
from storage_support import make_account

SYSTEM = Actor.system()
LAT, LNG = 31.2304, 121.4737
START = pendulum.datetime(2026, 1, 6, 10, tz="Asia/Shanghai")
WEEK = {day: [("08:00", "20:00")] for day in range(1, 8)}
DESCRIPTION = "Canary-complaint: the therapist arrived 50 minutes late"
LOSING = {"invalid_transition", "conflict.stale", "payment.refund_conflict", "complaint.already_open"}


class Cast:
    """A customer, a public therapist, two support admins, and orders between them."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        catalogue = shop(platform.deps.uow)
        self.service = catalogue.tuina
        self.therapist_id = therapist(platform.deps.uow, LAT, LNG, services=(catalogue.tuina,))
        platform.schedules.set_weekly_hours(SYSTEM, self.therapist_id, WEEK)
        platform.schedules.set_online(SYSTEM, self.therapist_id, True)
        customer = make_account()
        admins = [make_account(roles=frozenset({Role.ADMIN})) for _ in range(2)]
        with platform.deps.uow() as uow:
            for account in (customer, *admins):
                uow.accounts.add(account)
            uow.commit()
        self.customer = Actor(customer.id, roles=frozenset({Role.CUSTOMER}))
        self.serving = Actor(AccountId(self.therapist_id), roles=frozenset({Role.THERAPIST}))
        self.admins = [Actor(a.id, roles=frozenset({Role.ADMIN}), admin_roles=frozenset({AdminRole.SUPPORT}))
                       for a in admins]
        self._hours = 0

    @property
    def gateway(self) -> SandboxPaymentGateway:
        found = self.platform.deps.payment_gateway
        assert isinstance(found, SandboxPaymentGateway)
        return found

    def completed(self) -> str:
        orders = self.platform.orders
        order = orders.book(self.customer, therapist=self.therapist_id, service=self.service,
                            start=START.add(hours=2 * self._hours), lat=LAT, lng=LNG).id
        self._hours += 1
        orders.payment_callback(*self.gateway.simulate_payment(order))
        for step in (orders.accept, orders.depart, orders.arrive, orders.start, orders.finish):
            step(self.serving, order)
        orders.complete(self.customer, order)
        return order

    def mediated(self, order: str) -> str:
        filed = self.platform.complaints.file(self.customer, order, "punctuality", DESCRIPTION)
        self.platform.complaints.take(self.admins[0], filed.id)
        return filed.id


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` at once; each one's result or the MassageError it raised, in the order given."""
    results: list[Any] = [None] * len(calls)
    unexpected: list[BaseException] = []
    barrier = threading.Barrier(len(calls))

    def run(n: int) -> None:
        try:
            barrier.wait()
            while True:
                try:
                    results[n] = calls[n]()
                    return
                except Conflict as busy:
                    if busy.code != "conflict.busy":
                        raise
        except MassageError as refused:
            results[n] = refused
        except BaseException as error:  # reported in the test's thread
            unexpected.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not unexpected, unexpected
    return results


def winners(results: list[Any]) -> list[Any]:
    for result in results:
        if isinstance(result, MassageError):
            assert isinstance(result, (Conflict, InvalidTransition, PaymentError)) and result.code in LOSING, result
    return [r for r in results if not isinstance(r, MassageError)]


def ledger_keys(platform: Platform, prefix: str) -> list[str]:
    assert platform.engine is not None
    with platform.engine.connect() as connection:
        return list(connection.execute(text("SELECT key FROM ledger_entries WHERE key LIKE :p"),
                                       {"p": prefix + "%"}).scalars())


def balance(platform: Platform, account: LedgerAccount) -> Money:
    with platform.deps.uow() as uow:
        return uow.ledger.balance(account)


def test_round_trip_through_the_services(platform: Platform, clock: FixedClock) -> None:
    cast = Cast(platform)
    order = cast.completed()
    complaints = platform.complaints
    filed = complaints.file(cast.customer, order, "punctuality", DESCRIPTION, ["med_01HZZZZZZZZZZZZZZZZZZZZZZZ"])
    clock.advance(dt.timedelta(hours=1))
    complaints.respond(cast.serving, filed.id, "Traffic jam on the bridge")
    complaints.take(cast.admins[0], filed.id, "calling both")
    done = complaints.resolve(cast.admins[0], filed.id, "partial_refund", "half of the travel fee", 1_000)
    again = complaints.get(cast.admins[1], filed.id)
    assert again == done
    assert (again.description, again.answer, again.evidence) == (
        DESCRIPTION, "Traffic jam on the bridge", ("med_01HZZZZZZZZZZZZZZZZZZZZZZZ",))
    assert (again.state, again.outcome, again.amount, again.resolution_note) == (
        ComplaintState.RESOLVED, Outcome.PARTIAL_REFUND, Money(1_000), "half of the travel fee")
    assert [s.action for s in again.timeline] == [ComplaintAction.FILE, ComplaintAction.RESPOND, ComplaintAction.TAKE,
                                                  ComplaintAction.RESOLVE]
    assert again.answer_due == filed.answer_due and again.filed_at == filed.filed_at
    assert [c.id for c in complaints.mine(cast.customer).items] == [filed.id]
    assert [c.id for c in complaints.about_me(cast.serving).items] == [filed.id]
    assert [c.id for c in complaints.list(SYSTEM, "resolved").items] == [filed.id]
    view = platform.orders.get(SYSTEM, order)
    assert (view.state, view.refunded) == (OrderState.REFUNDED, Money(1_000))
    assert ledger_keys(platform, f"refund:{order}") == [f"refund:{order}-r{len(view.timeline) - 1}"]
    warned = complaints.file(cast.customer, cast.completed(), "conduct", "rude")
    complaints.take(cast.admins[1], warned.id)
    complaints.resolve(cast.admins[1], warned.id, "warning", "first warning")
    dismissed = complaints.file(cast.customer, cast.completed(), "other", "meh")
    complaints.take(cast.admins[1], dismissed.id)
    complaints.resolve(cast.admins[1], dismissed.id, "no_action", "nothing wrong")
    nobody = make_account()
    with platform.deps.uow() as uow:
        uow.accounts.add(nobody)
        uow.commit()
        assert uow.complaints.upheld_counts([AccountId(cast.therapist_id), nobody.id]) == {
            cast.therapist_id: 2, nobody.id: 0}
    assert platform.ledger.verify(SYSTEM).ok


def test_texts_are_encrypted_at_rest_and_bound_to_their_row(platform: Platform) -> None:
    cast = Cast(platform)
    first = platform.complaints.file(cast.customer, cast.completed(), "hygiene", DESCRIPTION)
    second = platform.complaints.file(cast.customer, cast.completed(), "hygiene", "Canary-two")
    sent = platform.feedback.submit(cast.customer, "bug", "Canary-feedback about the map")
    platform.feedback.reply(cast.admins[0], sent.id, "Canary-reply: fixed")
    assert platform.engine is not None
    with platform.engine.connect() as connection:
        notes = connection.execute(text("SELECT note_enc FROM complaint_steps")).scalars().all()
        texts = connection.execute(text("SELECT text_enc FROM platform_feedback UNION ALL "
                                        "SELECT text_enc FROM platform_feedback_replies")).scalars().all()
        rows = [str(row) for table in ("complaints", "complaint_steps", "platform_feedback",
                                       "platform_feedback_replies")
                for row in connection.execute(text(f"SELECT * FROM {table}")).all()]  # noqa: S608 (fixed names)
    assert len(notes) == 2 and len(texts) == 2
    assert all(token.startswith("v1:") for token in [*notes, *texts])
    assert not [row for row in rows if "Canary" in row]
    with platform.engine.begin() as connection:
        connection.execute(text("UPDATE complaint_steps SET note_enc = (SELECT note_enc FROM complaint_steps "
                                "WHERE complaint_id = :a) WHERE complaint_id = :b"), {"a": first.id, "b": second.id})
    with pytest.raises(IntegrityError):
        platform.complaints.get(SYSTEM, second.id)
    mine = platform.feedback.mine(cast.customer).items[0]
    assert (mine.text, mine.state, mine.replies[0].text) == (
        "Canary-feedback about the map", FeedbackState.ANSWERED, "Canary-reply: fixed")


def test_the_deadline_rule_escalates_once(platform: Platform, clock: FixedClock) -> None:
    cast = Cast(platform)
    filed = platform.complaints.file(cast.customer, cast.completed(), "punctuality", DESCRIPTION)
    clock.advance(dt.timedelta(hours=48))
    first, second = race(lambda: platform.jobs.run_due(SYSTEM), lambda: platform.jobs.run_due(SYSTEM))
    assert first.complaint_deadlines.fired + second.complaint_deadlines.fired == 1
    found = platform.complaints.get(SYSTEM, filed.id)
    assert found.state is ComplaintState.UNDER_MEDIATION
    assert [s.action for s in found.timeline].count(ComplaintAction.ESCALATE) == 1


@pytest.mark.parametrize("amounts", [(3_000, 3_000), (3_000, 4_000)], ids=["same", "different"])
def test_two_mediators_resolving_at_once_refund_once(platform: Platform, amounts: tuple[int, int]) -> None:
    cast = Cast(platform)
    order = cast.completed()
    complaint = cast.mediated(order)
    results = race(*(lambda admin=admin, fen=fen: platform.complaints.resolve(admin, complaint, "partial_refund",
                                                                             "late", fen)
                     for admin, fen in zip(cast.admins, amounts, strict=True)))
    [winner] = winners(results)
    view = platform.orders.get(SYSTEM, order)
    assert (view.state, view.refunded) == (OrderState.REFUNDED, winner.amount)
    assert cast.gateway.query(order).refunded == winner.amount
    assert len(ledger_keys(platform, f"refund:{order}")) == 1
    assert balance(platform, LedgerAccount.of(Book.GATEWAY_CLEARING)) == view.paid - winner.amount
    stored = platform.complaints.get(SYSTEM, complaint)
    assert (stored.state, stored.amount) == (ComplaintState.RESOLVED, winner.amount)
    assert [s.action for s in stored.timeline].count(ComplaintAction.RESOLVE) == 1
    assert platform.ledger.verify(SYSTEM).ok


def test_two_penalty_resolutions_at_once_post_once(platform: Platform) -> None:
    cast = Cast(platform)
    complaint = cast.mediated(cast.completed())
    payable = LedgerAccount.of(Book.THERAPIST_PAYABLE, AccountId(cast.therapist_id))
    with platform.deps.uow() as uow:
        uow.ledger.post(postings.bonus("fund", AccountId(cast.therapist_id), Money(10_000), START, "fund"))
        uow.commit()
    results = race(*(lambda admin=admin: platform.complaints.resolve(admin, complaint, "penalty", "rude", 4_000)
                     for admin in cast.admins))
    assert len(winners(results)) == 1
    assert ledger_keys(platform, "penalty:") == [f"penalty:{complaint}"]
    assert balance(platform, payable) == Money(6_000)


def test_two_filings_at_once_store_one_live_complaint(platform: Platform) -> None:
    cast = Cast(platform)
    order = cast.completed()
    results = race(*(lambda: platform.complaints.file(cast.customer, order, "other", f"try {n}") for n in range(2)))
    assert len(winners(results)) == 1
    assert [r.code for r in results if isinstance(r, MassageError)] == ["complaint.already_open"]
    with platform.deps.uow() as uow:
        assert len(uow.complaints.for_order(order)) == 1  # type: ignore[arg-type]
