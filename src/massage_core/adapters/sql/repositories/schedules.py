"""Schedules: one ``schedules`` row plus its ``schedule_rules``; optimistic locking on ``version``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from sqlalchemy import Row, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.prepared import Prepared
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables_schedules import schedule_rules, schedules
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.schedules import MINUTES_PER_DAY, DatedRange, DayRange, Schedule, WeeklyRange
from massage_core.ports.schedules import ScheduleRepository

DUPLICATE = "schedule.duplicate"
HOURS, BREAK, EXTRA, DATED_BREAK, DAY_OFF = "hours", "break", "extra", "dated_break", "day_off"

_BY_ID = select(schedules).where(schedules.c.therapist_id == bindparam("tid"))
_RULES_OF = (
    select(schedule_rules)
    .where(schedule_rules.c.therapist_id == bindparam("tid"))
    .order_by(schedule_rules.c.position)
)
_P_BY_ID, _P_RULES_OF = Prepared(_BY_ID), Prepared(_RULES_OF)  # ``find``'s, on the driver on SQLite


def _rules(schedule: Schedule) -> list[dict[str, Any]]:
    rows: list[tuple[str, int | None, dt.date | None, int, int]] = []
    rows.extend((HOURS, r.weekday, None, r.range.start, r.range.end) for r in schedule.weekly_hours)
    rows.extend((BREAK, r.weekday, None, r.range.start, r.range.end) for r in schedule.weekly_breaks)
    rows.extend((EXTRA, None, r.day, r.range.start, r.range.end) for r in schedule.extra_hours)
    rows.extend((DATED_BREAK, None, r.day, r.range.start, r.range.end) for r in schedule.dated_breaks)
    rows.extend((DAY_OFF, None, day, 0, MINUTES_PER_DAY) for day in schedule.days_off)
    return [
        {"therapist_id": schedule.therapist_id, "position": n, "kind": kind, "weekday": weekday, "day": day,
         "start_minute": start, "end_minute": end}
        for n, (kind, weekday, day, start, end) in enumerate(rows)
    ]


def _to_schedule(row: Row[Any], rules: list[Row[Any]]) -> Schedule:
    weekly: dict[str, list[WeeklyRange]] = {HOURS: [], BREAK: []}
    dated: dict[str, list[DatedRange]] = {EXTRA: [], DATED_BREAK: []}
    days_off: list[dt.date] = []
    for rule in rules:
        if rule.kind == DAY_OFF:
            days_off.append(rule.day)
        elif rule.kind in weekly:
            weekly[rule.kind].append(WeeklyRange(rule.weekday, DayRange(rule.start_minute, rule.end_minute)))
        else:
            dated[rule.kind].append(DatedRange(rule.day, DayRange(rule.start_minute, rule.end_minute)))
    return Schedule(
        therapist_id=AccountId(row.therapist_id), zone=row.zone, online=bool(row.online),
        weekly_hours=tuple(weekly[HOURS]), weekly_breaks=tuple(weekly[BREAK]), days_off=tuple(days_off),
        extra_hours=tuple(dated[EXTRA]), dated_breaks=tuple(dated[DATED_BREAK]), version=row.version,
    )


class SqlScheduleRepository(ScheduleRepository):
    """The ``schedules`` and ``schedule_rules`` tables; a save rewrites the rules."""

    def __init__(self, connection: Connection) -> None:
        """Work inside ``connection``'s transaction."""
        self._conn = connection

    def add(self, schedule: Schedule) -> Schedule:
        """Insert with version 1; Conflict ``schedule.duplicate`` or ``conflict.reference``."""
        with guarded(self._conn, duplicate=DUPLICATE):
            self._conn.execute(insert(schedules).values(therapist_id=schedule.therapist_id, zone=schedule.zone,
                                                        online=schedule.online, version=1))
            self._insert_rules(schedule)
        return attrs.evolve(schedule.clear_events(), version=1)

    def _insert_rules(self, schedule: Schedule) -> None:
        rules = _rules(schedule)
        if rules:
            self._conn.execute(insert(schedule_rules), rules)

    def find(self, therapist_id: AccountId) -> Schedule | None:
        """The schedule and its rules, or None."""
        rows = _P_BY_ID.rows(self._conn, {"tid": therapist_id})
        if not rows:
            return None
        return _to_schedule(rows[0], _P_RULES_OF.rows(self._conn, {"tid": therapist_id}))

    def save(self, schedule: Schedule) -> Schedule:
        """Update where the stored version is ``schedule.version``; replace the rules."""
        new_version = schedule.version + 1
        with guarded(self._conn, duplicate=DUPLICATE):
            result = self._conn.execute(
                update(schedules)
                .where(schedules.c.therapist_id == schedule.therapist_id, schedules.c.version == schedule.version)
                .values(zone=schedule.zone, online=schedule.online, version=new_version)
            )
            if result.rowcount == 0:
                if self._conn.execute(_BY_ID, {"tid": schedule.therapist_id}).first() is None:
                    raise NotFound("schedule", schedule.therapist_id)
                raise Conflict("the schedule was changed by somebody else; reload it", code="conflict.stale")
            self._conn.execute(delete(schedule_rules).where(schedule_rules.c.therapist_id == schedule.therapist_id))
            self._insert_rules(schedule)
        return attrs.evolve(schedule.clear_events(), version=new_version)
