"""The ChatRepository contract (decision 0045): messages numbered per order and paged back from the newest, the
rate-limit count, read marks that only go up, unread counts, number bindings (one per order), the release
candidates, and rollback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import attrs
import pytest

from massage_core.domain.cancellation import CancellationPolicy
from massage_core.domain.chat import ChatMessage, ChatParty, NumberBinding, entered
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId, Who
from massage_core.ports.unit_of_work import UnitOfWork
from order_support import happy_path
from schedule_support import new_therapist
from storage_support import T0

UowFactory = Callable[[], UnitOfWork]
MINUTE = dt.timedelta(minutes=1)


def accepted_order(uow_factory: UowFactory, customer: AccountId, therapist: AccountId) -> OrderId:
    order = happy_path(customer, therapist)[2]
    with uow_factory() as uow:
        uow.orders.add(order)
        uow.commit()
    return order.id


def message(order: OrderId, sender: AccountId, party: ChatParty, text: str, *, at: dt.datetime = T0) -> ChatMessage:
    return ChatMessage(order, 0, sender, party, text, ("phone",) if "*" in text else (), at)


class ChatRepositoryContract:
    """Every ChatRepository adapter behaves like this."""

    def _setup(self, uow_factory: UowFactory) -> tuple[OrderId, AccountId, AccountId]:
        customer, therapist = new_therapist(uow_factory), new_therapist(uow_factory)
        return accepted_order(uow_factory, customer, therapist), customer, therapist

    def test_messages_are_numbered_per_order_and_paged_back_from_the_newest(self, uow_factory: UowFactory) -> None:
        order, customer, therapist = self._setup(uow_factory)
        other = accepted_order(uow_factory, customer, therapist)
        with uow_factory() as uow:
            stored = [uow.chat.add(message(order, customer if n % 2 else therapist,
                                           ChatParty.CUSTOMER if n % 2 else ChatParty.THERAPIST, f"m{n} ***",
                                           at=T0 + n * MINUTE)) for n in range(1, 6)]
            first_other = uow.chat.add(message(other, customer, ChatParty.CUSTOMER, "elsewhere"))
            uow.commit()
        assert [m.seq for m in stored] == [1, 2, 3, 4, 5] and first_other.seq == 1
        with uow_factory() as uow:
            assert uow.chat.latest(order) == stored
            assert [m.seq for m in uow.chat.latest(order, limit=2)] == [4, 5]
            assert [m.seq for m in uow.chat.latest(order, offset=2, limit=2)] == [2, 3]
            assert [m.seq for m in uow.chat.latest(order, offset=4, limit=2)] == [1]
            assert uow.chat.latest(order, offset=5) == []
            assert (uow.chat.last_seq(order), uow.chat.last_seq(other)) == (5, 1)
            assert (stored[0].text, stored[0].findings, stored[0].party) == ("m1 ***", ("phone",), ChatParty.CUSTOMER)

    def test_sent_since_counts_one_sender_strictly_after_the_instant(self, uow_factory: UowFactory) -> None:
        order, customer, therapist = self._setup(uow_factory)
        with uow_factory() as uow:
            for n in range(3):
                uow.chat.add(message(order, customer, ChatParty.CUSTOMER, "hi", at=T0 + n * MINUTE))
            uow.chat.add(message(order, therapist, ChatParty.THERAPIST, "hello", at=T0 + 2 * MINUTE))
            uow.commit()
        with uow_factory() as uow:
            assert uow.chat.sent_since(order, customer, T0 - MINUTE) == 3
            assert uow.chat.sent_since(order, customer, T0) == 2
            assert uow.chat.sent_since(order, therapist, T0) == 1
            assert uow.chat.sent_since(order, customer, T0 + 2 * MINUTE) == 0

    def test_read_marks_only_go_up_and_unread_counts_the_other_partys_messages(self,
                                                                               uow_factory: UowFactory) -> None:
        order, customer, therapist = self._setup(uow_factory)
        with uow_factory() as uow:
            for text in ("a", "b", "c"):
                uow.chat.add(message(order, customer, ChatParty.CUSTOMER, text))
            uow.chat.add(message(order, therapist, ChatParty.THERAPIST, "d"))
            uow.commit()
        with uow_factory() as uow:
            assert (uow.chat.read_mark(order, therapist), uow.chat.unread(order, therapist)) == (0, 3)
            assert uow.chat.unread(order, customer) == 1
            assert uow.chat.mark_read(order, therapist, 2, T0) == 2
            assert uow.chat.mark_read(order, therapist, 1, T0) == 2  # never back
            uow.commit()
        with uow_factory() as uow:
            assert (uow.chat.read_mark(order, therapist), uow.chat.unread(order, therapist)) == (2, 1)
            assert uow.chat.mark_read(order, therapist, 4, T0) == 4
            assert uow.chat.unread(order, therapist) == 0
            uow.commit()

    def test_one_binding_per_order_saved_and_offered_for_release(self, uow_factory: UowFactory) -> None:
        order, customer, therapist = self._setup(uow_factory)
        ended = accepted_order(uow_factory, customer, therapist)
        unbound = accepted_order(uow_factory, customer, therapist)
        bindings = [NumberBinding(o, f"+861710000000{n}", f"vnb_{n}", customer, therapist, T0, T0 + dt.timedelta(
            hours=10 + n)) for n, o in enumerate((order, ended))]
        with uow_factory() as uow:
            for binding in bindings:
                assert uow.chat.add_binding(binding) == binding
            with pytest.raises(Conflict) as err:
                uow.chat.add_binding(attrs.evolve(bindings[0], number="+8617100000009"))
            assert err.value.code == "chat.binding_exists"
            with pytest.raises(NotFound):
                uow.chat.save_binding(attrs.evolve(bindings[0], order_id=unbound))
            uow.commit()
        with uow_factory() as uow:
            assert uow.chat.binding(order) == bindings[0]
            assert uow.chat.unreleased(T0, after_hours=24) == []  # both visits on, nothing expired
            assert uow.chat.unreleased(T0 + dt.timedelta(hours=10), after_hours=24) == [bindings[0]]  # expired
            current = uow.orders.get(ended)
            uow.orders.save(current.cancel(Who.customer(customer), T0 + MINUTE, CancellationPolicy()))
            uow.commit()
        with uow_factory() as uow:
            assert uow.chat.unreleased(T0, after_hours=24) == [bindings[1]]  # its order ended
            assert uow.chat.unreleased(T0 + dt.timedelta(hours=10), after_hours=24, limit=1) == [bindings[0]]
            released = uow.chat.save_binding(attrs.evolve(bindings[1], released_at=T0 + MINUTE))
            uow.commit()
        with uow_factory() as uow:
            assert uow.chat.binding(ended) == released
            assert uow.chat.unreleased(T0, after_hours=24) == []

    def test_only_releasable_bindings_count_against_the_limit(self, uow_factory: UowFactory) -> None:
        """More bindings of completed orders whose chat is still open than the limit, expiring first, never keep
        a cancelled order's number bound; once their chat closed they are offered themselves."""
        customer, therapist = new_therapist(uow_factory), new_therapist(uow_factory)
        completed = [happy_path(customer, therapist)[8] for _ in range(3)]
        ended = happy_path(customer, therapist)[2]
        ended = ended.cancel(Who.customer(customer), T0 + MINUTE, CancellationPolicy())
        done_at = entered(completed[0])
        bindings = [NumberBinding(o.id, f"+861710000001{n}", f"vnb_{n}", customer, therapist, T0,
                                  done_at + dt.timedelta(hours=100 + n)) for n, o in enumerate([*completed, ended])]
        with uow_factory() as uow:
            for order in [*completed, ended]:
                uow.orders.add(order)
            for binding in bindings:
                uow.chat.add_binding(binding)
            uow.commit()
        with uow_factory() as uow:
            open_yet = done_at + dt.timedelta(hours=2)
            assert uow.chat.unreleased(open_yet, after_hours=24, limit=2) == [bindings[3]]
            closed = done_at + dt.timedelta(hours=24)
            assert uow.chat.unreleased(closed, after_hours=24, limit=2) == bindings[:2]
            assert uow.chat.unreleased(closed, after_hours=24) == bindings
            assert uow.chat.unreleased(closed - MINUTE, after_hours=24) == [bindings[3]]

    def test_rollback_forgets_messages_marks_and_bindings(self, uow_factory: UowFactory) -> None:
        order, customer, therapist = self._setup(uow_factory)
        with uow_factory() as uow:
            uow.chat.add(message(order, customer, ChatParty.CUSTOMER, "gone"))
            uow.chat.mark_read(order, therapist, 1, T0)
            uow.chat.add_binding(NumberBinding(order, "+8617100000001", "vnb_1", customer, therapist, T0,
                                               T0 + dt.timedelta(hours=1)))
        with uow_factory() as uow:
            assert (uow.chat.latest(order), uow.chat.read_mark(order, therapist), uow.chat.binding(order)) == (
                [], 0, None)
