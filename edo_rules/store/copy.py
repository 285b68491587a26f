"""Copy a SQLite store into an empty PostgreSQL store, row for row, and prove it.

Every table is copied with its ids (the ledger, the outbox and its outcomes
keep pointing at each other), the PostgreSQL sequences are moved past them,
and then each table is compared on both sides: the row count and a SHA-256
over its rows in id order. Requests that were in flight in the SQLite store
arrive unclaimed, so the first PostgreSQL runner checks them in Bitrix24
before sending (the usual crash recovery). The target must be empty: a copy
never merges into a store that is in use.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from edo_rules._messages import msg
from edo_rules.errors import StoreError
from edo_rules.store._pg_dashboard import rebuild_summary
from edo_rules.store._pg_ledger import SUMMARIZED
from edo_rules.store._pg_ledger import rebuild as rebuild_ledger
from edo_rules.store.postgres import PostgresStore
from edo_rules.store.sqlite import SQLiteStore

#: Parents before children; the key each table is compared in.
TABLES: tuple[tuple[str, str], ...] = (
    ("documents", "id"),
    ("status_events", "id"),
    ("firings", "id"),
    ("action_requests", "id"),
    ("outcomes", "id"),
    ("snoozes", "id"),
    ("sync_state", "key"),
    ("cache", "key"),
    ("event_cursors", "rule_key"),
    ("counters", "name"),
    ("rule_progress", "rule_key"),
    ("counterparty_samples", "document_id"),
    ("counterparty_histogram", "inn, month, outcome, working_days"),
    # The tombstones of pruned documents: without them a re-read would act on those again.
    ("pruned_documents", "id"),
)
_SERIAL = ("status_events", "firings", "action_requests", "outcomes", "snoozes")
_BATCH = 2000


@dataclass(frozen=True, slots=True)
class TableCheck:
    """One table on both sides: rows and checksums."""

    table: str
    rows: int
    source_sha256: str
    target_sha256: str

    @property
    def same(self) -> bool:
        return self.source_sha256 == self.target_sha256


def sqlite_path(url: str) -> Path:
    """``sqlite:///var/lib/edo.db`` (or a plain path) → the file's path."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite://"))
    if url.startswith("sqlite://"):
        raise StoreError(msg("copy_bad_url", url=url))
    return Path(url)


def copy_store(source: Path, target_dsn: str) -> list[TableCheck]:
    """Copy the SQLite store ``source`` into the empty PostgreSQL store at ``target_dsn``.

    Raises StoreError when the source is missing, the target is not empty, or
    a table's count or checksum differs after the copy (the copy is then
    rolled back: nothing is left half-written).
    """
    if not source.is_file():
        raise StoreError(msg("copy_no_source", path=str(source)))
    SQLiteStore(source).close()  # brings the file to the current schema version
    PostgresStore(target_dsn, pool_size=1).close()  # sets up an empty database
    conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        with psycopg.connect(target_dsn) as pg, pg.transaction():
            _refuse_non_empty(pg)
            # The dashboard's summaries are built once at the end, not row by row.
            for table in SUMMARIZED:
                pg.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            for table, key in TABLES:
                _copy_table(conn, pg, table, key)
            for table in SUMMARIZED:
                pg.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            rebuild_summary(pg)
            rebuild_ledger(pg)
            _move_sequences(pg)
            checks = [_check(conn, pg, table, key) for table, key in TABLES]
            bad = [c for c in checks if not c.same]
            if bad:
                names = ", ".join(c.table for c in bad)
                raise StoreError(msg("copy_differs", path=str(source), tables=names))
            return checks
    except psycopg.Error as exc:
        raise StoreError(msg("copy_failed", message=str(exc))) from exc
    finally:
        conn.close()


def _refuse_non_empty(pg: psycopg.Connection[Any]) -> None:
    for table in ("documents", "firings", "action_requests"):
        row = pg.execute(sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table)))
        found = row.fetchone()
        if found and found[0]:
            raise StoreError(msg("copy_not_empty", table=table, rows=found[0]))


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")]


def _rows(conn: sqlite3.Connection, table: str, key: str, columns: Sequence[str]) -> Iterator[Any]:
    listed = ", ".join(columns)
    # Table and column names come from TABLES and PRAGMA table_info, never from input.
    yield from conn.execute(f"SELECT {listed} FROM {table} ORDER BY {key}")


def _copy_table(
    conn: sqlite3.Connection, pg: psycopg.Connection[Any], table: str, key: str
) -> None:
    columns = _columns(conn, table)
    if table == "counters":
        pg.execute("DELETE FROM counters")  # the new database's own starting values
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.SQL(", ").join(sql.Placeholder() for _ in columns),
    )
    batch: list[Any] = []
    with pg.cursor() as cursor:
        for row in _rows(conn, table, key, columns):
            batch.append(row)
            if len(batch) >= _BATCH:
                cursor.executemany(statement, batch)
                batch.clear()
        if batch:
            cursor.executemany(statement, batch)


def _move_sequences(pg: psycopg.Connection[Any]) -> None:
    for table in _SERIAL:
        pg.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'),"
                " (SELECT COALESCE(MAX(id), 0) + 1 FROM {}), false)"
            ).format(sql.Identifier(table)),
            (table,),
        )


def _in_byte_order(table: str, column: str) -> sql.Composable:
    """A sort key in SQLite's order: text by bytes (``COLLATE "C"``), numbers as numbers."""
    numeric = column == "working_days" or (column == "id" and table != "documents")
    if numeric:
        return sql.Identifier(column)
    return sql.SQL('{} COLLATE "C"').format(sql.Identifier(column))


def _digest(rows: Iterator[Any]) -> tuple[int, str]:
    sha = hashlib.sha256()
    count = 0
    for row in rows:
        sha.update(repr(tuple(_canonical(v) for v in row)).encode())
        count += 1
    return count, sha.hexdigest()


def _canonical(value: Any) -> Any:
    # Both drivers give int, float, str or None for these columns; a REAL that
    # holds a whole number may come back as an int from SQLite.
    return float(value) if isinstance(value, float) else value


def _check(
    conn: sqlite3.Connection, pg: psycopg.Connection[Any], table: str, key: str
) -> TableCheck:
    columns = _columns(conn, table)
    count, source = _digest(_rows(conn, table, key, columns))
    statement = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.Identifier(table),
        sql.SQL(", ").join(_in_byte_order(table, k.strip()) for k in key.split(",")),
    )
    target_count, target = _digest(iter(pg.execute(statement).fetchall()))
    if target_count != count:
        target = f"{target} ({target_count} rows)"
    return TableCheck(table, count, source, target)
