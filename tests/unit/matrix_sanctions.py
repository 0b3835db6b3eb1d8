"""Builders for the sanction and quality cells of the access matrix (``test_access_matrix.MATRIX``; decision 0039).

A cell's sanction is imposed by the system on a fresh therapist -- on the acting therapist themselves for
``appeal`` -- and appealed by its therapist where the cell decides an appeal.  ``quality.score`` reads a fresh
therapist with a profile written through the repositories.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog_support import make_profile
from massage_core.domain.access import Actor

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
SYSTEM = Actor.system()
READERS = ("support", "auditor", "superadmin", "system")
"""Who holds ``sanctions.read`` and ``quality.read``."""
MANAGERS = ("support", "superadmin", "system")
"""Who holds ``sanctions.manage``."""
SERVICE = "svc_0000000000000000000000000S"


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    return fn, args, kwargs


def _sanctioned(c: Any, *, appealed: bool = False, on_me: bool = False) -> str:
    person = c.me if on_me else c.kit.therapist()
    made: str = c.p.sanctions.impose(SYSTEM, person.account_id, "warning", "matrix").id
    if appealed:
        c.p.sanctions.appeal(person.actor, made, "matrix appeal")
    return made


def impose(c: Any) -> Call:
    return _call(c.p.sanctions.impose, c.actor, c.kit.therapist().account_id, "warning", "late twice")


def appeal(c: Any) -> Call:
    mine = c.kind == "therapist"
    return _call(c.p.sanctions.appeal, c.actor, _sanctioned(c, on_me=mine), "it was not me")


def decide_appeal(c: Any) -> Call:
    return _call(c.p.sanctions.decide_appeal, c.actor, _sanctioned(c, appealed=True), False, "stands")


def mine(c: Any) -> Call:
    return _call(c.p.sanctions.mine, c.actor)


def of_therapist(c: Any) -> Call:
    therapist = c.kit.therapist().account_id
    c.p.sanctions.impose(SYSTEM, therapist, "warning", "matrix")
    return _call(c.p.sanctions.of_therapist, c.actor, therapist)


def get(c: Any) -> Call:
    return _call(c.p.sanctions.get, c.actor, _sanctioned(c))


def list_all(c: Any) -> Call:
    _sanctioned(c)
    return _call(c.p.sanctions.list, c.actor)


def lift_expired(c: Any) -> Call:
    return _call(c.p.sanctions.lift_expired, c.actor)


def score(c: Any) -> Call:
    therapist = c.kit.therapist().account_id
    with c.p.deps.uow() as uow:
        uow.therapists.add(make_profile(therapist))
        uow.commit()
    return _call(c.p.quality.score, c.actor, therapist)


def ranking(c: Any) -> Call:
    return _call(c.p.quality.ranking, c.actor, "shanghai", SERVICE)
