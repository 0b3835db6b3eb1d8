"""The ledger on SQL: ``ledger_entries``, ``ledger_lines`` and the maintained ``ledger_balances``.

``post`` on SQLite:

1. one statement looks the business key up and allocates the next entry id (``max(id) + 1``, safe because
   ``BEGIN IMMEDIATE`` serialises writers): a one-row outer join, the stored entry's columns NULL when the
   key is free.  When it is stored, its lines are read and compared (``same_posting``): "already posted", or
   ``Conflict("ledger.key_reused")`` -- nothing written;
2. inside a savepoint (so a refused posting leaves the unit of work usable and changes nothing), three
   statements: one multi-row INSERT of the lines, then the entry row (the order the storage's triggers
   demand: decision 0029), then one multi-row upsert adding each account's delta, rows in account-code order:
   ``INSERT ... VALUES (...), (...) ON CONFLICT (account) DO UPDATE SET balance_fen =
   ledger_balances.balance_fen + excluded.balance_fen`` -- an atomic read-modify-write in the database, so no
   update is lost (an entry's effects name each account once, as one upsert requires).

Six statements for a new posting whatever its number of lines (it was 7 + 2 per line or account); a
replay sends two reads.

On PostgreSQL (``ledger_pg``): two round trips and no savepoint -- an advisory lock on the key (units posting
one key queue there), then one statement with data-modifying CTEs that claims the next id when the key is free
and writes the lines, the entry row and the balance upserts (account-code order), or returns the stored
entry's columns; a replay then reads the stored lines and compares them, as on SQLite.

The hot statements are module-level constructs run through ``Prepared`` (decision 0028), the SQLite
multi-row ones built at import for up to eight rows (larger ones on first use).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import BigInteger, Integer, bindparam, case, func, literal, literal_column, select, union_all
from sqlalchemy.dialects import sqlite as sq
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.prepared import Prepared
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.repositories.ledger_pg import post_pg
from massage_core.adapters.sql.tables_ledger import ledger_balances, ledger_entries, ledger_lines
from massage_core.domain.errors import Conflict
from massage_core.domain.ledger import Book, JournalEntry, JournalLine, LedgerAccount, Side
from massage_core.domain.money import Money
from massage_core.domain.time import Instant
from massage_core.ports.ledger import KEY_REUSED, PAGE, AccountBalance, LedgerRepository, PostResult

_e, _l, _b = ledger_entries, ledger_lines, ledger_balances
_TAKEN = "ledger.key_taken"  # internal: the unique key refused the entry row (a concurrent posting won)
_BATCH = 500
STREAM_ROWS = 5_000
"""Rows fetched at a time by the verification reads on SQLite."""

_SIGNED = case((_l.c.side == "debit", _l.c.amount_fen), else_=-_l.c.amount_fen)
_BY_KEY = Prepared(select(_e.c.id, _e.c.at, _e.c.memo).where(_e.c.key == bindparam("p_key")))
_LINES_OF = Prepared(select(_l.c.account, _l.c.side, _l.c.amount_fen)
                     .where(_l.c.entry_id == bindparam("p_id")).order_by(_l.c.position))
_ONE = select(literal_column("1").label("one")).subquery("one")


def _claim(next_id: Any) -> Prepared:
    """The key look-up and the next id in one statement: exactly one row, the stored entry's columns NULL
    when the key is free."""
    return Prepared(select(next_id.label("next_id"), _e.c.id, _e.c.at, _e.c.memo)
                    .select_from(_ONE.outerjoin(_e, _e.c.key == bindparam("p_key"))))


_CLAIM = _claim(select(func.coalesce(func.max(_e.c.id), 0) + 1).scalar_subquery())  # SQLite
_INSERT_ENTRY = Prepared(_e.insert())
_BALANCE = Prepared(select(_b.c.balance_fen).where(_b.c.account == bindparam("p_account")))
_LINE_COLUMNS = ("position", "account", "side", "amount_fen")


def _insert_lines(rows: int) -> Prepared:
    """One INSERT of ``rows`` lines: ``p_entry`` for every row's entry id, ``{column}_{n}`` for the rest."""
    entry = bindparam("p_entry", type_=_l.c.entry_id.type)
    return Prepared(_l.insert().values([
        {"entry_id": entry, **{name: bindparam(f"{name}_{n}", type_=_l.c[name].type) for name in _LINE_COLUMNS}}
        for n in range(rows)]))


def _upsert(dialect: Any, rows: int) -> Prepared:
    """One upsert of ``rows`` balance deltas (``account_{n}``, ``delta_{n}``; ``p_at`` for every row)."""
    at = bindparam("p_at", type_=_b.c.updated_at.type)
    statement = dialect.insert(_b).values([
        {"account": bindparam(f"account_{n}", type_=_b.c.account.type),
         "balance_fen": bindparam(f"delta_{n}", type_=_b.c.balance_fen.type), "updated_at": at}
        for n in range(rows)])
    return Prepared(statement.on_conflict_do_update(
        index_elements=[_b.c.account],
        set_={"balance_fen": _b.c.balance_fen + statement.excluded.balance_fen,
              "updated_at": statement.excluded.updated_at}))


