"""Phone lookup and token authentication on SQLite, each beside its raw-driver baseline."""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.sql.migrate import upgrade
from massage_core.bootstrap import Platform
from massage_core.domain.accounts import Account, LoginMethod
from massage_core.domain.contact import PhoneNumber
from massage_core.domain.ids import AccountId
from massage_core.ports.cipher import FieldContext
from massage_core.services.credentials import hash_token


def timed(label: str, count: int, work: Callable[[], None]) -> float:
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    print(f"  {label:<44} {count / seconds:>10,.0f} /s  ({seconds * 1e6 / count:,.1f} µs each)")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="massage-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    platform = Platform.from_url(url, keyring=KeyRing.generate(), hasher=Argon2idPasswordHasher.for_tests())
    deps = platform.deps
    phones = [PhoneNumber.parse(f"139{i:08d}") for i in range(args.accounts)]
    with deps.uow() as uow:
        now = deps.clock.now()
        for phone in phones:
            uow.accounts.add(Account.register(AccountId(deps.ids.new_id("account")), now, LoginMethod.PHONE,
                                              phone=phone))
        uow.commit()
    sample = [phones[(i * 7919) % len(phones)] for i in range(args.lookups)]
    keys = [deps.cipher.blind_index("phone", p.e164) for p in sample]
    raw = sqlite3.connect(folder / "bench.db")

    print(f"phone lookup, {args.accounts} accounts, {args.lookups} lookups")

    def through_library() -> None:
        with deps.uow() as uow:
            for phone in sample:
                assert uow.accounts.find_by_phone(phone) is not None

    def raw_driver() -> None:
        for key in keys:
            assert raw.execute("SELECT * FROM accounts WHERE phone_idx = ?", (key,)).fetchone() is not None

    lib = timed("library (blind index + decrypt + mapping)", args.lookups, through_library)
    base = timed("raw sqlite3, same indexed SELECT", args.lookups, raw_driver)
    print(f"  ratio library / raw driver: {lib / base:.1f}x")

    scan_count = max(args.lookups // 100, 5)

    def brute_force() -> None:
        rows = raw.execute("SELECT id, phone_enc FROM accounts").fetchall()
        for phone in sample[:scan_count]:
            assert any(deps.cipher.decrypt(enc, FieldContext("accounts", "phone", rid)) == phone.e164
                       for rid, enc in rows)

    brute = timed("brute force: decrypt every phone per lookup", scan_count, brute_force)
    print(f"  ratio brute force / library per lookup: {(brute / scan_count) / (lib / args.lookups):,.0f}x")

    print(f"authenticate(token), {args.lookups} calls")
    tokens: list[str] = []
    account_ids = []
    with deps.uow() as uow:
        account_ids = [a.id for a in uow.accounts.list(limit=50)]
    from massage_core.domain.authentication import Session
    from massage_core.domain.ids import SessionId
    from massage_core.services.credentials import new_token

    with deps.uow() as uow:
        now = deps.clock.now()
        for aid in account_ids:
            token, token_hash = new_token()
            tokens.append(token)
            uow.sessions.add(Session(SessionId(deps.ids.new_id("session")), aid, token_hash, LoginMethod.PHONE, now,
                                     now.add(days=1)))
        uow.commit()
    calls = [tokens[i % len(tokens)] for i in range(args.lookups)]

    def authenticate() -> None:
        for token in calls:
            platform.accounts.authenticate(token)

    def raw_authenticate() -> None:
        for token in calls:
            row = raw.execute("SELECT account_id, expires_at, revoked_at FROM sessions WHERE token_hash = ?",
                              (hash_token(token),)).fetchone()
            assert raw.execute("SELECT status, roles FROM accounts WHERE id = ?", (row[0],)).fetchone()

    lib = timed("library (unit of work per call)", args.lookups, authenticate)
    base = timed("raw sqlite3, two indexed SELECTs", args.lookups, raw_authenticate)
    print(f"  ratio library / raw driver: {lib / base:.1f}x")
    platform.close()


if __name__ == "__main__":
    main()
