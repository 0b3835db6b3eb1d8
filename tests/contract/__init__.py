"""Contract tests: one abstract class per port, run against every storage backend.

Each ``*Contract`` class uses the ``uow_factory`` fixture (parametrised over
memory, SQLite and PostgreSQL in ``tests/conftest.py``); a new backend is
tested by subclassing a contract and overriding that fixture.
"""
