"""Builders for the catalogue and therapist cells of the access matrix (``test_access_matrix.MATRIX``).

Each takes a matrix ``Cell`` and returns ``(function, args, kwargs)``; set-up
steps run as the system or the object's owner, so only the call under test
acts as the cell's actor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from massage_core.domain.access import Actor
from therapist_kit import Catalogue, catalogue, cert, registration

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
SYSTEM = Actor.system()
STEPS = ("submitted", "document_review", "background_check", "skill_test", "approved")


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    return fn, args, kwargs


def shop(c: Any) -> Catalogue:
    """The cell's catalogue (made once per cell)."""
    if not hasattr(c, "shop"):
        c.shop = catalogue(c.kit)
    return c.shop  # type: ignore[no-any-return]


def profile_for(c: Any, state: str = "draft", *, expires_on: str = "2030-06-30") -> str:
    """Give the cell's target (own, or the other customer) a profile in ``state``; return its id."""
    person = c.me if c.scope == "own" else c.other
    p = c.kit.platform.therapists
    p.register(person.actor, person.account_id, **registration(shop(c), certificates=[cert(expires_on)]))
    steps: list[Callable[[], Any]] = [
        lambda: p.submit(person.actor, person.account_id),
        lambda: p.start_review(SYSTEM, person.account_id),
        lambda: p.accept_documents(SYSTEM, person.account_id),
        lambda: p.run_background_check(SYSTEM, person.account_id),
        lambda: p.record_skill_test(SYSTEM, person.account_id, score=90, pass_mark=70),
    ]
    if state != "draft":
        for step in steps[: STEPS.index(state) + 1]:
            step()
    return str(person.account_id)


# -- catalogue --------------------------------------------------------------------------------------------


def update_category(c: Any) -> Call:
    return _call(c.p.catalog.update_category, c.actor, shop(c).category, description="Whole body")


def add_service(c: Any) -> Call:
    return _call(c.p.catalog.add_service, c.actor, shop(c).category, "Foot", 45, {"junior": 9_800})


def update_service(c: Any) -> Call:
    return _call(c.p.catalog.update_service, c.actor, shop(c).service, name="Renamed")


def service(c: Any) -> Call:
    return _call(c.p.catalog.service, c.actor, shop(c).service)


def add_package(c: Any) -> Call:
    return _call(c.p.catalog.add_package, c.actor, shop(c).service, "Five", 5, 90_000, 180)


def update_package(c: Any) -> Call:
    package = c.p.catalog.add_package(SYSTEM, shop(c).service, "Five", 5, 90_000, 180)
    return _call(c.p.catalog.update_package, c.actor, package.id, validity_days=365)


# -- a therapist's own profile (scoped: own / other) ---------------------------------------------------------


def register(c: Any) -> Call:
    return _call(c.p.therapists.register, c.actor, c.target, **registration(shop(c)))


def own(method: str, **kwargs: Any) -> Callable[[Any], Call]:
    """A call of ``therapists.<method>(actor, target, **kwargs)`` on an existing draft profile of the target."""
    def build(c: Any) -> Call:
        return _call(getattr(c.p.therapists, method), c.actor, profile_for(c), **kwargs)
    return build


# -- admin steps on the other customer's profile ---------------------------------------------------------


def on_other(method: str, state: str, *args: Any, **kwargs: Any) -> Callable[[Any], Call]:
    """``therapists.<method>(actor, other, *args)`` once the other customer's profile is in ``state``."""
    def build(c: Any) -> Call:
        return _call(getattr(c.p.therapists, method), c.actor, profile_for(c, state), *args, **kwargs)
    return build


def reinstate(c: Any) -> Call:
    target = profile_for(c)
    c.p.therapists.suspend(SYSTEM, target, "to be lifted")
    return _call(c.p.therapists.reinstate, c.actor, target)


def restore_badge(c: Any) -> Call:
    target = profile_for(c, "approved", expires_on="2026-02-01")
    c.kit.clock.set(dt.datetime(2026, 2, 2, 4, 0, tzinfo=dt.UTC))
    c.p.therapists.suspend_expired_badges(SYSTEM)
    c.p.therapists.update_profile(c.other.actor, target, certificates=[cert("2031-01-01")])
    return _call(c.p.therapists.restore_badge, c.actor, target)


# -- media ----------------------------------------------------------------------------------------------------

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def upload(c: Any) -> Call:
    return _call(c.p.media.upload, c.actor, profile_for(c), "photo", "image/jpeg", JPEG)


def others_medium(c: Any, state: str = "draft", *, approved: bool = False) -> str:
    """A photo uploaded by the other customer (with a profile in ``state``); approved by the system if asked."""
    target = profile_for(c, state)
    medium = c.p.media.upload(c.other.actor, target, "photo", "image/jpeg", JPEG)
    if approved:
        c.p.media.approve(SYSTEM, medium.id)
    return str(medium.id)


def review(method: str, *args: Any) -> Callable[[Any], Call]:
    def build(c: Any) -> Call:
        return _call(getattr(c.p.media, method), c.actor, others_medium(c), *args)
    return build


def content(c: Any) -> Call:
    return _call(c.p.media.content, c.actor, others_medium(c, "approved", approved=True))
