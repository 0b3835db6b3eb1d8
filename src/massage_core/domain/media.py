"""Therapist photos and videos: what may be uploaded, and their moderation.

A medium is ``pending`` when uploaded and becomes ``approved`` or ``rejected``
(with a reason) by a vetter; only approved media of a visible therapist are
public.  The declared content type must be allowed for the kind, match the
file's leading bytes, and the size and the number of live (pending or
approved) media per therapist are limited.
"""

from __future__ import annotations

import enum
import hashlib

import attrs
from attrs import frozen

from massage_core.domain.errors import InvalidTransition, ValidationError
from massage_core.domain.ids import AccountId, MediumId
from massage_core.domain.time import Instant


class MediaKind(enum.StrEnum):
    PHOTO = "photo"
    VIDEO = "video"


class MediaStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


def media_rules() -> dict[MediaKind, tuple[frozenset[str], int, int]]:
    """Per kind: allowed content types, the largest size in bytes, and how many live media a therapist may have."""
    return {
        MediaKind.PHOTO: (frozenset({"image/jpeg", "image/png", "image/webp"}), 10 * 1024 * 1024, 9),
        MediaKind.VIDEO: (frozenset({"video/mp4", "video/quicktime"}), 200 * 1024 * 1024, 3),
    }


def sniff(data: bytes) -> str | None:
    """The content type the leading bytes show (JPEG, PNG, WebP, MP4/QuickTime), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:10] == b"qt" else "video/mp4"
    return None


def check_file(kind: object, content_type: object, data: object) -> tuple[MediaKind, str]:
    """Validate an upload's kind, declared type, size and leading bytes; return (kind, content type)."""
    try:
        parsed = MediaKind(str(kind))
    except ValueError:
        raise ValidationError("kind must be photo or video", code="media.kind", field="kind") from None
    types, max_size, _ = media_rules()[parsed]
    if not isinstance(content_type, str) or content_type.lower() not in types:
        raise ValidationError(f"a {parsed} must be one of {', '.join(sorted(types))}", code="media.content_type",
                              field="content_type")
    if not isinstance(data, bytes) or not data:
        raise ValidationError("the file is empty", code="media.size", field="data")
    if len(data) > max_size:
        raise ValidationError(f"a {parsed} may be at most {max_size // (1024 * 1024)} MiB", code="media.size",
                              field="data")
    declared = content_type.lower()
    found = sniff(data)
    if found != declared and not (found in ("video/mp4", "video/quicktime") and declared.startswith("video/")):
        raise ValidationError(f"the file is not {declared}", code="media.content_mismatch", field="data")
    return parsed, declared


def check_count(kind: MediaKind, live: int) -> None:
    """Refuse (``media.count``) when the therapist already has the most live media of ``kind`` allowed."""
    limit = media_rules()[kind][2]
    if live >= limit:
        raise ValidationError(f"at most {limit} {kind}s (pending or approved)", code="media.count", field="kind")


@frozen
class Medium:
    """One uploaded photo or video; the bytes live in the MediaStore under ``id``."""

    id: MediumId
    therapist_id: AccountId
    kind: MediaKind
    content_type: str
    size_bytes: int
    sha256: str
    created_at: Instant
    status: MediaStatus = MediaStatus.PENDING
    reviewed_by: str = ""
    reviewed_at: Instant | None = None
    rejection_reason: str = ""
    version: int = 0

    @classmethod
    def upload(cls, medium_id: MediumId, therapist_id: AccountId, kind: MediaKind, content_type: str, data: bytes,
               now: Instant) -> Medium:
        """A pending medium for already validated ``data`` (see ``check_upload``)."""
        return cls(medium_id, therapist_id, kind, content_type, len(data), hashlib.sha256(data).hexdigest(), now)

    def _review(self, action: str, status: MediaStatus, reviewer: str, now: Instant, reason: str = "") -> Medium:
        if self.status is not MediaStatus.PENDING:
            raise InvalidTransition(self.status.value, action, [])
        return attrs.evolve(self, status=status, reviewed_by=reviewer, reviewed_at=now, rejection_reason=reason)

    def approve(self, reviewer: str, now: Instant) -> Medium:
        """pending -> approved; InvalidTransition otherwise."""
        return self._review("approve", MediaStatus.APPROVED, reviewer, now)

    def reject(self, reason: object, reviewer: str, now: Instant) -> Medium:
        """pending -> rejected with a reason of 1..200 characters; InvalidTransition otherwise."""
        if not isinstance(reason, str) or not 1 <= len(reason.strip()) <= 200:
            raise ValidationError("a rejection needs a reason (1..200 characters)", code="media.reason",
                                  field="reason")
        return self._review("reject", MediaStatus.REJECTED, reviewer, now, reason.strip())