_DIALECTS: dict[str, Any] = {"sqlite": sq}  # PostgreSQL: _post_pg
_SIZES = range(1, 9)
"""Row counts with statements built at import (an entry has 2-3 lines, 2-3 accounts); others on first use."""
_INSERT_LINES: dict[int, Prepared] = {rows: _insert_lines(rows) for rows in _SIZES}
_UPSERT: dict[tuple[str, int], Prepared] = {(name, rows): _upsert(dialect, rows)
                                            for name, dialect in _DIALECTS.items() for rows in _SIZES}


def _lines_statement(rows: int) -> Prepared:
    statement = _INSERT_LINES.get(rows)
    if statement is None:
        statement = _INSERT_LINES[rows] = _insert_lines(rows)
    return statement


def _upsert_statement(dialect: str, rows: int) -> Prepared:
    statement = _UPSERT.get((dialect, rows))
    if statement is None:
        statement = _UPSERT[dialect, rows] = _upsert(_DIALECTS[dialect], rows)
    return statement

_BOOK_SIGN: dict[str, int] = {book.value: 1 if book.kind.debit_normal else -1 for book in Book}


def normal_sign(code: str) -> int:
    """+1 when the account named by ``code`` grows with debits, -1 when it grows with credits."""
    return _BOOK_SIGN[code.partition(":")[0]]


def _entry(key: str, at: Instant, memo: str, lines: Sequence[Any]) -> JournalEntry:
    return JournalEntry(key, at, tuple(JournalLine(LedgerAccount.parse(account), Side(side), Money(fen))
                                       for account, side, fen in lines), memo)


