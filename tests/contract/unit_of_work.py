"""The UnitOfWork contract: rollback unless commit, rollback on error, commits are visible."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from massage_core.domain.audit import AuditOutcome, AuditRecord
from massage_core.ports.unit_of_work import UnitOfWork
from storage_support import T0, make_account, make_session

UowFactory = Callable[[], UnitOfWork]


class Boom(Exception):
    """A failure inside a use case."""


class UnitOfWorkContract:
    """Every UnitOfWork adapter behaves like this."""

    def test_changes_are_rolled_back_unless_committed(self, uow_factory: UowFactory) -> None:
        account = make_account()
        with uow_factory() as uow:
            uow.accounts.add(account)
            uow.audit.append(AuditRecord("system", "test", "x", AuditOutcome.OK), T0)
            assert uow.accounts.get(account.id).id == account.id  # visible inside the unit
        with uow_factory() as uow:
            assert uow.accounts.count() == 0
            assert uow.audit.head() == (0, "")

    def test_an_exception_rolls_back_and_propagates(self, uow_factory: UowFactory) -> None:
        with pytest.raises(Boom), uow_factory() as uow:
            uow.accounts.add(make_account())
            raise Boom
        with uow_factory() as uow:
            assert uow.accounts.count() == 0

    def test_committed_changes_are_visible_in_the_next_unit(self, uow_factory: UowFactory) -> None:
        account = make_account()
        session = make_session(account.id)
        with uow_factory() as uow:
            stored = uow.accounts.add(account)
            uow.sessions.add(session)
            uow.commit()
        with uow_factory() as uow:
            assert uow.accounts.get(account.id) == stored
            assert uow.sessions.find_by_token_hash(session.token_hash) == session

    def test_rollback_inside_the_unit_forgets_earlier_changes_only(self, uow_factory: UowFactory) -> None:
        forgotten, kept = make_account(), make_account()
        with uow_factory() as uow:
            uow.accounts.add(forgotten)
            uow.rollback()
            uow.accounts.add(kept)
            uow.commit()
        with uow_factory() as uow:
            assert [a.id for a in uow.accounts.list()] == [kept.id]

    def test_units_run_one_after_another(self, uow_factory: UowFactory) -> None:
        for _ in range(3):
            with uow_factory() as uow:
                uow.accounts.add(make_account())
                uow.commit()
        with uow_factory() as uow:
            assert uow.accounts.count() == 3

    def test_events_are_collected_once(self, uow_factory: UowFactory) -> None:
        suspended = make_account().suspend("spam", T0)
        with uow_factory() as uow:
            uow.record(suspended.events)
            assert uow.collect_events() == list(suspended.events)
            assert uow.collect_events() == []
