"""Typed identifiers.

Ids are strings ``<prefix>_<26 Crockford base32 chars>`` (a ULID body), so
an id of the wrong kind or a malformed one is refused at the boundary with a
clear error instead of a silent miss.
"""

from __future__ import annotations

import re
from typing import NewType

from massage_core.domain.errors import ValidationError

AccountId = NewType("AccountId", str)
SessionId = NewType("SessionId", str)
LoginRecordId = NewType("LoginRecordId", str)
OneTimeCodeId = NewType("OneTimeCodeId", str)
AuditEntryId = NewType("AuditEntryId", str)
ReservationId = NewType("ReservationId", str)
CategoryId = NewType("CategoryId", str)
ServiceId = NewType("ServiceId", str)
PackageId = NewType("PackageId", str)
MediumId = NewType("MediumId", str)

PREFIXES: dict[str, str] = {
    "account": "acc",
    "session": "ses",
    "login_record": "lgn",
    "one_time_code": "otp",
    "audit_entry": "aud",
    "reservation": "rsv",
    "category": "cat",
    "service": "svc",
    "package": "pkg",
    "medium": "med",
    "order": "ord",
    "coupon": "cpn",
    "invoice": "inv",
    "withdrawal": "wdr",
    "adjustment": "adj",
    "sanction": "snc",
    "review": "rev",
    "complaint": "cmp",
    "feedback": "fbk",
    "announcement": "ann",
    "notification": "ntf",
}

_BODY = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def check_id(kind: str, raw: object) -> str:
    """Return ``raw`` when it is a well-formed id of ``kind``; raise ValidationError otherwise."""
    prefix = PREFIXES[kind]
    if not isinstance(raw, str):
        raise ValidationError(f"{kind} id must be a string", code="invalid_id", field=f"{kind}_id")
    head, sep, body = raw.partition("_")
    if sep != "_" or head != prefix or not _BODY.fullmatch(body):
        raise ValidationError(
            f"malformed {kind} id {raw[:40]!r}: expected {prefix}_ followed by 26 base32 characters",
            code="invalid_id",
            field=f"{kind}_id",
        )
    return raw


def account_id(raw: object) -> AccountId:
    """Validate and type an account id."""
    return AccountId(check_id("account", raw))


def session_id(raw: object) -> SessionId:
    """Validate and type a session id."""
    return SessionId(check_id("session", raw))


def category_id(raw: object) -> CategoryId:
    """Validate and type a catalogue category id."""
    return CategoryId(check_id("category", raw))


def service_id(raw: object) -> ServiceId:
    """Validate and type a catalogue service id."""
    return ServiceId(check_id("service", raw))


def package_id(raw: object) -> PackageId:
    """Validate and type a catalogue package id."""
    return PackageId(check_id("package", raw))


def reservation_id(raw: object) -> ReservationId:
    """Validate and type a reservation id."""
    return ReservationId(check_id("reservation", raw))


def medium_id(raw: object) -> MediumId:
    """Validate and type a therapist medium (photo or video) id."""
    return MediumId(check_id("medium", raw))
