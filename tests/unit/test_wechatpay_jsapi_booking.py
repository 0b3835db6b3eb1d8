"""Booking with the customer's WeChat openid opens a JSAPI payment (decision 0026): the openid reaches the
gateway's request as ``payer.openid`` and nothing else -- not the order, not the audit log, not a log line,
not an error message.  Without it the App flow is used, as before."""

from __future__ import annotations

import json
import logging

import pytest

from conftest import Kit, Person, fast_hasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.ids import SequentialIdGenerator
from massage_core.adapters.wechatpay import WeChatPayGateway
from massage_core.bootstrap import Platform
from massage_core.domain.errors import ValidationError
from massage_core.domain.order_states import OrderState
from order_kit import SENIOR_TUINA, book
from search_support import Shop
from wechatpay_kit import APP_APPID, APPID, OPENID, clock, config, stub  # noqa: F401  (fixtures)
from wechatpay_stub import WeChatPayStub


@pytest.fixture
def kit(clock: FixedClock, stub: WeChatPayStub) -> Kit:
    platform = Platform.in_memory(clock=clock, ids=SequentialIdGenerator(), hasher=fast_hasher(),
                                  payment_gateway=WeChatPayGateway(config(stub.url), clock))
    return Kit(platform, clock)


def opened(stub: WeChatPayStub) -> list[tuple[str, dict[str, object]]]:
    return [(target, json.loads(body)) for method, target, _headers, body in stub.requests
            if method == "POST" and target.startswith("/v3/pay/transactions/")]


def test_an_openid_opens_a_jsapi_payment_and_is_kept_nowhere(kit: Kit, shop: Shop, therapist: Person,
                                                             customer: Person, stub: WeChatPayStub,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina, payer=OPENID)
    [(target, sent)] = opened(stub)
    assert target == "/v3/pay/transactions/jsapi"
    assert (sent["payer"], sent["appid"], sent["out_trade_no"]) == ({"openid": OPENID}, APPID, order.id)
    assert order.payment is not None and order.payment.kind == "prepay"
    assert OPENID not in repr(kit.tables.orders) and OPENID not in repr(kit.tables.audit)
    assert OPENID not in repr(order) and all(OPENID not in r.getMessage() for r in caplog.records)
    paid = kit.platform.orders.payment_callback(*stub.pay(order.id))  # the JSAPI notification pays it
    assert (paid.state, paid.paid.fen) == (OrderState.AWAITING_ACCEPTANCE, SENIOR_TUINA)


def test_without_an_openid_the_app_flow_is_used(kit: Kit, shop: Shop, therapist: Person, customer: Person,
                                                stub: WeChatPayStub) -> None:
    book(kit.platform, customer.actor, therapist.account_id, shop.tuina)
    [(target, sent)] = opened(stub)
    assert (target, sent["appid"], "payer" in sent) == ("/v3/pay/transactions/app", APP_APPID, False)


@pytest.mark.parametrize("payer", ["", " " + OPENID, OPENID + "\n", "o" * 129, "oUpF8u/MuAJO", "openid=oUp", 42])
def test_a_malformed_openid_is_refused_before_anything_happens(kit: Kit, shop: Shop, therapist: Person,
                                                               customer: Person, stub: WeChatPayStub,
                                                               payer: object) -> None:
    with pytest.raises(ValidationError) as refused:
        book(kit.platform, customer.actor, therapist.account_id, shop.tuina, payer=payer)
    assert (refused.value.code, refused.value.field) == ("payment.payer", "payer")
    assert str(payer) not in str(refused.value) or payer == ""
    assert opened(stub) == [] and kit.tables.orders == {}
