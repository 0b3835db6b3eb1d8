"""Signed calls to WeChat Pay API v3 and verified answers.

Every request carries an Authorization header signed with the merchant key
(timestamps from the Clock port, a fresh nonce each time).  Every answer,
successful or not, must carry ``Wechatpay-Timestamp``, ``-Nonce``,
``-Signature`` and ``-Serial`` that verify under the platform key named by
the serial, with a timestamp within 5 minutes of the clock; otherwise the
answer is unusable and the call fails with ``payment.unavailable`` (so is
any 5xx or 429 answer, and anything that is not JSON).  A signed 4xx answer
``{"code", "message"}`` becomes ``WeChatPayRefused`` (code ``payment.refused``),
which the gateway maps to the port's errors where WeChat's code says what
happened; an unsigned 401 (WeChat refused our signature, so it does not sign
its answer) is ``WeChatPayRefused`` too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from massage_core.adapters.wechatpay.config import WeChatPayConfig
from massage_core.adapters.wechatpay.signing import (
    SCHEMA,
    PlatformKey,
    answer_message,
    authorization,
    load_platform_key,
    load_private_key,
    new_nonce,
    request_message,
    sign,
    verify,
)
from massage_core.adapters.wechatpay.transport import HttpResponse, HttpTransport, unavailable
from massage_core.domain.errors import PaymentError
from massage_core.ports.clock import Clock

#: Signed messages (answers and callbacks) further than this from the clock, either way, are refused.
WINDOW = timedelta(minutes=5)
USER_AGENT = "massage-core-wechatpay/1 (+python http.client)"


class WeChatPayRefused(PaymentError):
    """WeChat Pay answered a call with a (verified) error: ``wechat_code`` is its ``code`` field."""

    def __init__(self, status: int, wechat_code: str, message: str) -> None:
        super().__init__(f"WeChat Pay refused ({status} {wechat_code}): {message[:200]}", code="payment.refused")
        self.status = status
        self.wechat_code = wechat_code


def path_segment(value: str) -> str:
    """``value`` escaped for a URL path (order references and refund numbers are already URL-safe)."""
    return quote(value, safe="")


class PlatformKeys:
    """The platform keys by serial, checked against the clock when used."""

    def __init__(self, config: WeChatPayConfig, clock: Clock) -> None:
        self._keys = {serial: load_platform_key(serial, pem) for serial, pem in config.platform_keys}
        self._clock = clock

    def verifies(self, serial: str, message: bytes, signature: str) -> bool:
        """Whether the key named ``serial`` (known and currently valid) signed ``message``."""
        key: PlatformKey | None = self._keys.get(serial)
        if key is None or not key.valid_at(self._clock.now()):
            return False
        return verify(key.key, message, signature)


def within_window(clock: Clock, stamp: str) -> bool | None:
    """True/False for a readable unix-seconds stamp inside/outside the window; None when unreadable."""
    if not (stamp.isascii() and stamp.isdigit() and 0 < len(stamp) <= 12):
        return None
    return abs(int(clock.now().timestamp()) - int(stamp)) <= WINDOW.total_seconds()


class ApiClient:
    """Sends signed JSON requests and returns verified JSON answers."""

    def __init__(self, config: WeChatPayConfig, clock: Clock, transport: HttpTransport) -> None:
        self._config = config
        self._clock = clock
        self._transport = transport
        self._private_key = load_private_key(config.merchant_private_key)
        self.platform_keys = PlatformKeys(config, clock)

    def sign(self, message: bytes) -> str:
        """Sign ``message`` with the merchant key (client payloads)."""
        return sign(self._private_key, message)

    def call(self, method: str, path: str, *, query: Mapping[str, str] | None = None,
             payload: Mapping[str, Any] | None = None) -> tuple[int, Any]:
        """(status, JSON answer or None for an empty body) of a 2xx answer; WeChatPayRefused for 4xx."""
        target = path + (f"?{urlencode(dict(query))}" if query else "")
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = self._signed_headers(method, target, body)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        answer = self._transport.send(method, self._config.base_url.rstrip("/") + target, headers, body,
                                      self._config.timeout_seconds)
        if answer.status >= 500 or answer.status == 429:
            raise unavailable(f"HTTP {answer.status}")
        if answer.status == 401 and "wechatpay-signature" not in answer.headers:
            # WeChat signs every answer to a request it authenticated; this one it did not (SIGN_ERROR):
            # a configuration problem, not a reason to retry.
            raise WeChatPayRefused(401, "SIGN_ERROR", "the request signature was refused")
        self._verify(answer)
        data = _json(answer.body)
        if 200 <= answer.status < 300:
            return answer.status, data
        if answer.status >= 400 and isinstance(data, dict) and isinstance(data.get("code"), str):
            message = data.get("message")
            raise WeChatPayRefused(answer.status, data["code"], message if isinstance(message, str) else "")
        raise unavailable(f"unexpected HTTP {answer.status}")

    def download(self, url: str, max_bytes: int) -> bytes:
        """The body of a signed ``GET url`` (a bill's ``download_url``), at most ``max_bytes``.

        WeChat does not sign these answers (the caller checks the hash it signed in the bill answer instead).
        The URL must be on the configured API host, so our Authorization never goes anywhere else.  Anything
        but a 200 answer is ``payment.unavailable`` (an expired link: apply again).
        """
        parts, base = urlsplit(url), urlsplit(self._config.base_url)
        if (parts.scheme, parts.hostname, parts.port) != (base.scheme, base.hostname, base.port) or parts.fragment:
            raise unavailable("download_url is not on the configured WeChat Pay host")
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = self._signed_headers("GET", target, b"")
        answer = self._transport.send("GET", url, headers, b"", self._config.timeout_seconds, max_bytes=max_bytes)
        if answer.status != 200:
            raise unavailable(f"HTTP {answer.status} for a download")
        return answer.body

    def _signed_headers(self, method: str, target: str, body: bytes) -> dict[str, str]:
        stamp = int(self._clock.now().timestamp())
        nonce = new_nonce()
        signature = sign(self._private_key, request_message(method, target, stamp, nonce, body))
        return {
            "Authorization": authorization(self._config.mchid, self._config.merchant_serial_no, nonce, stamp,
                                           signature),
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }

    def _verify(self, answer: HttpResponse) -> None:
        headers = answer.headers
        stamp = headers.get("wechatpay-timestamp", "")
        nonce = headers.get("wechatpay-nonce", "")
        signature = headers.get("wechatpay-signature", "")
        serial = headers.get("wechatpay-serial", "")
        kind = headers.get("wechatpay-signature-type", SCHEMA)
        if not (stamp and nonce and signature and serial) or kind != SCHEMA:
            raise unavailable("answer is not signed")
        fresh = within_window(self._clock, stamp)
        if not fresh:
            raise unavailable("answer timestamp is unreadable or more than 5 minutes off")
        if not self.platform_keys.verifies(serial, answer_message(stamp, nonce, answer.body), signature):
            raise unavailable("answer signature does not verify")


def _json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise unavailable("answer is not JSON") from None
