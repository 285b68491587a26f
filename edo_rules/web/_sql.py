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
from typing import Any
from zoneinfo import ZoneInfo

from edo_rules.errors import StoreError


@dataclass(frozen=True, slots=True)
class Dialect:
    """How this database writes "the local date of a UTC timestamp column"."""

    offset_minutes: int

    def day(self, column: str) -> str:
        # The store keeps UTC ISO text; the working day is the playbooks' local date.
        return f"date({column}, '{self.offset_minutes:+d} minutes')"


def dialect_for(zone: ZoneInfo, at: datetime) -> Dialect:
    """The SQLite dialect for ``zone`` (its UTC offset at ``at``: Moscow has had one since 2014)."""
    offset = at.astimezone(zone).utcoffset()
    return Dialect(0 if offset is None else int(offset.total_seconds() // 60))


class SQLiteReader:
    """Read-only connections to a store file, one per thread (the web server's workers)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise StoreError(
                f"{self.path}: no such store.\nWhat to do: point --config at the runner's"
                " config (its store.path), or run `edo-rules sync` first."
            )
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=5.0)
            conn.execute("PRAGMA query_only = ON")
            conn.execute("PRAGMA cache_size = -65536")
            self._local.conn = conn
        return conn

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of one query; raises :class:`StoreError` naming the file."""
        try:
            return self._conn().execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: reading the dashboard's data failed: {exc}") from exc

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
