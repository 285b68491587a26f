"""The dashboard benchmark's PostgreSQL side: the same documents in a schema, its reader,
and the bare SQL replayed on a plain psycopg connection (``benchmarks/dashboard.py``)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from edo_rules.calendar import ProductionCalendar
from edo_rules.store._pg_conn import pg_sql
from edo_rules.store._sqlite_dashboard import working_day_ranks
from edo_rules.store.copy import copy_store
from edo_rules.web._pg_sql import PostgresReader
from edo_rules.web._sql import RANKS_COLUMNS, RANKS_TABLE, rank_rows

Statements = list[tuple[str, tuple[Any, ...]]]


def schema_dsn(server: str, schema: str) -> str:
    return psycopg.conninfo.make_conninfo(server, options=f"-c search_path={schema}")


def load(path: Path, server: str, schema: str | None, documents: int) -> tuple[str, str, bool]:
    """(the DSN of a schema holding the SQLite store's copy, the schema, whether it is
    ours to drop). A named schema that already holds as many documents is reused."""
    name = schema or f"bench_dash_{secrets.token_hex(4)}"
    dsn = schema_dsn(server, name)
    with psycopg.connect(server, autocommit=True) as conn:
        found = conn.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s"
            " AND table_name = 'documents'",
            (name,),
        ).fetchone()
        if found:
            count = conn.execute(
                sql.SQL("SELECT COUNT(*) FROM {}.documents").format(sql.Identifier(name))
            ).fetchone()
            if count is not None and int(count[0]) == documents:
                print(f"PostgreSQL: reusing schema {name} ({documents} documents)")
                _migrate(dsn)
                return dsn, name, schema is None
            raise SystemExit(f"schema {name} holds other documents: drop it or name another")
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(name)))
    started = time.perf_counter()
    copy_store(path, dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        # What an administrator (or autovacuum, soon after) does after a bulk load.
        conn.execute("VACUUM ANALYZE")
    print(f"PostgreSQL: copied into schema {name} in {time.perf_counter() - started:.1f} s")
    return dsn, name, schema is None


def _migrate(dsn: str) -> None:
    """A kept schema of an older release is migrated first, as ``--store FILE`` is (the
    dashboard's reader only reads: it would serve it through the older read models)."""
    from edo_rules.runner.wiring import open_postgres

    started = time.perf_counter()
    open_postgres(dsn, migrate=True).close()
    print(f"PostgreSQL: schema opened (migrated if older) in {time.perf_counter() - started:.1f} s")


def drop(server: str, schema: str) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def replay_connection(dsn: str, calendar: ProductionCalendar) -> psycopg.Connection[Any]:
    """A plain connection set up as the dashboard reader's (rank table, work_mem, custom
    plans)."""
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute(RANKS_TABLE)
    with conn.cursor().copy(f"COPY pg_temp.workday_ranks ({RANKS_COLUMNS}) FROM STDIN") as copy:
        for row in rank_rows(working_day_ranks(calendar)):
            copy.write_row(row)
    conn.execute("ANALYZE pg_temp.workday_ranks")
    conn.execute("SET work_mem = '64MB'")
    conn.execute("SET plan_cache_mode = force_custom_plan")
    return conn


def replay(conn: psycopg.Connection[Any], statements: Statements) -> int:
    return sum(len(conn.execute(pg_sql(q), params).fetchall()) for q, params in statements)


def reader_and_replay(
    dsn: str, calendar: ProductionCalendar
) -> tuple[PostgresReader, Callable[[Statements], int], Callable[[], None]]:
    reader = PostgresReader(dsn, calendar)
    plain = replay_connection(dsn, calendar)

    def close() -> None:
        plain.close()
        reader.close()

    return reader, lambda statements: replay(plain, statements), close
