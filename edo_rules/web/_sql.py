"""The read models' SQL connection and the few dialect-specific pieces.

Everything else in the read models is standard SQL with ``?`` parameters; a
PostgreSQL read model supplies its own :class:`Dialect` and connection.
"""

from __future__ import annotations

import sqlite3
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from edo_rules.errors import StoreError


@dataclass(frozen=True, slots=True)
class Dialect:
    """How this database writes "the local date of a UTC timestamp column"."""

    offset_minutes: int

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


def dialect_for(zone: ZoneInfo, at: datetime) -> Dialect:
    """The SQLite dialect for ``zone`` (its UTC offset at ``at``: Moscow has had one since 2014)."""
    offset = at.astimezone(zone).utcoffset()
    return Dialect(0 if offset is None else int(offset.total_seconds() // 60))


class WorkingDays(Protocol):
    def is_working_day(self, d: date) -> bool: ...


#: Years the rank table covers: wider than any document's dates (the calendar
#: derives years past its data, with a warning of its own, silenced here).
RANK_YEARS = range(2013, 2061)  # the calendar supports 2013-2099
RANKS_TABLE = "CREATE TEMP TABLE workday_ranks (day TEXT PRIMARY KEY, rank INTEGER NOT NULL)"
RANKS_INSERT = "INSERT INTO temp.workday_ranks (day, rank) VALUES (?, ?)"


def working_day_ranks(calendar: WorkingDays) -> list[tuple[str, int]]:
    """(day, working days up to and including it): ``rank(b) - rank(a)`` counts (a, b]."""
    rows: list[tuple[str, int]] = []
    rank, day = 0, date(RANK_YEARS.start, 1, 1)
    last = date(RANK_YEARS.stop - 1, 12, 31)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while day <= last:
            rank += calendar.is_working_day(day)
            rows.append((day.isoformat(), rank))
            day += timedelta(days=1)
    return rows


class SQLiteReader:
    """Read-only connections to a store file, one per thread (the web server's workers)."""

    def __init__(self, path: str | Path, calendar: WorkingDays) -> None:
        self.path = Path(path)
        self._ranks = working_day_ranks(calendar)
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
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=5.0)
            conn.execute("PRAGMA cache_size = -65536")
            conn.execute(RANKS_TABLE)
            conn.executemany(RANKS_INSERT, self._ranks)
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
