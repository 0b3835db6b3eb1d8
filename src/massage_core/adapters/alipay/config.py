"""What the Alipay adapter needs to know: the app, the seller, the keys, where to call and how long to wait."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from attrs import field, frozen
from cryptography.hazmat.primitives.asymmetric import rsa

from massage_core.adapters.alipay.signing import load_private_key, load_public_key
from massage_core.domain.errors import ValidationError

PRODUCTION_GATEWAY = "https://openapi.alipay.com/gateway.do"
SANDBOX_GATEWAY = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"

#: Client payment products: ``app`` (order string for the app SDK), ``wap`` (mobile site) and ``page`` (PC site).
PRODUCTS = {
    "app": ("alipay.trade.app.pay", "QUICK_MSECURITY_PAY", "order_string"),
    "wap": ("alipay.trade.wap.pay", "QUICK_WAP_WAY", "pay_url"),
    "page": ("alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY", "pay_url"),
}

_APP_ID = re.compile(r"^[0-9]{8,32}$")
_SELLER_ID = re.compile(r"^2088[0-9]{12}$")


def _check_app_id(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not _APP_ID.fullmatch(value):
        raise ValidationError("Alipay app_id must be 8-32 digits", code="payment.config", field="app_id")


def _check_seller_id(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not _SELLER_ID.fullmatch(value):
        raise ValidationError("Alipay seller_id (PID) must be 16 digits starting 2088", code="payment.config",
                              field="seller_id")


def _check_url(*, https_only: bool) -> Any:
    def check(_instance: Any, attribute: Any, value: Any) -> None:
        parts = urlsplit(value) if isinstance(value, str) else None
        allowed = {"https"} if https_only else {"https", "http"}
        if parts is None or parts.scheme not in allowed or not parts.hostname or len(value) > 256:
            raise ValidationError(f"{attribute.name} must be an absolute {'/'.join(sorted(allowed))} URL",
                                  code="payment.config", field=attribute.name)

    return check


def _check_gateway_url(_instance: Any, attribute: Any, value: Any) -> None:
    """https, or http to a loopback address (the local stub in tests)."""
    parts = urlsplit(value) if isinstance(value, str) else None
    loopback = parts is not None and parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts is None or not parts.hostname or not (parts.scheme == "https" or loopback):
        raise ValidationError("gateway_url must be https (http only to a loopback address)", code="payment.config",
                              field=attribute.name)


def _check_product(_instance: Any, _attribute: Any, value: Any) -> None:
    if value not in PRODUCTS:
        raise ValidationError(f"product must be one of {sorted(PRODUCTS)}", code="payment.config", field="product")


def _check_positive_seconds(_instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 120:
        raise ValidationError(f"{attribute.name} must be 0-120 seconds", code="payment.config", field=attribute.name)


def _check_expiry(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, timedelta) or not timedelta(minutes=1) <= value <= timedelta(days=15):
        raise ValidationError("default_expiry must be 1 minute to 15 days", code="payment.config",
                              field="default_expiry")


@frozen
class AlipayConfig:
    """One Alipay open-platform app (``app_id``) selling as one merchant (``seller_id``, the 2088... PID).

    ``app_private_key`` signs our requests; ``alipay_public_key`` (the
    "支付宝公钥" of the app, not the app's own public key) verifies responses
    and notifications.  ``notify_url`` is where Alipay posts asynchronous
    notifications.  ``product`` picks the client flow.  ``default_expiry`` is
    the ``time_expire`` used when a request has no ``expires_at`` -- always
    set, because an order string stays payable until then even after
    ``close`` (see decision 27).  ``confirm_stale_by_query`` makes a
    correctly signed but stale notification be confirmed with
    ``alipay.trade.query`` instead of refused.
    """

    app_id: str = field(validator=_check_app_id)
    seller_id: str = field(validator=_check_seller_id)
    app_private_key: str | bytes | rsa.RSAPrivateKey = field(repr=False)
    alipay_public_key: str | bytes | rsa.RSAPublicKey = field(repr=False)
    notify_url: str = field(validator=_check_url(https_only=False))
    gateway_url: str = field(default=PRODUCTION_GATEWAY, validator=_check_gateway_url)
    product: str = field(default="app", validator=_check_product)
    return_url: str | None = field(default=None)
    connect_timeout: float = field(default=5.0, validator=_check_positive_seconds)
    read_timeout: float = field(default=15.0, validator=_check_positive_seconds)
    default_expiry: timedelta = field(default=timedelta(minutes=30), validator=_check_expiry)
    confirm_stale_by_query: bool = field(default=False)
    _private: rsa.RSAPrivateKey = field(init=False, repr=False, eq=False)
    _public: rsa.RSAPublicKey = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if self.return_url is not None:
            _check_url(https_only=False)(self, type("A", (), {"name": "return_url"})(), self.return_url)
        object.__setattr__(self, "_private", load_private_key(self.app_private_key))
        object.__setattr__(self, "_public", load_public_key(self.alipay_public_key))

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        """The loaded app private key."""
        return self._private

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        """The loaded Alipay public key."""
        return self._public
