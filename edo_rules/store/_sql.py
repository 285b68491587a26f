"""What the store's SQL helpers need from a DB-API connection (SQLite's, or PostgreSQL's).

The helpers in ``_sqlite_outbox``, ``_sqlite_snoozes`` and ``_sqlite_queries``
write portable SQL with ``?`` placeholders; :mod:`edo_rules.store._pg_conn`
adapts a psycopg connection to this shape, so both stores share them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...
