"""Dispatch (P4) through ``platform.orders`` on memory: "any therapist" bookings matched automatically or
broadcast, re-dispatch after rejections and timeouts, grabs, coupons redeemed at booking and the customer's
declared conditions; the scoring itself in ``domain/test_dispatch_rank.py``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from catalog_support import make_profile
from conftest import Kit, Person
from massage_core.domain.errors import Conflict, MassageError, NotFound, ValidationError
from massage_core.domain.order_states import OrderState
from massage_core.domain.therapist_values import ServiceArea
from order_kit import LAT, LNG, START, SYSTEM, pay
from search_support import Shop, approve
from storage_support import T0

EAST = 0.01  # about 950 m of longitude at Shanghai's latitude


def public_at(kit: Kit, shop: Shop, *, east: float = 0.0, gender: str = "female", level: str = "senior",
              online: bool = True) -> Person:
    """A public therapist whose area (10 km) is centred ``east`` degrees east of the customer."""
    person = kit.therapist()
    with kit.platform.deps.uow() as uow:
        profile = make_profile(person.account_id, area=ServiceArea(LAT, LNG + east, 10), gender=gender,
                               services=frozenset({shop.tuina, shop.spa}))
        uow.therapists.save(approve(uow.therapists.add(profile)).with_level(level, T0))
        uow.commit()
    kit.platform.schedules.set_weekly_hours(SYSTEM, person.account_id, {d: [("08:00", "20:00")] for d in range(1, 8)})
    kit.platform.schedules.set_online(SYSTEM, person.account_id, online)
    return person


def book_any(kit: Kit, customer: Person, shop: Shop, **changes: Any) -> Any:
    args: dict[str, Any] = {"service": shop.tuina, "start": START, "lat": LAT, "lng": LNG,
                            "address": "上海市黄浦区南京东路100号 3单元 1201"}
    args.update(changes)
    return kit.platform.orders.book(customer.actor, **args)


def holders(kit: Kit, order: str) -> list[str]:
    """Therapists holding a live reservation for ``order``."""
    now = kit.clock.now()
    return sorted(r.therapist_id for r, active in kit.tables.reservations.values()
                  if active and r.reference == order and r.is_live(now))


def refused(error: type[MassageError], code: str, call: Any, *args: Any, **kwargs: Any) -> None:
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value


# -- auto: the best match ----------------------------------------------------------------------------------------


def test_any_therapist_books_the_nearest_when_all_else_is_equal(kit: Kit, shop: Shop, customer: Person) -> None:
    far = public_at(kit, shop, east=4 * EAST)
    near = public_at(kit, shop, east=EAST)
    quoted = kit.platform.orders.quote(customer.actor, service=shop.tuina, start=START, lat=LAT, lng=LNG)
    order = book_any(kit, customer, shop)
    assert order.therapist_id == near.account_id != far.account_id
    assert holders(kit, order.id) == [near.account_id]
    assert quoted.total == order.total


def test_weights_are_configuration(kit: Kit, shop: Shop, customer: Person) -> None:
    """With all weight on the load, the busier near therapist loses to the idle far one."""
    import attrs

    from massage_core.domain.dispatch import DispatchPolicy, DispatchWeights
    near = public_at(kit, shop, east=EAST)
    far = public_at(kit, shop, east=4 * EAST)
    busy = book_any(kit, customer, shop, start=START.add(hours=3))
    assert busy.therapist_id == near.account_id
    policies = kit.platform.deps.policies
    weighted = attrs.evolve(policies, dispatch=DispatchPolicy(weights=DispatchWeights(0, 0, 1, 0)))
    object.__setattr__(kit.platform.deps, "policies", weighted)
    try:
        assert book_any(kit, customer, shop).therapist_id == far.account_id
    finally:
        object.__setattr__(kit.platform.deps, "policies", policies)


def test_the_gender_preference_is_a_hard_constraint(kit: Kit, shop: Shop, customer: Person) -> None:
    public_at(kit, shop, east=EAST, gender="female")
    male = public_at(kit, shop, east=5 * EAST, gender="male")
    assert book_any(kit, customer, shop, therapist_gender="male").therapist_id == male.account_id
    refused(Conflict, "dispatch.nobody_available", book_any, kit, customer, shop, therapist_gender="male")


def test_busy_offline_and_far_therapists_are_passed_over(kit: Kit, shop: Shop, customer: Person) -> None:
    public_at(kit, shop, east=EAST, online=False)
    public_at(kit, shop, east=0.2)  # about 19 km away: the address is outside her 10 km area
    free = public_at(kit, shop, east=3 * EAST)
    first = book_any(kit, customer, shop)
    assert first.therapist_id == free.account_id
    before = (dict(kit.tables.orders), dict(kit.tables.reservations))
    refused(Conflict, "dispatch.nobody_available", book_any, kit, customer, shop)
    assert (dict(kit.tables.orders), dict(kit.tables.reservations)) == before


def test_a_rejection_goes_to_the_next_best_match_then_cancels(kit: Kit, shop: Shop, customer: Person) -> None:
    first, second = public_at(kit, shop, east=EAST), public_at(kit, shop, east=2 * EAST)
    orders = kit.platform.orders
    order = book_any(kit, customer, shop).id
    pay(kit.platform, order)
    moved = orders.reject(first.actor, order, "too far today")
    assert (moved.state, moved.therapist_id) == (OrderState.AWAITING_ACCEPTANCE, second.account_id)
    assert holders(kit, order) == [second.account_id]
    refused(NotFound, "not_found", orders.accept, first.actor, order)
    ended = orders.reject(second.actor, order, "ill")
    assert ended.state is OrderState.REFUNDED and ended.refunded == ended.paid
    assert holders(kit, order) == []


def test_max_offers_ends_the_search(kit: Kit, shop: Shop, customer: Person) -> None:
    import attrs

    from massage_core.domain.dispatch import DispatchPolicy
    therapists = [public_at(kit, shop, east=i * EAST) for i in (1, 2, 3)]
    policies = kit.platform.deps.policies
    object.__setattr__(kit.platform.deps, "policies", attrs.evolve(policies, dispatch=DispatchPolicy(max_offers=2)))
    try:
        order = book_any(kit, customer, shop).id
        pay(kit.platform, order)
        kit.platform.orders.reject(therapists[0].actor, order, "no")
        assert kit.platform.orders.reject(therapists[1].actor, order, "no").state is OrderState.REFUNDED
    finally:
        object.__setattr__(kit.platform.deps, "policies", policies)


def test_the_acceptance_timeout_redispatches(kit: Kit, shop: Shop, customer: Person) -> None:
    first, second = public_at(kit, shop, east=EAST), public_at(kit, shop, east=2 * EAST)
    order = book_any(kit, customer, shop).id
    pay(kit.platform, order)
    kit.clock.advance(dt.timedelta(minutes=11))
    report = kit.platform.jobs.run_due(SYSTEM)
    assert report.acceptance_timeout.fired == 1
    view = kit.platform.orders.get(SYSTEM, order)
    assert (view.state, view.therapist_id) == (OrderState.AWAITING_ACCEPTANCE, second.account_id)
    assert holders(kit, order) == [second.account_id]
    assert kit.platform.jobs.run_due(SYSTEM).acceptance_timeout.fired == 0  # the new offer has its own window
    kit.platform.orders.accept(second.actor, order)
    assert first.account_id not in holders(kit, order)


def test_a_chosen_therapist_is_not_replaced(kit: Kit, shop: Shop, customer: Person) -> None:
    chosen = public_at(kit, shop, east=EAST)
    public_at(kit, shop, east=2 * EAST)
    order = kit.platform.orders.book(customer.actor, therapist=chosen.account_id, service=shop.tuina, start=START,
                                     lat=LAT, lng=LNG).id
    pay(kit.platform, order)
    assert kit.platform.orders.reject(chosen.actor, order, "sorry").state is OrderState.REFUNDED


# -- broadcast: the first to grab -------------------------------------------------------------------------------


def test_a_broadcast_is_offered_to_the_eligible_and_the_first_grab_wins(kit: Kit, shop: Shop,
                                                                         customer: Person) -> None:
    a, b = public_at(kit, shop, east=EAST), public_at(kit, shop, east=2 * EAST)
    male = public_at(kit, shop, east=EAST, gender="male")
    orders = kit.platform.orders
    order = book_any(kit, customer, shop, dispatch="broadcast", therapist_gender="female")
    assert order.therapist_id is None and holders(kit, order.id) == []
    assert orders.offers(a.actor) == ()  # not before it is paid
    pay(kit.platform, order.id)
    offers = orders.offers(a.actor)
    assert [o.order_id for o in offers] == [order.id]
    assert offers[0].area.endswith("***") and "1201" not in offers[0].area
    assert orders.offers(male.actor) == ()
    refused(NotFound, "not_found", orders.grab, male.actor, order.id)
    grabbed = orders.grab(b.actor, order.id)
    assert (grabbed.state, grabbed.therapist_id) == (OrderState.ACCEPTED, b.account_id)
    assert holders(kit, order.id) == [b.account_id]
    assert orders.offers(a.actor) == ()
    refused(NotFound, "not_found", orders.grab, a.actor, order.id)


def test_a_broadcast_nobody_grabs_is_repeated_then_refunded(kit: Kit, shop: Shop, customer: Person) -> None:
    a = public_at(kit, shop, east=EAST)
    order = book_any(kit, customer, shop, dispatch="broadcast").id
    pay(kit.platform, order)
    for _ in range(2):
        kit.clock.advance(dt.timedelta(minutes=11))
        kit.platform.jobs.run_due(SYSTEM)
        assert kit.platform.orders.get(SYSTEM, order).state is OrderState.AWAITING_ACCEPTANCE
        assert [o.order_id for o in kit.platform.orders.offers(a.actor)] == [order]
    kit.clock.advance(dt.timedelta(minutes=11))
    kit.platform.jobs.run_due(SYSTEM)
    ended = kit.platform.orders.get(SYSTEM, order)
    assert ended.state is OrderState.REFUNDED and ended.refunded == ended.paid


def test_a_grab_needs_free_time(kit: Kit, shop: Shop, customer: Person) -> None:
    a = public_at(kit, shop, east=EAST)
    mine = kit.platform.orders.book(customer.actor, therapist=a.account_id, service=shop.tuina, start=START,
                                    lat=LAT, lng=LNG)
    other = kit.customer_by_phone()
    public_at(kit, shop, east=2 * EAST)
    broadcast = book_any(kit, other, shop, dispatch="broadcast").id
    pay(kit.platform, broadcast)
    assert kit.platform.orders.offers(a.actor) == ()
    refused(NotFound, "not_found", kit.platform.orders.grab, a.actor, broadcast)
    assert mine.therapist_id == a.account_id


def test_broadcast_price_is_the_cheapest_eligible(kit: Kit, shop: Shop, customer: Person) -> None:
    public_at(kit, shop, east=EAST, level="expert")
    junior = public_at(kit, shop, east=3 * EAST, level="junior")
    quoted = kit.platform.orders.quote(customer.actor, service=shop.tuina, start=START, lat=LAT, lng=LNG,
                                       dispatch="broadcast")
    alone = kit.platform.orders.quote(customer.actor, therapist=junior.account_id, service=shop.tuina, start=START,
                                      lat=LAT, lng=LNG)
    assert quoted.total == alone.total and quoted.level == "junior"


# -- input ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("therapist", "dispatch"), [("named", "auto"), ("named", "broadcast"), (None, "chosen"),
                                                     (None, "nearest")])
def test_the_dispatch_mode_must_fit_the_request(kit: Kit, shop: Shop, customer: Person, therapist: str | None,
                                                dispatch: str) -> None:
    a = public_at(kit, shop, east=EAST)
    who = a.account_id if therapist else None
    refused(ValidationError, "dispatch.mode", book_any, kit, customer, shop, therapist=who, dispatch=dispatch)
    assert kit.tables.orders == {}


def test_the_address_is_kept_and_validated(kit: Kit, shop: Shop, customer: Person) -> None:
    public_at(kit, shop, east=EAST)
    refused(ValidationError, "order.address", book_any, kit, customer, shop, address="line\nbreak")
    refused(ValidationError, "order.address", book_any, kit, customer, shop, address="x" * 201)
    order = book_any(kit, customer, shop)
    stored = kit.tables.orders[order.id]
    assert stored.address is not None and stored.address.line.endswith("1201")
    assert stored.address.point.lat == LAT


# -- coupons and declared conditions ----------------------------------------------------------------------------


def coupon(kit: Kit, **changes: Any) -> str:
    admin = kit.superadmin()
    args: dict[str, Any] = {"valid_from": T0, "valid_until": T0.add(days=30), "amount_off": 3_000,
                            "code": "WELCOME30", "single_use": True}
    args.update(changes)
    return kit.platform.coupons.create(admin.actor, "Welcome", **args).id


def test_a_coupon_is_redeemed_with_the_booking_and_restored_on_cancel(kit: Kit, shop: Shop,
                                                                      customer: Person) -> None:
    a = public_at(kit, shop, east=EAST)
    cid = coupon(kit)
    plain = kit.platform.orders.quote(customer.actor, therapist=a.account_id, service=shop.tuina, start=START,
                                      lat=LAT, lng=LNG)
    order = book_any(kit, customer, shop, coupon="welcome30")
    assert order.total.fen == plain.total.fen - 3_000
    with kit.platform.deps.uow() as uow:
        assert uow.coupons.redemption_of(order.id) is not None
    other = kit.customer_by_phone()
    refused(Conflict, "coupon.exhausted", book_any, kit, other, shop, coupon=cid, start=START.add(hours=3))
    kit.platform.orders.cancel(customer.actor, order.id)
    with kit.platform.deps.uow() as uow:
        assert uow.coupons.redemption_of(order.id) is None
    assert book_any(kit, other, shop, coupon=cid, start=START.add(hours=3)).total == order.total


def test_an_unknown_coupon_changes_nothing(kit: Kit, shop: Shop, customer: Person) -> None:
    public_at(kit, shop, east=EAST)
    refused(NotFound, "not_found", book_any, kit, customer, shop, coupon="NOPE")
    refused(ValidationError, "coupon.code", book_any, kit, customer, shop, coupon="  ")
    assert kit.tables.orders == {}


def test_conditions_declared_in_the_profile_refuse_a_contraindicated_service(kit: Kit, shop: Shop,
                                                                           customer: Person) -> None:
    public_at(kit, shop, east=EAST)
    kit.platform.customers.set_profile(customer.actor, conditions=["pregnancy"])
    with pytest.raises(ValidationError) as caught:
        book_any(kit, customer, shop)
    assert caught.value.code == "order.contraindicated" and "pregnancy" in str(caught.value)
    kit.platform.customers.set_profile(customer.actor, conditions=["fever"])
    assert book_any(kit, customer, shop).state is OrderState.PENDING_PAYMENT


def test_the_dispatchers_reads_on_memory(kit: Kit, shop: Shop, customer: Person) -> None:
    """The same story as ``test_dispatch_reads_on_sql``: the fake counts what the SQL adapter counts."""
    from massage_core.domain.dispatch import TherapistLoad
    a, b = public_at(kit, shop, east=EAST), public_at(kit, shop, east=2 * EAST)
    broadcast = book_any(kit, customer, shop, dispatch="broadcast").id
    auto = book_any(kit, customer, shop, start=START.add(hours=3)).id
    pay(kit.platform, broadcast)
    pay(kit.platform, auto)
    with kit.platform.deps.uow() as uow:
        assert [o.id for o in uow.orders.open_offers()] == [broadcast]
    kit.platform.orders.reject(a.actor, auto, "not today")
    kit.platform.orders.grab(a.actor, broadcast)
    with kit.platform.deps.uow() as uow:
        assert uow.orders.open_offers() == []
        load = uow.orders.therapist_load([a.account_id, b.account_id, customer.account_id], T0)
    assert load[a.account_id] == TherapistLoad(live=1, accepted=1, declined=1)
    assert load[b.account_id] == TherapistLoad(live=1)
    assert load[customer.account_id] == TherapistLoad()


def test_the_address_is_shown_in_full_only_to_who_needs_the_door(kit: Kit, shop: Shop, customer: Person) -> None:
    a = public_at(kit, shop, east=EAST)
    orders = kit.platform.orders
    order = book_any(kit, customer, shop)
    assert order.address is not None and order.address.line.endswith("1201")  # the customer's own answer
    pay(kit.platform, order.id)
    offered = orders.get(a.actor, order.id).address
    assert offered is not None and "1201" not in offered.line and offered.line.endswith("***")
    assert (offered.point.lat, offered.point.lng) == (round(LAT, 2), round(LNG, 2))
    assert orders.accept(a.actor, order.id).address == order.address
    support = orders.get(kit.support().actor, order.id).address
    assert support is not None and support.line == offered.line
    for step in (orders.depart, orders.arrive, orders.start, orders.finish):
        assert step(a.actor, order.id).address == order.address
    orders.complete(customer.actor, order.id)
    assert orders.get(customer.actor, order.id).address == order.address
    after = orders.get(a.actor, order.id).address
    assert after is not None and after.line == offered.line


def test_the_transaction_id_is_the_customers_alone(kit: Kit, shop: Shop, customer: Person) -> None:
    a = public_at(kit, shop, east=EAST)
    order = book_any(kit, customer, shop).id
    pay(kit.platform, order)
    mine = kit.platform.orders.get(customer.actor, order).timeline[1]
    assert mine.action.value == "pay" and mine.note
    for viewer in (a, kit.support()):
        seen = kit.platform.orders.get(viewer.actor, order).timeline[1]
        assert seen.action.value == "pay" and seen.note == ""


def test_the_order_keeps_its_itemised_bill(kit: Kit, shop: Shop, customer: Person) -> None:
    public_at(kit, shop, east=EAST)
    cid = coupon(kit)
    order = book_any(kit, customer, shop, coupon=cid, tip=500)
    kinds = [line.kind.value for line in order.bill]
    assert kinds[0] == "service" and "discount" in kinds and kinds[-1] == "tip"
    assert sum(line.amount.fen for line in order.bill) == order.total.fen
    assert kit.tables.orders[order.id].level == "senior"
