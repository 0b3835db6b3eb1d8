"""Who may be booked for what, where and when, and the price: the checks behind ``orders.quote`` and ``book``.

Checks, in this order, so a request always fails with the same code (decisions 0019, 0024):

1. input: an aware ``start`` (``time.naive``), a known zone (``time.zone``), coordinates (``pricing.point``),
   the address line (``order.address``), the gender preference (``therapist.gender``), the declared
   conditions (``catalog.contraindication``);
2. the start: in the future (ValidationError ``order.start_in_past``) and at least the scheduling policy's
   minimum notice ahead (ValidationError ``order.too_soon``);
3. the service exists and is offered (active, in an active category): NotFound ``service`` otherwise;
4. the service is not contraindicated by a condition declared with the request or in the customer's profile
   (ValidationError ``order.contraindicated``, naming the conditions);
5. the coupon, when given, exists (NotFound ``coupon``);
6. per therapist: public (approved, active, not suspended, active account: NotFound ``therapist``), offers
   the service (ValidationError ``order.service_not_offered``), has the preferred gender (ValidationError
   ``order.gender_mismatch``: a hard constraint), covers the address within the service area's radius,
   boundary included (ValidationError ``order.outside_area``), has a level (``pricing.no_price``);
7. the price (``Quote.compute``: ``pricing.no_price``, ``pricing.tip``, and the coupon's ``coupon.*`` rules).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from attrs import frozen

from massage_core.domain.accounts import AccountStatus
from massage_core.domain.catalog import Service as CatalogService
from massage_core.domain.catalog import contraindications
from massage_core.domain.coupons import Coupon
from massage_core.domain.errors import NotFound, ValidationError
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.intervals import Interval
from massage_core.domain.pricing import PricingPolicy, distance_m
from massage_core.domain.quotes import Quote
from massage_core.domain.schedules import SchedulingPolicy
from massage_core.domain.therapist_values import gender
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.time import Instant, utc, zone
from massage_core.domain.visit_address import VisitAddress
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.coupons import find_coupon


@frozen
class BookingRequest:
    """A customer's validated request: what, when, where, the tip, the coupon and the hard constraints."""

    service_id: ServiceId
    start: Instant
    address: VisitAddress
    zone: str
    tip: int
    therapist_gender: str | None
    conditions: frozenset[str]
    coupon: str | None = None

    @classmethod
    def parse(cls, service_id: ServiceId, start: dt.datetime, lat: float, lng: float, line: str, zone_name: str,
              tip: int, therapist_gender: str | None, conditions: Sequence[str],
              coupon: str | None = None) -> BookingRequest:
        """Validate the input (step 1 of the module docstring)."""
        at = utc(start)
        zone(zone_name)
        where = VisitAddress.at(lat, lng, line)
        wanted = gender(therapist_gender).value if therapist_gender is not None else None
        declared = frozenset(c.value for c in contraindications(conditions))
        if coupon is not None and (not isinstance(coupon, str) or not coupon.strip()):
            raise ValidationError("a coupon is a code or a coupon id", code="coupon.code", field="coupon")
        return cls(service_id, at, where, zone_name, tip, wanted, declared, coupon)


@frozen
class Priced:
    """The outcome of the checks for one therapist: the quote, the visit's interval, the service and them."""

    quote: Quote
    interval: Interval
    service: CatalogService
    therapist: TherapistProfile


@frozen
class Offered:
    """Steps 2..5 passed: the service, the visit's interval and the coupon (with the customer's usage)."""

    service: CatalogService
    interval: Interval
    coupon: Coupon | None


def check_offer(uow: UnitOfWork, request: BookingRequest, customer: AccountId | None, now: Instant,
                scheduling: SchedulingPolicy, profile_conditions: frozenset[str] = frozenset()) -> Offered:
    """Steps 2..5 of the module docstring (what does not depend on the therapist)."""
    if request.start <= now:
        raise ValidationError("the visit must start in the future", code="order.start_in_past", field="start")
    if request.start < now + dt.timedelta(minutes=scheduling.min_notice_minutes):
        raise ValidationError(f"bookings need {scheduling.min_notice_minutes} minutes' notice", code="order.too_soon",
                              field="start")
    service = uow.catalog_services.get(request.service_id)
    if not service.active or not uow.categories.get(service.category_id).active:
        raise NotFound("service", request.service_id)
    declared = request.conditions | profile_conditions
    clash = sorted(c.value for c in service.contraindications if c.value in declared)
    if clash:
        raise ValidationError(f"{service.name} is contraindicated by: {', '.join(clash)}",
                              code="order.contraindicated", field="conditions")
    coupon = find_coupon(uow, request.coupon) if request.coupon is not None else None
    interval = Interval(request.start, request.start + dt.timedelta(minutes=service.duration_minutes))
    return Offered(service, interval, coupon)


def check_therapist(uow: UnitOfWork, request: BookingRequest, service: CatalogService,
                    therapist_id: AccountId) -> TherapistProfile:
    """Step 6 of the module docstring: the therapist's profile when they may serve this request."""
    profile = uow.therapists.find(therapist_id)
    if profile is None or not profile.is_public or uow.accounts.status_of(therapist_id) is not AccountStatus.ACTIVE:
        raise NotFound("therapist", therapist_id)
    if service.id not in profile.services:
        raise ValidationError("the therapist does not offer this service", code="order.service_not_offered",
                              field="service")
    if request.therapist_gender is not None and profile.gender.value != request.therapist_gender:
        raise ValidationError("the therapist is not of the preferred gender", code="order.gender_mismatch",
                              field="therapist_gender")
    if distance_m(profile.area, request.address.point) > profile.area.radius_km * 1000:
        raise ValidationError("the address is outside the therapist's service area", code="order.outside_area",
                              field="lat")
    if profile.level is None:
        raise ValidationError("the therapist has no level, so no price", code="pricing.no_price", field="level")
    return profile


def quote_for(uow: UnitOfWork, request: BookingRequest, offered: Offered, profile: TherapistProfile,
              customer: AccountId | None, now: Instant, pricing: PricingPolicy) -> Priced:
    """Step 7: the quote of ``profile`` serving the request (the coupon checked on the customer's usage)."""
    assert profile.level is not None
    usage = uow.coupons.usage(offered.coupon.id, customer) if offered.coupon is not None else None
    quote = Quote.compute(service=offered.service, level=profile.level, customer_point=request.address.point,
                          therapist_point=profile.area, start=request.start, customer_zone=request.zone,
                          policy=pricing, now=now, coupon=offered.coupon, coupon_usage=usage, tip=request.tip)
    return Priced(quote, offered.interval, offered.service, profile)
