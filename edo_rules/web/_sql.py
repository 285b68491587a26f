"""The read models' SQL connection and the few dialect-specific pieces.

Everything else in the read models is standard SQL with ``?`` parameters; a
PostgreSQL read model supplies its own :class:`Dialect` and connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from edo_rules.errors import StoreError
from edo_rules.store._pg_dashboard import local_day
from edo_rules.store._pg_ledger import counts_table
from edo_rules.store._sqlite_dashboard import WorkingDays, fingerprint, working_day_ranks


@dataclass(frozen=True, slots=True)
class Dialect:
    """How SQLite writes what differs between the stores (a local date, a string
    aggregate, a forced index); :class:`PgDialect` is PostgreSQL's."""

    offset_minutes: int
    #: The reader's working-day rank table (its own calendar, per connection).
    ranks: ClassVar[str] = "temp.workday_ranks"

    def at_least_zero(self, expression: str) -> str:
        return f"MAX(0, {expression})"  # PostgreSQL: GREATEST(0, …)

    def prefix_match(self, column: str, prefix: str) -> tuple[str, str]:
        """(condition, parameter) for "``column`` starts with ``prefix``", index-friendly.

        SQLite's GLOB is case-sensitive, so a prefix range over a BINARY index
        serves it (LIKE is case-insensitive and would read every row).
        """
        escaped = "".join(f"[{c}]" if c in "*?[" else c for c in prefix)
        return f"{column} GLOB ?", escaped + "*"

    def day(self, column: str) -> str:
        # The store keeps UTC ISO text; the working day is the playbooks' local date.
        return f"date({column}, '{self.offset_minutes:+d} minutes')"

    def rank_of(self, alias: str, column: str) -> tuple[str, str]:
        """(the reader's rank table joined as ``alias`` on ``column``'s local day, the
        working-day rank of that day): a moment whose day the table lacks has no row."""
        return f"JOIN {self.ranks} {alias} ON {alias}.day = {self.day(column)}", f"{alias}.rank"

    def in_order(self, grouped: str, order: str) -> str:
        """A ``GROUP BY`` query whose rows :meth:`pairs` joins in ``order`` within each group
        (SQLite's own ``GROUP BY`` yields them so when ``order`` ends its key)."""
        return grouped

    def indexed(self, table: str, index: str) -> str:
        """``table`` read through ``index`` (SQLite's planner needs telling)."""
        return f"{table} INDEXED BY {index}"

    def rows_of_each(self, table: str, columns: str) -> str:
        """``table``'s ``columns`` as ``x``, the rows of each document ``d`` before it,
        read through its document index (SQLite's CROSS JOIN keeps the written order)."""
        return f"CROSS JOIN {table} x ON x.document_id = d.id"

    def pairs(self, expression: str) -> str:
        """The values of ``expression`` joined with spaces, in the order the rows come:
        the subquery they come from ends with :meth:`pairs_order`."""
        return f"group_concat({expression}, ' ')"

    def pairs_order(self, order: str) -> str:
        """The end of the subquery :meth:`pairs` reads from. SQLite yields its rows in
        the order its index or its own ``GROUP BY`` reads them, and the ``GROUP BY``
        above streams them."""
        return ""

    def binary(self, column: str) -> str:
        """``column`` compared by bytes, as SQLite always does."""
        return column

    def unindexed(self, expression: str) -> str:
        """``expression`` to order by without walking an index in its order (SQLite is
        told its index with INDEXED BY instead)."""
        return expression

    def ledger_counts(
        self, what: str, where: str, where_d: str, *, daily: bool = False
    ) -> tuple[str, int]:
        """(the ledger's counts of ``what`` — rule or action — by month, or by day if
        ``daily``, under the filters ``where`` as a table of name, n, skipped, failed,
        in_doubt; how many times the filters' parameters appear in it). ``where_d`` is the
        filter on documents aliased ``d``."""
        table = "ledger_days" if daily else "ledger_counts"
        return f"(SELECT * FROM {table} WHERE what = '{what}' AND {where}) AS c", 1


