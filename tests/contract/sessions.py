"""The SessionRepository contract."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.ports.unit_of_work import UnitOfWork
from storage_support import T0, make_account, make_session, new_id

UowFactory = Callable[[], UnitOfWork]


def new_account(uow_factory: UowFactory) -> AccountId:
    """A committed account to hang sessions on."""
    with uow_factory() as uow:
        account = uow.accounts.add(make_account())
        uow.commit()
    return account.id


class SessionRepositoryContract:
    """Every SessionRepository adapter behaves like this."""

    def test_add_and_find_by_token_hash_round_trip(self, uow_factory: UowFactory) -> None:
        session = make_session(new_account(uow_factory), ip="198.51.100.23", device="华为 Mate 60 Pro")
        with uow_factory() as uow:
            uow.sessions.add(session)
            uow.commit()
        with uow_factory() as uow:
            assert uow.sessions.find_by_token_hash(session.token_hash) == session
            assert uow.sessions.find_by_token_hash("0" * 64) is None

    def test_empty_client_info_round_trips(self, uow_factory: UowFactory) -> None:
        session = make_session(new_account(uow_factory), ip="", device="")
        with uow_factory() as uow:
            uow.sessions.add(session)
            assert uow.sessions.find_by_token_hash(session.token_hash) == session

    @pytest.mark.parametrize("clash", ["id", "token_hash"])
    def test_duplicate_id_or_token_hash_is_refused(self, uow_factory: UowFactory, clash: str) -> None:
        account_id = new_account(uow_factory)
        first = make_session(account_id)
        second = make_session(account_id, **{clash: getattr(first, clash)})
        with uow_factory() as uow:
            uow.sessions.add(first)
            with pytest.raises(Conflict) as caught:
                uow.sessions.add(second)
            assert caught.value.code == "session.duplicate"
            uow.sessions.add(make_session(account_id))
            uow.commit()
        with uow_factory() as uow:
            assert len(uow.sessions.list_for_account(account_id)) == 2

    def test_save_stores_revocation(self, uow_factory: UowFactory) -> None:
        session = make_session(new_account(uow_factory))
        with uow_factory() as uow:
            uow.sessions.add(session)
            uow.commit()
        revoked = session.revoke(T0 + timedelta(hours=1))
        with uow_factory() as uow:
            uow.sessions.save(revoked)
            uow.commit()
        with uow_factory() as uow:
            found = uow.sessions.find_by_token_hash(session.token_hash)
        assert found == revoked and found is not None and found.revoked_at == T0 + timedelta(hours=1)

    def test_save_missing_raises_not_found(self, uow_factory: UowFactory) -> None:
        session = make_session(new_account(uow_factory))
        with uow_factory() as uow, pytest.raises(NotFound):
            uow.sessions.save(session)

    def test_revoke_all_revokes_only_live_sessions_of_the_account(self, uow_factory: UowFactory) -> None:
        mine, theirs = new_account(uow_factory), new_account(uow_factory)
        now = T0 + timedelta(days=1)
        live = [make_session(mine), make_session(mine, at=T0 + timedelta(minutes=1))]
        expired = make_session(mine, ttl=timedelta(hours=1))
        ends_now = make_session(mine, ttl=timedelta(days=1))
        already = make_session(mine).revoke(T0 + timedelta(hours=2))
        other = make_session(theirs)
        with uow_factory() as uow:
            for session in (*live, expired, ends_now, already, other):
                uow.sessions.add(session)
            uow.commit()
        with uow_factory() as uow:
            assert uow.sessions.revoke_all(mine, now) == 2
            uow.commit()
        with uow_factory() as uow:
            by_id = {s.id: s for s in uow.sessions.list_for_account(mine)}
            assert all(by_id[s.id].revoked_at == now for s in live)
            assert by_id[expired.id].revoked_at is None and by_id[ends_now.id].revoked_at is None
            assert by_id[already.id].revoked_at == T0 + timedelta(hours=2)
            assert uow.sessions.list_for_account(theirs)[0].revoked_at is None
            assert uow.sessions.revoke_all(mine, now) == 0

    def test_list_for_account_newest_first(self, uow_factory: UowFactory) -> None:
        account_id = new_account(uow_factory)
        sessions = [make_session(account_id, at=T0 + timedelta(minutes=m)) for m in (5, 1, 9, 3)]
        with uow_factory() as uow:
            for session in sessions:
                uow.sessions.add(session)
            uow.commit()
        with uow_factory() as uow:
            listed = uow.sessions.list_for_account(account_id)
            assert listed == sorted(sessions, key=lambda s: s.created_at, reverse=True)
            assert uow.sessions.list_for_account(AccountId(new_id("account"))) == []

