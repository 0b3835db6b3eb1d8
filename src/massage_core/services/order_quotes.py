"""Who may be booked for what, where and when, and the price: the checks behind ``orders.quote`` and ``book``.

Checks, in this order, so a request always fails with the same code (decision 0019):

1. input: an aware ``start`` (``time.naive``), a known zone (``time.zone``), coordinates (``pricing.point``),
   the gender preference (``therapist.gender``), the declared conditions (``catalog.contraindication``);
2. the start: in the future (ValidationError ``order.start_in_past``) and at least the scheduling policy's
   minimum notice ahead (ValidationError ``order.too_soon``);
3. the service exists and is offered (active, in an active category): NotFound ``service`` otherwise;
4. the therapist is public (approved, active, not suspended, active account): NotFound ``therapist``;
5. the therapist offers the service (ValidationError ``order.service_not_offered``), has the preferred gender
   (ValidationError ``order.gender_mismatch``: a hard constraint) and covers the address within the service
   area's radius, boundary included (ValidationError ``order.outside_area``);
6. the service is not contraindicated by a declared condition (ValidationError ``order.contraindicated``,
   naming the conditions);
7. the price (``Quote.compute``: ``pricing.no_price`` when the therapist's level has no price, ``pricing.tip``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from attrs import frozen

from massage_core.domain.catalog import Service as CatalogService
from massage_core.domain.catalog import contraindications
from massage_core.domain.errors import NotFound, ValidationError
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.intervals import Interval
from massage_core.domain.pricing import GeoPoint, PricingPolicy, distance_m
from massage_core.domain.quotes import Quote
from massage_core.domain.schedules import SchedulingPolicy
from massage_core.domain.therapist_values import gender
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.time import Instant, utc, zone
from massage_core.ports.unit_of_work import UnitOfWork


@frozen
class BookingRequest:
    """A customer's validated request: who, what, when, where, the tip and the hard constraints."""

    therapist_id: AccountId
    service_id: ServiceId
    start: Instant
    point: GeoPoint
    zone: str
    tip: int
    therapist_gender: str | None
    conditions: frozenset[str]

    @classmethod
    def parse(cls, therapist_id: AccountId, service_id: ServiceId, start: dt.datetime, lat: float, lng: float,
              zone_name: str, tip: int, therapist_gender: str | None, conditions: Sequence[str]) -> BookingRequest:
        """Validate the input (step 1 of the module docstring)."""
        at = utc(start)
        zone(zone_name)
        wanted = gender(therapist_gender).value if therapist_gender is not None else None
        declared = frozenset(c.value for c in contraindications(conditions))
        return cls(therapist_id, service_id, at, GeoPoint(lat, lng), zone_name, tip, wanted, declared)


@frozen
class Priced:
    """The outcome of the checks: the quote, the visit's interval, the service and the therapist."""

    quote: Quote
    interval: Interval
    service: CatalogService
    therapist: TherapistProfile


def price(uow: UnitOfWork, request: BookingRequest, now: Instant, pricing: PricingPolicy,
          scheduling: SchedulingPolicy) -> Priced:
    """Run steps 2..7 of the module docstring inside ``uow``; see there for the errors."""
    if request.start <= now:
        raise ValidationError("the visit must start in the future", code="order.start_in_past", field="start")
    if request.start < now + dt.timedelta(minutes=scheduling.min_notice_minutes):
        raise ValidationError(f"bookings need {scheduling.min_notice_minutes} minutes' notice", code="order.too_soon",
                              field="start")
    service = uow.catalog_services.get(request.service_id)
    if not service.active or not uow.categories.get(service.category_id).active:
        raise NotFound("service", request.service_id)
    profile = uow.therapists.find(request.therapist_id)
    if profile is None or not profile.is_public or not uow.accounts.get(request.therapist_id).is_active:
        raise NotFound("therapist", request.therapist_id)
    if service.id not in profile.services:
        raise ValidationError("the therapist does not offer this service", code="order.service_not_offered",
                              field="service")
    if request.therapist_gender is not None and profile.gender.value != request.therapist_gender:
        raise ValidationError("the therapist is not of the preferred gender", code="order.gender_mismatch",
                              field="therapist_gender")
    if distance_m(profile.area, request.point) > profile.area.radius_km * 1000:
        raise ValidationError("the address is outside the therapist's service area", code="order.outside_area",
                              field="lat")
    clash = sorted(c.value for c in service.contraindications if c.value in request.conditions)
    if clash:
        raise ValidationError(f"{service.name} is contraindicated by: {', '.join(clash)}",
                              code="order.contraindicated", field="conditions")
    if profile.level is None:
        raise ValidationError("the therapist has no level, so no price", code="pricing.no_price", field="level")
    quote = Quote.compute(service=service, level=profile.level, customer_point=request.point,
                          therapist_point=profile.area, start=request.start, customer_zone=request.zone,
                          policy=pricing, now=now, tip=request.tip)
    interval = Interval(request.start, request.start + dt.timedelta(minutes=service.duration_minutes))
    return Priced(quote, interval, service, profile)