@dataclass(frozen=True, slots=True)
class PgDialect(Dialect):
    """PostgreSQL: the same UTC ISO text columns, other functions."""

    ranks: ClassVar[str] = "pg_temp.workday_ranks"

    def at_least_zero(self, expression: str) -> str:
        return f"GREATEST(0, {expression})"

    def prefix_match(self, column: str, prefix: str) -> tuple[str, str]:
        # LIKE is case-sensitive in PostgreSQL; escape its wildcards.
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"{column} LIKE ?", escaped + "%"

    def day(self, column: str) -> str:
        return local_day(column, self.offset_minutes)

    def rank_of(self, alias: str, column: str) -> tuple[str, str]:
        # Joined on the UTC day (the text's first ten characters), the time of day saying
        # whether the local day is that day or the next (the previous, west of UTC): a
        # month's signed documents' spans took 96 ms through ``to_char`` of a timestamp
        # cast per row and moment, 60 ms so (25,477 documents at a million).
        minutes = self.offset_minutes
        rank = f"{alias}.rank"
        if minutes > 0:
            rank = (
                f"CASE WHEN substr({column}, 12, 8) >= '{_clock(24 * 60 - minutes)}'"
                f" THEN {alias}.next_rank ELSE {alias}.rank END"
            )
        elif minutes < 0:
            rank = (
                f"CASE WHEN substr({column}, 12, 8) < '{_clock(-minutes)}'"
                f" THEN {alias}.prev_rank ELSE {alias}.rank END"
            )
        # The day before the table's first or after its last has no rank: no row, as for
        # a day the table lacks.
        join = f"JOIN {self.ranks} {alias} ON {alias}.day = left({column}, 10)"
        return (join if minutes == 0 else f"{join} AND {rank} IS NOT NULL"), rank

    def in_order(self, grouped: str, order: str) -> str:
        # Fenced with OFFSET 0, the groups are hashed and only they are sorted, by an
        # integer: merged, the planner sorted every row by (order, group text) for a
        # GroupAggregate (a month's counterparties' spans: 60 -> 49 ms).
        return f"SELECT * FROM ({grouped} OFFSET 0) AS x ORDER BY {order}"

    def indexed(self, table: str, index: str) -> str:
        return table

    def rows_of_each(self, table: str, columns: str) -> str:
        # A month's documents joined to the ledger: the planner hashed all of it (5.7M
        # firings, 7.4 s at 1M documents); a lookup per document took 1.4 s + 0.55 s.
        # OFFSET 0 keeps the subquery a per-row probe.
        return (
            f"CROSS JOIN LATERAL (SELECT {columns} FROM {table}"
            " WHERE document_id = d.id OFFSET 0) AS x"
        )

    def pairs(self, expression: str) -> str:
        return f"string_agg(CAST({expression} AS text), ' ')"

    def pairs_order(self, order: str) -> str:
        # Not ``string_agg(… ORDER BY …)``: an ordered aggregate makes the planner sort
        # every row by the group's key (text) for a GroupAggregate, 100 ms of 240 at
        # 5,000 counterparties. Sorted by the integer day instead, the hash aggregate
        # above appends each group's rows in that order (pair_quantiles checks it).
        return f" ORDER BY {order}"

    def binary(self, column: str) -> str:
        # The database's collation may be a locale's (ru_RU): sort as SQLite does.
        return f'{column} COLLATE "C"'

    def unindexed(self, expression: str) -> str:
        # The same text, but no index matches it: the planner narrows by the filter's
        # index, then sorts what it found.
        return f"({expression} || '') COLLATE \"C\""

    def ledger_counts(
        self, what: str, where: str, where_d: str, *, daily: bool = False
    ) -> tuple[str, int]:
        # The folded deltas plus the rows not yet folded, by their document (store._pg_ledger).
        return counts_table(what, where, where_d, daily=daily), 2


