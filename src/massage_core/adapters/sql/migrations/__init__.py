"""Alembic migrations of the SQL schema (run them with ``massage_core.adapters.sql.migrate``)."""
