"""Personal data never reaches the disk in clear, ciphertexts cannot be moved, and keys can be rotated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import event, select, text

from massage_core.adapters.crypto.field_cipher import AesGcmFieldCipher
from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.memory.ids import UlidGenerator
from massage_core.adapters.sql.engine import make_engine
from massage_core.adapters.sql.fields import ENCRYPTED_FIELDS
from massage_core.adapters.sql.key_rotation import SqlFieldReencryptor
from massage_core.adapters.sql.migrate import upgrade
from massage_core.adapters.sql.uow import SqlUnitOfWork
from massage_core.domain.accounts import Account, ExternalIdentity, Provider
from massage_core.domain.authentication import LoginOutcome
from massage_core.domain.contact import Email, PhoneNumber
from massage_core.domain.errors import IntegrityError
from massage_core.domain.identity_documents import ResidentIdNumber, check_digit
from massage_core.ports.cipher import FieldCipher
from massage_core.domain.customers import CustomerProfile
from massage_core.domain.invoices import Invoice, InvoiceTitle
from catalog_support import make_profile
from order_support import paid, placed
from storage_support import T0, Backend, full_account, make_account, make_record, make_session, new_id, phone

ID17 = "44030419851231123"
THERAPIST_ID17 = "51010719880512246"
CANARIES = {
    "phone": "+8613912345678",
    "national phone": "13912345678",
    "email": "canary.person@example.org",
    "real name": "欧阳震华",
    "id number": ID17 + check_digit(ID17),
    "address": "深圳市南山区科技园南区 8 栋 1501 室",
    "subject": "oCanaryWeChatOpenId7f3a9",
    "ip": "198.51.100.77",
    "device": "CanaryPhone X1 (Android 14; build CANARY42)",
    "therapist real name": "司马相如",
    "therapist id number": THERAPIST_ID17 + check_digit(THERAPIST_ID17),
    "customer birth date": "1979-11-23",
    "customer condition": "varicose_veins",
    "customer health note": "CanaryNote: 骨质疏松, fell on the ice in 2019",
    "invoice title": "上官婉儿",
    "invoice email": "canary.invoice@example.net",
}


def canary_account() -> Account:
    """An account carrying every personal canary."""
    account = make_account(
        phone=PhoneNumber.parse(CANARIES["national phone"]),
        email=Email.parse(CANARIES["email"]),
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        identities=(ExternalIdentity(Provider.WECHAT, CANARIES["subject"]),),
    )
    return account.update_profile(
        real_name=CANARIES["real name"], id_number=ResidentIdNumber.parse(CANARIES["id number"]),
        address=CANARIES["address"],
    )


def seed_canaries(uow_factory: Any) -> Account:
    """Store the canaries through every repository that holds personal data; commit."""
    account = canary_account()
    with uow_factory() as uow:
        uow.accounts.add(account)
        uow.sessions.add(make_session(account.id, ip=CANARIES["ip"], device=CANARIES["device"]))
        uow.login_records.add(make_record("k" * 64, account_id=account.id, outcome=LoginOutcome.SUCCESS,
                                          ip=CANARIES["ip"], device=CANARIES["device"]))
        uow.therapists.add(make_profile(account.id, real_name=CANARIES["therapist real name"],
                                        id_number=ResidentIdNumber.parse(CANARIES["therapist id number"])))
        uow.customers.save(CustomerProfile.declare(
            account.id, T0, birth=CANARIES["customer birth date"], conditions=[CANARIES["customer condition"]],
            health_note=CANARIES["customer health note"]))
        order = uow.orders.add(paid(placed(account.id, None)))
        uow.invoices.add(canary_invoice(account.id, order.id))
        uow.commit()
    return account


def canary_invoice(customer: Any, order: Any) -> Invoice:
    """An invoice request carrying the invoice canaries (decision 0030)."""
    return Invoice.request(new_id("invoice"), order, customer, InvoiceTitle.personal(CANARIES["invoice title"]),
                           CANARIES["invoice email"], T0)


def database_files(db_path: Path) -> dict[str, bytes]:
    """Raw bytes of the database file and its companions (-wal, -shm) as they are now."""
    return {path.name: path.read_bytes() for path in sorted(db_path.parent.glob(db_path.name + "*"))}


def assert_no_canary(files: dict[str, bytes]) -> None:
    for name, raw in files.items():
        for label, canary in CANARIES.items():
            assert canary.encode("utf-8") not in raw, f"{label} in clear in {name}"


def test_no_personal_data_in_clear_in_the_sqlite_files(tmp_path: Path) -> None:
    db_path = tmp_path / "privacy.db"
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    cipher = AesGcmFieldCipher(KeyRing.generate())
    account = seed_canaries(lambda: SqlUnitOfWork(engine, cipher, UlidGenerator()))
    with SqlUnitOfWork(engine, cipher, UlidGenerator()) as uow:  # the data is there and readable
        assert uow.accounts.get(account.id).real_name == CANARIES["real name"]
        assert uow.therapists.get(account.id).real_name == CANARIES["therapist real name"]
        profile = uow.customers.find(account.id)
        assert profile is not None and profile.health_note == CANARIES["customer health note"]
        [invoice] = uow.invoices.list_for_customer(account.id)
        assert (invoice.title.name, invoice.email) == (CANARIES["invoice title"], CANARIES["invoice email"])
    while_open = database_files(db_path)
    assert while_open.get("privacy.db-wal"), "the committed data should still be in the WAL"
    engine.dispose()
    after_close = database_files(db_path)
    assert after_close["privacy.db"]
    assert_no_canary(while_open)
    assert_no_canary(after_close)


def raw_update(backend: Backend, sql: str, **params: Any) -> None:
    with backend.engine.begin() as connection:
        assert connection.execute(text(sql), params).rowcount == 1


def test_ciphertext_moved_to_another_row_or_column_is_refused(sql_backend: Backend) -> None:
    victim, thief = full_account(), full_account()
    with sql_backend.new_uow() as uow:
        uow.accounts.add(victim)
        uow.accounts.add(thief)
        uow.sessions.add(session := make_session(thief.id))
        uow.sessions.add(victim_session := make_session(victim.id))
        uow.commit()

    def read(account_id: str) -> None:
        with sql_backend.new_uow() as uow:
            uow.accounts.get(account_id)  # type: ignore[arg-type]

    raw_update(sql_backend, "UPDATE accounts SET real_name_enc = (SELECT real_name_enc FROM accounts WHERE id = :v)"
               " WHERE id = :t", v=victim.id, t=thief.id)
    with pytest.raises(IntegrityError):
        read(thief.id)
    raw_update(sql_backend, "UPDATE accounts SET email_enc = phone_enc WHERE id = :v", v=victim.id)
    with pytest.raises(IntegrityError):
        read(victim.id)
    third = full_account()
    with sql_backend.new_uow() as uow:
        uow.accounts.add(third)
        uow.commit()
    raw_update(sql_backend, "UPDATE account_identities SET subject_enc = (SELECT subject_enc FROM account_identities"
               " WHERE account_id = :v AND provider = 'alipay') WHERE account_id = :t AND provider = 'wechat'",
               v=third.id, t=third.id)
    with pytest.raises(IntegrityError):
        read(third.id)
    raw_update(sql_backend, "UPDATE sessions SET ip_enc = (SELECT ip_enc FROM sessions WHERE id = :v) WHERE id = :t",
               v=victim_session.id, t=session.id)
    with sql_backend.new_uow() as uow, pytest.raises(IntegrityError):
        uow.sessions.find_by_token_hash(session.token_hash)


def test_a_swapped_blind_index_is_detected(sql_backend: Backend) -> None:
    first, second = make_account(), make_account()
    with sql_backend.new_uow() as uow:
        uow.accounts.add(first)
        uow.accounts.add(second)
        uow.commit()
    with sql_backend.engine.begin() as connection:
        index = connection.execute(text("SELECT phone_idx FROM accounts WHERE id = :a"), {"a": first.id}).scalar()
        connection.execute(text("UPDATE accounts SET phone_idx = NULL WHERE id = :a"), {"a": first.id})
        connection.execute(text("UPDATE accounts SET phone_idx = :i WHERE id = :b"), {"i": index, "b": second.id})
    assert first.phone is not None
    with sql_backend.new_uow() as uow, pytest.raises(IntegrityError):
        uow.accounts.find_by_phone(first.phone)


def seed_many(backend: Backend, cipher: FieldCipher, accounts: int = 6) -> list[Account]:
    """Accounts with every encrypted field, plus sessions and login records."""
    seeded = [full_account() for _ in range(accounts)]
    with SqlUnitOfWork(backend.engine, cipher, UlidGenerator()) as uow:
        for account in seeded:
            uow.accounts.add(account)
            uow.sessions.add(make_session(account.id))
            uow.login_records.add(make_record("k" * 64, account_id=account.id, ip="192.0.2.1",
                                              device="Mozilla/5.0 (Linux; Android 14)"))
        uow.commit()
    return seeded


def tokens(backend: Backend) -> list[str]:
    """Every stored token of every encrypted column."""
    found: list[str] = []
    with backend.engine.connect() as connection:
        for field in ENCRYPTED_FIELDS:
            column = field.sql_column
            found += connection.execute(select(column).where(column.is_not(None))).scalars().all()
    return found


def read_all(backend: Backend, cipher: FieldCipher, accounts: list[Account]) -> None:
    with SqlUnitOfWork(backend.engine, cipher, UlidGenerator()) as uow:
        for account in accounts:
            assert uow.accounts.get(account.id) == attrs.evolve(account, version=1)
            assert uow.sessions.list_for_account(account.id)[0].ip == "203.0.113.7"
            assert uow.login_records.list_for_account(account.id)[0].device.startswith("Mozilla")


def test_key_rotation_reencrypts_every_field_and_reads_work_throughout(sql_backend: Backend) -> None:
    old = AesGcmFieldCipher(sql_backend.cipher.ring)
    accounts = seed_many(sql_backend, old)
    stored = tokens(sql_backend)
    assert len(stored) == 6 * (5 + 2 + 2 + 2)  # account fields, identities, session ip/device, record ip/device
    new = AesGcmFieldCipher(old.ring.rotated())
    rotation = SqlFieldReencryptor(sql_backend.engine, new)
    assert rotation.pending() == len(stored)
    assert rotation.reencrypt_batch(7) == 7
    assert rotation.pending() == len(stored) - 7
    read_all(sql_backend, new, accounts)  # half done: mixed keys, the new ring reads both
    moved = 7
    while (count := rotation.reencrypt_batch(10)) > 0:
        moved += count
        read_all(sql_backend, new, accounts)
    assert moved == len(stored) and rotation.pending() == 0 and rotation.reencrypt_batch(10) == 0
    assert {new.key_id_of(token) for token in tokens(sql_backend)} == {new.primary_key_id}
    read_all(sql_backend, new, accounts)
    with pytest.raises(IntegrityError):  # the old ring cannot read the new key
        read_all(sql_backend, old, accounts)


def test_rotation_is_resumable_after_a_failed_batch(sql_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    old = AesGcmFieldCipher(sql_backend.cipher.ring)
    accounts = seed_many(sql_backend, old, accounts=2)
    new = AesGcmFieldCipher(old.ring.rotated())
    rotation = SqlFieldReencryptor(sql_backend.engine, new)
    total = rotation.pending()
    calls = {"n": 0}
    original = SqlFieldReencryptor._swap

    def failing(self: SqlFieldReencryptor, *args: Any) -> bool:
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("interrupted")
        return original(self, *args)

    monkeypatch.setattr(SqlFieldReencryptor, "_swap", failing)
    with pytest.raises(RuntimeError):
        rotation.reencrypt_batch(10)
    monkeypatch.undo()
    assert rotation.pending() == total  # the failed batch was rolled back as a whole
    while rotation.reencrypt_batch(5):
        pass
    assert rotation.pending() == 0
    read_all(sql_backend, new, accounts)


def test_rotation_refuses_tokens_no_key_can_open(sql_backend: Backend) -> None:
    seed_many(sql_backend, sql_backend.cipher, accounts=1)
    stranger = SqlFieldReencryptor(sql_backend.engine, AesGcmFieldCipher(KeyRing.generate()))
    assert stranger.pending() == len(tokens(sql_backend))
    with pytest.raises(IntegrityError):
        stranger.reencrypt_batch(5)


@pytest.mark.postgres
def test_rotation_never_clobbers_a_concurrent_write(pg_url: str) -> None:
    """A value rewritten between the rotation's read and its update keeps the newer value."""
    engine = make_engine(pg_url)
    old = AesGcmFieldCipher(KeyRing.generate())
    new = AesGcmFieldCipher(old.ring.rotated())
    ids = UlidGenerator()
    try:
        account = make_account()
        with SqlUnitOfWork(engine, old, ids) as uow:
            stored = uow.accounts.add(account)
            uow.commit()
        fresh_phone = phone()
        fired: list[bool] = []

        @event.listens_for(engine, "before_cursor_execute")
        def meanwhile(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
            if statement.startswith("UPDATE accounts SET phone_enc") and not fired:
                fired.append(True)
                with SqlUnitOfWork(engine, new, ids) as other:  # another writer commits first
                    other.accounts.save(stored.link_phone(fresh_phone, T0))
                    other.commit()

        rotation = SqlFieldReencryptor(engine, new)
        while rotation.reencrypt_batch(100):
            pass
        event.remove(engine, "before_cursor_execute", meanwhile)
        assert fired and rotation.pending() == 0
        with SqlUnitOfWork(engine, new, ids) as uow:
            assert uow.accounts.get(account.id).phone == fresh_phone
    finally:
        engine.dispose()


def test_therapist_identity_is_encrypted_bound_to_its_row_and_rotated(sql_backend: Backend) -> None:
    old = AesGcmFieldCipher(sql_backend.cipher.ring)
    first, second = make_account(), make_account()
    with SqlUnitOfWork(sql_backend.engine, old, UlidGenerator()) as uow:
        for account in (first, second):
            uow.accounts.add(account)
            uow.therapists.add(make_profile(account.id))
        uow.commit()
    with sql_backend.engine.connect() as connection:
        rows = connection.execute(text("SELECT real_name_enc, id_number_enc FROM therapist_profiles")).all()
    assert all(name.startswith("v1:") and number.startswith("v1:") for name, number in rows)
    new = AesGcmFieldCipher(old.ring.rotated())
    rotation = SqlFieldReencryptor(sql_backend.engine, new)
    assert rotation.pending() == len(tokens(sql_backend)) == 2 + 4  # the phones, then name + ID number x2
    while rotation.reencrypt_batch(3):
        pass
    with SqlUnitOfWork(sql_backend.engine, new, UlidGenerator()) as uow:
        assert uow.therapists.get(first.id).real_name == "王小红"
    raw_update(sql_backend, "UPDATE therapist_profiles SET id_number_enc = (SELECT id_number_enc FROM"
               " therapist_profiles WHERE account_id = :v) WHERE account_id = :t", v=first.id, t=second.id)
    with SqlUnitOfWork(sql_backend.engine, new, UlidGenerator()) as uow, pytest.raises(IntegrityError):
        uow.therapists.get(second.id)


def test_customer_health_data_is_encrypted_bound_to_its_row_and_rotated(sql_backend: Backend) -> None:
    """Decision 0022: birth, conditions and note are tokens (always all three, padded), bound to their row,
    and moved to the new key by the rotation like every other field of ENCRYPTED_FIELDS."""
    old = AesGcmFieldCipher(sql_backend.cipher.ring)
    first, second = make_account(), make_account()
    with SqlUnitOfWork(sql_backend.engine, old, UlidGenerator()) as uow:
        uow.accounts.add(first)
        uow.accounts.add(second)
        uow.customers.save(CustomerProfile.declare(first.id, T0, birth=1970, conditions=["fever", "pregnancy"],
                                                   health_note="knee"))
        uow.customers.save(CustomerProfile.declare(second.id, T0))  # nothing declared: still three tokens
        uow.commit()
    with sql_backend.engine.connect() as connection:
        rows = connection.execute(text("SELECT birth_enc, conditions_enc, health_note_enc FROM customer_profiles"
                                       " ORDER BY account_id")).all()
    assert all(token.startswith("v1:") for row in rows for token in row)
    assert [len(t) for t in rows[0]] == [len(t) for t in rows[1]]  # the padding hides what was declared
    new = AesGcmFieldCipher(old.ring.rotated())
    rotation = SqlFieldReencryptor(sql_backend.engine, new)
    assert rotation.pending() == len(tokens(sql_backend)) == 2 + 2 * 3  # the phones, then 3 fields x 2
    while rotation.reencrypt_batch(3):
        pass
    assert rotation.pending() == 0
    with SqlUnitOfWork(sql_backend.engine, new, UlidGenerator()) as uow:
        profile = uow.customers.find(first.id)
        assert profile is not None and profile.condition_values() == {"fever", "pregnancy"}
        assert profile.health_note == "knee" and profile.birth is not None and profile.birth.year == 1970
    raw_update(sql_backend, "UPDATE customer_profiles SET conditions_enc = (SELECT conditions_enc FROM"
               " customer_profiles WHERE account_id = :v) WHERE account_id = :t", v=first.id, t=second.id)
    with SqlUnitOfWork(sql_backend.engine, new, UlidGenerator()) as uow, pytest.raises(IntegrityError):
        uow.customers.find(second.id)


def test_every_customer_profile_column_holding_health_data_is_registered_for_rotation() -> None:
    registered = {(f.table.name, f.column) for f in ENCRYPTED_FIELDS}
    assert {("customer_profiles", c) for c in ("birth_enc", "conditions_enc", "health_note_enc")} <= registered


def test_invoice_title_and_email_are_encrypted_bound_to_their_row_and_rotated(sql_backend: Backend) -> None:
    """Decision 0030: the invoice's title name and delivery email are tokens bound to their row, moved to the
    new key by the rotation like every other field of ENCRYPTED_FIELDS."""
    old = AesGcmFieldCipher(sql_backend.cipher.ring)
    customer = make_account()
    with SqlUnitOfWork(sql_backend.engine, old, UlidGenerator()) as uow:
        uow.accounts.add(customer)
        first, second = (canary_invoice(customer.id, uow.orders.add(paid(placed(customer.id, None))).id)
                         for _ in range(2))
        uow.invoices.add(first)
        uow.invoices.add(attrs.evolve(second, email="other@example.net"))
        uow.commit()
    with sql_backend.engine.connect() as connection:
        rows = connection.execute(text("SELECT title_name_enc, email_enc FROM invoices")).all()
    assert len(rows) == 2 and all(token.startswith("v1:") for row in rows for token in row)
    new = AesGcmFieldCipher(old.ring.rotated())
    rotation = SqlFieldReencryptor(sql_backend.engine, new)
    # the phone, then per order its payment step's note and its invoice's name and email
    assert rotation.pending() == len(tokens(sql_backend)) == 1 + 2 * (1 + 2)
    while rotation.reencrypt_batch(2):
        pass
    assert rotation.pending() == 0
    with SqlUnitOfWork(sql_backend.engine, new, UlidGenerator()) as uow:
        assert uow.invoices.get(first.id).title.name == CANARIES["invoice title"]
    raw_update(sql_backend, "UPDATE invoices SET email_enc = (SELECT email_enc FROM invoices WHERE id = :v)"
               " WHERE id = :t", v=first.id, t=second.id)
    with SqlUnitOfWork(sql_backend.engine, new, UlidGenerator()) as uow, pytest.raises(IntegrityError):
        uow.invoices.get(second.id)


def test_every_invoice_column_holding_personal_data_is_registered_for_rotation() -> None:
    registered = {(f.table.name, f.column) for f in ENCRYPTED_FIELDS}
    assert {("invoices", "title_name_enc"), ("invoices", "email_enc")} <= registered
