"""RSA2 (SHA256withRSA, PKCS#1 v1.5) as the Alipay open platform uses it, and the exact-substring rule for responses.

- A request and a client order string are signed over their parameters
  sorted by key, ``key=value`` joined by ``&``, the values raw (not
  URL-encoded), without ``sign`` and without empty values -- ``sign_type``
  is covered; an asynchronous notification over every parameter but ``sign``
  *and* ``sign_type``, values URL-decoded, empty ones kept.  The signature
  is standard base64.
- A synchronous response ``{"<method>_response": {...}, "sign": "..."}`` is
  signed over the exact text of the ``<method>_response`` value as it came
  over the wire (not a re-serialisation), which ``response_members`` finds.

Keys are PEM (PKCS#1 or PKCS#8 / SubjectPublicKeyInfo), the bare base64 DER
the Alipay console shows, or already loaded ``cryptography`` RSA keys.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from massage_core.domain.errors import ValidationError

MIN_KEY_BITS = 2048


def request_content(params: Mapping[str, str]) -> str:
    """What a request (or client order string) is signed over.

    Every parameter but ``sign``, empty values left out, sorted by key,
    ``key=value`` joined by ``&`` -- ``sign_type`` *included* (Alipay's
    "自行实现签名" rule; the SDKs' ``getSignatureContent`` and
    python-alipay-sdk's ``sign_data`` agree).
    """
    return "&".join(f"{key}={params[key]}" for key in sorted(params) if key != "sign" and params[key] != "")


def notification_content(params: Mapping[str, str]) -> str:
    """What an asynchronous notification is signed over: every parameter but ``sign`` and ``sign_type``.

    Empty values are kept, sorted by key, ``key=value`` joined by ``&``, the
    values URL-decoded (the SDKs' ``getSignCheckContentV1``).
    """
    return "&".join(f"{key}={params[key]}" for key in sorted(params) if key not in ("sign", "sign_type"))


def sign(private_key: rsa.RSAPrivateKey, text: str) -> str:
    """Base64 SHA256withRSA signature of ``text`` (UTF-8)."""
    signature = private_key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify(public_key: rsa.RSAPublicKey, text: str, signature: str) -> bool:
    """True when ``signature`` (canonical standard base64, no line breaks) is a SHA256withRSA signature of ``text``."""
    if not isinstance(signature, str) or not signature.isascii() or not signature:
        return False
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(raw) != public_key.key_size // 8 or base64.b64encode(raw).decode("ascii") != signature:
        return False  # the wrong size, or a non-canonical encoding (unused low bits set) of the right bytes
    try:
        public_key.verify(raw, text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def _pem_or_der(text: str | bytes, label: str) -> tuple[bytes, bool]:
    """(bytes, is_pem) from a PEM text or the bare base64 DER the Alipay console shows."""
    data = text.encode("ascii", "replace") if isinstance(text, str) else text
    if b"-----BEGIN" in data:
        return data, True
    try:
        return base64.b64decode(b"".join(data.split()), validate=True), False
    except (binascii.Error, ValueError):
        raise ValidationError(f"{label} is neither PEM nor base64 DER", code="payment.key") from None


def load_private_key(text: str | bytes | rsa.RSAPrivateKey) -> rsa.RSAPrivateKey:
    """An RSA private key (at least 2048 bits) from PEM (PKCS#1/PKCS#8), base64 PKCS#8 DER, or a loaded key."""
    if isinstance(text, rsa.RSAPrivateKey):
        if text.key_size < MIN_KEY_BITS:
            raise ValidationError(f"app private key must be RSA of at least {MIN_KEY_BITS} bits", code="payment.key")
        return text
    data, is_pem = _pem_or_der(text, "app private key")
    try:
        key: Any = (serialization.load_pem_private_key(data, password=None) if is_pem
                    else serialization.load_der_private_key(data, password=None))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValidationError("app private key cannot be read", code="payment.key") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MIN_KEY_BITS:
        raise ValidationError(f"app private key must be RSA of at least {MIN_KEY_BITS} bits", code="payment.key")
    return key


def load_public_key(text: str | bytes | rsa.RSAPublicKey) -> rsa.RSAPublicKey:
    """An RSA public key (at least 2048 bits) from PEM, base64 SubjectPublicKeyInfo DER, or a loaded key."""
    if isinstance(text, rsa.RSAPublicKey):
        if text.key_size < MIN_KEY_BITS:
            raise ValidationError(f"Alipay public key must be RSA of at least {MIN_KEY_BITS} bits",
                                  code="payment.key")
        return text
    data, is_pem = _pem_or_der(text, "Alipay public key")
    try:
        key: Any = serialization.load_pem_public_key(data) if is_pem else serialization.load_der_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValidationError("Alipay public key cannot be read", code="payment.key") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_KEY_BITS:
        raise ValidationError(f"Alipay public key must be RSA of at least {MIN_KEY_BITS} bits", code="payment.key")
    return key


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def response_members(text: str) -> dict[str, tuple[str, Any]]:
    """The top-level members of a JSON object as ``{key: (exact raw text of the value, parsed value)}``.

    Raises ValueError for anything but one JSON object, or a key given twice
    (which would make "the signed member" ambiguous).
    """
    decoder = json.JSONDecoder()
    members: dict[str, tuple[str, Any]] = {}
    index = _skip_space(text, 0)
    if text[index:index + 1] != "{":
        raise ValueError("not a JSON object")
    index = _skip_space(text, index + 1)
    if text[index:index + 1] == "}":
        index += 1
    else:
        while True:
            if text[index:index + 1] != '"':
                raise ValueError("expected a member name")
            key, index = json.decoder.scanstring(text, index + 1)  # type: ignore[attr-defined]
            index = _skip_space(text, index)
            if text[index:index + 1] != ":":
                raise ValueError("expected ':'")
            start = _skip_space(text, index + 1)
            value, end = decoder.raw_decode(text, start)
            if key in members:
                raise ValueError(f"member {key!r} given twice")
            members[key] = (text[start:end], value)
            index = _skip_space(text, end)
            if text[index:index + 1] == ",":
                index = _skip_space(text, index + 1)
                continue
            if text[index:index + 1] == "}":
                index += 1
                break
            raise ValueError("expected ',' or '}'")
    if _skip_space(text, index) != len(text):
        raise ValueError("text after the JSON object")
    return members
