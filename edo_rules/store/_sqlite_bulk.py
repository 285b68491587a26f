"""The initial sync into an empty SQLite store as a bulk load.

Row by row, each document written costs an entry in every secondary index of
``documents`` and the dashboard summaries' triggers (three upserts a row into each of
the two): about half of a sync page's time in the store; each event an entry in the events'
unique key, whose random document-keyed order dirties a leaf per event. An
initial load writes every row once into empty tables, so its pages skip all
three: the first such page drops those indexes and triggers, recording their
SQL in ``deferred_schema``, and the first
write that is not an initial page (the load's closing cursor page, a refresh,
an upsert, a prune) builds them again and the summary from every row, as
``store copy`` does, all in one transaction.

Without the events' key nothing refuses a duplicate event, so a page inserts
its events plainly only when none of their documents was stored before it
(such a document has no event yet; the page's own duplicates are dropped
first, as ``INSERT OR IGNORE`` would drop them); a page that finds a stored
one (a restarted load) builds the key first and goes on row by row. The events
get the ids a row-by-row load gives them.

Each step commits with the page that makes it, so a crash leaves either a
store still in bulk mode (the restarted load goes on in it, then finishes) or
a complete one. Indexes that readers name with ``INDEXED BY`` stay, so a tick
or a dashboard page during an interrupted load still runs, only on an
incomplete summary, like the incomplete documents of a load half done.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from edo_rules.store import _sqlite_dashboard

#: Indexes some query names (``INDEXED BY``): dropping them would fail that query.
KEPT = frozenset({"documents_seq", "documents_wait_start"})
#: The triggers whose effect :func:`_sqlite_dashboard.rebuild` recomputes.
_SUMMARY_TRIGGERS = "documents_groups_%"
#: The page cache (MB) while the deferred indexes are built.
BUILD_CACHE_MB = 4
#: The row saying the summary is to be rebuilt (no schema object has this name).
SUMMARY = "dashboard summary"
#: The events' unique key (schema v16), dropped with the documents' indexes.
EVENTS_KEY = "status_events_key"


def deferred(conn: sqlite3.Connection) -> frozenset[str]:
    """What a pending bulk load left to build (empty when none is pending)."""
    return frozenset(str(row[0]) for row in conn.execute("SELECT name FROM deferred_schema"))


def pending(conn: sqlite3.Connection) -> bool:
    """True while a bulk load left something to build."""
    return conn.execute("SELECT 1 FROM deferred_schema LIMIT 1").fetchone() is not None


def any_stored(conn: sqlite3.Connection, document_ids: Iterable[str]) -> bool:
    """Whether any of these documents is stored (one statement, whatever their number)."""
    ids = json.dumps(sorted(set(document_ids)))
    found = conn.execute(
        "SELECT 1 FROM documents WHERE id IN (SELECT value FROM json_each(?)) LIMIT 1", (ids,)
    )
    return found.fetchone() is not None


def build_events_key(conn: sqlite3.Connection) -> None:
    """The events' key now, ahead of the rest (a page is about to rely on it)."""
    (sql,) = conn.execute(
        "SELECT sql FROM deferred_schema WHERE name = ?", (EVENTS_KEY,)
    ).fetchone()
    conn.execute(sql)
    conn.execute("DELETE FROM deferred_schema WHERE name = ?", (EVENTS_KEY,))


def is_empty(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM documents LIMIT 1").fetchone() is None


def begin(conn: sqlite3.Connection) -> None:
    """In the first page's transaction: drop what the load would maintain row by row."""
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"
        " AND ((tbl_name = 'documents' AND (type = 'index' OR (type = 'trigger' AND name LIKE ?)))"
        " OR (type = 'index' AND name = ?)) ORDER BY type, name",
        (_SUMMARY_TRIGGERS, EVENTS_KEY),
    ).fetchall()
    for kind, name, sql in rows:
        if name in KEPT:
            continue
        conn.execute("INSERT INTO deferred_schema (name, sql) VALUES (?, ?)", (name, sql))
        conn.execute(f'DROP {"INDEX" if kind == "index" else "TRIGGER"} "{name}"')
    conn.execute("INSERT INTO deferred_schema (name, sql) VALUES (?, '')", (SUMMARY,))


def restore(conn: sqlite3.Connection) -> None:
    """Build the dropped indexes and triggers again (the summary stays due)."""
    rows = conn.execute(
        "SELECT name, sql FROM deferred_schema WHERE name != ? ORDER BY name", (SUMMARY,)
    ).fetchall()
    for name, sql in rows:
        conn.execute(sql)
        conn.execute("DELETE FROM deferred_schema WHERE name = ?", (name,))


def finish(conn: sqlite3.Connection) -> None:
    """In the caller's transaction: the indexes, the triggers and the summary, once."""
    # Each index build sorts with about twice the page cache in memory (measured
    # at 200,000 and 400,000 documents: +36 MB at 16 MB, +12 MB at 4 MB, flat in
    # the number of rows, no slower): a small cache keeps the sync's peak down.
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = {-1024 * BUILD_CACHE_MB}")
    try:
        restore(conn)
        _sqlite_dashboard.rebuild(conn)
        conn.execute("DELETE FROM deferred_schema")
    finally:
        conn.execute(f"PRAGMA cache_size = {int(cache)}")


def restore_before_migrating(conn: sqlite3.Connection, version: int, current: int) -> None:
    """A file left mid-load by an older release: its schema objects back before migrations
    (which may alter them); the summary is rebuilt by the next write."""
    if version >= current or not _has_table(conn):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        restore(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _has_table(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deferred_schema'"
    ).fetchone()
    return row is not None and pending(conn)
