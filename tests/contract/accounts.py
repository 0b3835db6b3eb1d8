"""The AccountRepository contract."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import attrs
import pendulum
import pytest

from massage_core.domain.accounts import Account, AccountStatus, ExternalIdentity, LoginMethod, Provider
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.ports.unit_of_work import UnitOfWork
from storage_support import T0, email, full_account, make_account, new_id, phone, resident_id, subject

UowFactory = Callable[[], UnitOfWork]


def add_committed(uow_factory: UowFactory, *accounts: Account) -> list[Account]:
    """Add ``accounts`` in one committed unit; return them as stored."""
    with uow_factory() as uow:
        stored = [uow.accounts.add(account) for account in accounts]
        uow.commit()
    return stored


def assert_conflict(code: str, uow_factory: UowFactory, action: Callable[[UnitOfWork], object]) -> None:
    """``action`` raises Conflict(code) and the unit stays usable (a later write commits)."""
    with uow_factory() as uow:
        with pytest.raises(Conflict) as caught:
            action(uow)
        assert caught.value.code == code
        uow.accounts.add(make_account())
        uow.commit()


class AccountRepositoryContract:
    """Every AccountRepository adapter behaves like this."""

    def test_add_returns_version_one_and_round_trips_every_field(self, uow_factory: UowFactory) -> None:
        account = full_account()
        (stored,) = add_committed(uow_factory, account)
        assert stored == attrs.evolve(account, version=1)
        assert stored.events == ()
        with uow_factory() as uow:
            loaded = uow.accounts.get(account.id)
        assert loaded == stored
        assert loaded.identities == account.identities  # order kept
        assert (loaded.real_name, loaded.address, loaded.id_number) == (
            account.real_name, account.address, account.id_number)

    def test_status_of_reads_the_stored_status_and_a_missing_account_is_not_found(
            self, uow_factory: UowFactory) -> None:
        (stored,) = add_committed(uow_factory, full_account())
        with uow_factory() as uow:
            assert uow.accounts.status_of(stored.id) is AccountStatus.ACTIVE
            suspended = uow.accounts.save(stored.suspend("spam", T0))
            assert uow.accounts.status_of(stored.id) is AccountStatus.SUSPENDED is suspended.status
            missing = AccountId(new_id("account"))
            with pytest.raises(NotFound) as caught:
                uow.accounts.status_of(missing)
            assert (caught.value.kind, caught.value.ident) == ("account", missing)
            uow.commit()
        with uow_factory() as uow:
            assert uow.accounts.status_of(stored.id) is AccountStatus.SUSPENDED

    def test_active_among_keeps_the_existing_active_ids_of_any_number(self, uow_factory: UowFactory) -> None:
        active, gone = add_committed(uow_factory, full_account(), make_account())
        # 1,500 unknown ids sorting before the real ones: a batched read must not stop at its first batch
        unknown = [AccountId(f"acc_{n:026d}") for n in range(1500)]
        with uow_factory() as uow:
            uow.accounts.save(gone.suspend("spam", T0))
            assert uow.accounts.active_among([active.id, gone.id, active.id]) == frozenset({active.id})
            assert uow.accounts.active_among([*unknown, gone.id, active.id]) == frozenset({active.id})
            assert uow.accounts.active_among(unknown[:3]) == frozenset()
            assert uow.accounts.active_among([]) == frozenset()

    def test_add_clears_pending_events(self, uow_factory: UowFactory) -> None:
        account = Account.register(AccountId(new_id("account")), T0, LoginMethod.PHONE, phone=phone())
        assert account.events
        (stored,) = add_committed(uow_factory, account)
        assert stored.events == ()

    def test_instants_keep_microseconds_in_any_zone(self, uow_factory: UowFactory) -> None:
        created = pendulum.datetime(2026, 3, 1, 23, 59, 59, 123456, tz="Asia/Shanghai")
        (stored,) = add_committed(uow_factory, make_account(at=created))
        with uow_factory() as uow:
            loaded = uow.accounts.get(stored.id)
        assert loaded.created_at == created
        assert loaded.created_at.microsecond == 123456
        assert loaded.created_at.utcoffset() in (timedelta(0), timedelta(hours=8))

    def test_get_missing_raises_not_found(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow, pytest.raises(NotFound):
            uow.accounts.get(AccountId(new_id("account")))

    def test_find_by_phone_email_and_identity(self, uow_factory: UowFactory) -> None:
        account, other = full_account(), make_account()
        add_committed(uow_factory, account, other)
        wechat = account.identity(Provider.WECHAT)
        assert account.phone is not None and account.email is not None and wechat is not None
        with uow_factory() as uow:
            assert uow.accounts.find_by_phone(account.phone) == attrs.evolve(account, version=1)
            assert uow.accounts.find_by_email(account.email) == attrs.evolve(account, version=1)
            assert uow.accounts.find_by_identity(Provider.WECHAT, wechat.subject) == attrs.evolve(account, version=1)
            assert uow.accounts.find_by_phone(phone()) is None
            assert uow.accounts.find_by_email(email()) is None
            assert uow.accounts.find_by_identity(Provider.WECHAT, subject()) is None
            assert uow.accounts.find_by_identity(Provider.ALIPAY, wechat.subject) is None

    def test_duplicate_id_is_refused(self, uow_factory: UowFactory) -> None:
        (account,) = add_committed(uow_factory, make_account())
        assert_conflict("account.duplicate", uow_factory,
                        lambda uow: uow.accounts.add(make_account(account_id=account.id)))

    def test_duplicate_phone_is_refused(self, uow_factory: UowFactory) -> None:
        (account,) = add_committed(uow_factory, make_account())
        assert_conflict("account.duplicate", uow_factory, lambda uow: uow.accounts.add(
            make_account(phone=account.phone)))

    def test_duplicate_email_is_refused(self, uow_factory: UowFactory) -> None:
        taken = email()
        add_committed(uow_factory, make_account(email=taken))
        assert_conflict("account.duplicate", uow_factory, lambda uow: uow.accounts.add(make_account(email=taken)))

    def test_duplicate_identity_is_refused(self, uow_factory: UowFactory) -> None:
        (account,) = add_committed(uow_factory, make_account(with_phone=False))
        assert_conflict("account.duplicate", uow_factory, lambda uow: uow.accounts.add(
            make_account(identities=account.identities)))

    def test_same_subject_at_another_provider_is_allowed(self, uow_factory: UowFactory) -> None:
        shared = subject()
        add_committed(uow_factory, make_account(identities=(ExternalIdentity(Provider.WECHAT, shared),)),
                      make_account(identities=(ExternalIdentity(Provider.ALIPAY, shared),)))

    def test_duplicate_id_number_is_refused(self, uow_factory: UowFactory) -> None:
        taken = resident_id()
        add_committed(uow_factory, make_account(id_number=taken))
        assert_conflict("account.duplicate", uow_factory, lambda uow: uow.accounts.add(
            make_account(id_number=taken)))

    def test_save_bumps_version_and_stores_changes(self, uow_factory: UowFactory) -> None:
        (stored,) = add_committed(uow_factory, make_account())
        changed = stored.link_identity(ExternalIdentity(Provider.ALIPAY, subject()), T0)
        changed = changed.link_password(email(), "hash", T0).unlink(LoginMethod.PHONE, T0)
        changed = changed.suspend("spam", T0).update_profile(real_name="李四", address="上海", id_number=resident_id())
        with uow_factory() as uow:
            saved = uow.accounts.save(changed)
            uow.commit()
        assert saved == attrs.evolve(changed, version=2) and saved.events == ()
        with uow_factory() as uow:
            assert uow.accounts.get(stored.id) == saved
            assert stored.phone is not None and uow.accounts.find_by_phone(stored.phone) is None
            assert saved.email is not None and uow.accounts.find_by_email(saved.email) == saved

    def test_save_can_unlink_and_reorder_identities(self, uow_factory: UowFactory) -> None:
        (stored,) = add_committed(uow_factory, full_account())
        alipay, wechat = stored.identities
        with uow_factory() as uow:
            saved = uow.accounts.save(attrs.evolve(stored, identities=(wechat, alipay)))
            saved = uow.accounts.save(saved.unlink(LoginMethod.ALIPAY, T0))
            uow.commit()
        with uow_factory() as uow:
            assert uow.accounts.get(stored.id).identities == (wechat,)
            assert uow.accounts.find_by_identity(Provider.ALIPAY, alipay.subject) is None
            assert saved.version == 3

    def test_released_identifiers_can_be_taken_by_another_account(self, uow_factory: UowFactory) -> None:
        (first,) = add_committed(uow_factory, full_account())
        assert first.phone is not None
        with uow_factory() as uow:
            uow.accounts.save(first.link_phone(phone(), T0))
            uow.accounts.add(make_account(phone=first.phone))
            uow.commit()

    def test_save_with_an_identifier_of_another_account_is_refused(self, uow_factory: UowFactory) -> None:
        first, second = add_committed(uow_factory, full_account(), make_account())
        assert first.phone is not None and first.email is not None
        for clash in (second.link_phone(first.phone, T0), second.link_password(first.email, "h", T0),
                      second.link_identity(first.identities[0], T0),
                      second.update_profile(id_number=first.id_number)):
            assert_conflict("account.duplicate", uow_factory, lambda uow, clash=clash: uow.accounts.save(clash))
        with uow_factory() as uow:
            assert uow.accounts.get(second.id) == second

    def test_stale_save_is_refused(self, uow_factory: UowFactory) -> None:
        (stored,) = add_committed(uow_factory, make_account())
        with uow_factory() as uow:
            uow.accounts.save(stored.update_profile(display_name="first"))
            uow.commit()
        assert_conflict("conflict.stale", uow_factory,
                        lambda uow: uow.accounts.save(stored.update_profile(display_name="second")))
        with uow_factory() as uow:
            current = uow.accounts.get(stored.id)
        assert (current.display_name, current.version) == ("first", 2)

    def test_save_missing_raises_not_found(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow, pytest.raises(NotFound):
            uow.accounts.save(attrs.evolve(make_account(), version=1))

    def test_list_orders_by_creation_then_id_with_paging_and_status(self, uow_factory: UowFactory) -> None:
        ids = sorted(new_id("account") for _ in range(3))
        accounts = [
            make_account(account_id=ids[2], at=T0),
            make_account(account_id=ids[0], at=T0 + timedelta(seconds=1)),
            make_account(account_id=ids[1], at=T0),
            make_account(at=T0 - timedelta(days=1)).suspend("fraud", T0).clear_events(),
        ]
        add_committed(uow_factory, *accounts)
        expected = [accounts[3].id, ids[1], ids[2], ids[0]]
        with uow_factory() as uow:
            assert [a.id for a in uow.accounts.list()] == expected
            assert [a.id for a in uow.accounts.list(offset=1, limit=2)] == expected[1:3]
            assert [a.id for a in uow.accounts.list(status=AccountStatus.ACTIVE)] == expected[1:]
            assert [a.id for a in uow.accounts.list(status=AccountStatus.SUSPENDED)] == expected[:1]
            assert uow.accounts.list(offset=10) == []
            assert uow.accounts.list()[0] == attrs.evolve(accounts[3], version=1)

    def test_count(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            assert uow.accounts.count() == 0
        add_committed(uow_factory, make_account(), make_account(with_phone=False))
        with uow_factory() as uow:
            assert uow.accounts.count() == 2
