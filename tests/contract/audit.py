"""The AuditTrail contract."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from massage_core.domain.audit import GENESIS, AuditOutcome, AuditRecord, verify_chain
from massage_core.domain.ids import check_id
from massage_core.ports.unit_of_work import UnitOfWork
from storage_support import T0

UowFactory = Callable[[], UnitOfWork]


def record(n: int, **details: str) -> AuditRecord:
    """The n-th test record."""
    return AuditRecord(
        actor=f"acc_actor{n}", action="users.suspend", target=f"account:{n}", outcome=AuditOutcome.OK,
        details=tuple(details.items()),
    )


class AuditTrailContract:
    """Every AuditTrail adapter behaves like this."""

    def test_empty_trail(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            assert uow.audit.head() == (0, "")
            assert list(uow.audit.entries()) == []
            assert verify_chain(uow.audit.entries(), uow.audit.head()).ok

    def test_append_chains_entries_and_moves_the_head(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            first = uow.audit.append(record(1, reason="垃圾广告", note="a\"quote"), T0)
            second = uow.audit.append(record(2), T0 + timedelta(microseconds=7))
            uow.commit()
        assert (first.sequence, first.prev_hash) == (1, GENESIS)
        assert (second.sequence, second.prev_hash) == (2, first.hash)
        assert first.details == (("reason", "垃圾广告"), ("note", "a\"quote"))
        check_id("audit_entry", first.id)
        assert first.id != second.id
        with uow_factory() as uow:
            third = uow.audit.append(record(3), T0 + timedelta(seconds=1))
            uow.commit()
        with uow_factory() as uow:
            entries = list(uow.audit.entries())
            head = uow.audit.head()
        assert entries == [first, second, third]
        assert third.prev_hash == second.hash
        assert head == (3, third.hash)
        assert verify_chain(entries, head).ok
        assert all(entry.compute_hash() == entry.hash for entry in entries)

    def test_entries_after_sequence_with_limit(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            appended = [uow.audit.append(record(n), T0 + timedelta(seconds=n)) for n in range(5)]
            uow.commit()
        with uow_factory() as uow:
            assert list(uow.audit.entries(after_sequence=2)) == appended[2:]
            assert list(uow.audit.entries(after_sequence=1, limit=2)) == appended[1:3]
            assert list(uow.audit.entries(after_sequence=5)) == []
            assert list(uow.audit.entries(limit=0)) == []

    def test_rolled_back_appends_leave_no_trace(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            kept = uow.audit.append(record(1), T0)
            uow.commit()
        with uow_factory() as uow:
            uow.audit.append(record(2), T0)
        with uow_factory() as uow:
            assert list(uow.audit.entries()) == [kept]
            assert uow.audit.head() == (1, kept.hash)
            again = uow.audit.append(record(3), T0)
            assert (again.sequence, again.prev_hash) == (2, kept.hash)
