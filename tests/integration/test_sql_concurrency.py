"""Concurrent units of work: audit appends never fork the chain, and only one of two stale saves wins."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from massage_core.domain.audit import AuditOutcome, AuditRecord, verify_chain
from massage_core.domain.errors import Conflict
from storage_support import T0, Backend, make_account

THREADS = 4
APPENDS = 15


def run_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(i)`` in ``count`` threads started together; return what they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def body(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(i)
        except BaseException as exc:  # collected and checked by the test
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return errors


def test_concurrent_audit_appends_form_one_unbroken_chain(backend: Backend) -> None:
    def append(worker: int) -> None:
        for n in range(APPENDS):
            with backend.new_uow() as uow:
                record = AuditRecord(f"acc_worker{worker}", "test.append", f"item:{n}", AuditOutcome.OK)
                uow.audit.append(record, T0 + timedelta(microseconds=n))
                uow.commit()

    assert run_threads(THREADS, append) == []
    with backend.new_uow() as uow:
        entries = list(uow.audit.entries())
        head = uow.audit.head()
    report = verify_chain(entries, head)
    assert report.ok, report
    assert len(entries) == THREADS * APPENDS
    assert head == (THREADS * APPENDS, entries[-1].hash)
    assert len({entry.id for entry in entries}) == len(entries)


@pytest.mark.parametrize("contenders", [2, 4])
def test_concurrent_stale_saves_exactly_one_wins(backend: Backend, contenders: int) -> None:
    with backend.new_uow() as uow:
        stored = uow.accounts.add(make_account())
        uow.commit()
    winners: list[str] = []

    def save(worker: int) -> None:
        with backend.new_uow() as uow:
            uow.accounts.save(stored.update_profile(display_name=f"worker {worker}"))
            uow.commit()
        winners.append(f"worker {worker}")

    errors = run_threads(contenders, save)
    assert len(winners) == 1
    assert len(errors) == contenders - 1
    assert all(isinstance(error, Conflict) and error.code == "conflict.stale" for error in errors), errors
    with backend.new_uow() as uow:
        current = uow.accounts.get(stored.id)
    assert (current.display_name, current.version) == (winners[0], 2)
