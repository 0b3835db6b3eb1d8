"""Field cipher, key ring and Argon2id password hashing, with the real cryptography backend."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from massage_core.adapters.crypto.field_cipher import AesGcmFieldCipher
from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.domain.errors import IntegrityError, ValidationError
from massage_core.ports.cipher import FieldContext

CTX = FieldContext("accounts", "phone", "acc_01")


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate()


@pytest.fixture(scope="module")
def cipher(ring: KeyRing) -> AesGcmFieldCipher:
    return AesGcmFieldCipher(ring)


@pytest.fixture(scope="module")
def hasher() -> Argon2idPasswordHasher:
    return Argon2idPasswordHasher.for_tests()


def _decrypt_fails(cipher: AesGcmFieldCipher, token: str, ctx: FieldContext = CTX) -> None:
    with pytest.raises(IntegrityError) as info:
        cipher.decrypt(token, ctx)
    assert type(info.value) is IntegrityError and info.value.code == "crypto.decrypt"
    assert info.value.__cause__ is None  # the cryptography exception is not exposed


# -- field cipher -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", ["+8613800138000", "", "张三 ☃", "x" * 5000])
def test_roundtrip(cipher: AesGcmFieldCipher, plaintext: str) -> None:
    token = cipher.encrypt(plaintext, CTX)
    assert plaintext == cipher.decrypt(token, CTX)
    version, key_id, _ = token.split(":")
    assert version == "v1"
    assert key_id == cipher.primary_key_id == cipher.key_id_of(token)


def test_same_plaintext_gives_different_tokens(cipher: AesGcmFieldCipher) -> None:
    assert cipher.encrypt("same", CTX) != cipher.encrypt("same", CTX)


@pytest.mark.parametrize(
    "other",
    [
        FieldContext("accounts", "phone", "acc_02"),
        FieldContext("accounts", "email", "acc_01"),
        FieldContext("therapists", "phone", "acc_01"),
    ],
    ids=["other-row", "other-column", "other-table"],
)
def test_moved_ciphertext_fails(cipher: AesGcmFieldCipher, other: FieldContext) -> None:
    _decrypt_fails(cipher, cipher.encrypt("+8613800138000", CTX), other)


def test_tampered_byte_fails(cipher: AesGcmFieldCipher) -> None:
    token = cipher.encrypt("secret", CTX)
    prefix, body = token.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(body))
    for position in (0, 12, len(raw) - 1):
        tampered = bytearray(raw)
        tampered[position] ^= 0x01
        _decrypt_fails(cipher, f"{prefix}:{base64.urlsafe_b64encode(bytes(tampered)).decode()}")


def test_unknown_key_fails(cipher: AesGcmFieldCipher) -> None:
    foreign = AesGcmFieldCipher(KeyRing.generate())
    _decrypt_fails(cipher, foreign.encrypt("secret", CTX))
    _, body = cipher.encrypt("secret", CTX).rsplit(":", 1)
    _decrypt_fails(cipher, f"v1:k9-deadbeef:{body}")


@pytest.mark.parametrize(
    "token", ["", "v1", "v1::", "v2:k1:AAAA", "v1:k1:not base64!", "v1:k1:AAAA", "a:b:c:d", "v1:k1:" + "A" * 10]
)
def test_malformed_token_fails(cipher: AesGcmFieldCipher, token: str) -> None:
    _decrypt_fails(cipher, token)
    with pytest.raises(IntegrityError):
        cipher.key_id_of(token)


def test_rotated_ring_reads_old_and_writes_new(ring: KeyRing) -> None:
    old = AesGcmFieldCipher(ring)
    old_token = old.encrypt("before rotation", CTX)
    rotated = ring.rotated()
    assert rotated.primary != ring.primary
    assert set(ring.keys) < set(rotated.keys)
    assert rotated.index_key == ring.index_key
    new = AesGcmFieldCipher(rotated)
    assert new.decrypt(old_token, CTX) == "before rotation"
    new_token = new.encrypt("after rotation", CTX)
    assert new.key_id_of(new_token) == rotated.primary == new.primary_key_id
    assert new.key_id_of(old_token) == ring.primary
    _decrypt_fails(old, new_token)
    assert new.blind_index("phone", "+8613800138000") == old.blind_index("phone", "+8613800138000")


def test_blind_index(cipher: AesGcmFieldCipher) -> None:
    digest = cipher.blind_index("phone", "+8613800138000")
    assert digest == cipher.blind_index("phone", "+8613800138000")
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest != cipher.blind_index("email", "+8613800138000")
    assert digest != cipher.blind_index("phone", "+8613800138001")
    other = AesGcmFieldCipher(KeyRing.generate())
    assert digest != other.blind_index("phone", "+8613800138000")


# -- key ring -----------------------------------------------------------------------------------------------------


def test_keyring_generate_shape() -> None:
    ring = KeyRing.generate()
    assert ring.primary.startswith("k1-") and len(ring.primary) == 11
    assert len(ring.keys[ring.primary]) == 32 and len(ring.index_key) == 32
    assert ring.index_key not in ring.keys.values()
    assert base64.b64encode(ring.index_key).decode() not in repr(ring)


def test_keyring_json_roundtrip() -> None:
    ring = KeyRing.generate().rotated()
    data = json.loads(ring.to_json())
    assert data["version"] == 1 and data["primary"] == ring.primary and len(data["keys"]) == 2
    assert KeyRing.from_json(ring.to_json()) == ring


def test_keyring_save_and_load_file(tmp_path: Path) -> None:
    ring = KeyRing.generate()
    path = tmp_path / "keys.json"
    ring.save(str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KeyRing.load(str(path)) == ring
    rotated = ring.rotated()
    rotated.save(str(path))
    assert KeyRing.load(str(path)) == rotated
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]


def test_keyring_load_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    ring = KeyRing.generate()
    monkeypatch.setenv("MY_KEYS", ring.to_json())
    assert KeyRing.load(env_var="MY_KEYS") == ring
    monkeypatch.delenv("MY_KEYS")
    with pytest.raises(ValidationError) as info:
        KeyRing.load(env_var="MY_KEYS")
    assert info.value.code == "keys.missing"


def test_keyring_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        KeyRing.load(str(tmp_path / "absent.json"))
    assert info.value.code == "keys.missing"


def _ring_json(**changes: object) -> str:
    data: dict[str, object] = json.loads(KeyRing.generate().to_json())
    data.update(changes)
    return json.dumps(data)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        _ring_json(version=2),
        _ring_json(primary="nope"),
        _ring_json(primary=7),
        _ring_json(keys={}),
        _ring_json(keys={"k1-x": base64.b64encode(os.urandom(16)).decode()}, primary="k1-x"),
        _ring_json(keys={"k1-x": "!!!"}, primary="k1-x"),
        _ring_json(keys={"bad id!": base64.b64encode(os.urandom(32)).decode()}, primary="bad id!"),
        _ring_json(index_key=base64.b64encode(os.urandom(31)).decode()),
        _ring_json(index_key=None),
    ],
)
def test_keyring_bad_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "keys.json"
    path.write_text(text)
    with pytest.raises(ValidationError) as info:
        KeyRing.load(str(path))
    assert info.value.code == "keys.invalid"


def test_keyring_refuses_short_keys() -> None:
    with pytest.raises(ValidationError):
        KeyRing(keys={"k1-a": b"short"}, primary="k1-a", index_key=os.urandom(32))


# -- Argon2id -----------------------------------------------------------------------------------------------------


def test_hash_and_verify(hasher: Argon2idPasswordHasher) -> None:
    encoded = hasher.hash("correct horse battery staple")
    assert encoded.startswith("$argon2id$v=19$m=64,t=1,p=1$")
    assert hasher.verify(encoded, "correct horse battery staple")
    assert not hasher.verify(encoded, "correct horse battery stapl")
    assert hasher.hash("same") != hasher.hash("same")
    assert not hasher.needs_rehash(encoded)


@pytest.mark.parametrize(
    "encoded",
    ["", "garbage", "$argon2id$v=19$m=64,t=1,p=1$$", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
     "$argon2id$v=19$m=99999999999,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"],
)
def test_malformed_hash_is_false(hasher: Argon2idPasswordHasher, encoded: str) -> None:
    assert hasher.verify(encoded, "password") is False
    assert hasher.needs_rehash(encoded)


def test_dummy_verify_runs(hasher: Argon2idPasswordHasher) -> None:
    hasher.dummy_verify("anything")


def test_needs_rehash_when_parameters_grow(hasher: Argon2idPasswordHasher) -> None:
    encoded = hasher.hash("pw")
    stronger = Argon2idPasswordHasher(memory_cost=128, iterations=1, allow_weak=True)
    assert stronger.needs_rehash(encoded)
    assert stronger.verify(encoded, "pw")  # old hashes still verify
    assert Argon2idPasswordHasher(memory_cost=64, iterations=2, allow_weak=True).needs_rehash(encoded)
    assert not stronger.needs_rehash(stronger.hash("pw"))
    assert not hasher.needs_rehash(stronger.hash("pw"))


@pytest.mark.parametrize(
    "params",
    [{"memory_cost": 19455}, {"iterations": 1}, {"salt_length": 8}, {"hash_length": 16}],
)
def test_production_constructor_refuses_weak(params: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        Argon2idPasswordHasher(**params)
    assert info.value.code == "passwords.weak_params"


def test_production_defaults() -> None:
    production = Argon2idPasswordHasher()
    encoded = production.hash("pw")
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert production.verify(encoded, "pw")
    assert production.needs_rehash(Argon2idPasswordHasher.for_tests().hash("pw"))
