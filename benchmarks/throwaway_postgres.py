"""A throwaway PostgreSQL server for the benchmarks (the test suite's own helper), or a reason to skip."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


@contextmanager
def throwaway_postgres(label: str, databases: tuple[str, ...]) -> Iterator[Any | None]:
    """Start a server with ``databases`` created; yield it, or None after printing why ``label`` is skipped."""
    try:
        import psycopg
        from postgres_server import PostgresServer, find_bindir

        find_bindir()
    except Exception as exc:  # no psycopg, or no server binaries (PostgresUnavailable)
        print(f"{label}, PostgreSQL: skipped ({exc})")
        yield None
        return
    server = PostgresServer()
    try:
        try:
            server.start()
        except RuntimeError as exc:  # PostgresUnavailable is a RuntimeError
            print(f"{label}, PostgreSQL: skipped ({exc})")
            yield None
            return
        with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres",
                             autocommit=True) as admin:
            for name in databases:
                admin.execute(f"CREATE DATABASE {name}")
        yield server
    finally:
        server.stop()
