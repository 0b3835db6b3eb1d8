"""The sandbox VirtualNumbers provider and ``chat.call_number`` on it (decision 0045): pool exhaustion, no number
on two live bindings, release, expiry and idempotence per order."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Kit, Person
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.virtual_numbers import DEFAULT_POOL, SandboxVirtualNumbers
from massage_core.bootstrap import Platform
from massage_core.domain.contact import PhoneNumber
from massage_core.domain.errors import Conflict, ValidationError
from order_kit import advance, book, pay
from search_support import Shop

POOL = ("+8617100000001", "+8617100000002")
A, B, C, D = (PhoneNumber.parse(f"+86139000000{n:02d}") for n in range(4))
DAY = dt.timedelta(days=1)


@pytest.fixture
def numbers(clock: FixedClock) -> SandboxVirtualNumbers:
    return SandboxVirtualNumbers(clock, POOL)


def test_each_live_binding_gets_its_own_number_until_the_pool_runs_out(numbers: SandboxVirtualNumbers,
                                                                       clock: FixedClock) -> None:
    first = numbers.bind("ord_1", A, B, clock.now() + DAY)
    second = numbers.bind("ord_2", C, D, clock.now() + DAY)
    assert {first.number, second.number} == set(POOL)
    assert numbers.free() == ()
    with pytest.raises(Conflict) as err:
        numbers.bind("ord_3", A, D, clock.now() + DAY)
    assert err.value.code == "numbers.exhausted"


def test_binding_one_key_again_returns_the_same_allocation(numbers: SandboxVirtualNumbers, clock: FixedClock) -> None:
    first = numbers.bind("ord_1", A, B, clock.now() + DAY)
    assert numbers.bind("ord_1", A, B, clock.now() + 2 * DAY) == first
    assert len(numbers.live()) == 1 and len(numbers.free()) == 1


def test_a_released_number_goes_to_the_next_binding(numbers: SandboxVirtualNumbers, clock: FixedClock) -> None:
    first = numbers.bind("ord_1", A, B, clock.now() + DAY)
    numbers.bind("ord_2", C, D, clock.now() + DAY)
    numbers.release(first.reference)
    numbers.release(first.reference)  # twice: nothing more happens
    numbers.release("vnb_unknown")
    third = numbers.bind("ord_3", A, D, clock.now() + DAY)
    assert third.number == first.number and third.reference != first.reference
    numbers.release(third.reference)
    again = numbers.bind("ord_1", A, B, clock.now() + DAY)  # a released key binds anew
    assert again.reference != first.reference


def test_an_expired_binding_frees_its_number(numbers: SandboxVirtualNumbers, clock: FixedClock) -> None:
    first = numbers.bind("ord_1", A, B, clock.now() + dt.timedelta(hours=1))
    numbers.bind("ord_2", C, D, clock.now() + DAY)
    clock.advance(dt.timedelta(hours=1))
    assert numbers.free() == (first.number,)
    assert numbers.bind("ord_3", A, D, clock.now() + DAY).number == first.number


def test_either_party_reaches_the_other_and_nobody_else_gets_through(numbers: SandboxVirtualNumbers,
                                                                     clock: FixedClock) -> None:
    bound = numbers.bind("ord_1", A, B, clock.now() + DAY)
    assert (numbers.dial(bound.number, A), numbers.dial(bound.number, B)) == (B, A)
    with pytest.raises(Conflict):
        numbers.dial(bound.number, C)
    numbers.release(bound.reference)
    with pytest.raises(Conflict):
        numbers.dial(bound.number, A)


def test_expiry_must_be_in_the_future_and_the_pool_sound(numbers: SandboxVirtualNumbers, clock: FixedClock) -> None:
    with pytest.raises(ValidationError) as err:
        numbers.bind("ord_1", A, B, clock.now())
    assert err.value.code == "numbers.expiry"
    for pool in ((), ("+8617100000001", "+86 171 0000 0001")):
        with pytest.raises(ValidationError) as bad:
            SandboxVirtualNumbers(clock, pool)
        assert bad.value.code == "numbers.pool"
    assert len(SandboxVirtualNumbers(clock).free()) == len(DEFAULT_POOL) == 20


# -- through the chat service ----------------------------------------------------------------------------


def accepted_order(kit: Kit, shop: Shop, customer: Person, therapist: Person) -> str:
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, order)
    advance(kit.platform, order, therapist.actor, customer.actor, "accepted")
    return order


def test_the_service_never_lets_two_live_orders_share_a_number_and_reports_exhaustion(
        kit: Kit, shop: Shop, therapist: Person) -> None:
    pool = SandboxVirtualNumbers(kit.clock, POOL)
    platform = Platform(kit.platform.deps, virtual_numbers=pool)
    customers = [kit.customer_by_phone() for _ in range(3)]
    orders = []
    for n, customer in enumerate(customers):
        order = book(platform, customer.actor, therapist.account_id, shop.tuina,
                     start=kit.clock.now().add(days=1, hours=2 * n)).id
        pay(platform, order)
        advance(platform, order, therapist.actor, customer.actor, "accepted")
        orders.append(order)
    got = [platform.chat.call_number(c.actor, o).number for c, o in zip(customers[:2], orders[:2], strict=True)]
    assert sorted(got) == sorted(POOL)
    assert [platform.chat.call_number(c.actor, o).number for c, o in zip(customers[:2], orders[:2],
                                                                              strict=True)] == got  # idempotent
    with pytest.raises(Conflict) as err:
        platform.chat.call_number(customers[2].actor, orders[2])
    assert err.value.code == "numbers.exhausted"
    assert orders[2] not in kit.tables.number_bindings
    platform.orders.cancel(customers[0].actor, orders[0], "changed my mind")
    assert platform.chat.release_ended(kit.superadmin().actor) == 1
    assert platform.chat.call_number(therapist.actor, orders[2]).number == got[0]


def test_an_expired_binding_is_bound_again_on_request(kit: Kit, shop: Shop, customer: Person,
                                                      therapist: Person) -> None:
    order = accepted_order(kit, shop, customer, therapist)
    first = kit.platform.chat.call_number(customer.actor, order)
    kit.clock.set(first.expires_at)  # the visit runs very late: the first binding expired, the chat is still open
    second = kit.platform.chat.call_number(customer.actor, order)
    assert second.expires_at > first.expires_at
    assert kit.tables.number_bindings[order].bound_at == kit.clock.now()
    assert len(kit.platform.virtual_numbers.live()) == 1  # type: ignore[attr-defined]


def test_a_party_without_a_phone_gets_no_number(kit: Kit, shop: Shop, therapist: Person) -> None:
    customer = kit.customer_by_password()
    order = accepted_order(kit, shop, customer, therapist)
    with pytest.raises(Conflict) as err:
        kit.platform.chat.call_number(therapist.actor, order)
    assert err.value.code == "chat.no_phone"
    assert kit.tables.number_bindings == {}


def test_ended_orders_are_released_first_even_behind_many_visits_still_on(kit: Kit, shop: Shop, customer: Person,
                                                                          therapist: Person) -> None:
    on = accepted_order(kit, shop, customer, therapist)
    later = book(kit.platform, customer.actor, therapist.account_id, shop.tuina,
                 start=kit.clock.now().add(days=1, hours=6)).id
    pay(kit.platform, later)
    advance(kit.platform, later, therapist.actor, customer.actor, "accepted")
    kept = kit.platform.chat.call_number(customer.actor, on)
    ended = kit.platform.chat.call_number(customer.actor, later)
    assert kept.expires_at < ended.expires_at  # the visit still on comes first by expiry
    kit.platform.orders.cancel(customer.actor, later, "plans changed")
    assert kit.platform.chat.release_ended(kit.superadmin().actor, limit=1) == 1
    assert kit.tables.number_bindings[later].released_at is not None
    assert kit.tables.number_bindings[on].released_at is None
