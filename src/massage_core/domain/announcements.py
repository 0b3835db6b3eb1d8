"""Announcements and training notices from the platform to its people (issue 7; decision 0044).

An announcement has a kind (a general announcement or a training notice), a title and a text, and an
audience: customers, therapists or both, narrowed for therapists by city (a therapist belongs to the city
of ``Policies.quality.cities`` whose circle holds the centre of their service area, as the rankings do) and
by level.  Customers have no city of their own (their visit addresses are sealed per order), so a city or a
level narrows an audience of therapists only; asking for customers with either is refused.

The audience is resolved to recipients when the announcement is sent (``AudienceMember`` rows, paged);
every recipient gets a receipt row that records when they read it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import NewType

from attrs import field, frozen

from massage_core.domain.access import AdminRole, Role
from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import AccountId, check_id
from massage_core.domain.quality import City
from massage_core.domain.time import Instant

AnnouncementId = NewType("AnnouncementId", str)

TITLE_MAX = 100
TEXT_MAX = 2000
LEVELS_MAX = 10


def announcement_id(raw: object) -> AnnouncementId:
    """Validate and type an announcement id (``ann_`` + 26 base32 characters)."""
    return AnnouncementId(check_id("announcement", raw))


class Kind(enum.StrEnum):
    """What an announcement is."""

    ANNOUNCEMENT = "announcement"
    TRAINING = "training"


class Audience(enum.StrEnum):
    """Whom an announcement is for, by role."""

    CUSTOMERS = "customers"
    THERAPISTS = "therapists"
    BOTH = "both"

    def roles(self) -> frozenset[Role]:
        """The account roles this audience reaches."""
        return {Audience.CUSTOMERS: frozenset({Role.CUSTOMER}), Audience.THERAPISTS: frozenset({Role.THERAPIST}),
                Audience.BOTH: frozenset({Role.CUSTOMER, Role.THERAPIST})}[self]


def kind(value: object) -> Kind:
    """Parse a kind; ValidationError ``announcement.kind`` otherwise."""
    try:
        return Kind(str(value))
    except ValueError:
        raise ValidationError(f"kind must be one of {', '.join(Kind)}", code="announcement.kind") from None


def audience(value: object) -> Audience:
    """Parse an audience; ValidationError ``announcement.audience`` otherwise."""
    try:
        return Audience(str(value))
    except ValueError:
        raise ValidationError(f"audience must be one of {', '.join(Audience)}",
                              code="announcement.audience") from None


def _text(value: object, name: str, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= limit or "\x00" in text or (name == "title" and any(c in text for c in "\r\n")):
        raise ValidationError(f"a {name} of 1..{limit} characters is required", code=f"announcement.{name}",
                              field=name)
    return text


def title_text(value: object) -> str:
    """A title: stripped, one line of 1..100 characters (``announcement.title``)."""
    return _text(value, "title", TITLE_MAX)


def body_text(value: object) -> str:
    """A text: stripped, 1..2000 characters (``announcement.text``)."""
    return _text(value, "text", TEXT_MAX)


def _levels(values: object) -> frozenset[str]:
    if values is None:
        return frozenset()
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValidationError("levels are a collection of level codes", code="announcement.levels")
    found = frozenset(v.strip() for v in values if isinstance(v, str) and v.strip())
    if len(found) > LEVELS_MAX or any(len(v) > 32 for v in found):
        raise ValidationError(f"at most {LEVELS_MAX} level codes", code="announcement.levels")
    return found


@frozen
class Announcement:
    """One announcement as sent: what it says, whom it was for and how many it reached (``targeted``)."""

    id: AnnouncementId
    kind: Kind = field(converter=kind)
    title: str = field(converter=title_text)
    text: str = field(converter=body_text)
    audience: Audience = field(converter=audience)
    city: str | None
    levels: frozenset[str] = field(converter=_levels)
    sent_by: str
    sent_at: Instant
    targeted: int = 0

    def __attrs_post_init__(self) -> None:
        if (self.city is not None or self.levels) and self.audience is not Audience.THERAPISTS:
            raise ValidationError("a city or a level narrows an audience of therapists only",
                                  code="announcement.audience")

    @property
    def event_key(self) -> str:
        """The business key of its outbox messages (``announcement:<id>``)."""
        return f"announcement:{self.id}"


@frozen
class AudienceMember:
    """An active account that may be addressed: its roles and, for a therapist with a profile, the centre of
    their service area and their level."""

    account_id: AccountId
    roles: frozenset[Role]
    lat: float | None = None
    lng: float | None = None
    level: str | None = None


def reaches(member: AudienceMember, audience: Audience, city: City | None, levels: frozenset[str]) -> bool:
    """Whether ``member`` is in the audience: holds one of its roles and, when a city or levels are given
    (therapists only), has a service area centred in the city and one of the levels."""
    if not member.roles & audience.roles():
        return False
    if city is not None and (member.lat is None or member.lng is None or not city.holds(member.lat, member.lng)):
        return False
    return not levels or member.level in levels


@frozen
class Receipt:
    """One recipient of an announcement and when they read it (None: not yet)."""

    announcement_id: AnnouncementId
    account_id: AccountId
    read_at: Instant | None = None


@frozen
class Stats:
    """How an announcement did: recipients targeted, recipients whose in-app message was delivered, and
    recipients who marked it read."""

    announcement_id: AnnouncementId
    targeted: int
    delivered: int
    read: int

    @property
    def unread(self) -> int:
        """Recipients who have not read it."""
        return self.targeted - self.read


@frozen
class StaffMember:
    """An active admin of a sub-role and whether they are on duty now."""

    account_id: AccountId
    admin_roles: frozenset[AdminRole]
    on_duty: bool
