"""The dashboard's reader over a PostgreSQL store: a small pool of read-only connections.

Each connection gets, once, a temporary table of this reader's working-day
ranks (its calendar, overrides included) and is then made read-only for the
rest of its session. Every query runs in its own (autocommit) transaction, so
each one sees what the runners have committed by then, never an old snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from edo_rules._messages import msg
from edo_rules.errors import StoreError
from edo_rules.store._pg_conn import pg_sql
from edo_rules.store._pg_errors import describe
from edo_rules.store._sqlite_dashboard import WorkingDays, fingerprint, working_day_ranks
from edo_rules.store._texts import operation
from edo_rules.store.postgres import _server
from edo_rules.web._sql import RANKS_COLUMNS, RANKS_TABLE, rank_rows

#: As SQLite's: the fingerprint, if the summaries are keyed by organisation and by kind
#: and the totals and the scoped totals are kept (schema v17).
_SUMMARY = (
    "SELECT value FROM counters WHERE name = 'workday_ranks'"
    " AND to_regclass('dashboard_scoped_totals') IS NOT NULL"
)


#: The ledger's counts by day (v14) beside those by month (v13): an older store's are
#: read through the join.
_LEDGER = "SELECT to_regclass('ledger_day_deltas') IS NOT NULL"


class PostgresReader:
    """Read-only connections to a PostgreSQL store, shared by the web server's workers."""

    def __init__(
        self,
        dsn: str,
        calendar: WorkingDays,
        *,
        schema: str | None = None,
        pool_size: int = 4,
        connect_timeout: float = 10.0,
    ) -> None:
        ranks = working_day_ranks(calendar)
        self._ranks = rank_rows(ranks)
        # The store's summary counts working days with its own (bundled) calendar.
        self._fingerprint = fingerprint(ranks)
        self._where = _server(dsn)
        kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": int(connect_timeout)}
        if schema is not None:
            kwargs["options"] = f"-c search_path={schema}"
        self._pool = ConnectionPool(
            dsn,
            min_size=1,
            max_size=pool_size,
            kwargs=kwargs,
            configure=self._configure,
            open=False,
            timeout=connect_timeout,
            name="edo-rules-dashboard",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except (psycopg.Error, PoolTimeout) as exc:
            self._pool.close()
            raise self._error(exc) from exc

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        # A read-only transaction may write a temporary table's rows but not create
        # one: create and fill it first, then make the session read-only.
        conn.execute(RANKS_TABLE)
        with conn.cursor().copy(f"COPY pg_temp.workday_ranks ({RANKS_COLUMNS}) FROM STDIN") as copy:
            for row in self._ranks:
                copy.write_row(row)
        conn.execute("ANALYZE pg_temp.workday_ranks")  # autovacuum never sees a temp table
        # The breakdowns sort a dimension's summary rows (60,000 for 5,000 companies):
        # in memory, not in temporary files.
        conn.execute("SET work_mem = '64MB'")
        # A page's statements filter by dates and names whose selectivity their values
        # decide. After five runs of a statement psycopg prepares it and PostgreSQL may
        # switch to a generic plan: «Обзор» under an organisation, a manager and a month
        # at a million documents counted "signed this week" in 21 ms instead of 1.5 ms
        # (page p95 110 ms, its SQL 52 ms). Planning each run costs well under that.
        conn.execute("SET plan_cache_mode = force_custom_plan")
        conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")

    def _error(self, exc: Exception) -> StoreError:
        if isinstance(exc, psycopg.Error):
            message, hint = describe(exc)
        else:  # the pool found no connection in time
            message, hint = str(exc), msg("pg_hint_unreachable")
        what = operation("reading the dashboard's data")
        return StoreError(
            msg("store_failed_pg", what=what, where=self._where, message=message, hint=hint)
        )

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of one query; raises :class:`StoreError` naming the server."""
        try:
            with self._pool.connection() as conn:
                return conn.execute(pg_sql(sql), tuple(params)).fetchall()
        except (psycopg.Error, PoolTimeout) as exc:
            raise self._error(exc) from exc

    def summary(self) -> tuple[bool, bool]:
        """(the store keeps the dashboard summary, its working days agree with this calendar)."""
        found = self.rows(_SUMMARY)
        if not found:  # an older store, served read-only before its migration
            return False, False
        return True, int(found[0][0]) == self._fingerprint

    def ledger(self) -> bool:
        """Whether the store keeps the ledger's counts by month and day (schema v14; an older one,
        served before its migration, is counted through the join)."""
        found = self.rows(_LEDGER)
        return bool(found and found[0][0])

    def close(self) -> None:
        self._pool.close()
