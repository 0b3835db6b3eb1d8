"""Coupons through ``platform.coupons``: management by superadmins, the customer's check (decision 0020)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conftest import Kit
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.coupons import Coupon
from massage_core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderId
from therapist_kit import Catalogue, catalogue

DAY = dt.timedelta(days=1)


@pytest.fixture
def shop(kit: Kit) -> Catalogue:
    return catalogue(kit)


def window(kit: Kit, **changes: Any) -> dict[str, Any]:
    now = kit.clock.now()
    values: dict[str, Any] = {"valid_from": now - DAY, "valid_until": now + 30 * DAY}
    values.update(changes)
    return values


def make(kit: Kit, name: str = "Welcome", **options: Any) -> Coupon:
    if "amount_off" not in options and "percent_off_bp" not in options:
        options["percent_off_bp"] = 1_500
    coupon: Coupon = kit.platform.coupons.create(kit.superadmin().actor, name, **window(kit, **options))
    return coupon


def redeem(kit: Kit, coupon: Coupon, customer: str) -> None:
    """What the booking does inside its unit of work."""
    with kit.platform.deps.uow() as uow:
        uow.coupons.redeem(coupon.id, AccountId(customer), OrderId(kit.platform.deps.ids.new_id("order")),
                           kit.clock.now())
        uow.commit()


def test_a_superadmin_creates_lists_and_deactivates_coupons_audited(kit: Kit, shop: Catalogue) -> None:
    root = kit.superadmin().actor
    first = make(kit, "Spring", amount_off=2_000, code="spring20", services=[shop.service])
    kit.clock.advance(DAY)
    second = make(kit, "Autumn", max_discount=5_000, per_customer_limit=1)
    assert first.code == "SPRING20" and first.version == 1 and first.service_ids == {shop.service}
    assert [c.id for c in kit.platform.coupons.list(root)] == [second.id, first.id]
    off = kit.platform.coupons.deactivate(root, first.id)
    assert not off.active and off.version == 2
    assert kit.platform.coupons.deactivate(root, first.id) == off  # idempotent
    assert [c.id for c in kit.platform.coupons.list(root, active_only=True)] == [second.id]
    assert [c.id for c in kit.platform.coupons.list(root, offset=1, limit=5)] == [first.id]
    actions = [(e.action, e.target) for e in kit.audit_entries() if e.action.startswith("coupons.")]
    assert actions == [("coupons.create", first.id), ("coupons.create", second.id),
                       ("coupons.deactivate", first.id), ("coupons.deactivate", first.id)]


def test_bad_coupons_are_refused_with_stable_codes_and_nothing_is_stored(kit: Kit, shop: Catalogue) -> None:
    make(kit, code="TAKEN")
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"code": "taken"}, Conflict, "coupon.duplicate"),
        ({"code": "no spaces"}, ValidationError, "coupon.code"),
        ({"amount_off": 100, "percent_off_bp": 500}, ValidationError, "coupon.invalid"),  # both kinds
        ({"valid_until": kit.clock.now() - 2 * DAY}, ValidationError, "coupon.invalid"),
        ({"services": ["svc_" + "0" * 26]}, NotFound, "not_found"),
        ({"services": ["nope"]}, ValidationError, "invalid_id"),
    ]
    for options, error, code in cases:
        with pytest.raises(error) as caught:
            make(kit, **options)
        assert getattr(caught.value, "code") == code, options
    assert len(kit.platform.coupons.list(Actor.system())) == 1


def test_others_may_not_manage_coupons(kit: Kit) -> None:
    coupon = make(kit)
    customer = kit.customer_by_phone().actor
    for attempt in (lambda: kit.platform.coupons.list(customer),
                    lambda: kit.platform.coupons.deactivate(customer, coupon.id),
                    lambda: make_as(kit, customer)):
        with pytest.raises(PermissionDenied):
            attempt()
    assert kit.audit_entries()[-1].outcome is AuditOutcome.DENIED
    assert kit.platform.coupons.list(Actor.system())[0].active


def make_as(kit: Kit, actor: Actor) -> Coupon:
    coupon: Coupon = kit.platform.coupons.create(actor, "Mine", percent_off_bp=10_000, **window(kit))
    return coupon


def test_a_customer_sees_the_discount_by_code_or_id(kit: Kit, shop: Catalogue) -> None:
    percent = make(kit, percent_off_bp=1_500, max_discount=2_000, code="TENOFF")
    fixed = make(kit, amount_off=50_000)
    me = kit.customer_by_phone().actor
    by_code = kit.platform.coupons.check(me, "tenoff", shop.service, 10_000)
    assert (by_code.coupon_id, by_code.discount, by_code.subtotal) == (percent.id, Money(1_500), Money(10_000))
    assert kit.platform.coupons.check(me, percent.id, shop.service, Money(19_800)).discount == Money(2_000)  # cap
    assert kit.platform.coupons.check(me, fixed.id, shop.service, 19_800).discount == Money(19_800)  # subtotal cap
    assert by_code.valid_until == percent.valid_until and by_code.code == "TENOFF"


def test_the_check_uses_the_customers_own_live_usage(kit: Kit, shop: Catalogue) -> None:
    coupon = make(kit, per_customer_limit=1, total_limit=2, code="ONCE")
    me, you, third = kit.customer_by_phone(), kit.customer_by_phone(), kit.customer_by_phone()
    redeem(kit, coupon, me.account_id)
    with pytest.raises(Conflict) as caught:
        kit.platform.coupons.check(me.actor, "ONCE", shop.service, 19_800)
    assert caught.value.code == "coupon.limit_reached"
    assert kit.platform.coupons.check(you.actor, "ONCE", shop.service, 19_800).discount == Money(2_970)
    redeem(kit, coupon, you.account_id)
    with pytest.raises(Conflict) as caught:
        kit.platform.coupons.check(third.actor, "ONCE", shop.service, 19_800)
    assert caught.value.code == "coupon.exhausted"


@pytest.mark.parametrize(("options", "args", "error", "code"), [
    ({"services": "other"}, {}, ValidationError, "coupon.not_applicable"),
    ({"min_spend": 20_000}, {}, ValidationError, "coupon.min_spend"),
    ({"valid_from_days": 2}, {}, ValidationError, "coupon.not_yet_valid"),
    ({}, {"code": "UNKNOWN"}, NotFound, "not_found"),
    ({}, {"code": "cpn_" + "0" * 26}, NotFound, "not_found"),
    ({}, {"service": "svc_" + "0" * 26}, NotFound, "not_found"),
    ({}, {"subtotal": 1.5}, ValidationError, "coupon.invalid"),
])
def test_unusable_coupons_and_bad_input_are_refused(kit: Kit, shop: Catalogue, options: dict[str, Any],
                                                    args: dict[str, Any], error: type[Exception], code: str) -> None:
    if options.get("services") == "other":
        options["services"] = [shop.other_service]
    if "valid_from_days" in options:
        days = options.pop("valid_from_days")
        options["valid_from"] = kit.clock.now() + days * DAY
    make(kit, code="USEME", **options)
    call = {"code": "useme", "service": shop.service, "subtotal": 19_800} | args
    with pytest.raises(error) as caught:
        kit.platform.coupons.check(kit.customer_by_phone().actor, call["code"], call["service"], call["subtotal"])
    assert getattr(caught.value, "code") == code


def test_a_deactivated_coupon_is_refused_but_keeps_its_redemptions(kit: Kit, shop: Catalogue) -> None:
    coupon = make(kit, code="GONE")
    me = kit.customer_by_phone()
    redeem(kit, coupon, me.account_id)
    kit.platform.coupons.deactivate(kit.superadmin().actor, coupon.id)
    with pytest.raises(ValidationError) as caught:
        kit.platform.coupons.check(me.actor, "gone", shop.service, 19_800)
    assert caught.value.code == "coupon.inactive"
    with kit.platform.deps.uow() as uow:
        assert uow.coupons.usage(coupon.id, me.account_id).by_customer == 1
