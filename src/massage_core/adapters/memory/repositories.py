"""In-memory repositories with the same contracts as the SQL ones."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import attrs

from massage_core.domain.accounts import Account, AccountStatus, Provider
from massage_core.domain.audit import AuditEntry, AuditRecord
from massage_core.domain.authentication import CodePurpose, LoginOutcome, LoginRecord, OneTimeCode, Session
from massage_core.domain.contact import Email, PhoneNumber
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId, AuditEntryId
from massage_core.domain.time import Instant
from massage_core.adapters.memory.store import Tables
from massage_core.ports.ids import IdGenerator
from massage_core.ports.repositories import (
    AccountRepository,
    AuditTrail,
    LoginRecordRepository,
    OneTimeCodeRepository,
    SessionRepository,
)


class MemoryAccountRepository(AccountRepository):
    """Accounts in a dict, with the uniqueness rules of the SQL schema."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def _check_unique(self, account: Account) -> None:
        for other in self._t.accounts.values():
            if other.id == account.id:
                continue
            clash = (
                (account.phone is not None and other.phone == account.phone)
                or (account.email is not None and other.email == account.email)
                or any(i in other.identities for i in account.identities)
                or (account.id_number is not None and other.id_number == account.id_number)
            )
            if clash:
                raise Conflict("an identifier is already used by another account", code="account.duplicate")

    def add(self, account: Account) -> Account:
        """Store a new account with version 1."""
        if account.id in self._t.accounts:
            raise Conflict(f"account {account.id} already exists", code="account.duplicate")
        self._check_unique(account)
        stored = attrs.evolve(account.clear_events(), version=1)
        self._t.accounts[account.id] = stored
        return stored

    def get(self, account_id: AccountId) -> Account:
        """Return the account or raise NotFound."""
        try:
            return self._t.accounts[account_id]
        except KeyError:
            raise NotFound("account", account_id) from None

    def active_among(self, account_ids: Collection[AccountId]) -> frozenset[AccountId]:
        """The ids whose stored account is active."""
        found = (self._t.accounts.get(i) for i in set(account_ids))
        return frozenset(a.id for a in found if a is not None and a.is_active)

    def find_by_phone(self, phone: PhoneNumber) -> Account | None:
        """Linear scan by phone."""
        return next((a for a in self._t.accounts.values() if a.phone == phone), None)

    def find_by_email(self, email: Email) -> Account | None:
        """Linear scan by email."""
        return next((a for a in self._t.accounts.values() if a.email == email), None)

    def find_by_identity(self, provider: Provider, subject: str) -> Account | None:
        """Linear scan by third-party identity."""
        for account in self._t.accounts.values():
            ident = account.identity(provider)
            if ident is not None and ident.subject == subject:
                return account
        return None

    def save(self, account: Account) -> Account:
        """Replace the stored account when its version matches."""
        current = self.get(account.id)
        if current.version != account.version:
            raise Conflict(f"account {account.id} was changed by somebody else", code="conflict.stale")
        self._check_unique(account)
        stored = attrs.evolve(account.clear_events(), version=account.version + 1)
        self._t.accounts[account.id] = stored
        return stored

    def list(self, *, offset: int = 0, limit: int = 50, status: AccountStatus | None = None) -> Sequence[Account]:
        """Accounts ordered by creation time, then id."""
        rows = sorted(self._t.accounts.values(), key=lambda a: (a.created_at, a.id))
        if status is not None:
            rows = [a for a in rows if a.status is status]
        return rows[offset : offset + limit]

    def count(self) -> int:
        """Number of accounts."""
        return len(self._t.accounts)


