"""An offline stand-in for WeChat and Alipay OAuth, for development and tests.

``issue`` plays the provider's part: it mints an authorisation code for a
subject.  ``verify`` plays ours: it checks the code exactly as strictly as a
real exchange would (signature, provider, expiry, single use).

A code is ``<payload>.<signature>``: the payload is unpadded urlsafe base64
of the JSON ``{"provider", "subject", "exp", "nonce"}`` (``exp`` in unix
seconds) and the signature is unpadded urlsafe base64 of HMAC-SHA256 over
the payload text under the sandbox secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import threading
from datetime import timedelta
from typing import Any

from massage_core.domain.accounts import ExternalIdentity, Provider
from massage_core.domain.errors import AuthenticationFailed, ValidationError
from massage_core.ports.clock import Clock
from massage_core.ports.identity import IdentityProvider

MAX_CODE_CHARS = 2048
MIN_SECRET_BYTES = 16
DEFAULT_CODE_LIFETIME = timedelta(minutes=5)
_SIGNATURE_BYTES = hashlib.sha256().digest_size


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    """Decode unpadded urlsafe base64; raise ValueError when malformed."""
    if not text or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in text):
        raise ValueError("not urlsafe base64")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError("not urlsafe base64") from exc


def _invalid_code() -> AuthenticationFailed:
    return AuthenticationFailed(
        "the authorisation code is invalid, expired or already used", code="identity.invalid_code"
    )


class SandboxIdentityProvider(IdentityProvider):
    """Issues and verifies signed, expiring, single-use authorisation codes without any network."""

    def __init__(
        self,
        clock: Clock,
        secret: bytes | None = None,
        code_lifetime: timedelta = DEFAULT_CODE_LIFETIME,
    ) -> None:
        """Sign with ``secret`` (random when None), read time from ``clock``, expire codes after ``code_lifetime``."""
        if secret is None:
            secret = os.urandom(32)
        if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
            raise ValidationError(
                f"sandbox identity secret must be at least {MIN_SECRET_BYTES} bytes", code="identity.secret"
            )
        lifetime = int(code_lifetime.total_seconds())
        if lifetime <= 0:
            raise ValidationError("code lifetime must be at least one second", code="identity.lifetime")
        self._secret = secret
        self._clock = clock
        self._lifetime_seconds = lifetime
        self._used: dict[str, int] = {}
        self._lock = threading.Lock()

    def issue(self, provider: Provider, subject: str) -> str:
        """Mint an authorisation code for ``subject`` at ``provider``, valid for the code lifetime."""
        identity = ExternalIdentity(Provider(provider), subject)
        payload = {
            "provider": identity.provider.value,
            "subject": identity.subject,
            "exp": self._now_seconds() + self._lifetime_seconds,
            "nonce": secrets.token_urlsafe(16),
        }
        body = _b64encode(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        return f"{body}.{_b64encode(self._sign(body))}"

    def verify(self, provider: Provider, authorization_code: str) -> ExternalIdentity:
        """Return the identity the code was issued for; AuthenticationFailed(code="identity.invalid_code") otherwise."""
        if not isinstance(authorization_code, str) or not 0 < len(authorization_code) <= MAX_CODE_CHARS:
            raise _invalid_code()
        body, sep, signature_text = authorization_code.partition(".")
        if not sep:
            raise _invalid_code()
        try:
            signature = _b64decode(signature_text)
        except ValueError:
            raise _invalid_code() from None
        if len(signature) != _SIGNATURE_BYTES or not hmac.compare_digest(signature, self._sign(body)):
            raise _invalid_code()
        payload = self._payload(body)
        try:
            expected = Provider(provider)
            identity = ExternalIdentity(Provider(payload["provider"]), payload["subject"])
        except (ValueError, ValidationError):
            raise _invalid_code() from None
        if identity.provider is not expected:
            raise _invalid_code()
        expires = payload["exp"]
        nonce = payload["nonce"]
        now = self._now_seconds()
        if now >= expires:
            raise _invalid_code()
        with self._lock:
            self._forget_expired(now)
            if nonce in self._used:
                raise _invalid_code()
            self._used[nonce] = expires
        return identity

    def _sign(self, body: str) -> bytes:
        return hmac.new(self._secret, body.encode("utf-8"), hashlib.sha256).digest()

    def _now_seconds(self) -> int:
        return int(self._clock.now().timestamp())

    def _forget_expired(self, now: int) -> None:
        """Drop used nonces whose codes have expired anyway (keeps memory bounded)."""
        for nonce in [n for n, exp in self._used.items() if exp <= now]:
            del self._used[nonce]

    @staticmethod
    def _payload(body: str) -> dict[str, Any]:
        """Decode a signed payload and check its field types; AuthenticationFailed when wrong."""
        try:
            data: Any = json.loads(_b64decode(body).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise _invalid_code() from None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("provider"), str)
            or not isinstance(data.get("subject"), str)
            or type(data.get("exp")) is not int
            or not isinstance(data.get("nonce"), str)
        ):
            raise _invalid_code()
        return data
