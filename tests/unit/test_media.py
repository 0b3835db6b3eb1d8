"""Therapist photos and videos: validated uploads, moderation, and what is public."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Kit, Person
from massage_core.adapters.memory.media import MemoryMediaStore
from massage_core.domain.access import Actor
from massage_core.domain.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from therapist_kit import Catalogue, catalogue, register

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 100
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100
MOV = b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 100


@pytest.fixture
def shop(kit: Kit) -> Catalogue:
    return catalogue(kit)


@pytest.fixture
def therapist(kit: Kit, shop: Catalogue) -> Person:
    person, _ = register(kit, shop)
    return person


def store(kit: Kit) -> MemoryMediaStore:
    media_store = kit.platform.deps.media_store
    assert isinstance(media_store, MemoryMediaStore)
    return media_store


def approve_profile(kit: Kit, person: Person) -> None:
    p, vetter = kit.platform.therapists, kit.support().actor
    p.submit(person.actor, person.account_id)
    p.start_review(vetter, person.account_id)
    p.accept_documents(vetter, person.account_id)
    p.run_background_check(vetter, person.account_id)
    p.record_skill_test(vetter, person.account_id, score=90, pass_mark=60)


@pytest.mark.parametrize(("kind", "content_type", "data"), [
    ("photo", "image/jpeg", JPEG), ("photo", "image/png", PNG), ("photo", "IMAGE/WEBP", WEBP),
    ("video", "video/mp4", MP4), ("video", "video/quicktime", MOV),
])
def test_accepted_uploads_are_pending_and_stored(kit: Kit, therapist: Person, kind: str, content_type: str,
                                                 data: bytes) -> None:
    view = kit.platform.media.upload(therapist.actor, therapist.account_id, kind, content_type, data)
    assert (view.status, view.kind, view.size_bytes) == ("pending", kind, len(data))
    assert store(kit).blobs[view.id] == data
    assert kit.audit_entries()[-1].action == "media.upload"


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("kind", {"kind": "audio"}, "media.kind"),
    ("type for the kind", {"content_type": "video/mp4"}, "media.content_type"),
    ("gif", {"content_type": "image/gif"}, "media.content_type"),
    ("empty", {"data": b""}, "media.size"),
    ("too large", {"data": JPEG + b"\x00" * (10 * 1024 * 1024)}, "media.size"),
    ("png called jpeg", {"data": PNG}, "media.content_mismatch"),
    ("not an image", {"data": b"#!/bin/sh\nrm -rf /\n"}, "media.content_mismatch"),
    ("not bytes", {"data": "text"}, "media.size"),
]


@pytest.mark.parametrize(("change", "code"), [pytest.param(c, code, id=name) for name, c, code in BAD])
def test_bad_uploads_are_refused_and_change_nothing(kit: Kit, therapist: Person, change: dict[str, Any],
                                                   code: str) -> None:
    args: dict[str, Any] = {"kind": "photo", "content_type": "image/jpeg", "data": JPEG}
    args.update(change)
    with pytest.raises(ValidationError) as err:
        kit.platform.media.upload(therapist.actor, therapist.account_id, **args)
    assert err.value.code == code
    assert kit.tables.media == {} and store(kit).blobs == {}


def test_at_most_three_live_videos_and_rejected_ones_free_a_place(kit: Kit, therapist: Person) -> None:
    media, vetter = kit.platform.media, kit.support().actor
    videos = [media.upload(therapist.actor, therapist.account_id, "video", "video/mp4", MP4) for _ in range(3)]
    with pytest.raises(ValidationError) as err:
        media.upload(therapist.actor, therapist.account_id, "video", "video/mp4", MP4)
    assert err.value.code == "media.count"
    media.reject(vetter, videos[0].id, "shows a hotel room")
    media.upload(therapist.actor, therapist.account_id, "video", "video/mp4", MP4)


def test_only_approved_media_of_visible_therapists_are_public(kit: Kit, therapist: Person) -> None:
    media, vetter, anonymous = kit.platform.media, kit.support().actor, Actor.anonymous()
    shown = media.upload(therapist.actor, therapist.account_id, "photo", "image/jpeg", JPEG)
    hidden = media.upload(therapist.actor, therapist.account_id, "photo", "image/png", PNG)
    assert [m.id for m in media.pending(vetter)] == [shown.id, hidden.id]
    media.approve(vetter, shown.id)
    media.reject(vetter, hidden.id, "blurred")
    with pytest.raises(InvalidTransition):
        media.approve(vetter, hidden.id)
    with pytest.raises(NotFound):  # approved media, but the therapist is not public yet
        media.public_media(anonymous, therapist.account_id)
    with pytest.raises(NotFound):
        media.content(anonymous, shown.id)
    approve_profile(kit, therapist)
    assert [m.id for m in media.public_media(anonymous, therapist.account_id)] == [shown.id]
    assert media.content(anonymous, shown.id) == JPEG
    with pytest.raises(NotFound):
        media.content(anonymous, hidden.id)
    assert media.content(therapist.actor, hidden.id) == PNG
    assert media.content(vetter, hidden.id) == PNG
    kit.platform.therapists.suspend(vetter, therapist.account_id, "complaint")
    with pytest.raises(NotFound):
        media.content(anonymous, shown.id)
    assert [m.status for m in media.media_of(therapist.actor, therapist.account_id)] == ["approved", "rejected"]


def test_ownership_and_roles(kit: Kit, shop: Catalogue, therapist: Person) -> None:
    media = kit.platform.media
    stranger = kit.customer_by_phone()
    with pytest.raises(NotFound):
        media.upload(stranger.actor, therapist.account_id, "photo", "image/jpeg", JPEG)
    with pytest.raises(NotFound):  # no profile of their own
        media.upload(stranger.actor, stranger.account_id, "photo", "image/jpeg", JPEG)
    with pytest.raises(NotFound):
        media.media_of(stranger.actor, therapist.account_id)
    upload = media.upload(therapist.actor, therapist.account_id, "photo", "image/jpeg", JPEG)
    with pytest.raises(PermissionDenied):
        media.approve(stranger.actor, upload.id)
    with pytest.raises(PermissionDenied):
        media.pending(kit.auditor().actor)
    kit.with_roles(therapist, ["customer", "admin"], ["support"])
    with pytest.raises(Conflict) as own:
        media.approve(therapist.actor, upload.id)
    assert own.value.code == "therapist.self"
    assert len(media.media_of(kit.auditor().actor, therapist.account_id)) == 1


def test_a_failed_commit_leaves_no_file_behind(kit: Kit, therapist: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    from massage_core.adapters.memory.uow import MemoryUnitOfWork

    def refuse(self: MemoryUnitOfWork) -> None:
        raise Conflict("the database refused", code="conflict.busy")

    monkeypatch.setattr(MemoryUnitOfWork, "_commit", refuse)
    with pytest.raises(Conflict):
        kit.platform.media.upload(therapist.actor, therapist.account_id, "photo", "image/jpeg", JPEG)
    monkeypatch.undo()
    assert store(kit).blobs == {} and kit.tables.media == {}
