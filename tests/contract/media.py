"""The MediaRepository and MediaStore contracts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from catalog_support import make_profile
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId, MediumId
from massage_core.domain.media import MediaKind, MediaStatus, Medium
from massage_core.ports.media import MediaStore
from massage_core.ports.unit_of_work import UnitOfWork
from storage_support import T0, make_account, new_id

UowFactory = Callable[[], UnitOfWork]
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def therapist(uow_factory: UowFactory) -> AccountId:
    account = make_account()
    with uow_factory() as uow:
        uow.accounts.add(account)
        uow.therapists.add(make_profile(account.id))
        uow.commit()
    return account.id


def medium(therapist_id: AccountId, *, kind: MediaKind = MediaKind.PHOTO, seconds: int = 0) -> Medium:
    content_type = "image/jpeg" if kind is MediaKind.PHOTO else "video/mp4"
    return Medium.upload(MediumId(new_id("medium")), therapist_id, kind, content_type, JPEG,
                         T0 + timedelta(seconds=seconds))


class MediaRepositoryContract:
    """Every MediaRepository adapter behaves like this."""

    def test_add_get_review_and_list(self, uow_factory: UowFactory) -> None:
        owner = therapist(uow_factory)
        first, second, video = medium(owner), medium(owner, seconds=1), medium(owner, kind=MediaKind.VIDEO, seconds=2)
        with uow_factory() as uow:
            stored = [uow.media.add(m) for m in (first, second, video)]
            uow.commit()
        assert [m.version for m in stored] == [1, 1, 1]
        with uow_factory() as uow:
            assert uow.media.get(first.id) == stored[0]
            approved = uow.media.save(stored[0].approve("acc_reviewer", T0))
            rejected = uow.media.save(stored[1].reject("blurred", "acc_reviewer", T0))
            uow.commit()
        assert approved.version == 2 and approved.reviewed_at == T0
        with uow_factory() as uow:
            assert uow.media.get(first.id) == approved
            assert uow.media.list_for_therapist(owner) == [approved, rejected, stored[2]]
            assert uow.media.list_for_therapist(owner, status=MediaStatus.APPROVED) == [approved]
            assert uow.media.list_pending() == [stored[2]]
            assert uow.media.list_pending(offset=1) == []
            assert uow.media.count_live(owner, MediaKind.PHOTO) == 1
            assert uow.media.count_live(owner, MediaKind.VIDEO) == 1
        assert (rejected.status, rejected.rejection_reason) == (MediaStatus.REJECTED, "blurred")

    def test_missing_stale_and_references(self, uow_factory: UowFactory) -> None:
        owner = therapist(uow_factory)
        with uow_factory() as uow:
            stored = uow.media.add(medium(owner))
            uow.commit()
        with uow_factory() as uow:
            uow.media.save(stored.approve("acc_reviewer", T0))
            uow.commit()
        with uow_factory() as uow:
            with pytest.raises(Conflict) as stale:
                uow.media.save(stored.reject("late", "acc_other", T0))
            assert stale.value.code == "conflict.stale"
            with pytest.raises(NotFound):
                uow.media.get(MediumId(new_id("medium")))
            with pytest.raises(Conflict) as orphan:
                uow.media.add(medium(AccountId(new_id("account"))))
            assert orphan.value.code == "conflict.reference"


class MediaStoreContract:
    """Every MediaStore adapter behaves like this (fixture ``media_store``)."""

    def test_put_get_overwrite_delete(self, media_store: MediaStore) -> None:
        key = MediumId(new_id("medium"))
        with pytest.raises(NotFound):
            media_store.get(key)
        media_store.put(key, JPEG)
        assert media_store.get(key) == JPEG
        media_store.put(key, b"second")
        assert media_store.get(key) == b"second"
        media_store.delete(key)
        media_store.delete(key)
        with pytest.raises(NotFound):
            media_store.get(key)

    def test_keys_are_independent(self, media_store: MediaStore) -> None:
        keys = [MediumId(new_id("medium")) for _ in range(3)]
        for n, key in enumerate(keys):
            media_store.put(key, bytes([n]) * 10)
        assert [media_store.get(k) for k in keys] == [bytes([n]) * 10 for n in range(3)]
