"""WeChat Pay API v3 cryptography: SHA256withRSA signatures and AEAD_AES_256_GCM resources.

- Requests: ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",
  signature="..",timestamp="..",serial_no=".."`` where ``signature`` is the
  base64 of RSA PKCS#1 v1.5 / SHA-256, under the merchant key, of
  ``METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n``.
- Answers and callbacks: ``Wechatpay-Signature`` over
  ``TIMESTAMP\\nNONCE\\nBODY\\n`` under the platform key named by
  ``Wechatpay-Serial``.
- JSAPI client parameters: ``paySign`` over ``appId\\ntimeStamp\\nnonceStr\\npackage\\n``.
- Callback resources: AES-256-GCM under the APIv3 key, 12-byte text nonce,
  ``associated_data`` as AAD, base64 ciphertext with the 16-byte tag appended.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import secrets

from attrs import frozen
from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from massage_core.domain.errors import PaymentError, ValidationError
from massage_core.domain.time import Instant, utc

SCHEMA = "WECHATPAY2-SHA256-RSA2048"
MIN_RSA_BITS = 2048
_MAX_SIGNATURE_CHARS = 1024


@frozen
class PlatformKey:
    """A platform public key and, when it came from a certificate, the certificate's validity."""

    serial: str
    key: rsa.RSAPublicKey
    not_before: Instant | None = None
    not_after: Instant | None = None

    def valid_at(self, when: Instant) -> bool:
        """Whether a signature made at ``when`` may be checked with this key."""
        if self.not_before is not None and when < self.not_before:
            return False
        return self.not_after is None or when <= self.not_after


@functools.lru_cache(maxsize=8)
def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    """The merchant's RSA private key (unencrypted PEM, at least 2048 bits).

    Cached by PEM: checking an RSA key's consistency takes tens of
    milliseconds, and every gateway object of one merchant shares the key.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise ValidationError("merchant private key is not a readable PEM key", code="payment.config",
                              field="merchant_private_key") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MIN_RSA_BITS:
        raise ValidationError("merchant private key must be RSA of 2048 bits or more", code="payment.config",
                              field="merchant_private_key")
    return key


def load_platform_key(serial: str, pem: bytes) -> PlatformKey:
    """A platform certificate or public key given under ``serial``; a certificate must carry that serial."""
    key: object
    before: Instant | None = None
    after: Instant | None = None
    try:
        if b"CERTIFICATE" in pem:
            cert = x509.load_pem_x509_certificate(pem)
            if cert.serial_number != _as_int(serial):
                raise ValidationError(f"platform certificate {serial} carries another serial", code="payment.config",
                                      field="platform_keys")
            key = cert.public_key()
            before, after = utc(cert.not_valid_before_utc), utc(cert.not_valid_after_utc)
        else:
            key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise ValidationError(f"platform key {serial} is not readable PEM", code="payment.config",
                              field="platform_keys") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_RSA_BITS:
        raise ValidationError(f"platform key {serial} must be RSA of 2048 bits or more", code="payment.config",
                              field="platform_keys")
    return PlatformKey(serial=serial, key=key, not_before=before, not_after=after)


def _as_int(serial: str) -> int | None:
    try:
        return int(serial, 16)
    except ValueError:
        return None


def sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    """Base64 SHA256withRSA (PKCS#1 v1.5) signature of ``message``."""
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def verify(key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is a SHA256withRSA signature of ``message`` under ``key``."""
    if not isinstance(signature, str) or not 0 < len(signature) <= _MAX_SIGNATURE_CHARS:
        return False
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
        if base64.b64encode(raw).decode("ascii") != signature:  # only the canonical spelling of a signature
            return False
        key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, UnicodeEncodeError, InvalidSignature, ValueError):
        return False
    return True


def request_message(method: str, path_and_query: str, timestamp: int, nonce: str, body: bytes) -> bytes:
    """What a request's Authorization signs."""
    return f"{method}\n{path_and_query}\n{timestamp}\n{nonce}\n".encode("utf-8") + body + b"\n"


def answer_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    """What ``Wechatpay-Signature`` signs on an answer or a callback."""
    return f"{timestamp}\n{nonce}\n".encode("utf-8") + body + b"\n"


def client_message(*fields: str) -> bytes:
    """What a client-side ``paySign``/``sign`` signs: each field followed by a newline."""
    return "".join(f"{value}\n" for value in fields).encode("utf-8")


def authorization(mchid: str, serial_no: str, nonce: str, timestamp: int, signature: str) -> str:
    """The Authorization header value of a signed request."""
    return (
        f'{SCHEMA} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial_no}"'
    )


def new_nonce() -> str:
    """A fresh request nonce: 32 random upper-case hex digits."""
    return secrets.token_hex(16).upper()


def derived_nonce(key: bytes, *parts: str) -> str:
    """A nonce that is the same for the same ``parts`` (so a repeated payload is equal) yet unpredictable."""
    return hmac.new(key, "\n".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()[:32].upper()


def decrypt_resource(apiv3_key: bytes, nonce: str, ciphertext: str, associated_data: str) -> bytes:
    """Open an AEAD_AES_256_GCM resource; PaymentError ``payment.signature`` when it does not authenticate."""
    try:
        data = base64.b64decode(ciphertext.encode("ascii"), validate=True)
        return AESGCM(apiv3_key).decrypt(nonce.encode("utf-8"), data, associated_data.encode("utf-8"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise PaymentError("payment callback resource is not base64 of the right size",
                           code="payment.malformed") from None
    except InvalidTag:
        raise PaymentError("payment callback resource does not decrypt under the APIv3 key",
                           code="payment.signature") from None
