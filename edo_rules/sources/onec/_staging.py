"""What an initial load reads before the documents, kept on disk and read back a page at a time.

The first sync reads the whole state register, the basis links, the sales
flags, the action journal and the signatures before it pages through the
documents: a document's mapping needs its rows from all of them, and 1C can
page each set only in its own order. Held in dictionaries, they grow with the
base (about half a kilobyte a document: half a gigabyte at a million). Here
they go into a temporary SQLite file beside nothing else, and each page of
documents reads back only its own rows, so the sync's memory stays flat
however large the base is. The file is deleted when the load ends.
"""

from __future__ import annotations

import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from edo_rules.sources.onec._lookups import StateRow

_TABLES = {
    "states": "doc TEXT PRIMARY KEY, doc_set TEXT, state TEXT, at TEXT, comment TEXT,"
    " basis_kind TEXT, basis_ref TEXT",
    "links": "doc TEXT, kind TEXT, target TEXT, flag INTEGER",
    "sales": "ref TEXT PRIMARY KEY, universal INTEGER, operation TEXT",
    "journal": "doc TEXT, at TEXT, state TEXT, user TEXT",
    "signatures": "doc TEXT, holder TEXT, at TEXT",
}
#: Rows buffered before one ``executemany``.
_BATCH = 5000
#: Keys in one ``IN (…)`` (SQLite's default limit of variables is far above).
_KEYS = 900


class Staging:
    """A temporary SQLite file of an initial load's reference rows, keyed by document."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="edo-rules-sync-")
        path = Path(self._folder.name) / "staging.sqlite3"
        # Written by the loaders' threads, read by the mapping thread: one lock for all.
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -4096"):
            self._conn.execute(f"PRAGMA {pragma}")
        for table, columns in _TABLES.items():
            self._conn.execute(f"CREATE TABLE {table} ({columns})")
        self._pending: dict[str, list[tuple[object, ...]]] = {table: [] for table in _TABLES}

    def close(self) -> None:
        self._conn.close()
        self._folder.cleanup()

    # -- writing (while the sets are read) ------------------------------------------
    def state(self, row: StateRow) -> None:
        basis = row.basis or (None, None)
        self._add("states", (row.doc, row.doc_set, row.state, row.at, row.comment, *basis))

    def link(self, doc: str, kind: str | None, target: str | None, flag: object) -> None:
        current = None if flag is None else int(bool(flag))
        self._add("links", (doc, kind, target, current))

    def sale(self, ref: str, universal: bool, operation: str) -> None:
        self._add("sales", (ref, int(universal), operation))

    def action(self, doc: str, at: str, state: str, user: str | None) -> None:
        self._add("journal", (doc, at, state, user))

    def signature(self, doc: str, holder: str, at: str) -> None:
        self._add("signatures", (doc, holder, at))

    def _add(self, table: str, row: tuple[object, ...]) -> None:
        with self._lock:
            pending = self._pending[table]
            pending.append(row)
            if len(pending) >= _BATCH:
                self._flush(table)

    def _flush(self, table: str) -> None:
        pending = self._pending[table]
        if not pending:
            return
        marks = ",".join("?" * len(pending[0]))
        # A later row of the same key replaces the earlier one, as a dictionary would.
        verb = "INSERT OR REPLACE" if table in ("states", "sales") else "INSERT"
        # One transaction for the batch: in autocommit each row would be its own
        # (a write to the file per row, 60 µs instead of 1 µs).
        self._conn.execute("BEGIN")
        try:
            self._conn.executemany(f"{verb} INTO {table} VALUES ({marks})", pending)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        pending.clear()

    def finish(self) -> None:
        """Write what is buffered and index the rows by document (once all sets are read)."""
        with self._lock:
            for table in _TABLES:
                self._flush(table)
            for table in ("links", "journal", "signatures"):
                self._conn.execute(f"CREATE INDEX {table}_doc ON {table} (doc)")

    # -- reading (a page of documents at a time) ----------------------------------------
    def count(self) -> int:
        return int(self._one("SELECT COUNT(*) FROM states") or 0)

    def latest(self) -> str | None:
        """The latest change date of the state register (the first watermark)."""
        found = self._one("SELECT MAX(at) FROM states")
        return None if found is None else str(found)

    def states(self, docs: Iterable[str]) -> dict[str, StateRow]:
        result = {}
        for doc, doc_set, state, at, comment, kind, ref in self._rows("states", "doc", docs):
            basis = (kind, ref) if kind and ref else None
            result[doc] = StateRow(doc, doc_set, state, at, comment, basis)
        return result

    def links(self, docs: Iterable[str]) -> list[tuple[str, str | None, str | None, object]]:
        """(doc, kind, target, flag) in the order 1C sent them (the preference depends on it)."""
        rows = self._rows("links", "doc", docs, order="rowid")
        return [(d, k, t, None if f is None else bool(f)) for d, k, t, f in rows]

    def sales(self, refs: Iterable[str]) -> dict[str, tuple[bool, str]]:
        return {ref: (bool(u), op) for ref, u, op in self._rows("sales", "ref", refs)}

    def actions(self, docs: Iterable[str]) -> list[tuple[str, str, str, str | None]]:
        return list(self._rows("journal", "doc", docs, order="rowid"))

    def signatures(self, docs: Iterable[str]) -> list[tuple[str, str, str]]:
        return list(self._rows("signatures", "doc", docs, order="rowid"))

    def _one(self, sql: str) -> Any:
        with self._lock:
            return self._conn.execute(sql).fetchone()[0]

    def _rows(
        self, table: str, key: str, values: Iterable[str], order: str = ""
    ) -> Iterator[tuple[Any, ...]]:
        wanted = list(dict.fromkeys(values))
        by = f" ORDER BY {order}" if order else ""
        for start in range(0, len(wanted), _KEYS):
            chunk = wanted[start : start + _KEYS]
            marks = ",".join("?" * len(chunk))
            with self._lock:
                rows = self._conn.execute(
                    f"SELECT * FROM {table} WHERE {key} IN ({marks}){by}", chunk
                ).fetchall()
            yield from rows
