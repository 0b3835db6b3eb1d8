"""``UtcInstant``'s shortcuts: UTC values bind without a conversion, to exactly what the conversion gives; the
instants read from SQLite text are reused from a bounded table; PostgreSQL's ``timezone.utc`` values convert
directly.  (The round trip through each database: ``tests/integration/test_sql_schema.py``.)"""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from sqlalchemy.dialects import postgresql, sqlite

from massage_core.adapters.sql import types
from massage_core.adapters.sql.types import UtcInstant
from massage_core.domain.errors import ValidationError
from massage_core.domain.time import utc

SQLITE, POSTGRES = sqlite.dialect(), postgresql.dialect()
VALUES = [
    pendulum.datetime(2026, 1, 5, 2, 0, 0, 1, tz="UTC"),
    dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    pendulum.datetime(2026, 1, 5, 10, 0, 0, 1, tz="Asia/Shanghai"),
    dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    pendulum.datetime(1, 1, 1, tz="UTC"),
]


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_binding_gives_the_utc_fields_with_or_without_a_conversion(value: dt.datetime) -> None:
    u = utc(value)
    column = UtcInstant()
    assert column.process_bind_param(value, SQLITE) == (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}Z")
    bound = column.process_bind_param(value, POSTGRES)
    assert type(bound) is dt.datetime and bound.tzinfo is dt.UTC and bound == value
    assert column.process_result_value(column.process_bind_param(value, SQLITE), SQLITE) == value
    read = column.process_result_value(bound, POSTGRES)
    assert isinstance(read, pendulum.DateTime) and read == value and read.timezone_name == "UTC"


def test_naive_and_non_datetime_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        UtcInstant().process_bind_param(dt.datetime(2026, 1, 1), SQLITE)
    with pytest.raises(TypeError):
        UtcInstant().process_bind_param("2026-01-01", SQLITE)


def test_sqlite_reads_are_reused_from_a_bounded_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(types, "_READ_SIZE", 2)
    monkeypatch.setattr(types, "_READ", {})
    column = UtcInstant()
    texts = ["2026-01-05T02:00:00.000001Z", "2026-01-05T02:00:00.000002Z", "2026-01-05T02:00:00.000003Z"]
    first = column.process_result_value(texts[0], SQLITE)
    assert column.process_result_value(texts[0], SQLITE) is first
    assert first == pendulum.datetime(2026, 1, 5, 2, 0, 0, 1, tz="UTC") and first.timezone_name == "UTC"
    for text in texts[1:]:
        column.process_result_value(text, SQLITE)
    assert len(types._READ) <= 2
    assert column.process_result_value(texts[0], SQLITE) == first
    with pytest.raises(ValueError):
        column.process_result_value("2026-01-05 02:00:00", SQLITE)
