"""The merchant's WeChat Pay settings: ids, keys, URLs and timeouts, checked once at start-up.

Secrets (the merchant private key and the APIv3 key) never appear in
``repr``.  Platform keys are given by serial: either a platform certificate
(PEM ``CERTIFICATE``; its serial number, in hex, must be the name it is
given under) or a platform public key (PEM ``PUBLIC KEY``, named by its
``PUB_KEY_ID_...`` id).  Several may be given at once so keys can be rotated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from attrs import field, frozen

from massage_core.domain.errors import ValidationError

DEFAULT_BASE_URL = "https://api.mch.weixin.qq.com"
APIV3_KEY_BYTES = 32
_MCHID = re.compile(r"^[0-9]{1,32}$")
_APPID = re.compile(r"^[A-Za-z0-9_]{1,32}$")
_SERIAL = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _bad(message: str, name: str) -> ValidationError:
    return ValidationError(message, code="payment.config", field=name)


def _matches(pattern: re.Pattern[str]) -> Any:
    def check(_instance: Any, attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise _bad(f"{attribute.name} has the wrong shape", attribute.name)

    return check


def _optional_appid(_instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not _APPID.fullmatch(value)):
        raise _bad(f"{attribute.name} has the wrong shape", attribute.name)


def _secret_bytes(value: Any) -> Any:
    return value.encode("ascii") if isinstance(value, str) and value.isascii() else value


def _check_apiv3_key(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, bytes) or len(value) != APIV3_KEY_BYTES:
        raise _bad(f"the APIv3 key must be {APIV3_KEY_BYTES} bytes", "apiv3_key")


def _check_pem(_instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, bytes) or b"-----BEGIN" not in value:
        raise _bad(f"{attribute.name} must be PEM bytes", attribute.name)


def _platform_keys(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return tuple(sorted((k, _secret_bytes(v)) for k, v in value.items()))


def _check_platform_keys(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple) or not value:
        raise _bad("at least one platform key or certificate is needed", "platform_keys")
    for serial, pem in value:
        if not isinstance(serial, str) or not _SERIAL.fullmatch(serial):
            raise _bad("platform key serials are 1-64 letters, digits or _", "platform_keys")
        if not isinstance(pem, bytes) or b"-----BEGIN" not in pem:
            raise _bad(f"platform key {serial} must be PEM", "platform_keys")


def _check_url(*, https_only: bool) -> Any:
    def check(_instance: Any, attribute: Any, value: Any) -> None:
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts is None or not parts.hostname or parts.query or parts.fragment:
            raise _bad(f"{attribute.name} must be an absolute URL without query", attribute.name)
        plain_ok = not https_only and parts.scheme == "http" and parts.hostname in _LOOPBACK
        if parts.scheme != "https" and not plain_ok:
            raise _bad(f"{attribute.name} must use https (http only on loopback)", attribute.name)

    return check


def _check_timeout(_instance: Any, _attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 120:
        raise _bad("timeout_seconds must be in (0, 120]", "timeout_seconds")


@frozen(repr=False)
class WeChatPayConfig:
    """Everything the adapter needs to talk to WeChat Pay as one direct merchant.

    ``appid`` is the official account / mini-program app id used for JSAPI
    payments (a request with a ``payer`` openid); ``app_appid`` the mobile
    app's id for App payments (no payer), defaulting to ``appid``.
    ``merchant_private_key`` is the PEM of the API certificate's private key
    and ``merchant_serial_no`` that certificate's serial.  ``apiv3_key`` is
    the 32-byte APIv3 key (text or bytes).
    """

    mchid: str = field(validator=_matches(_MCHID))
    appid: str = field(validator=_matches(_APPID))
    merchant_private_key: bytes = field(converter=_secret_bytes, validator=_check_pem)
    merchant_serial_no: str = field(validator=_matches(_SERIAL))
    apiv3_key: bytes = field(converter=_secret_bytes, validator=_check_apiv3_key)
    platform_keys: tuple[tuple[str, bytes], ...] = field(converter=_platform_keys, validator=_check_platform_keys)
    notify_url: str = field(validator=_check_url(https_only=True))
    base_url: str = field(default=DEFAULT_BASE_URL, validator=_check_url(https_only=False))
    app_appid: str | None = field(default=None, validator=_optional_appid)
    timeout_seconds: float = field(default=10.0, validator=_check_timeout)

    @property
    def appids(self) -> frozenset[str]:
        """The app ids a callback or answer may name."""
        return frozenset({self.appid, self.app_appid or self.appid})

    def __repr__(self) -> str:
        serials = ", ".join(serial for serial, _ in self.platform_keys)
        return (
            f"WeChatPayConfig(mchid={self.mchid!r}, appid={self.appid!r}, app_appid={self.app_appid!r}, "
            f"merchant_serial_no={self.merchant_serial_no!r}, platform_keys=[{serials}], "
            f"notify_url={self.notify_url!r}, base_url={self.base_url!r}, secrets=<hidden>)"
        )
