"""Statement guards shared by the repositories."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy.engine import Connection

from massage_core.adapters.sql.engine import translating


@contextlib.contextmanager
def guarded(connection: Connection, *, duplicate: str) -> Iterator[None]:
    """Run the block inside a savepoint and translate database errors to port errors.

    A refused write (duplicate, missing reference) rolls back to the savepoint
    only, so the unit of work stays usable -- as with the memory adapters,
    where a refused write changes nothing.
    """
    with translating(duplicate=duplicate), connection.begin_nested():
        yield
