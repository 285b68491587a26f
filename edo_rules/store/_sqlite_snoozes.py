"""Snoozes on a SQLite connection (called inside the store's transactions)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from edo_rules._codec import parse_datetime, utc_text
from edo_rules.store._sql import Connection
from edo_rules.store.base import Snooze

_COLUMNS = "id, document_id, rule_key, until, reason, created_at, after_event_id, released"


def _from_row(row: tuple[Any, ...]) -> Snooze:
    ident, doc_id, rule_key, until, reason, created_at, after_event_id, released = row
    return Snooze(
        id=int(ident),
        document_id=str(doc_id),
        rule_key=rule_key,
        until=parse_datetime(until),
        reason=reason,
        created_at=parse_datetime(created_at),
        after_event_id=int(after_event_id),
        released=bool(released),
    )


def active_clause(alias: str, args: list[Any], rule_key: str, at: datetime) -> str:
    """SQL: no snooze for ``rule_key`` active at ``at`` covers the document ``alias.id``."""
    args.extend((utc_text(at), rule_key))
    return (
        f"NOT EXISTS (SELECT 1 FROM snoozes s WHERE s.document_id = {alias}.id"
        " AND s.until > ? AND (s.rule_key IS NULL OR s.rule_key = ?))"
    )


def add(
    conn: Connection,
    document_id: str,
    rule_key: str | None,
    until: datetime,
    *,
    reason: str | None,
    created_at: datetime,
) -> Snooze | None:
    """Insert a snooze; None when the document is unknown."""
    if conn.execute("SELECT 1 FROM documents WHERE id = ?", (document_id,)).fetchone() is None:
        return None
    # Events after the smallest event-rule cursor may not have been looked at
    # yet: those are the ones the snooze may hold back.
    after = conn.execute(
        "SELECT COALESCE((SELECT MIN(last_event_id) FROM event_cursors),"
        " (SELECT COALESCE(MAX(id), 0) FROM status_events))"
    ).fetchone()[0]
    row = conn.execute(
        f"INSERT INTO snoozes (document_id, rule_key, until, reason, created_at, after_event_id)"
        f" VALUES (?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
        (document_id, rule_key, utc_text(until), reason, utc_text(created_at), int(after)),
    ).fetchone()
    return _from_row(row)


def select(conn: Connection, active_at: datetime | None, document_id: str | None) -> list[Snooze]:
    clauses, args = ["1 = 1"], []
    if active_at is not None:
        clauses.append("until > ?")
        args.append(utc_text(active_at))
    if document_id is not None:
        clauses.append("document_id = ?")
        args.append(document_id)
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM snoozes WHERE {' AND '.join(clauses)} ORDER BY id", args
    )
    return [_from_row(row) for row in rows]


def end(conn: Connection, snooze_id: int, at: datetime) -> Snooze | None:
    """Move ``until`` back to ``at`` if it is later; None for an unknown id."""
    conn.execute(
        "UPDATE snoozes SET until = ? WHERE id = ? AND until > ?",
        (utc_text(at), snooze_id, utc_text(at)),
    )
    row = conn.execute(f"SELECT {_COLUMNS} FROM snoozes WHERE id = ?", (snooze_id,)).fetchone()
    return None if row is None else _from_row(row)


def ended(conn: Connection, now: datetime) -> list[Snooze]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM snoozes WHERE released = 0 AND until <= ? ORDER BY id",
        (utc_text(now),),
    )
    return [_from_row(row) for row in rows]


def release(conn: Connection, snooze_ids: Iterable[int]) -> None:
    conn.executemany("UPDATE snoozes SET released = 1 WHERE id = ?", [(i,) for i in snooze_ids])
