"""The ComplaintsRepository and FeedbackRepository contracts (decision 0038): round trips with the timeline and
replies, one live complaint per order, optimistic locking, the lists, ``overdue`` and ``upheld_counts``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import attrs
import pytest

from massage_core.domain.complaints import Complaint, ComplaintId, ComplaintState, Outcome
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.feedback import Feedback, FeedbackState
from massage_core.domain.ids import AccountId
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderId
from massage_core.ports.unit_of_work import UnitOfWork
from order_support import accepted, placed
from schedule_support import new_therapist
from storage_support import T0, new_id

UowFactory = Callable[[], UnitOfWork]
DUE = timedelta(hours=48)


def served(uow_factory: UowFactory, customer: AccountId, therapist: AccountId) -> OrderId:
    order = accepted(placed(customer, therapist), therapist)
    with uow_factory() as uow:
        uow.orders.add(order)
        uow.commit()
    return order.id


def complaint(order: OrderId, customer: AccountId, therapist: AccountId, *, minutes: int = 0) -> Complaint:
    at = T0 + timedelta(minutes=minutes)
    return Complaint.file(ComplaintId(new_id("complaint")), order, customer, therapist, "conduct",
                          "Rude on the phone", ["med_01HZZZZZZZZZZZZZZZZZZZZZZZ", "ref:2"], at, at + DUE)


def add(uow_factory: UowFactory, *complaints: Complaint) -> list[Complaint]:
    with uow_factory() as uow:
        added = [uow.complaints.add(c) for c in complaints]
        uow.commit()
    return added


def save(uow_factory: UowFactory, changed: Complaint) -> Complaint:
    with uow_factory() as uow:
        saved = uow.complaints.save(changed)
        uow.commit()
    return saved


class ComplaintsRepositoryContract:
    """Every ComplaintsRepository and FeedbackRepository adapter behaves like this."""

    def test_a_complaint_round_trips_with_its_timeline_in_every_state(self, uow_factory: UowFactory) -> None:
        customer, therapist, admin = (new_therapist(uow_factory) for _ in range(3))
        (stored,) = add(uow_factory, complaint(served(uow_factory, customer, therapist), customer, therapist))
        assert stored.version == 1
        answered = save(uow_factory, stored.respond(therapist, T0 + timedelta(hours=1), "I was polite"))
        taken = save(uow_factory, answered.take(admin, T0 + timedelta(hours=2), "calling"))
        done = save(uow_factory, taken.resolve(admin, T0 + timedelta(hours=3), Outcome.PENALTY, Money(500),
                                               "penalty for rudeness"))
        with uow_factory() as uow:
            got = uow.complaints.get(stored.id)
            assert uow.complaints.get_for_update(stored.id) == got
        assert got == done and got.version == 4 and got.state is ComplaintState.RESOLVED
        assert (got.description, got.answer, got.evidence) == (
            "Rude on the phone", "I was polite", ("med_01HZZZZZZZZZZZZZZZZZZZZZZZ", "ref:2"))
        assert got.resolution is not None and got.resolution.note == "penalty for rudeness"
        assert [s.note for s in got.timeline] == ["Rude on the phone", "I was polite", "calling",
                                                  "penalty for rudeness"]
        with uow_factory() as uow, pytest.raises(NotFound):
            uow.complaints.get(ComplaintId(new_id("complaint")))

    def test_one_live_complaint_per_order(self, uow_factory: UowFactory) -> None:
        customer, therapist = new_therapist(uow_factory), new_therapist(uow_factory)
        order = served(uow_factory, customer, therapist)
        (first,) = add(uow_factory, complaint(order, customer, therapist))
        with uow_factory() as uow:
            with pytest.raises(Conflict) as err:
                uow.complaints.add(complaint(order, customer, therapist, minutes=1))
            assert err.value.code == "complaint.already_open"
            assert [c.id for c in uow.complaints.for_order(order)] == [first.id]  # the unit is still usable
        save(uow_factory, first.withdraw(customer, T0 + timedelta(minutes=2)))
        (second,) = add(uow_factory, complaint(order, customer, therapist, minutes=3))
        with uow_factory() as uow:
            assert [c.id for c in uow.complaints.for_order(order)] == [first.id, second.id]

    def test_a_stale_save_is_refused_and_changes_nothing(self, uow_factory: UowFactory) -> None:
        customer, therapist, admin = (new_therapist(uow_factory) for _ in range(3))
        (stored,) = add(uow_factory, complaint(served(uow_factory, customer, therapist), customer, therapist))
        save(uow_factory, stored.take(admin, T0 + timedelta(minutes=5)))
        with uow_factory() as uow:
            with pytest.raises(Conflict) as err:
                uow.complaints.save(stored.withdraw(customer, T0 + timedelta(minutes=6)))
            assert err.value.code == "conflict.stale"
            assert uow.complaints.get(stored.id).state is ComplaintState.UNDER_MEDIATION
            assert len(uow.complaints.get(stored.id).timeline) == 2

    def test_lists_overdue_and_upheld_counts(self, uow_factory: UowFactory) -> None:
        customer, therapist, other, admin = (new_therapist(uow_factory) for _ in range(4))
        made = [complaint(served(uow_factory, customer, t), customer, t, minutes=n)
                for n, t in enumerate((therapist, therapist, therapist, other))]
        stored = add(uow_factory, *made)
        outcomes = (Outcome.WARNING, Outcome.NO_ACTION, None, Outcome.FULL_REFUND)
        for found, outcome in zip(stored, outcomes, strict=True):
            if outcome is not None:
                taken = found.take(admin, T0 + timedelta(hours=1))
                amount = Money(100) if outcome.refunds else Money(0)
                save(uow_factory, attrs.evolve(taken.resolve(admin, T0 + timedelta(hours=1), outcome, amount,
                                                             "decided"), version=1))
        with uow_factory() as uow:
            assert [c.id for c in uow.complaints.for_customer(customer)] == [c.id for c in made][::-1]
            assert [c.id for c in uow.complaints.for_therapist(therapist, offset=1, limit=1)] == [made[1].id]
            assert [c.id for c in uow.complaints.list(ComplaintState.OPEN)] == [made[2].id]
            assert [c.id for c in uow.complaints.list(ComplaintState.RESOLVED)] == [made[0].id, made[1].id,
                                                                                      made[3].id]
            assert uow.complaints.overdue(T0 + DUE - timedelta(seconds=1)) == []
            assert list(uow.complaints.overdue(T0 + DUE + timedelta(minutes=2))) == [made[2].id]
            assert uow.complaints.upheld_counts([therapist, other, admin]) == {therapist: 1, other: 1, admin: 0}
            assert uow.complaints.upheld_counts([]) == {}

    def test_feedback_round_trips_with_its_replies(self, uow_factory: UowFactory) -> None:
        author, admin = new_therapist(uow_factory), new_therapist(uow_factory)
        first = Feedback.submit(new_id("feedback"), author, "bug", "The map is blank", T0)  # type: ignore[arg-type]
        second = Feedback.submit(new_id("feedback"), author, "suggestion", "Evening slots",  # type: ignore[arg-type]
                                 T0 + timedelta(minutes=1))
        with uow_factory() as uow:
            assert uow.feedback.add(first).version == 1
            uow.feedback.add(second)
            with pytest.raises(Conflict) as dup:
                uow.feedback.add(first)
            assert dup.value.code == "feedback.duplicate"
            uow.commit()
        replied = first.reply(admin, T0 + timedelta(hours=1), "Fixed").reply(admin, T0 + timedelta(hours=2), "Sorry")
        with uow_factory() as uow:
            saved = uow.feedback.save(attrs.evolve(replied, version=1))
            uow.commit()
        with uow_factory() as uow:
            got = uow.feedback.get(first.id)
            assert got == saved and got.version == 2 and [r.text for r in got.replies] == ["Fixed", "Sorry"]
            with pytest.raises(Conflict):
                uow.feedback.save(attrs.evolve(replied, version=1))
            assert [f.id for f in uow.feedback.for_author(author)] == [second.id, first.id]
            assert [f.id for f in uow.feedback.list(FeedbackState.OPEN)] == [second.id]
            assert [f.id for f in uow.feedback.list()] == [first.id, second.id]
            with pytest.raises(NotFound):
                uow.feedback.get(new_id("feedback"))  # type: ignore[arg-type]
