"""Builders for the schedule cells of the access matrix (``test_access_matrix.MATRIX``).

A cell's therapist is the acting therapist themself (kind ``therapist``) or
a fresh therapist (every other kind); set-up runs as the system, so only the
call under test acts as the cell's actor.  Someone else's schedule looking
like a missing one is checked in ``test_schedules.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pendulum

from massage_core.domain.access import Actor

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
SYSTEM = Actor.system()
WEEK = {day: [("08:00", "20:00")] for day in range(1, 8)}
START = pendulum.datetime(2026, 1, 6, 10, tz="Asia/Shanghai")  # the day after the kit's clock
END = START.add(hours=1)

MANAGERS = ("therapist", "system")
READERS = ("therapist", "support", "auditor", "superadmin", "system")
RESERVERS = ("therapist", "support", "superadmin", "system")


def therapist_of(c: Any) -> str:
    """The cell's therapist, with an online schedule (made once per cell)."""
    if not hasattr(c, "therapist_id"):
        c.therapist_id = c.me.account_id if c.kind == "therapist" else c.kit.therapist().account_id
        c.p.schedules.set_weekly_hours(SYSTEM, c.therapist_id, WEEK)
        c.p.schedules.set_online(SYSTEM, c.therapist_id, True)
    return str(c.therapist_id)


def on_schedule(method: str, *args: Any, **kwargs: Any) -> Callable[[Any], Call]:
    """``schedules.<method>(actor, therapist_id, *args, **kwargs)``."""

    def build(c: Any) -> Call:
        return getattr(c.p.schedules, method), (c.actor, therapist_of(c), *args), kwargs

    return build


def reserve(c: Any) -> Call:
    return c.p.schedules.reserve, (c.actor, therapist_of(c), START, END, "order-1"), {}


def on_reservation(method: str) -> Callable[[Any], Call]:
    """``schedules.<method>(actor, reservation)`` on a hold the therapist (own kind) or the system made."""

    def build(c: Any) -> Call:
        maker = c.actor if c.kind == "therapist" else SYSTEM
        hold = c.p.schedules.reserve(maker, therapist_of(c), START, END, "order-1", hold_until=START)
        return getattr(c.p.schedules, method), (c.actor, hold.id), {}

    return build


def clear_exceptions(c: Any) -> Call:
    c.p.schedules.add_day_off(SYSTEM, therapist_of(c), "2026-01-20")
    return c.p.schedules.clear_exceptions, (c.actor, therapist_of(c), "2026-01-20"), {}


def remove_break(c: Any) -> Call:
    c.p.schedules.add_break(SYSTEM, therapist_of(c), "12:00", "13:00", weekday="mon")
    return c.p.schedules.remove_break, (c.actor, therapist_of(c), "12:00", "13:00"), {"weekday": "mon"}
