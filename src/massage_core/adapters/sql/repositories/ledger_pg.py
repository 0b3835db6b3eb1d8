"""Posting on PostgreSQL: two round trips for a new entry, no savepoint (issue 5: posting adds at most 15% to an
order transition, and there a round trip costs what a statement of the order step does).

1. ``pg_advisory_xact_lock`` on a 64-bit hash of ``ledger:<key>``: units posting one key queue here until the
   holder commits or rolls back -- the place where the unique key used to make them wait, taken before anything
   is written;
2. one statement (a fresh READ COMMITTED snapshot, so it sees a winner that committed while this unit waited)::

       WITH claimed AS (SELECT nextval(seq) AS id WHERE NOT EXISTS (the key)),
            written AS (INSERT INTO ledger_lines SELECT claimed.id, v.* FROM claimed
                        JOIN unnest(:positions, :accounts, :sides, :amounts) AS v(...) ON true RETURNING entry_id),
            entry AS (INSERT INTO ledger_entries SELECT max(entry_id), :key, ... FROM written
                      HAVING count(*) > 0 RETURNING id),
            balanced AS (INSERT INTO ledger_balances SELECT d.*, :at FROM unnest(:codes, :deltas) AS d(...)
                         WHERE EXISTS (SELECT id FROM entry) ORDER BY account
                         ON CONFLICT (account) DO UPDATE SET balance_fen = ... + excluded.balance_fen ...)
       SELECT (SELECT id FROM entry) AS posted, stored.id, stored.at, stored.memo
       FROM (SELECT 1) one LEFT OUTER JOIN ledger_entries stored ON stored.key = :key

   The lines and the deltas travel as arrays, so one statement serves every entry size and SQLAlchemy compiles
   it once (a ``VALUES`` list would not do: SQLAlchemy does not cache statements holding one).

   The lines go in before the entry row (the aggregate over ``written`` reads every line first), as the
   storage's triggers demand (decision 0029: a line whose entry row exists is refused, and inside one statement
   the trigger sees the rows the statement wrote before it); the balance upserts follow in account-code order
   (one lock order: concurrent postings cannot deadlock each other on the balance rows).  When the key is taken,
   nothing is written and the stored entry's columns come back for the caller to compare.

Why not the entry row first with ``ON CONFLICT (key) DO NOTHING RETURNING id`` as the duplicate check: the lines
would then follow their entry row, which the immutability trigger refuses.  Why not lines first without the
lock: a concurrent poster of the same key would find the key free in its snapshot, write its lines, and then
fail on the unique key -- after the lines, so only a savepoint (a round trip, and a subtransaction, per posting)
could undo them.  The unique key stays as the last guard: a writer that skips the lock and collides gets
``Conflict`` and a failed transaction, never a second entry.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, bindparam, column, exists, func, literal_column, select, text, true
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.engine import translating
from massage_core.adapters.sql.tables_ledger import PG_ENTRY_SEQUENCE, ledger_balances, ledger_entries, ledger_lines
from massage_core.domain.ledger import JournalEntry

_e, _l, _b = ledger_entries, ledger_lines, ledger_balances
TAKEN = "ledger.key_taken"
"""Internal: the unique key refused an entry row (only a writer that skipped the lock can collide)."""
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
_ONE = select(literal_column("1").label("one")).subquery("one")


def _statement() -> Any:
    """The posting statement (one for every entry size, so SQLAlchemy compiles it once): the lines as the arrays
    ``p_positions``, ``p_accounts``, ``p_sides``, ``p_amounts`` and the balance deltas as ``p_delta_accounts``,
    ``p_deltas`` (``unnest`` zips each set into rows), with ``p_key``, ``p_at``, ``p_memo`` and ``p_currency``.
    Every parameter is typed: psycopg's dialect renders each with its cast."""
    def array(name: str, column_type: Any) -> Any:
        return bindparam(name, type_=pg.ARRAY(column_type))

    key, at = bindparam("p_key", type_=_e.c.key.type), bindparam("p_at", type_=_e.c.at.type)
    claimed = (select(func.nextval(literal_column(f"'{PG_ENTRY_SEQUENCE}'"), type_=BigInteger()).label("id"))
               .where(~exists().where(_e.c.key == key)).cte("claimed"))
    names = ("position", "account", "side", "amount_fen")
    rows = (func.unnest(*(array(f"p_{plural}", _l.c[name].type)
                          for plural, name in zip(("positions", "accounts", "sides", "amounts"), names, strict=True)))
            .table_valued(*(column(name, _l.c[name].type) for name in names)).render_derived("v"))
    written = (pg.insert(_l)
               .from_select(["entry_id", *names], select(claimed.c.id, *(rows.c[name] for name in names))
                            .select_from(claimed.join(rows, true())))
               .returning(_l.c.entry_id).cte("written"))
    entry = (pg.insert(_e)
             .from_select(["id", "key", "at", "memo", "currency"],
                          select(func.max(written.c.entry_id), key, at, bindparam("p_memo", type_=_e.c.memo.type),
                                 bindparam("p_currency", type_=_e.c.currency.type))
                          .having(func.count() > literal_column("0")))
             .returning(_e.c.id).cte("entry"))
    deltas = (func.unnest(array("p_delta_accounts", _b.c.account.type), array("p_deltas", _b.c.balance_fen.type))
              .table_valued(column("account", _b.c.account.type), column("delta", _b.c.balance_fen.type))
              .render_derived("d"))
    upsert = pg.insert(_b).from_select(["account", "balance_fen", "updated_at"],
                                       select(deltas.c.account, deltas.c.delta, at)
                                       .where(exists(select(entry.c.id))).order_by(deltas.c.account))
    balanced = upsert.on_conflict_do_update(
        index_elements=[_b.c.account], set_={"balance_fen": _b.c.balance_fen + upsert.excluded.balance_fen,
                                             "updated_at": upsert.excluded.updated_at}).cte("balanced")
    return (select(select(entry.c.id).scalar_subquery().label("posted"), _e.c.id, _e.c.at, _e.c.memo)
            .select_from(_ONE.outerjoin(_e, _e.c.key == key))
            .add_cte(balanced))  # read by nobody: PostgreSQL runs a data-modifying CTE to completion all the same


_POST = _statement()


def post_pg(conn: Connection, entry: JournalEntry) -> tuple[bool, Any]:
    """Write ``entry`` unless its key is stored: (True, None) when written, else (False, the stored entry's
    ``(id, at, memo)`` row)."""
    conn.execute(_LOCK, {"key": f"ledger:{entry.key}"})
    lines = entry.lines
    effects = sorted((account.code, delta) for account, delta in entry.effects().items())
    params = {"p_key": entry.key, "p_at": entry.at, "p_memo": entry.memo, "p_currency": lines[0].amount.currency,
              "p_positions": list(range(len(lines))), "p_accounts": [line.account.code for line in lines],
              "p_sides": [line.side.value for line in lines], "p_amounts": [line.amount.fen for line in lines],
              "p_delta_accounts": [code for code, _ in effects], "p_deltas": [delta for _, delta in effects]}
    with translating(duplicate=TAKEN):
        posted, stored_id, at, memo = conn.execute(_POST, params).one()
    if posted is not None:
        return True, None
    return False, (stored_id, at, memo)
