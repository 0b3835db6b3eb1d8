"""The in-memory store shared by every memory unit of work."""

from __future__ import annotations

import threading

import attrs

from massage_core.domain.accounts import Account
from massage_core.domain.audit import AuditEntry
from massage_core.domain.authentication import LoginRecord, OneTimeCode, Session


@attrs.define
class Tables:
    """Plain dictionaries of frozen objects: copying them is a cheap snapshot."""

    accounts: dict[str, Account] = attrs.field(factory=dict)
    sessions: dict[str, Session] = attrs.field(factory=dict)
    login_records: list[LoginRecord] = attrs.field(factory=list)
    one_time_codes: dict[str, OneTimeCode] = attrs.field(factory=dict)
    audit: list[AuditEntry] = attrs.field(factory=list)
    audit_head: tuple[int, str] = (0, "")

    def snapshot(self) -> Tables:
        return Tables(
            accounts=dict(self.accounts),
            sessions=dict(self.sessions),
            login_records=list(self.login_records),
            one_time_codes=dict(self.one_time_codes),
            audit=list(self.audit),
            audit_head=self.audit_head,
        )


class MemoryStore:
    """Holds the tables and the lock that serialises units of work (like SQLite's writer lock)."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.lock = threading.Lock()