class MemorySessionRepository(SessionRepository):
    """Sessions in a dict keyed by id."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, session: Session) -> None:
        """Store a new session; token hashes are unique."""
        if session.id in self._t.sessions or self.find_by_token_hash(session.token_hash) is not None:
            raise Conflict("duplicate session", code="session.duplicate")
        self._t.sessions[session.id] = session

    def find_by_token_hash(self, token_hash: str) -> Session | None:
        """Linear scan by token hash."""
        return next((s for s in self._t.sessions.values() if s.token_hash == token_hash), None)

    def save(self, session: Session) -> None:
        """Replace a stored session."""
        if session.id not in self._t.sessions:
            raise NotFound("session", session.id)
        self._t.sessions[session.id] = session

    def revoke_all(self, account_id: AccountId, now: Instant) -> int:
        """Revoke every live session of the account."""
        live = [s for s in self._t.sessions.values() if s.account_id == account_id and s.is_live(now)]
        for s in live:
            self._t.sessions[s.id] = s.revoke(now)
        return len(live)

    def list_for_account(self, account_id: AccountId) -> Sequence[Session]:
        """Newest first."""
        rows = [s for s in self._t.sessions.values() if s.account_id == account_id]
        return sorted(rows, key=lambda s: (s.created_at, s.id), reverse=True)


class MemoryLoginRecordRepository(LoginRecordRepository):
    """Login records in a list."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, record: LoginRecord) -> None:
        """Append."""
        self._t.login_records.append(record)

    def failures_since(self, subject_key: str, account_id: AccountId | None, since: Instant) -> Sequence[Instant]:
        """Failed attempts for the identifier or the account."""
        return [
            r.at
            for r in self._t.login_records
            if r.outcome is LoginOutcome.FAILED
            and r.at >= since
            and (r.subject_key == subject_key or (account_id is not None and r.account_id == account_id))
        ]

    def list_for_account(self, account_id: AccountId, *, limit: int = 100) -> Sequence[LoginRecord]:
        """Newest first."""
        rows = [r for r in self._t.login_records if r.account_id == account_id]
        return sorted(rows, key=lambda r: (r.at, r.id), reverse=True)[:limit]


class MemoryOneTimeCodeRepository(OneTimeCodeRepository):
    """One-time codes in a dict keyed by id."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, code: OneTimeCode) -> None:
        """Store a new code."""
        if code.id in self._t.one_time_codes:
            raise Conflict("duplicate code id", code="otp.duplicate")
        self._t.one_time_codes[code.id] = code

    def latest(self, subject_key: str, purpose: CodePurpose) -> OneTimeCode | None:
        """Newest code for the phone and purpose."""
        rows = [c for c in self._t.one_time_codes.values() if c.subject_key == subject_key and c.purpose is purpose]
        return max(rows, key=lambda c: (c.created_at, c.id), default=None)

    def sent_since(self, subject_key: str, since: Instant) -> Sequence[Instant]:
        """Creation times since ``since``."""
        return sorted(
            c.created_at
            for c in self._t.one_time_codes.values()
            if c.subject_key == subject_key and c.created_at >= since
        )

    def save(self, code: OneTimeCode) -> None:
        """Replace a stored code."""
        if code.id not in self._t.one_time_codes:
            raise NotFound("one_time_code", code.id)
        self._t.one_time_codes[code.id] = code


class MemoryAuditTrail(AuditTrail):
    """The audit chain in a list, with its head kept beside it."""

    def __init__(self, tables: Tables, ids: IdGenerator) -> None:
        self._t = tables
        self._ids = ids

    def append(self, record: AuditRecord, at: Instant) -> AuditEntry:
        """Chain after the newest entry (the unit of work's lock serialises appenders)."""
        previous = self._t.audit[-1] if self._t.audit else None
        entry = AuditEntry.chain(AuditEntryId(self._ids.new_id("audit_entry")), record, at, previous)
        self._t.audit.append(entry)
        self._t.audit_head = (entry.sequence, entry.hash)
        return entry

    def entries(self, *, after_sequence: int = 0, limit: int | None = None) -> Sequence[AuditEntry]:
        """Entries in stored order."""
        rows = [e for e in self._t.audit if e.sequence > after_sequence]
        return rows if limit is None else rows[:limit]

    def head(self) -> tuple[int, str]:
        """The separately kept head."""
        return self._t.audit_head
