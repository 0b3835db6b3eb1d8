"""Verifying WeChat Pay payment notifications (回调通知): headers, signature, freshness, replay, resource.

Checks, in order: headers present and well formed (``payment.malformed``;
a missing signature or serial is ``payment.signature``); the signature over
``timestamp\\nnonce\\nbody\\n`` under the platform key named by
``Wechatpay-Serial`` (unknown serial, expired certificate or a bad signature:
``payment.signature``); the timestamp within 5 minutes of the clock either
way (``payment.stale``); the nonce (seen before with other content:
``payment.replay``; seen with the same content: the same notice again);
then the body: ``resource_type`` ``encrypt-resource``, a ``TRANSACTION.*``
event, an ``AEAD_AES_256_GCM`` resource of ``original_type`` transaction
that decrypts under the APIv3 key (``payment.signature`` when it does not
authenticate), whose plaintext is a transaction (``payment.malformed``)
for our ``appid`` and ``mchid`` (``payment.mismatch``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from typing import Any

from attrs import frozen

from massage_core.adapters.wechatpay import wire
from massage_core.adapters.wechatpay.client import WINDOW, PlatformKeys, within_window
from massage_core.adapters.wechatpay.config import WeChatPayConfig
from massage_core.adapters.wechatpay.signing import SCHEMA, answer_message, decrypt_resource
from massage_core.domain.errors import PaymentError
from massage_core.domain.payments import PaymentNotice
from massage_core.ports.clock import Clock

MAX_BODY_BYTES = 16 * 1024
MAX_NONCE_CHARS = 64
#: At most this many nonces are remembered (older ones go first; stale ones are forgotten anyway).
MAX_NONCES = 10_000
ALGORITHM = "AEAD_AES_256_GCM"


def malformed(what: str) -> PaymentError:
    return PaymentError(f"WeChat Pay callback is malformed: {what}", code="payment.malformed")


def _unsigned(what: str) -> PaymentError:
    return PaymentError(f"WeChat Pay callback signature: {what}", code="payment.signature")


@frozen
class _Seen:
    timestamp: str
    digest: bytes
    notice: PaymentNotice


@frozen
class _Headers:
    timestamp: str
    nonce: str
    signature: str
    serial: str


def read_headers(headers: Mapping[str, str]) -> _Headers:
    """The four Wechatpay-* headers, names matched without regard to case."""
    if not isinstance(headers, Mapping):
        raise malformed("headers must be a mapping")
    folded: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise malformed("header names and values must be text")
        key = name.lower()
        if key in folded and folded[key] != value:
            raise malformed(f"header {name[:40]} given twice")
        folded[key] = value
    signature = folded.get("wechatpay-signature", "")
    serial = folded.get("wechatpay-serial", "")
    if not signature or not serial:
        raise _unsigned("Wechatpay-Signature or Wechatpay-Serial missing")
    if folded.get("wechatpay-signature-type", SCHEMA) != SCHEMA:
        raise _unsigned("unsupported Wechatpay-Signature-Type")
    stamp = folded.get("wechatpay-timestamp", "")
    if not (stamp.isascii() and stamp.isdigit() and 0 < len(stamp) <= 12):
        raise malformed("Wechatpay-Timestamp must be unix seconds")
    nonce = folded.get("wechatpay-nonce", "")
    if not (0 < len(nonce) <= MAX_NONCE_CHARS and nonce.isascii() and nonce.isprintable() and " " not in nonce):
        raise malformed(f"Wechatpay-Nonce must be 1-{MAX_NONCE_CHARS} printable ASCII characters")
    return _Headers(stamp, nonce, signature, serial)


def _text(data: Any, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise malformed(f"{key} must be text")
    return value


def read_resource(body: bytes) -> tuple[str, str, str]:
    """(nonce, ciphertext, associated_data) of a transaction notification body."""
    try:
        data: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise malformed("body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("resource"), dict):
        raise malformed("body has no resource")
    if data.get("resource_type") != "encrypt-resource" or not _text(data, "event_type").startswith("TRANSACTION."):
        raise malformed("not an encrypted transaction notification")
    resource = data["resource"]
    if resource.get("algorithm") != ALGORITHM or resource.get("original_type", "transaction") != "transaction":
        raise malformed(f"resource must be an {ALGORITHM} transaction")
    nonce, ciphertext = _text(resource, "nonce"), _text(resource, "ciphertext")
    associated = resource.get("associated_data", "")
    if not isinstance(associated, str) or not nonce or not ciphertext:
        raise malformed("resource fields are wrong")
    return nonce, ciphertext, associated


class CallbackVerifier:
    """Turns a WeChat Pay payment notification into a PaymentNotice, or refuses it."""

    def __init__(self, config: WeChatPayConfig, clock: Clock, keys: PlatformKeys) -> None:
        self._config = config
        self._clock = clock
        self._keys = keys
        self._seen: dict[str, _Seen] = {}
        self._accepted = 0
        self._lock = threading.Lock()

    @property
    def accepted(self) -> int:
        """How many distinct notifications were accepted (replays not counted)."""
        with self._lock:
            return self._accepted

    def parse(self, headers: Mapping[str, str], body: bytes) -> PaymentNotice:
        """See the module docstring."""
        read = read_headers(headers)
        if not isinstance(body, bytes) or len(body) > MAX_BODY_BYTES:
            raise malformed(f"body must be at most {MAX_BODY_BYTES} bytes")
        if not self._keys.verifies(read.serial, answer_message(read.timestamp, read.nonce, body), read.signature):
            raise _unsigned("does not verify under a known platform key")
        if not within_window(self._clock, read.timestamp):
            raise PaymentError("WeChat Pay callback timestamp is more than 5 minutes off", code="payment.stale")
        digest = hashlib.sha256(body).digest()
        with self._lock:
            earlier = self._recall(read, digest)
        if earlier is not None:
            return earlier
        notice = self._open(body)
        with self._lock:
            earlier = self._recall(read, digest)
            if earlier is not None:  # a concurrent delivery of the same callback got here first
                return earlier
            self._seen[read.nonce] = _Seen(read.timestamp, digest, notice)
            self._accepted += 1
        return notice

    def _recall(self, read: _Headers, digest: bytes) -> PaymentNotice | None:
        """The notice already accepted under this nonce; call with the lock held."""
        now = int(self._clock.now().timestamp())
        window = WINDOW.total_seconds()
        for nonce in [n for n, seen in self._seen.items() if abs(now - int(seen.timestamp)) > window]:
            del self._seen[nonce]
        while len(self._seen) >= MAX_NONCES:
            del self._seen[next(iter(self._seen))]
        seen = self._seen.get(read.nonce)
        if seen is None:
            return None
        if seen.timestamp != read.timestamp or not hmac.compare_digest(seen.digest, digest):
            raise PaymentError("WeChat Pay callback nonce was used before with other content",
                               code="payment.replay")
        return seen.notice

    def _open(self, body: bytes) -> PaymentNotice:
        nonce, ciphertext, associated = read_resource(body)
        plaintext = decrypt_resource(self._config.apiv3_key, nonce, ciphertext, associated)
        try:
            data: Any = json.loads(plaintext.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise malformed("resource plaintext is not JSON") from None
        appid, mchid, *_ = wire.transaction_parts(data, malformed)
        if appid not in self._config.appids or mchid != self._config.mchid:
            raise PaymentError("WeChat Pay callback is for another appid or mchid", code="payment.mismatch")
        return wire.notice(data, malformed)
