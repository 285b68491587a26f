"""A psycopg connection in the shape the shared SQL helpers use (``?`` placeholders)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import psycopg

from edo_rules.store._sql import Cursor


@lru_cache(maxsize=512)
def pg_sql(sql: str) -> str:
    """``?`` placeholders → psycopg's ``%s`` (a literal ``%`` doubled).

    The shared SQL never has a ``?`` inside a string literal.
    """
    return sql.replace("%", "%%").replace("?", "%s")


class PgConnection:
    """Wraps one psycopg connection; every statement runs on a fresh cursor."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        return self.raw.execute(pg_sql(sql), tuple(parameters))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> psycopg.Cursor[Any]:
        cursor = self.raw.cursor()
        rows = [tuple(p) for p in parameters]
        if rows:
            cursor.executemany(pg_sql(sql), rows)
        return cursor
