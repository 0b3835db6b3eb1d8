"""Column types shared by the tables and the migrations.

``UtcInstant`` stores timezone-aware instants exactly (to the microsecond):
``TIMESTAMP WITH TIME ZONE`` on PostgreSQL and a fixed-width ISO-8601 UTC
string (``2026-01-05T02:00:00.000000Z``) on SQLite, which sorts in time
order.  Reads return ``pendulum.DateTime`` in UTC; naive datetimes are refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
from sqlalchemy import String
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator, TypeEngine

from massage_core.domain.time import Instant, utc

SQLITE_WIDTH = 27
_PENDULUM_UTC = pendulum.UTC
_READ: dict[str, Instant] = {}
"""SQLite: the instants read lately, by their stored text (pendulum DateTimes are immutable, so one may be
handed out any number of times); parsing one costs several times a dictionary look-up."""
_READ_SIZE = 4096
_TEXT = "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ"  # %-formatting: a third cheaper than the f-string equivalent


def _to_text(value: dt.datetime) -> str:
    """Fixed-width, lexically sortable UTC form (year padded to 4 digits)."""
    return _TEXT % (value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond)


def _from_text(text: str) -> Instant:
    """Parse the fixed-width form written by ``_to_text``."""
    if len(text) != SQLITE_WIDTH or not text.endswith("Z"):
        raise ValueError(f"not a stored UTC instant: {text!r}")
    if text[4] != "-" or text[7] != "-" or text[10] != "T" or text[13] != ":" or text[16] != ":" or text[19] != ".":
        raise ValueError(f"not a stored UTC instant: {text!r}")
    return pendulum.DateTime(
        int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]), int(text[17:19]),
        int(text[20:26]), tzinfo=pendulum.UTC,
    )


class UtcInstant(TypeDecorator[Instant]):
    """A timezone-aware instant stored in UTC; see the module docstring."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """TIMESTAMP WITH TIME ZONE on PostgreSQL, a fixed-width string elsewhere (SQLite)."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        return dialect.type_descriptor(String(SQLITE_WIDTH))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Convert an aware datetime to UTC (text on SQLite); refuse naive ones."""
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is _PENDULUM_UTC or value.tzinfo is dt.UTC:
            # Already UTC (every domain Instant is): its fields are the stored ones, no conversion needed.
            if dialect.name == "postgresql":
                return dt.datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                                   value.microsecond, tzinfo=dt.UTC)
            return _to_text(value)
        instant = utc(value)
        plain = dt.datetime(
            instant.year, instant.month, instant.day, instant.hour, instant.minute, instant.second,
            instant.microsecond, tzinfo=dt.UTC,
        )
        if dialect.name == "postgresql":
            return plain
        return _to_text(plain)

    def process_result_value(self, value: Any, dialect: Dialect) -> Instant | None:
        """Return a pendulum DateTime in UTC."""
        if value is None:
            return None
        if isinstance(value, str):
            found = _READ.get(value)
            if found is None:
                found = _from_text(value)
                if len(_READ) >= _READ_SIZE:
                    _READ.clear()
                _READ[value] = found
            return found
        if isinstance(value, dt.datetime):
            if value.tzinfo is dt.UTC:  # PostgreSQL sessions run in UTC (see ``engine``)
                return pendulum.DateTime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                                         value.microsecond, tzinfo=_PENDULUM_UTC)
            return utc(value)
        raise TypeError(f"unexpected stored instant {value!r}")

    def copy(self, **kw: Any) -> UtcInstant:
        """A fresh instance (TypeDecorator protocol)."""
        return UtcInstant()
