"""The catalogue and therapist chapter of ``massage demo``: set up a catalogue, vet a therapist, show them.

Rerunnable on the same database: levels are upserted, the category and
services are found by name when they exist, and every run onboards a new
therapist with a fresh phone number and ID number.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pendulum

from massage_core.adapters.memory.sms import SandboxCodeSender
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.contact import PhoneNumber
from massage_core.domain.identity_documents import check_digit
from massage_core.domain.money import Money

LEVELS = (("junior", "Junior therapist", 10), ("senior", "Senior therapist", 20), ("expert", "Expert", 30))
CATEGORY = "全身按摩 Full body"
SERVICES = (("中式推拿 Tuina", 60, {"junior": 19_800, "senior": 25_800, "expert": 39_800}, ["hypertension"]),
            ("精油 SPA Aromatherapy", 90, {"junior": 29_800, "senior": 36_800, "expert": 49_800},
             ["pregnancy", "skin_infection"]))


def _catalogue(platform: Platform, admin: Actor, say: Callable[[str, str], None]) -> list[str]:
    catalog = platform.catalog
    for code, name, rank in LEVELS:
        catalog.define_level(admin, code, name, rank)
    category = next((c for c in catalog.categories(admin, include_inactive=True) if c.name == CATEGORY), None)
    if category is None:
        category = catalog.add_category(admin, CATEGORY, "Whole-body treatments at home")
    if not category.active:
        category = catalog.update_category(admin, category.id, active=True)
    existing = {s.name: s for s in catalog.services(admin, category=category.id, include_inactive=True)}
    ids: list[str] = []
    for name, minutes, prices, contraindications in SERVICES:
        service = existing.get(name)
        if service is None:
            service = catalog.add_service(admin, category.id, name, minutes, prices,
                                          contraindications=contraindications)
        ids.append(service.id)
    say("catalogue", f"levels {', '.join(c for c, _, _ in LEVELS)}; category {CATEGORY!r} with "
        f"{len(ids)} services, e.g. {SERVICES[0][0]} 60 min: " +
        ", ".join(f"{code} {Money(fen)}" for code, fen in SERVICES[0][2].items()))
    if not catalog.packages(admin, service=ids[0], include_inactive=True):
        catalog.add_package(admin, ids[0], "Tuina x5", 5, Money.yuan(1180), 180)
    return ids


def therapist_story(platform: Platform, admin: Actor, sms: SandboxCodeSender,
                    say: Callable[[str, str], None]) -> tuple[Actor, str]:
    """Admin sets up the catalogue; a therapist registers, is vetted through every step, and goes public.

    Returns the vetted therapist (as she acts now) and the Tuina service id, for the orders chapter."""
    services = _catalogue(platform, admin, say)
    phone = f"138 {secrets.randbelow(10**4):04d} {secrets.randbelow(10**4):04d}"
    platform.accounts.request_login_code(phone)
    login = platform.accounts.login_with_code(phone, sms.last_code_for(PhoneNumber.parse(phone)) or "")
    body = f"310104199{secrets.randbelow(10)}0{1 + secrets.randbelow(9)}1{secrets.randbelow(10)}" \
           f"{secrets.randbelow(990):03d}"
    p = platform.therapists
    p.register(login.actor, login.account_id, real_name="陈静", id_number=body + check_digit(body), gender="female",
               years_experience=7, area={"lat": 31.2304, "lng": 121.4737, "radius_km": 8},
               certificates=[{"issuer": "上海市人力资源和社会保障局",
                              "number": f"SH-{secrets.randbelow(10**6):06d}", "expires_on": "2029-06-30"}],
               specialties=["推拿", "aromatherapy"], bio="Seven years at a Shanghai wellness centre.",
               services=services)
    view = p.submit(login.actor, login.account_id)
    say("therapist", f"Chen Jing registered as a therapist ({login.account_id}) and submitted her profile: "
        f"{view.state}")
    p.start_review(admin, login.account_id)
    p.accept_documents(admin, login.account_id)
    view = p.run_background_check(admin, login.account_id)
    say("vetting", f"documents accepted; background check {view.background_outcome} "
        f"(ref {view.background_reference}) -> {view.state}")
    view = p.record_skill_test(admin, login.account_id, score=88, pass_mark=70)
    p.set_level(admin, login.account_id, "senior")
    say("vetting", f"skill test 88/70 -> {view.state}, certified badge; level senior; every step is in the audit log")
    card = p.public_profile(Actor.anonymous(), login.account_id)
    tuina = platform.catalog.service(Actor.anonymous(), services[0])
    say("public", f"customers now see {card.name} ({card.gender}, {card.years_experience} years, {card.level}) "
        f"near ({card.area_lat}, {card.area_lng}); {tuina.name} with her costs {tuina.price_for(card.level or '')}")
    say("public", f"{len(p.list_public(Actor.anonymous(), limit=500))} therapists are visible in the directory")
    return _schedule_and_search(platform, login.token, login.account_id, services[0], say), services[0]


def _schedule_and_search(platform: Platform, token: str, therapist_id: str, service: str,
                         say: Callable[[str, str], None]) -> Actor:
    """The therapist publishes weekly hours; a customer near People's Square searches and finds her."""
    me = platform.accounts.authenticate(token)  # the therapist role came with the approval
    week = {day: [("09:00", "13:00"), ("14:00", "21:00")] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
    platform.schedules.set_weekly_hours(me, therapist_id, week)
    platform.schedules.set_online(me, therapist_id, True)
    say("schedule", "Chen Jing works Mon-Sat 09:00-13:00 and 14:00-21:00 (Asia/Shanghai) and is online")
    tomorrow = pendulum.now("Asia/Shanghai").add(days=1)
    at = tomorrow.at(15) if tomorrow.day_of_week != pendulum.SUNDAY else tomorrow.add(days=1).at(15)
    page = platform.search.therapists(Actor.anonymous(), lat=31.2400, lng=121.4800, radius_km=5, service=service,
                                      free_at=at, sort="distance", limit=100)
    found = next((r for r in page.results if r.therapist.id == therapist_id), None)
    where = f"{found.distance_m} m away, {found.price} for 60 min" if found else "not found (unexpected)"
    say("search", f"a customer 1.2 km north-east asks who offers Tuina within 5 km, free at {at:%a %H:%M}: "
        f"{page.total} therapist(s); Chen Jing is {where}")
    return me
