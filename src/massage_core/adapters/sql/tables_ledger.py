"""Ledger tables, on the shared ``metadata`` of ``tables.py`` (decision 0029; migration 0010).

``ledger_entries``: one row per journal entry -- a storage ``id`` (allocated before the lines are written:
PostgreSQL from the table's sequence, SQLite as ``max(id) + 1`` under the writer lock), the unique business
``key``, ``at``, ``memo`` and the entry's ``currency``.

``ledger_lines``: the entry's lines -- ``(entry_id, position)``, the account code, the side and a positive
``amount_fen``.  The foreign key to the entry is ``DEFERRABLE INITIALLY DEFERRED``: the repository writes
the lines first and the entry row last, and a line whose entry never arrives fails the commit.

``ledger_balances``: one row per account ever posted to -- its balance in fen (normal sense) and when it last
changed.  The only mutable table: each posting adds its deltas by upsert (SQLite: one multi-row statement;
PostgreSQL: part of the one statement that posts the entry, decision 0029).

The balance rule and immutability are enforced by the database as well (``trigger_statements``), so raw SQL
below the repository cannot store an unbalanced entry, change or delete an entry or a line, or add a line to
an entry already stored:

* both: ``BEFORE UPDATE`` / ``BEFORE DELETE`` triggers on entries and lines raise (PostgreSQL: and
  ``BEFORE TRUNCATE``); a ``BEFORE INSERT`` trigger on lines raises when the line's entry row exists
  already (lines come first);
* SQLite (no deferred triggers): a ``BEFORE INSERT`` trigger on ``ledger_entries`` raises unless the entry's
  lines (inserted just before, in the same transaction) are at least two and balance;
* PostgreSQL: ``DEFERRABLE INITIALLY DEFERRED`` constraint triggers on both tables re-check, at commit, that
  each entry written in the transaction has at least two lines and that they balance -- which also catches a
  line slipped in concurrently for an entry another transaction commits first.

The triggers are created by migration 0010 and, for ``metadata.create_all`` users, by DDL events on
``ledger_lines`` (``after_create``), from the same statements (``trigger_statements``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DDL,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    event,
)

from massage_core.adapters.sql.tables import metadata
from massage_core.adapters.sql.types import UtcInstant

ACCOUNT = 80
"""Width of account codes (``therapist_payable:`` + an account id, with room)."""
LEDGER_KEY = 120
CURRENCY = 3
SIDE = 6
PG_ENTRY_SEQUENCE = "ledger_entries_id_seq"
"""The sequence behind ``ledger_entries.id`` on PostgreSQL (BIGSERIAL)."""

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", BigInteger(), primary_key=True),
    Column("key", String(LEDGER_KEY), nullable=False, unique=True),
    Column("at", UtcInstant(), nullable=False),
    Column("memo", Text(), nullable=False),
    Column("currency", String(CURRENCY), nullable=False),
)

ledger_lines = Table(
    "ledger_lines",
    metadata,
    Column("entry_id", BigInteger(),
           ForeignKey("ledger_entries.id", deferrable=True, initially="DEFERRED"), nullable=False),
    Column("position", SmallInteger(), nullable=False),
    Column("account", String(ACCOUNT), nullable=False),
    Column("side", String(SIDE), nullable=False),
    Column("amount_fen", BigInteger(), nullable=False),
    PrimaryKeyConstraint("entry_id", "position"),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
    CheckConstraint("side IN ('debit', 'credit')", name="side"),
    Index(None, "account", "entry_id"),
)

ledger_balances = Table(
    "ledger_balances",
    metadata,
    Column("account", String(ACCOUNT), primary_key=True),
    Column("balance_fen", BigInteger(), nullable=False),
    Column("updated_at", UtcInstant(), nullable=False),
)

_SIGNED = "CASE side WHEN 'debit' THEN amount_fen ELSE -amount_fen END"

_BOTH = (
    ("ledger_entries", "ledger_entries_no_update", "UPDATE", "ledger entries are immutable"),
    ("ledger_entries", "ledger_entries_no_delete", "DELETE", "ledger entries are immutable"),
    ("ledger_lines", "ledger_lines_no_update", "UPDATE", "ledger lines are immutable"),
    ("ledger_lines", "ledger_lines_no_delete", "DELETE", "ledger lines are immutable"),
)

_SQLITE = [
    *(f"CREATE TRIGGER {name} BEFORE {op} ON {table} BEGIN SELECT RAISE(ABORT, '{why}'); END"
      for table, name, op, why in _BOTH),
    "CREATE TRIGGER ledger_lines_entry_open BEFORE INSERT ON ledger_lines "
    "WHEN EXISTS (SELECT 1 FROM ledger_entries WHERE id = NEW.entry_id) "
    "BEGIN SELECT RAISE(ABORT, 'a ledger entry is closed: its lines are written before it'); END",
    "CREATE TRIGGER ledger_entries_balanced BEFORE INSERT ON ledger_entries "
    "WHEN (SELECT count(*) FROM ledger_lines WHERE entry_id = NEW.id) < 2 "
    f"OR (SELECT sum({_SIGNED}) FROM ledger_lines WHERE entry_id = NEW.id) <> 0 "
    "BEGIN SELECT RAISE(ABORT, 'unbalanced ledger entry: debits differ from credits'); END",
]

_PG = [
    "CREATE FUNCTION ledger_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION '% of % refused: the ledger is immutable', TG_OP, TG_TABLE_NAME "
    "USING ERRCODE = 'integrity_constraint_violation'; END $$",
    *(f"CREATE TRIGGER {name} BEFORE {op} ON {table} FOR EACH ROW EXECUTE FUNCTION ledger_refuse()"
      for table, name, op, _ in _BOTH),
    *(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT "
      "EXECUTE FUNCTION ledger_refuse()" for table in ("ledger_entries", "ledger_lines")),
    "CREATE FUNCTION ledger_entry_open() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN IF EXISTS (SELECT 1 FROM ledger_entries WHERE id = NEW.entry_id) THEN "
    "RAISE EXCEPTION 'ledger entry % is closed: its lines are written before it', NEW.entry_id "
    "USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER ledger_lines_entry_open BEFORE INSERT ON ledger_lines FOR EACH ROW "
    "EXECUTE FUNCTION ledger_entry_open()",
    "CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE wanted bigint; n bigint; total numeric; "
    "BEGIN IF TG_TABLE_NAME = 'ledger_lines' THEN wanted := NEW.entry_id; ELSE wanted := NEW.id; END IF; "
    f"SELECT count(*), coalesce(sum({_SIGNED}), 0) INTO n, total FROM ledger_lines WHERE entry_id = wanted; "
    "IF n < 2 OR total <> 0 THEN "
    "RAISE EXCEPTION 'unbalanced ledger entry %: % lines, debits minus credits %', wanted, n, total "
    "USING ERRCODE = 'check_violation'; END IF; RETURN NULL; END $$",
    "CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()",
    "CREATE CONSTRAINT TRIGGER ledger_lines_balanced AFTER INSERT ON ledger_lines "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()",
]

_PG_DROP = [
    "DROP TRIGGER IF EXISTS ledger_lines_balanced ON ledger_lines",
    "DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries",
    "DROP TRIGGER IF EXISTS ledger_lines_entry_open ON ledger_lines",
    *(f"DROP TRIGGER IF EXISTS {name} ON {table}" for table, name, _, _ in _BOTH),
    *(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}" for table in ("ledger_entries", "ledger_lines")),
    "DROP FUNCTION IF EXISTS ledger_check_balanced()",
    "DROP FUNCTION IF EXISTS ledger_entry_open()",
    "DROP FUNCTION IF EXISTS ledger_refuse()",
]


def trigger_statements(dialect: str) -> list[str]:
    """The statements creating the ledger's triggers on ``dialect`` (``sqlite`` or ``postgresql``)."""
    if dialect == "postgresql":
        return list(_PG)
    if dialect == "sqlite":
        return list(_SQLITE)
    raise ValueError(f"no ledger triggers for {dialect}")


def drop_statements(dialect: str) -> list[str]:
    """The statements dropping them (PostgreSQL's functions too; SQLite drops triggers with the tables)."""
    return list(_PG_DROP) if dialect == "postgresql" else []


# For metadata.create_all users: once ledger_lines exists (it is created after ledger_entries, which it
# references), create the triggers of both tables.
for _dialect in ("sqlite", "postgresql"):
    for _statement in trigger_statements(_dialect):
        _ddl = DDL(_statement.replace("%", "%%"))  # type: ignore[no-untyped-call]
        event.listen(ledger_lines, "after_create", _ddl.execute_if(dialect=_dialect))
