"""Builders for the announcement and duty cells of the access matrix (``test_access_matrix.MATRIX``; decision 0044).

An announcement a cell reads is sent by the system to customers and therapists after the cell's people were
made, so the acting customer and therapist are among its recipients and the admins are not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from massage_core.domain.access import Actor

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
SYSTEM = Actor.system()
MANAGERS = ("support", "superadmin", "system")
"""Who holds ``announcements.manage`` and ``support.duty``."""
RECIPIENTS = ("customer", "therapist")
"""Who receives an announcement to ``both`` (the cells' admins hold the admin role only)."""


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    return fn, args, kwargs


def _sent(c: Any) -> str:
    made: str = c.p.announcements.send(SYSTEM, "Matrix", "A notice for the matrix.", audience="both").id
    return made


def send(c: Any) -> Call:
    return _call(c.p.announcements.send, c.actor, "Notice", "Text of the notice.", audience="therapists")


def list_all(c: Any) -> Call:
    _sent(c)
    return _call(c.p.announcements.list, c.actor)


def get(c: Any) -> Call:
    return _call(c.p.announcements.get, c.actor, _sent(c))


def mark_read(c: Any) -> Call:
    return _call(c.p.announcements.mark_read, c.actor, _sent(c))


def mine(c: Any) -> Call:
    _sent(c)
    return _call(c.p.announcements.mine, c.actor)


def stats(c: Any) -> Call:
    return _call(c.p.announcements.stats, c.actor, _sent(c))


def not_read(c: Any) -> Call:
    return _call(c.p.announcements.not_read, c.actor, _sent(c))


def set_on_duty(c: Any) -> Call:
    return _call(c.p.duty.set_on_duty, c.actor, True)


def roster(c: Any) -> Call:
    return _call(c.p.duty.roster, c.actor)
