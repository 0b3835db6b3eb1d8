"""Timezone-aware time helpers (pendulum).

Instants are stored and compared in UTC; they are shown in the zone of the
person looking (default Asia/Shanghai).  A naive datetime is refused.
"""

from __future__ import annotations

from datetime import datetime

import pendulum

from massage_core.domain.errors import ValidationError

DEFAULT_ZONE = "Asia/Shanghai"
Instant = pendulum.DateTime


def utc(value: datetime) -> Instant:
    """Return ``value`` as a pendulum DateTime in UTC; refuse naive datetimes."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError("time must be timezone-aware", code="time.naive")
    return pendulum.instance(value).in_timezone("UTC")


def zone(name: str) -> pendulum.Timezone:
    """Return the IANA time zone ``name``; raise ValidationError when unknown."""
    try:
        tz = pendulum.timezone(name)
    except Exception as exc:  # pendulum raises its own InvalidTimezone
        raise ValidationError(f"unknown time zone {name!r}", code="time.zone") from exc
    if not isinstance(tz, pendulum.Timezone):
        raise ValidationError(f"time zone must be an IANA name, not {name!r}", code="time.zone")
    return tz


def local(value: datetime, zone_name: str = DEFAULT_ZONE) -> Instant:
    """Present an instant in the given zone."""
    return utc(value).in_timezone(zone(zone_name))