def _clock(minutes: int) -> str:
    """``HH:MM:00`` of ``minutes`` past midnight, as the stores' UTC texts spell a time."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def _offset(zone: ZoneInfo, at: datetime) -> int:
    offset = at.astimezone(zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)


def dialect_for(zone: ZoneInfo, at: datetime, *, postgres: bool = False) -> Dialect:
    """The dialect for ``zone`` (its UTC offset at ``at``: Moscow has had one since 2014)."""
    return PgDialect(_offset(zone, at)) if postgres else Dialect(_offset(zone, at))


#: The summary's calendar fingerprint, if the store keeps the summaries keyed by
#: organisation and by kind, the totals and the scoped totals (schema v22; an older store
#: is served derived until migrated).
# An initial load in progress (store/_sqlite_bulk.py) has dropped the summary's
# triggers and the indexes the pages name: the per-document path serves until it ends.
SUMMARY_SQLITE = (
    "SELECT value FROM counters WHERE name = 'workday_ranks' AND EXISTS (SELECT 1"
    " FROM sqlite_master WHERE type = 'table' AND name = 'dashboard_scoped_totals')"
    " AND EXISTS (SELECT 1 FROM pragma_index_list('documents')"
    " WHERE name = 'documents_by_date')"
)
#: The ledger's counts by day (v19) beside those by month (v18): an older store's are
#: read through the join.
LEDGER_SQLITE = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger_days'"
#: The reader's rank table: per local day its working-day rank, and the ranks of the days
#: before and after it (:meth:`PgDialect.rank_of` joins on the UTC day).
RANKS_TABLE = (
    "CREATE TEMP TABLE workday_ranks (day TEXT PRIMARY KEY, rank INTEGER NOT NULL,"
    " prev_rank INTEGER, next_rank INTEGER)"
)
RANKS_COLUMNS = "day, rank, prev_rank, next_rank"
RANKS_INSERT = f"INSERT INTO temp.workday_ranks ({RANKS_COLUMNS}) VALUES (?, ?, ?, ?)"
RankRow = tuple[str, int, int | None, int | None]


def rank_rows(ranks: Sequence[tuple[str, int]]) -> list[RankRow]:
    """The rows of :data:`RANKS_TABLE` from a calendar's ranks (``working_day_ranks``)."""
    before = [None, *(rank for _, rank in ranks[:-1])]
    after = [*(rank for _, rank in ranks[1:]), None]
    return [(day, rank, b, a) for (day, rank), b, a in zip(ranks, before, after, strict=True)]


class SQLiteReader:
    """Read-only connections to a store file, one per thread (the web server's workers)."""

    def __init__(self, path: str | Path, calendar: WorkingDays) -> None:
        self.path = Path(path)
        ranks = working_day_ranks(calendar)
        self._ranks = rank_rows(ranks)
        # The store's summary counts working days with its own (bundled) calendar.
        self._fingerprint = fingerprint(ranks)
        if not self.path.exists():
            raise StoreError(
                f"{self.path}: no such store.\nWhat to do: point --config at the runner's"
                " config (its store.path), or run `edo-rules sync` first."
            )
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # mode=ro: the store file is never written; TEMP tables live elsewhere.
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            # Autocommit: each query reads the store as it is now. Python's default would
            # open a transaction at the rank table's INSERT and read one snapshot forever.
            conn = sqlite3.connect(
                uri, uri=True, check_same_thread=False, timeout=5.0, isolation_level=None
            )
            conn.execute("PRAGMA cache_size = -65536")
            self._local.conn = conn
            self._local.ranks = False
        return conn

    def _ranked(self, conn: sqlite3.Connection) -> None:
        # Only the derivations read the rank table: filled on a thread's first one.
        if not self._local.ranks:
            conn.execute(RANKS_TABLE)
            conn.execute("BEGIN")
            conn.executemany(RANKS_INSERT, self._ranks)
            conn.execute("COMMIT")
            self._local.ranks = True

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of one query; raises :class:`StoreError` naming the file."""
        try:
            conn = self._conn()
            if "temp.workday_ranks" in sql:
                self._ranked(conn)
            return conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: reading the dashboard's data failed: {exc}") from exc

    def summary(self) -> tuple[bool, bool]:
        """(the store keeps the dashboard summary, its working days agree with this calendar)."""
        try:
            # fetchall: a cursor left open would hold the read transaction (and its snapshot).
            rows = self._conn().execute(SUMMARY_SQLITE).fetchall()
        except sqlite3.Error:  # an older store, served read-only before its migration
            return False, False
        if not rows:
            return False, False
        row = rows[0]
        return True, int(row[0]) == self._fingerprint

    def ledger(self) -> bool:
        """Whether the store keeps the ledger's counts by month and day (schema v19; an older store,
        served read-only before its migration, is counted through the join)."""
        try:
            return bool(self._conn().execute(LEDGER_SQLITE).fetchall())
        except sqlite3.Error:
            return False

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
