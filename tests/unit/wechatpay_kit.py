"""Test kit for the WeChat Pay adapter: keys and certificates made here, a config, and fixtures.

Nothing here uses the adapter's own signing code: the stub (``wechatpay_stub``)
and these helpers are an independent implementation with ``cryptography``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from typing import Any

import pendulum
import pytest
from attrs import frozen
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.wechatpay import StdlibTransport, WeChatPayConfig, WeChatPayGateway
from wechatpay_stub import WeChatPayStub

MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
APP_APPID = "wx8888888888888888"
MERCHANT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
PUBLIC_KEY_ID = "PUB_KEY_ID_0114232134912410000000000001"
APIV3_KEY = b"0123456789abcdefABCDEF9876543210"
NOTIFY_URL = "https://massage.example/pay/wechat/notify"
START = pendulum.datetime(2026, 1, 5, 2, 0, tz="UTC")
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


@frozen
class Keys:
    """The merchant's API key, WeChat's platform key (as a public key and as a certificate), an attacker's key."""

    merchant: rsa.RSAPrivateKey
    platform: rsa.RSAPrivateKey
    platform_cert_pem: bytes
    platform_cert_serial: str
    attacker: rsa.RSAPrivateKey

    @property
    def merchant_pem(self) -> bytes:
        return self.merchant.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())

    @property
    def platform_public_pem(self) -> bytes:
        return public_pem(self.platform)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def certificate(key: rsa.RSAPrivateKey, serial: int, not_before: dt.datetime, not_after: dt.datetime) -> bytes:
    """A self-signed certificate for ``key``, as WeChat's platform certificates are named by serial."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA (test)")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(serial).not_valid_before(not_before).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


@functools.lru_cache(maxsize=1)
def keys() -> Keys:
    def make() -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    platform = make()
    serial = 0x3CB6F1C3A2E1D4B5A6978869504132231415
    cert = certificate(platform, serial, START - dt.timedelta(days=30), START + dt.timedelta(days=365))
    return Keys(merchant=make(), platform=platform, platform_cert_pem=cert, platform_cert_serial=format(serial, "X"),
                attacker=make())


def config(base_url: str = "http://127.0.0.1:9", **changes: Any) -> WeChatPayConfig:
    made = keys()
    settings: dict[str, Any] = {
        "mchid": MCHID,
        "appid": APPID,
        "app_appid": APP_APPID,
        "merchant_private_key": made.merchant_pem,
        "merchant_serial_no": MERCHANT_SERIAL,
        "apiv3_key": APIV3_KEY,
        "platform_keys": {PUBLIC_KEY_ID: made.platform_public_pem,
                          made.platform_cert_serial: made.platform_cert_pem},
        "notify_url": NOTIFY_URL,
        "base_url": base_url,
        "timeout_seconds": 2.0,
    }
    settings.update(changes)
    return WeChatPayConfig(**settings)


def make_stub(clock: FixedClock) -> WeChatPayStub:
    made = keys()
    return WeChatPayStub(clock=clock, mchid=MCHID, appids=(APPID, APP_APPID), apiv3_key=APIV3_KEY,
                         merchant_public_key=made.merchant.public_key(), merchant_serial=MERCHANT_SERIAL,
                         platform_key=made.platform, platform_serial=PUBLIC_KEY_ID)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def stub(clock: FixedClock) -> Iterator[WeChatPayStub]:
    with make_stub(clock).serving() as running:
        yield running


@pytest.fixture
def gateway(clock: FixedClock, stub: WeChatPayStub) -> WeChatPayGateway:
    return WeChatPayGateway(config(stub.url), clock, StdlibTransport())


@pytest.fixture
def offline(clock: FixedClock) -> WeChatPayGateway:
    """A gateway for callback tests: nothing listens at its base URL, parse_callback needs no network."""
    return WeChatPayGateway(config(), clock)
