"""Therapist photos and videos: upload by the therapist, moderation by vetters, public when approved.

The bytes go to the ``MediaStore`` (written before the record is committed,
deleted again if the commit fails); the record goes to the unit of work.
Only approved media of a therapist customers may see are public.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from attrs import frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import Conflict, NotFound, ValidationError
from massage_core.domain.ids import AccountId, MediumId, account_id, medium_id
from massage_core.domain.media import MediaStatus, Medium, check_count, check_file
from massage_core.domain.time import Instant
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Service, not_found, page_bounds


@frozen
class MediumView:
    """A photo or video record (the bytes come from ``MediaService.content``)."""

    id: str
    therapist_id: str
    kind: str
    content_type: str
    size_bytes: int
    sha256: str
    status: str
    created_at: Instant
    reviewed_by: str
    reviewed_at: Instant | None
    rejection_reason: str

    @classmethod
    def of(cls, m: Medium) -> MediumView:
        return cls(m.id, m.therapist_id, m.kind.value, m.content_type, m.size_bytes, m.sha256, m.status.value,
                   m.created_at, m.reviewed_by, m.reviewed_at, m.rejection_reason)



class MediaService(Service):
    """Uploads, moderation and public access; see the module docstring."""

    def _own(self, actor: Actor, action: str) -> AccountId:
        self._require(actor, Permission.OWN_ACCOUNT_MANAGE, action, actor.label)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        return actor.account_id

    @staticmethod
    def _is_public(uow: UnitOfWork, therapist: AccountId) -> bool:
        profile = uow.therapists.find(therapist)
        return profile is not None and profile.is_public and uow.accounts.get(therapist).is_active

    def upload(self, actor: Actor, account: str, kind: str, content_type: str, data: bytes) -> MediumView:
        """A therapist adds a photo or video to their own profile; it is pending until approved. Audited.

        Photos: JPEG, PNG or WebP up to 10 MiB, 9 live per therapist; videos: MP4 or
        QuickTime up to 200 MiB, 3 live.  Raises ValidationError (``media.kind``,
        ``media.content_type``, ``media.size``, ``media.content_mismatch``, ``media.count``),
        NotFound (no profile, or somebody else's account), PermissionDenied.
        """
        target = account_id(account)
        checked_kind, checked_type = check_file(kind, content_type, data)
        own = self._own(actor, "media.upload")
        now = self._now()
        store = self._deps.media_store
        with self._guard(actor, "media.upload", target), self._uow() as uow:
            if target != own:
                raise not_found("therapist", target)
            uow.therapists.get(own)
            check_count(checked_kind, uow.media.count_live(own, checked_kind))
            medium = Medium.upload(MediumId(self._deps.ids.new_id("medium")), own, checked_kind, checked_type,
                                   data, now)
            saved = uow.media.add(medium)
            self._audit_ok(uow, actor, "media.upload", saved.id, now, therapist=own, kind=saved.kind.value,
                           size=str(saved.size_bytes))
            store.put(saved.id, data)
            try:
                uow.commit()
            except BaseException:
                store.delete(saved.id)
                raise
            return MediumView.of(saved)

    def media_of(self, actor: Actor, account: str) -> Sequence[MediumView]:
        """Every medium of a therapist, oldest first: for the owner, or admins with ``therapists.read``
        (audited); NotFound for anybody else."""
        target = account_id(account)
        if not actor.may(Permission.THERAPISTS_READ):
            self._own(actor, "media.media_of")
        with self._guard(actor, "media.media_of", target), self._uow() as uow:
            if not actor.owns(target) and not actor.may(Permission.THERAPISTS_READ):
                raise not_found("therapist", target)
            uow.therapists.get(target)
            views = [MediumView.of(m) for m in uow.media.list_for_therapist(target)]
            if not actor.owns(target):
                self._audit_ok(uow, actor, "media.media_of", target, self._now())
                uow.commit()
            return views

    def pending(self, actor: Actor, *, offset: int = 0, limit: int = 50) -> Sequence[MediumView]:
        """Media waiting for review, oldest first. Raises PermissionDenied without ``therapists.vet``."""
        offset, limit = page_bounds(offset, limit, 500)
        self._require(actor, Permission.THERAPISTS_VET, "media.pending", "media")
        with self._uow() as uow:
            return [MediumView.of(m) for m in uow.media.list_pending(offset=offset, limit=limit)]

    def approve(self, actor: Actor, medium: str) -> MediumView:
        """pending -> approved (public while the therapist is visible). Audited.

        Raises InvalidTransition once reviewed, Conflict (``therapist.self``), NotFound, PermissionDenied.
        """
        return self._review(actor, medium, "approve", lambda m, now: m.approve(actor.label, now))

    def reject(self, actor: Actor, medium: str, reason: str) -> MediumView:
        """pending -> rejected with a reason. Audited.

        Raises ValidationError (``media.reason``), and like ``approve``.
        """
        return self._review(actor, medium, "reject", lambda m, now: m.reject(reason, actor.label, now),
                            reason=str(reason).strip())

    def _review(self, actor: Actor, medium: str, action: str, change: Callable[[Medium, Instant], Medium],
                **details: str) -> MediumView:
        target = medium_id(medium)
        self._require(actor, Permission.THERAPISTS_VET, f"media.{action}", target)
        now = self._now()
        with self._uow() as uow:
            current = uow.media.get(target)
            if actor.owns(current.therapist_id):
                raise Conflict("nobody moderates their own media", code="therapist.self")
            saved = uow.media.save(change(current, now))
            self._audit_ok(uow, actor, f"media.{action}", target, now, therapist=current.therapist_id, **details)
            uow.commit()
            return MediumView.of(saved)

    def public_media(self, actor: Actor, therapist: str) -> Sequence[MediumView]:
        """Approved media of a therapist customers may see, oldest first; NotFound otherwise. Open to everybody."""
        target = account_id(therapist)
        with self._uow() as uow:
            if not self._is_public(uow, target):
                raise NotFound("therapist", target)
            return [MediumView.of(m) for m in uow.media.list_for_therapist(target, status=MediaStatus.APPROVED)]

    def content(self, actor: Actor, medium: str) -> bytes:
        """The bytes of a medium: anybody for an approved medium of a visible therapist; the owner and
        admins with ``therapists.read`` or ``therapists.vet`` for any.  NotFound otherwise."""
        target = medium_id(medium)
        with self._uow() as uow:
            found = uow.media.get(target)
            public = found.status is MediaStatus.APPROVED and self._is_public(uow, found.therapist_id)
            staff = actor.may(Permission.THERAPISTS_READ) or actor.may(Permission.THERAPISTS_VET)
            if not (public or staff or actor.owns(found.therapist_id)):
                raise NotFound("medium", target)
        return self._deps.media_store.get(target)

