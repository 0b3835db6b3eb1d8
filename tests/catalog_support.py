"""Builders of catalogue and therapist objects for the storage and service tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from massage_core.domain.catalog import Category, Contraindication, Package, Service, TherapistLevel
from massage_core.domain.ids import AccountId, CategoryId, PackageId, ServiceId
from massage_core.domain.money import Money
from massage_core.domain.therapist_values import Certificate, Gender, ServiceArea
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.time import Instant
from storage_support import T0, new_id, resident_id, unique


def make_level(code: str | None = None, rank: int | None = None, name: str = "Senior") -> TherapistLevel:
    """A level with a fresh code and rank unless given."""
    n = unique()
    return TherapistLevel(code or f"level_{n}", name, rank if rank is not None else n % 100 + 1)


def make_category(*, at: Instant = T0, **changes: Any) -> Category:
    """A category with a fresh name."""
    values: dict[str, Any] = {"id": CategoryId(new_id("category")), "created_at": at,
                              "name": f"全身按摩 {unique()}", "description": "Full body"}
    values.update(changes)
    return Category(**values)


def make_service(category_id: str, levels: dict[str, int], *, at: Instant = T0, **changes: Any) -> Service:
    """A 60-minute service of ``category_id`` priced per level (fen)."""
    values: dict[str, Any] = {
        "id": ServiceId(new_id("service")), "created_at": at, "category_id": CategoryId(category_id),
        "name": f"Swedish massage {unique()}", "duration_minutes": 60,
        "prices": {code: Money(fen) for code, fen in levels.items()}, "description": "Relaxing oil massage",
        "contraindications": frozenset({Contraindication.PREGNANCY, Contraindication.SKIN_INFECTION}),
    }
    values.update(changes)
    return Service(**values)


def make_package(service_id: str, *, at: Instant = T0, **changes: Any) -> Package:
    """Five sessions for 900 yuan, valid 180 days."""
    values: dict[str, Any] = {"id": PackageId(new_id("package")), "created_at": at, "service_id": ServiceId(service_id),
                              "name": f"Five sessions {unique()}", "sessions": 5, "price": Money.yuan(900),
                              "validity_days": 180}
    values.update(changes)
    return Package(**values)


def certificate(expires_on: dt.date = dt.date(2030, 6, 30), number: str | None = None) -> Certificate:
    """A massage therapist certificate valid until ``expires_on``."""
    return Certificate("人力资源和社会保障部", number or f"CERT-{unique():06d}", expires_on)


def make_profile(account_id: str, *, at: Instant = T0, **changes: Any) -> TherapistProfile:
    """A registered draft profile of ``account_id`` (born 1990), events cleared."""
    values: dict[str, Any] = {
        "real_name": "王小红", "id_number": resident_id(), "gender": Gender.FEMALE, "years_experience": 6,
        "area": ServiceArea(39.9042, 116.4074, 8), "certificates": (certificate(),),
        "specialties": ("推拿", "aromatherapy"), "bio": "Six years in a Beijing spa.",
    }
    values.update(changes)
    return TherapistProfile.register(AccountId(account_id), at, **values).clear_events()
