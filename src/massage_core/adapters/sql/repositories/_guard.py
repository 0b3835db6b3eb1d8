"""Statement guards shared by the repositories."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator

from sqlalchemy.engine import Connection

from massage_core.adapters.sql.engine import translating

_names = itertools.count()


@contextlib.contextmanager
def guarded(connection: Connection, *, duplicate: str) -> Iterator[None]:
    """Run the block inside a savepoint and translate database errors to port errors.

    A refused write (duplicate, missing reference) rolls back to the savepoint
    only, so the unit of work stays usable -- as with the memory adapters,
    where a refused write changes nothing.
    """
    with translating(duplicate=duplicate), savepoint(connection):
        yield


@contextlib.contextmanager
def savepoint(connection: Connection) -> Iterator[None]:
    """Run the block inside a savepoint: rolled back to when the block raises, released otherwise.

    On SQLite, inside the running transaction, the three statements go straight to the driver: there
    they cost microseconds, while SQLAlchemy's nested-transaction bookkeeping costs some two hundred Python
    calls.  The repositories' own statements inside still run through SQLAlchemy (so their errors are
    wrapped and translated as usual).  Elsewhere (PostgreSQL) it is ``connection.begin_nested()``.
    """
    if connection.dialect.name != "sqlite" or not connection.in_transaction():
        with connection.begin_nested():
            yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    name = f"guard_{next(_names)}"
    driver.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):  # the original error matters more than a failed clean-up
            driver.execute(f"ROLLBACK TO {name}")
            driver.execute(f"RELEASE {name}")
        raise
    driver.execute(f"RELEASE {name}")
