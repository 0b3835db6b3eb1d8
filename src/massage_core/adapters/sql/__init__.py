"""SQLAlchemy Core adapters: SQLite (embedded default) and PostgreSQL."""
