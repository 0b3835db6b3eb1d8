"""The CouponRepository contract: round trips, codes, optimistic locking, lists, and atomic redemptions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import attrs
import pytest

from massage_core.domain.coupons import Coupon, CouponId, CouponRedemption, CouponUsage
from massage_core.domain.errors import Conflict, MassageError, NotFound, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderId
from massage_core.ports.unit_of_work import UnitOfWork
from schedule_support import new_therapist
from storage_support import T0, new_id, unique

UowFactory = Callable[[], UnitOfWork]


def make_coupon(**changes: Any) -> Coupon:
    """A 15 %-off coupon valid from a day before T0 for 30 days, with a distinct code."""
    options: dict[str, Any] = {"id": new_id("coupon"), "name": "Summer", "valid_from": T0 - timedelta(days=1),
                               "valid_until": T0 + timedelta(days=30), "code": f"SUMMER{unique()}"}
    if "amount_off" not in changes:
        options["percent_off_bp"] = 1_500
    options.update(changes)
    return Coupon(**options)


def add(uow_factory: UowFactory, *coupons: Coupon) -> list[Coupon]:
    with uow_factory() as uow:
        added = [uow.coupons.add(c) for c in coupons]
        uow.commit()
    return added


def order() -> OrderId:
    return OrderId(new_id("order"))


def redeem(uow_factory: UowFactory, coupon: CouponId, customer: AccountId, order_id: OrderId | None = None,
           *, at: Any = T0) -> CouponRedemption:
    with uow_factory() as uow:
        done = uow.coupons.redeem(coupon, customer, order_id or order(), at)
        uow.commit()
    return done


class CouponRepositoryContract:
    """Every CouponRepository adapter behaves like this."""

    def test_coupons_round_trip_exactly_and_are_found_by_code_in_any_case(self, uow_factory: UowFactory) -> None:
        full = make_coupon(percent_off_bp=2_000, max_discount=Money(3_000), min_spend=Money(10_000),
                           per_customer_limit=2, total_limit=100,
                           service_ids=[new_id("service"), new_id("service")], code="Spring-2026")
        fixed = make_coupon(amount_off=Money(1_500), single_use=True, code=None, active=False)
        added = add(uow_factory, full, fixed)
        assert added == [attrs.evolve(full, version=1), attrs.evolve(fixed, version=1)]
        with uow_factory() as uow:
            assert uow.coupons.get(full.id) == added[0] and uow.coupons.get(fixed.id) == added[1]
            assert uow.coupons.find_by_code("spring-2026") == added[0] and full.code == "SPRING-2026"
            assert uow.coupons.find_by_code("NOSUCHCODE") is None
            with pytest.raises(ValidationError):
                uow.coupons.find_by_code("a b")
            with pytest.raises(NotFound):
                uow.coupons.get(CouponId(new_id("coupon")))

    def test_a_taken_id_or_code_is_refused_case_insensitively(self, uow_factory: UowFactory) -> None:
        (first,) = add(uow_factory, make_coupon(code="welcome"))
        with uow_factory() as uow:
            for clash in (make_coupon(id=first.id), make_coupon(code="WELCOME")):
                with pytest.raises(Conflict) as caught:
                    uow.coupons.add(clash)
                assert caught.value.code == "coupon.duplicate"
            uow.coupons.add(make_coupon(code=None))  # the unit is still usable; codeless coupons never collide
            uow.coupons.add(make_coupon(code=None))
            uow.commit()
        with uow_factory() as uow:
            assert len(uow.coupons.list()) == 3

    def test_save_bumps_the_version_and_refuses_stale_missing_and_clashing(self, uow_factory: UowFactory) -> None:
        one, other = add(uow_factory, make_coupon(), make_coupon())
        with uow_factory() as uow:
            saved = uow.coupons.save(one.deactivate())
            uow.commit()
        assert saved.version == 2 and not saved.active
        with uow_factory() as uow:
            assert uow.coupons.get(one.id) == saved
            stale, clash = attrs.evolve(one, name="Stale"), attrs.evolve(other, code=one.code)
            for refused, code in ((stale, "conflict.stale"), (clash, "coupon.duplicate")):
                with pytest.raises(Conflict) as caught:
                    uow.coupons.save(refused)
                assert caught.value.code == code
            with pytest.raises(NotFound):
                uow.coupons.save(make_coupon(version=1))
            uow.commit()
        with uow_factory() as uow:
            assert uow.coupons.get(one.id) == saved and uow.coupons.get(other.id) == other

    def test_lists_are_newest_first_filtered_and_paged(self, uow_factory: UowFactory) -> None:
        a, b, c = (make_coupon(valid_from=T0 - timedelta(days=n)) for n in (3, 2, 1))
        add(uow_factory, a, b.deactivate(), c)
        with uow_factory() as uow:
            assert [x.id for x in uow.coupons.list()] == [c.id, b.id, a.id]
            assert [x.id for x in uow.coupons.list(active_only=True)] == [c.id, a.id]
            assert [x.id for x in uow.coupons.list(offset=1, limit=1)] == [b.id]
            assert uow.coupons.list(limit=0) == []

    def test_redemptions_count_towards_the_limits_and_refusals_change_nothing(self,
                                                                              uow_factory: UowFactory) -> None:
        me, you, third = (new_therapist(uow_factory) for _ in range(3))
        (coupon,) = add(uow_factory, make_coupon(per_customer_limit=1, total_limit=2))
        first = redeem(uow_factory, coupon.id, me)
        assert first.coupon_id == coupon.id and first.customer_id == me and first.redeemed_at == T0
        with uow_factory() as uow:
            assert uow.coupons.usage(coupon.id, me) == CouponUsage(1, 1)
            assert uow.coupons.usage(coupon.id, you) == CouponUsage(0, 1)
            assert uow.coupons.usage(coupon.id, None) == CouponUsage(0, 1)
            assert uow.coupons.usage(CouponId(new_id("coupon")), me) == CouponUsage(0, 0)
            assert uow.coupons.redemption_of(first.order_id) == first
            with pytest.raises(Conflict) as caught:
                uow.coupons.redeem(coupon.id, me, order(), T0)
            assert caught.value.code == "coupon.limit_reached"
            with pytest.raises(Conflict) as caught:
                uow.coupons.redeem(coupon.id, you, first.order_id, T0)
            assert caught.value.code == "coupon.order_redeemed"
            with pytest.raises(NotFound):
                uow.coupons.redeem(CouponId(new_id("coupon")), you, order(), T0)
            uow.coupons.redeem(coupon.id, you, order(), T0)  # the unit is still usable
            uow.commit()
        with uow_factory() as uow:
            assert uow.coupons.usage(coupon.id, you) == CouponUsage(1, 2)
            with pytest.raises(Conflict) as caught:
                uow.coupons.redeem(coupon.id, third, order(), T0)
            assert caught.value.code == "coupon.exhausted"

    def test_redeem_refuses_an_inactive_or_expired_coupon(self, uow_factory: UowFactory) -> None:
        me = new_therapist(uow_factory)
        off, timed = add(uow_factory, make_coupon().deactivate(), make_coupon(valid_until=T0 + timedelta(hours=1)))
        with uow_factory() as uow:
            for coupon_id, at, code in ((off.id, T0, "coupon.inactive"),
                                        (timed.id, T0 + timedelta(hours=1), "coupon.expired"),
                                        (timed.id, T0 - timedelta(days=2), "coupon.not_yet_valid")):
                with pytest.raises(ValidationError) as caught:
                    uow.coupons.redeem(coupon_id, me, order(), at)
                assert caught.value.code == code
            assert uow.coupons.usage(off.id, me) == uow.coupons.usage(timed.id, me) == CouponUsage()

    def test_a_redemption_rolls_back_with_its_unit_of_work(self, uow_factory: UowFactory) -> None:
        me = new_therapist(uow_factory)
        (coupon,) = add(uow_factory, make_coupon(single_use=True))
        with uow_factory() as uow:
            uow.coupons.redeem(coupon.id, me, order(), T0)  # the booking fails after this: no commit
        with uow_factory() as uow:
            assert uow.coupons.usage(coupon.id, me) == CouponUsage()
        redeem(uow_factory, coupon.id, me)

    def test_restore_gives_the_use_back_and_is_idempotent(self, uow_factory: UowFactory) -> None:
        me = new_therapist(uow_factory)
        (coupon,) = add(uow_factory, make_coupon(single_use=True))
        done = redeem(uow_factory, coupon.id, me)
        for expected in (done, None, None):
            with uow_factory() as uow:
                assert uow.coupons.restore(done.order_id) == expected
                uow.commit()
        with uow_factory() as uow:
            assert uow.coupons.usage(coupon.id, me) == CouponUsage()
            assert uow.coupons.redemption_of(done.order_id) is None
            assert uow.coupons.restore(order()) is None
        again = redeem(uow_factory, coupon.id, me)  # the single use is available again
        with uow_factory() as uow:
            assert uow.coupons.usage(coupon.id, me) == CouponUsage(1, 1) and again.coupon_id == coupon.id

    @pytest.mark.parametrize(("same_customer", "code"), [(False, "coupon.exhausted"), (True, "coupon.limit_reached")])
    def test_concurrent_redemptions_of_the_last_use_have_exactly_one_winner(
            self, uow_factory: UowFactory, same_customer: bool, code: str) -> None:
        racers = 4
        customers = [new_therapist(uow_factory)] * racers if same_customer else [
            new_therapist(uow_factory) for _ in range(racers)]
        limits: dict[str, Any] = {"per_customer_limit": 2} if same_customer else {"total_limit": 2}
        (coupon,) = add(uow_factory, make_coupon(**limits))
        redeem(uow_factory, coupon.id, customers[0])  # one use left
        barrier = threading.Barrier(racers)

        def race(customer: AccountId) -> CouponRedemption | MassageError:
            barrier.wait()
            try:
                return redeem(uow_factory, coupon.id, customer)
            except MassageError as exc:
                return exc

        with ThreadPoolExecutor(racers) as pool:
            outcomes = list(pool.map(race, customers))
        winners = [o for o in outcomes if isinstance(o, CouponRedemption)]
        losers = [o for o in outcomes if not isinstance(o, CouponRedemption)]
        assert len(winners) == 1, outcomes
        assert all(isinstance(e, Conflict) and e.code == code for e in losers), losers
        with uow_factory() as uow:
            assert uow.coupons.usage(coupon.id, winners[0].customer_id).in_total == 2
            assert uow.coupons.redemption_of(winners[0].order_id) == winners[0]
