"""The key ring: AES-256 data keys by id, the primary key id and the blind-index key.

A ring is stored as JSON::

    {"version": 1, "primary": "k1-0a1b2c3d",
     "keys": {"k1-0a1b2c3d": "<base64 32 bytes>"},
     "index_key": "<base64 32 bytes>"}

Rotation adds a key and makes it primary; older keys stay so existing
ciphertexts remain readable until they are re-encrypted.  The index key is
never rotated by ``rotated()``: blind indexes must stay stable for lookups.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from attrs import field, frozen

from massage_core.domain.errors import ValidationError

KEY_BYTES = 32
FORMAT_VERSION = 1
DEFAULT_ENV_VAR = "MASSAGE_KEYS"

_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _invalid(message: str) -> ValidationError:
    return ValidationError(f"invalid key ring: {message}", code="keys.invalid", field="keys")


def _freeze(keys: Mapping[str, bytes]) -> Mapping[str, bytes]:
    return MappingProxyType(dict(keys))


def _new_key_id(existing: Mapping[str, bytes]) -> str:
    generation = len(existing) + 1
    while True:
        candidate = f"k{generation}-{secrets.token_hex(4)}"
        if candidate not in existing:
            return candidate


def _decode_key(label: str, raw: object) -> bytes:
    if not isinstance(raw, str):
        raise _invalid(f"{label} must be a base64 string")
    try:
        value = base64.b64decode(raw.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise _invalid(f"{label} is not valid base64") from None
    if len(value) != KEY_BYTES:
        raise _invalid(f"{label} must decode to {KEY_BYTES} bytes, got {len(value)}")
    return value


def _encode_key(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


@frozen
class KeyRing:
    """Data-encryption keys (id -> 32-byte AES key), the primary id and a separate HMAC index key."""

    keys: Mapping[str, bytes] = field(converter=_freeze)
    primary: str
    index_key: bytes = field(repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.keys:
            raise _invalid("at least one key is required")
        for key_id, key in self.keys.items():
            if not isinstance(key_id, str) or not _KEY_ID.match(key_id):
                raise _invalid(f"key id {key_id!r} must be 1..64 characters of letters, digits, '-' or '_'")
            if not isinstance(key, bytes) or len(key) != KEY_BYTES:
                raise _invalid(f"key {key_id!r} must be {KEY_BYTES} bytes")
        if self.primary not in self.keys:
            raise _invalid(f"primary key id {self.primary!r} is not in the ring")
        if not isinstance(self.index_key, bytes) or len(self.index_key) != KEY_BYTES:
            raise _invalid(f"index key must be {KEY_BYTES} bytes")
        if any(self.index_key == key for key in self.keys.values()):
            raise _invalid("the index key must differ from every data key")

    def __repr__(self) -> str:
        return f"KeyRing(primary={self.primary!r}, key_ids={sorted(self.keys)!r})"

    @property
    def primary_key(self) -> bytes:
        """The key used for new encryptions."""
        return self.keys[self.primary]

    @classmethod
    def generate(cls) -> KeyRing:
        """A fresh ring with one random data key (primary) and a random index key."""
        key_id = _new_key_id({})
        return cls(keys={key_id: os.urandom(KEY_BYTES)}, primary=key_id, index_key=os.urandom(KEY_BYTES))

    def rotated(self) -> KeyRing:
        """A new ring with one new random key made primary; old keys are kept for reading."""
        key_id = _new_key_id(self.keys)
        keys = dict(self.keys)
        keys[key_id] = os.urandom(KEY_BYTES)
        return KeyRing(keys=keys, primary=key_id, index_key=self.index_key)

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        """Parse the JSON form; raise ValidationError(code="keys.invalid") when malformed."""
        try:
            data: Any = json.loads(text)
        except (ValueError, TypeError):
            raise _invalid("not valid JSON") from None
        if not isinstance(data, dict):
            raise _invalid("top level must be a JSON object")
        if data.get("version") != FORMAT_VERSION:
            raise _invalid(f"unsupported version {data.get('version')!r}; expected {FORMAT_VERSION}")
        primary = data.get("primary")
        if not isinstance(primary, str):
            raise _invalid("'primary' must be a string key id")
        raw_keys = data.get("keys")
        if not isinstance(raw_keys, dict) or not raw_keys:
            raise _invalid("'keys' must be a non-empty object of key id -> base64 key")
        keys = {str(key_id): _decode_key(f"key {key_id!r}", raw) for key_id, raw in raw_keys.items()}
        index_key = _decode_key("'index_key'", data.get("index_key"))
        return cls(keys=keys, primary=primary, index_key=index_key)

    def to_json(self) -> str:
        """The JSON form (contains secrets: store it like a password)."""
        return json.dumps(
            {
                "version": FORMAT_VERSION,
                "primary": self.primary,
                "keys": {key_id: _encode_key(key) for key_id, key in sorted(self.keys.items())},
                "index_key": _encode_key(self.index_key),
            },
            indent=2,
        )

    @classmethod
    def load(cls, path: str | None = None, env_var: str = DEFAULT_ENV_VAR) -> KeyRing:
        """Load from the key file at ``path``, or else from the JSON in environment variable ``env_var``.

        Raises ValidationError with code ``keys.missing`` when neither is
        available and ``keys.invalid`` when the content is malformed.
        """
        if path is not None:
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
            except FileNotFoundError:
                raise ValidationError(
                    f"key file {path!r} does not exist", code="keys.missing", field="keys"
                ) from None
            except (OSError, UnicodeDecodeError) as exc:
                raise ValidationError(
                    f"key file {path!r} cannot be read: {exc.__class__.__name__}", code="keys.invalid", field="keys"
                ) from None
            return cls.from_json(text)
        from_env = os.environ.get(env_var)
        if from_env is None or not from_env.strip():
            raise ValidationError(
                f"no key ring: pass a key file path or set the environment variable {env_var}",
                code="keys.missing",
                field="keys",
            )
        return cls.from_json(from_env)

    def save(self, path: str) -> None:
        """Write the ring to ``path`` atomically with mode 0600 (replacing any existing file)."""
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp_path = tempfile.mkstemp(prefix=".keyring-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(self.to_json())
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_path, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_path)
            raise
