"""Helpers for the catalogue and therapist service tests: a small catalogue, ID numbers, registration."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from attrs import define, field

from conftest import Kit, Person
from massage_core.domain.identity_documents import check_digit
from massage_core.domain.vetting import BackgroundOutcome
from massage_core.ports.background_check import BackgroundCheck, BackgroundCheckReport, BackgroundCheckRequest
from massage_core.services.therapist_views import TherapistView

_sequence = itertools.count(1)


def id_number(born: dt.date = dt.date(1990, 3, 7), sequence: int | None = None, region: str = "110101") -> str:
    """A valid resident ID number; the sandbox background check clears sequences below 990."""
    seq = next(_sequence) % 990 if sequence is None else sequence
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + check_digit(body)


def flagged_id_number() -> str:
    """An ID number the sandbox background check flags (sequence 990..999)."""
    return id_number(sequence=990 + next(_sequence) % 10)


def cert(expires_on: str = "2030-06-30", number: str | None = None) -> dict[str, Any]:
    return {"issuer": "人力资源和社会保障部", "number": number or f"ZY-{next(_sequence):06d}", "expires_on": expires_on}


@define
class Catalogue:
    """What ``catalogue`` set up."""

    category: str
    service: str
    other_service: str
    levels: tuple[str, ...] = ("junior", "senior", "expert")


def catalogue(kit: Kit) -> Catalogue:
    """Three levels, a category and two services, set up by the superadmin."""
    root = kit.superadmin().actor
    catalog = kit.platform.catalog
    for rank, code in enumerate(("junior", "senior", "expert"), start=1):
        catalog.define_level(root, code, code.title(), rank * 10)
    category = catalog.add_category(root, "全身按摩", "Full body")
    prices = {"junior": 19_800, "senior": 25_800, "expert": 39_800}
    one = catalog.add_service(root, category.id, "中式推拿", 60, prices, contraindications=["pregnancy"])
    two = catalog.add_service(root, category.id, "Aromatherapy", 90, prices)
    return Catalogue(category.id, one.id, two.id)


def registration(shop: Catalogue, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments of a valid ``therapists.register`` call."""
    values: dict[str, Any] = {
        "real_name": "王小红", "id_number": id_number(), "gender": "female", "years_experience": 6,
        "area": {"lat": 39.9042, "lng": 116.4074, "radius_km": 8}, "certificates": [cert()],
        "specialties": ["推拿", "aromatherapy"], "bio": "Six years in a Beijing spa.", "services": [shop.service],
    }
    values.update(overrides)
    return values


def register(kit: Kit, shop: Catalogue, person: Person | None = None, **overrides: Any) -> tuple[Person, TherapistView]:
    """A customer (new unless given) with a draft therapist profile."""
    person = person or kit.customer_by_phone()
    view = kit.platform.therapists.register(person.actor, person.account_id, **registration(shop, **overrides))
    return person, view


@define
class ScriptedBackgroundCheck(BackgroundCheck):
    """A background check whose next outcome the test decides."""

    outcome: BackgroundOutcome = BackgroundOutcome.CLEAR
    requests: list[BackgroundCheckRequest] = field(factory=list)

    def check(self, request: BackgroundCheckRequest) -> BackgroundCheckReport:
        self.requests.append(request)
        details = "scripted finding" if self.outcome is BackgroundOutcome.FLAGGED else ""
        return BackgroundCheckReport(f"scripted-{len(self.requests)}", self.outcome, details)