class SqlLedgerRepository(LedgerRepository):
    """The three ledger tables; see the module docstring."""

    def __init__(self, connection: Connection) -> None:
        """Work inside ``connection``'s transaction."""
        self._conn = connection

    # -- posting ------------------------------------------------------------------------------------------

    def _stored(self, key: str) -> JournalEntry | None:
        rows = _BY_KEY.rows(self._conn, {"p_key": key})
        if not rows:
            return None
        entry_id, at, memo = rows[0]
        return _entry(key, at, memo, _LINES_OF.rows(self._conn, {"p_id": entry_id}))

    def _replayed(self, stored: JournalEntry, entry: JournalEntry) -> PostResult:
        if not stored.same_posting(entry):
            raise Conflict(f"ledger key {entry.key} was posted with different lines", code=KEY_REUSED)
        return PostResult(stored, posted=False)

    def post(self, entry: JournalEntry) -> PostResult:
        """Check the key, write lines, entry and balance deltas (see the module docstring)."""
        conn = self._conn
        if conn.dialect.name == "postgresql":
            return self._post_pg(entry)
        entry_id, stored_id, at, memo = _CLAIM.rows(conn, {"p_key": entry.key})[0]
        if stored_id is not None:
            stored = _entry(entry.key, at, memo, _LINES_OF.rows(conn, {"p_id": stored_id}))
            return self._replayed(stored, entry)
        try:
            with guarded(conn, duplicate=_TAKEN):
                lines: dict[str, Any] = {"p_entry": entry_id}
                for n, line in enumerate(entry.lines):
                    lines[f"position_{n}"] = n
                    lines[f"account_{n}"] = line.account.code
                    lines[f"side_{n}"] = line.side.value
                    lines[f"amount_fen_{n}"] = line.amount.fen
                _lines_statement(len(entry.lines)).run(conn, lines)
                _INSERT_ENTRY.run(conn, {"id": entry_id, "key": entry.key, "at": entry.at, "memo": entry.memo,
                                         "currency": entry.lines[0].amount.currency})
                effects = sorted((account.code, delta) for account, delta in entry.effects().items())
                if effects:
                    deltas: dict[str, Any] = {"p_at": entry.at}
                    for n, (code, delta) in enumerate(effects):
                        deltas[f"account_{n}"] = code
                        deltas[f"delta_{n}"] = delta
                    _upsert_statement(conn.dialect.name, len(effects)).run(conn, deltas)
        except Conflict as refused:
            if refused.code != _TAKEN:
                raise
            winner = self._stored(entry.key)
            if winner is None:  # pragma: no cover - the unique key refused, so an entry holds it
                raise
            return self._replayed(winner, entry)
        return PostResult(entry, posted=True)

    def _post_pg(self, entry: JournalEntry) -> PostResult:
        posted, stored = post_pg(self._conn, entry)
        if posted:
            return PostResult(entry, posted=True)
        stored_id, at, memo = stored
        return self._replayed(_entry(entry.key, at, memo, _LINES_OF.rows(self._conn, {"p_id": stored_id})), entry)

    # -- reads --------------------------------------------------------------------------------------------

    def balance(self, account: LedgerAccount) -> Money:
        """One keyed read of ``ledger_balances``; zero when absent."""
        rows = _BALANCE.rows(self._conn, {"p_account": account.code})
        return Money(int(rows[0][0]) if rows else 0)

    def balances(self, book: Book) -> Sequence[AccountBalance]:
        """The book's rows: the code itself, or the range ``book:`` .. ``book;`` (``;`` follows ``:``)."""
        query = (select(_b).where((_b.c.account == book.value)
                                  | ((_b.c.account > f"{book.value}:") & (_b.c.account < f"{book.value};")))
                 .order_by(_b.c.account))
        return [AccountBalance(LedgerAccount.parse(row.account), Money(int(row.balance_fen)), row.updated_at)
                for row in self._conn.execute(query)]

    def entries(self, account: LedgerAccount, *, since: Instant | None = None, until: Instant | None = None,
                offset: int = 0, limit: int = PAGE) -> Sequence[JournalEntry]:
        """Entry ids from the account index, a page of entries, then their lines in one query."""
        touching = select(_l.c.entry_id).where(_l.c.account == account.code)
        query = select(_e.c.id, _e.c.key, _e.c.at, _e.c.memo).where(_e.c.id.in_(touching))
        if since is not None:
            query = query.where(_e.c.at >= since)
        if until is not None:
            query = query.where(_e.c.at < until)
        query = query.order_by(_e.c.at.desc(), _e.c.id.desc()).offset(max(offset, 0)).limit(max(limit, 0))
        heads = list(self._conn.execute(query))
        if not heads:
            return []
        lines: dict[int, list[Any]] = {row.id: [] for row in heads}
        for row in self._conn.execute(select(_l.c.entry_id, _l.c.account, _l.c.side, _l.c.amount_fen)
                                      .where(_l.c.entry_id.in_(list(lines)))
                                      .order_by(_l.c.entry_id, _l.c.position)):
            lines[row.entry_id].append((row.account, row.side, row.amount_fen))
        return [_entry(row.key, row.at, row.memo, lines[row.id]) for row in heads]

    def entry(self, key: str) -> JournalEntry | None:
        """The entry under ``key``, or None."""
        return self._stored(key)

    def posted_keys(self, keys: Collection[str]) -> set[str]:
        """Look the keys up in batches of 500."""
        wanted, found = sorted(set(keys)), set[str]()
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start:start + _BATCH]
            found.update(self._conn.execute(select(_e.c.key).where(_e.c.key.in_(batch))).scalars())
        return found

    def _stream(self, query: Any) -> Iterator[Any]:
        if self._conn.dialect.name == "postgresql":
            # A server-side cursor would be planned for fast start (cursor_tuple_fraction) -- sorted group-bys
            # instead of hash aggregates, ~30% slower; the aggregates return one row per account (or per broken
            # entry), so the client-side cursor holds little.
            result = self._conn.execute(query)
        else:
            result = self._conn.execute(query.execution_options(yield_per=STREAM_ROWS))  # this statement only
        try:
            yield from result
        finally:
            result.close()

    def compared_balances(self) -> Iterator[tuple[str, int, int | None]]:
        """One grouped aggregate over the lines and the balance rows together (one statement: one snapshot);
        the lines' debits minus credits turned to each book's normal sense."""
        both = union_all(
            select(_l.c.account, _SIGNED.label("recomputed"), literal(0, BigInteger()).label("stored"),
                   literal(0, Integer()).label("rows")),
            select(_b.c.account, literal(0, BigInteger()), _b.c.balance_fen, literal(1, Integer())),
        ).subquery()
        query = (select(both.c.account, func.sum(both.c.recomputed), func.sum(both.c.stored), func.sum(both.c.rows))
                 .group_by(both.c.account))
        for code, recomputed, stored, rows in self._stream(query):
            yield code, normal_sign(code) * int(recomputed), int(stored) if rows else None

    def unbalanced_entries(self) -> Iterator[str]:
        """Entries whose grouped lines number fewer than two or do not sum to zero (or that have none)."""
        per_entry = (select(_l.c.entry_id, func.count().label("n"), func.sum(_SIGNED).label("total"))
                     .group_by(_l.c.entry_id).subquery())
        query = (select(_e.c.key).select_from(_e.outerjoin(per_entry, per_entry.c.entry_id == _e.c.id))
                 .where(per_entry.c.n.is_(None) | (per_entry.c.n < 2) | (per_entry.c.total != 0)))
        for (key,) in self._stream(query):
            yield key

    def entry_count(self) -> int:
        """``count(*)`` of the entries."""
        return int(self._conn.execute(select(func.count()).select_from(_e)).scalar_one())
