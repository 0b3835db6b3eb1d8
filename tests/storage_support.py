"""Helpers for storage tests: backends (memory / SQLite / PostgreSQL) and domain object builders.

Imported by ``tests/conftest.py`` and the contract and SQL integration tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import attrs
import pendulum

from massage_core.adapters.memory.ids import UlidGenerator
from massage_core.domain.access import AdminRole, Role
from massage_core.domain.accounts import Account, ExternalIdentity, LoginMethod, Provider
from massage_core.domain.authentication import CodePurpose, LoginOutcome, LoginRecord, OneTimeCode, Session
from massage_core.domain.contact import Email, PhoneNumber
from massage_core.domain.identity_documents import ResidentIdNumber, check_digit
from massage_core.domain.ids import AccountId, LoginRecordId, OneTimeCodeId, SessionId
from massage_core.domain.time import Instant
from massage_core.ports.unit_of_work import UnitOfWork

T0: Instant = pendulum.datetime(2026, 1, 5, 2, 0, 0, tz="UTC")
"""A fixed "now" for storage tests."""

_ids = UlidGenerator()
_numbers = itertools.count(1)


@dataclass
class Backend:
    """One storage backend under test: how to open a unit of work, and (SQL) its engine and cipher."""

    name: str
    new_uow: Callable[[], UnitOfWork]
    engine: Any = None
    cipher: Any = None
    url: str | None = None


def new_id(kind: str) -> str:
    """A fresh id of ``kind`` (``account``, ``session``...)."""
    return _ids.new_id(kind)


def unique() -> int:
    """A number never returned before in this process."""
    return next(_numbers)


def phone(n: int | None = None) -> PhoneNumber:
    """A valid mainland mobile number, distinct for distinct ``n``."""
    return PhoneNumber.parse(f"139{(unique() if n is None else n) % 100_000_000:08d}")


def email(n: int | None = None) -> Email:
    """A distinct email address."""
    return Email.parse(f"person{unique() if n is None else n}@example.com")


def resident_id(n: int | None = None) -> ResidentIdNumber:
    """A valid GB 11643 ID number (Beijing Dongcheng, born 1990-03-07), distinct for distinct ``n``."""
    first17 = f"11010119900307{(unique() if n is None else n) % 1000:03d}"
    return ResidentIdNumber.parse(first17 + check_digit(first17))


def subject(prefix: str = "openid") -> str:
    """A distinct third-party subject."""
    return f"{prefix}-{unique():08d}-subject"


def make_account(
    *,
    at: Instant = T0,
    with_phone: bool = True,
    account_id: str | None = None,
    **changes: object,
) -> Account:
    """A registered account (by phone unless ``with_phone`` is False, then by WeChat), events cleared."""
    aid = AccountId(account_id or new_id("account"))
    if with_phone:
        account = Account.register(aid, at, LoginMethod.PHONE, phone=phone())
    else:
        identity = ExternalIdentity(Provider.WECHAT, subject("wechat"))
        account = Account.register(aid, at, LoginMethod.WECHAT, identity=identity)
    if changes:
        account = attrs.evolve(account, **changes)  # type: ignore[arg-type]
    return account.clear_events()


def full_account(at: Instant = T0) -> Account:
    """An account with every field set: phone, email+password, two identities, profile, admin roles."""
    account = make_account(at=at)
    account = account.link_password(email(), "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", at)
    account = account.link_identity(ExternalIdentity(Provider.ALIPAY, subject("alipay")), at)
    account = account.link_identity(ExternalIdentity(Provider.WECHAT, subject("wechat")), at)
    account = account.set_roles(frozenset({Role.THERAPIST, Role.ADMIN}), frozenset({AdminRole.SUPPORT}), at)
    account = account.update_profile(
        display_name="小王", real_name="王小明", id_number=resident_id(), address="北京市东城区东华门街道 1 号"
    )
    return account.clear_events()


def make_session(account_id: str, *, at: Instant = T0, ttl: timedelta = timedelta(days=30), **kw: object) -> Session:
    """A live session of ``account_id`` created at ``at``."""
    values: dict[str, object] = {
        "id": SessionId(new_id("session")),
        "account_id": AccountId(account_id),
        "token_hash": f"{unique():064x}",
        "method": LoginMethod.PHONE,
        "created_at": at,
        "expires_at": at + ttl,
        "ip": "203.0.113.7",
        "device": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)",
    }
    values.update(kw)
    return Session(**values)  # type: ignore[arg-type]


def make_record(
    subject_key: str,
    *,
    at: Instant = T0,
    outcome: LoginOutcome = LoginOutcome.FAILED,
    account_id: str | None = None,
    **kw: object,
) -> LoginRecord:
    """A login record."""
    return LoginRecord(
        id=LoginRecordId(new_id("login_record")),
        at=at,
        method=LoginMethod.PHONE,
        subject_key=subject_key,
        outcome=outcome,
        account_id=AccountId(account_id) if account_id else None,
        **kw,  # type: ignore[arg-type]
    )


def make_code(
    subject_key: str, *, at: Instant = T0, purpose: CodePurpose = CodePurpose.LOGIN, **kw: object
) -> OneTimeCode:
    """A one-time code created at ``at`` that expires 5 minutes later."""
    values: dict[str, object] = {
        "id": OneTimeCodeId(new_id("one_time_code")),
        "subject_key": subject_key,
        "purpose": purpose,
        "code_hash": f"{unique():064x}",
        "created_at": at,
        "expires_at": at + timedelta(minutes=5),
    }
    values.update(kw)
    return OneTimeCode(**values)  # type: ignore[arg-type]


def subject_key() -> str:
    """A distinct blind-index-like subject key."""
    return f"{unique():064x}"
