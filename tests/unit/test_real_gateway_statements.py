"""The WeChat Pay and Alipay adapters cannot fetch statements yet (decision 0034): ``statement`` checks its
arguments, then refuses with ``payment.unsupported`` and sends nothing -- it never reports a made-up bill."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

import wechatpay_kit
from alipay_kit import config_for
from alipay_stub import AlipayStub
from massage_core.adapters.alipay import AlipayGateway
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.wechatpay import WeChatPayGateway
from massage_core.domain.errors import PaymentError, ValidationError
from massage_core.ports.payments import PaymentGateway


@pytest.fixture(params=["wechat", "alipay"])
def real_gateway(request: pytest.FixtureRequest) -> Iterator[PaymentGateway]:
    clock = FixedClock(wechatpay_kit.START)
    if request.param == "wechat":
        yield WeChatPayGateway(wechatpay_kit.config(), clock)
        return
    stub = AlipayStub(clock)
    try:
        yield AlipayGateway(config_for(stub), clock)
    finally:
        stub.stop()


def test_statement_is_not_built_and_says_so(real_gateway: PaymentGateway) -> None:
    with pytest.raises(PaymentError) as refused:
        real_gateway.statement(dt.date(2026, 1, 5))
    assert refused.value.code == "payment.unsupported" and "not built" in str(refused.value)


def test_statement_arguments_are_checked_first(real_gateway: PaymentGateway) -> None:
    with pytest.raises(ValidationError) as bad:
        real_gateway.statement(dt.date(2026, 1, 5), "Nowhere/Special")
    assert bad.value.code == "time.zone"
