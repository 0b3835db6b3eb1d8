"""Fixtures and helpers shared by the Alipay adapter tests: a stub per test, a gateway wired to it."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pendulum
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from alipay_stub import APP_ID, SELLER_ID, AlipayStub, key_pair
from massage_core.adapters.alipay import AlipayConfig, AlipayGateway
from massage_core.adapters.alipay.signing import load_private_key, load_public_key
from massage_core.adapters.memory.clock import FixedClock
from massage_core.domain.payments import PaymentPayload, PaymentRequest

START = pendulum.datetime(2026, 1, 5, 2, 0, tz="UTC")
NOTIFY_URL = "https://massage.example.com/payments/alipay/notify"


class RecordingGateway(AlipayGateway):
    """The adapter, remembering the payloads it handed out so a test can play the buyer opening them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.payloads: dict[str, PaymentPayload] = {}

    def create_payment(self, request: PaymentRequest) -> PaymentPayload:
        payload = super().create_payment(request)
        self.payloads[request.order_reference] = payload
        return payload


@functools.cache
def loaded_keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]:
    """The app private and Alipay public keys, loaded (and validated) once per test process."""
    return load_private_key(key_pair("app")[1]), load_public_key(key_pair("alipay")[2])


def config_for(stub: AlipayStub, **changes: Any) -> AlipayConfig:
    app_private, alipay_public = loaded_keys()
    values: dict[str, Any] = {
        "app_id": APP_ID, "seller_id": SELLER_ID, "app_private_key": app_private,
        "alipay_public_key": alipay_public, "notify_url": NOTIFY_URL, "gateway_url": stub.url,
        "read_timeout": 1.0, "connect_timeout": 1.0,
    }
    values.update(changes)
    return AlipayConfig(**values)


def gateway_for(stub: AlipayStub, clock: FixedClock, **changes: Any) -> RecordingGateway:
    return RecordingGateway(config_for(stub, **changes), clock)


def open_and_pay(stub: AlipayStub, gateway: RecordingGateway, order_reference: str) -> tuple[dict[str, str], bytes]:
    payload = gateway.payloads[order_reference].as_dict()
    stub.open_order(payload.get("order_string") or payload["pay_url"])
    return stub.pay(order_reference)


def form_of(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True))


def body_of(form: dict[str, str]) -> bytes:
    return urlencode(form).encode("ascii")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def stub(clock: FixedClock) -> Iterator[AlipayStub]:
    server = AlipayStub(clock)
    yield server
    server.stop()
