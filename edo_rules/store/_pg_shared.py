"""Runners, leases and claims on PostgreSQL (see :mod:`edo_rules.store.shared`)."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from edo_rules._codec import utc_text
from edo_rules.model import ActionRequest, RequestState
from edo_rules.store._pg_conn import PgConnection
from edo_rules.store._sqlite_rows import REQUEST_COLUMNS, request_from_row
from edo_rules.store.shared import RunnerInfo

_IN_FLIGHT = RequestState.IN_FLIGHT.value


def heartbeat(conn: PgConnection, runner: str, lease: float) -> int:
    conn.execute(
        "INSERT INTO runners (id, host, pid, lease_seconds) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET seen_at = clock_timestamp(),"
        " lease_seconds = excluded.lease_seconds",
        (runner, socket.gethostname(), os.getpid(), lease),
    )
    until = "clock_timestamp() + make_interval(secs => ?)"
    conn.execute(
        f"UPDATE action_requests SET claimed_until = {until} WHERE claimed_by = ? AND state = ?",
        (lease, runner, _IN_FLIGHT),
    )
    row = conn.execute(
        "SELECT COUNT(*) FROM runners"
        " WHERE seen_at > clock_timestamp() - make_interval(secs => 2 * lease_seconds)"
    ).fetchone()
    return max(1, int(row[0]))


def try_lease(conn: PgConnection, name: str, runner: str, lease: float) -> bool:
    row = conn.execute(
        "INSERT INTO leases (name, holder, until)"
        " VALUES (?, ?, clock_timestamp() + make_interval(secs => ?))"
        " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until"
        " WHERE leases.holder = excluded.holder OR leases.until < clock_timestamp()"
        " RETURNING holder",
        (name, runner, lease),
    ).fetchone()
    return row is not None


def leave(conn: PgConnection, runner: str) -> None:
    conn.execute("DELETE FROM leases WHERE holder = ?", (runner,))
    conn.execute("DELETE FROM runners WHERE id = ?", (runner,))


def runners(conn: PgConnection) -> list[RunnerInfo]:
    rows = conn.execute(
        "SELECT r.id, r.host, r.pid, r.started_at, r.seen_at,"
        " r.seen_at > clock_timestamp() - make_interval(secs => 2 * r.lease_seconds),"
        " COALESCE((SELECT string_agg(l.name, ',' ORDER BY l.name) FROM leases l"
        "   WHERE l.holder = r.id AND l.until > clock_timestamp()), ''),"
        " (SELECT COUNT(*) FROM action_requests a WHERE a.claimed_by = r.id AND a.state = ?)"
        " FROM runners r ORDER BY r.started_at, r.id",
        (_IN_FLIGHT,),
    ).fetchall()
    return [
        RunnerInfo(
            id=row[0],
            host=row[1],
            pid=int(row[2]),
            started_at=row[3],
            seen_at=row[4],
            alive=bool(row[5]),
            leases=tuple(name for name in str(row[6]).split(",") if name),
            claims=int(row[7]),
        )
        for row in rows
    ]


def take_over_stale_claims(conn: PgConnection, runner: str, lease: float) -> list[ActionRequest]:
    rows = conn.execute(
        "UPDATE action_requests SET claimed_by = ?,"
        " claimed_until = clock_timestamp() + make_interval(secs => ?)"
        " WHERE id IN (SELECT id FROM action_requests WHERE state = ?"
        " AND (claimed_until IS NULL OR claimed_until < clock_timestamp())"
        " ORDER BY id FOR UPDATE SKIP LOCKED)"
        f" RETURNING {REQUEST_COLUMNS}",
        (runner, lease, _IN_FLIGHT),
    ).fetchall()
    found = sorted((request_from_row(row) for row in rows), key=lambda r: r.id or 0)
    return [replace(r, state=RequestState.IN_FLIGHT) for r in found]


def give_up_claims(conn: PgConnection, runner: str) -> int:
    # The state stays in flight: whether it was sent is unknown until it is checked.
    cursor = conn.execute(
        "UPDATE action_requests SET claimed_by = NULL, claimed_until = NULL"
        " WHERE claimed_by = ? AND state = ?",
        (runner, _IN_FLIGHT),
    )
    return int(cursor.rowcount)


def waiting_behind(conn: PgConnection, ids: Sequence[int], now: datetime) -> set[int]:
    """Of ``ids``, those with an earlier request of their document outside ``ids`` that is
    in flight (another runner is sending it) or pending and due (not claimed yet)."""
    if not ids:
        return set()
    # Two single-table look-ups through the primary key and the document index, matched
    # in Python: joined in SQL, the prepared statement's generic plan crossed every
    # claimed request with every active one (0.6-2.5 s a claim at 12,000 requests).
    documents = dict(
        conn.execute(
            "SELECT id, document_id FROM action_requests WHERE id = ANY(?)", (list(ids),)
        ).fetchall()
    )
    active = conn.execute(
        "SELECT document_id, id FROM action_requests WHERE document_id = ANY(?) AND (state = ?"
        " OR (state = ? AND (next_attempt_at IS NULL OR next_attempt_at <= ?)))",
        (sorted(set(documents.values())), _IN_FLIGHT, RequestState.PENDING.value, utc_text(now)),
    ).fetchall()
    claimed = set(ids)
    oldest: dict[str, int] = {}  # per document, its oldest active request not among ``ids``
    for document, request in active:
        if request not in claimed and request < oldest.get(document, request + 1):
            oldest[document] = request
    return {int(i) for i, doc in documents.items() if oldest.get(doc, i) < i}


#: The channel a refresh request is announced on (per schema: several stores may share
#: one database, each with its own runners).
def refresh_channel(conn: PgConnection) -> str:
    row = conn.execute("SELECT current_schema()").fetchone()
    return f"edo_rules_refresh_{row[0] if row else 'public'}"


def ask_refresh(conn: PgConnection, runner: str, request: str) -> int:
    row = conn.execute(
        "INSERT INTO sync_requests (request, asked_by) VALUES (?, ?) RETURNING id",
        (request, runner),
    ).fetchone()
    conn.execute("SELECT pg_notify(?, ?)", (refresh_channel(conn), str(row[0])))
    return int(row[0])


def take_refreshes(conn: PgConnection, runner: str, lease: float) -> list[tuple[int, str]]:
    # Answers are read within seconds; a day later nobody waits for them.
    conn.execute(
        "DELETE FROM sync_requests WHERE answered_at < clock_timestamp() - interval '1 day'"
    )
    rows = conn.execute(
        "UPDATE sync_requests SET served_by = ?,"
        " served_until = clock_timestamp() + make_interval(secs => ?)"
        " WHERE id IN (SELECT id FROM sync_requests WHERE answer IS NULL"
        " AND (served_by IS NULL OR served_until < clock_timestamp())"
        " ORDER BY id FOR UPDATE SKIP LOCKED) RETURNING id, request",
        (runner, lease),
    ).fetchall()
    return sorted((int(row[0]), str(row[1])) for row in rows)


def answer_refreshes(conn: PgConnection, ids: Sequence[int], answer: str) -> None:
    conn.execute(
        "UPDATE sync_requests SET answer = ?, answered_at = clock_timestamp() WHERE id = ANY(?)",
        (answer, list(ids)),
    )


def refresh_answer(conn: PgConnection, request_id: int) -> str | None:
    row = conn.execute("SELECT answer FROM sync_requests WHERE id = ?", (request_id,)).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def release_requests(conn: PgConnection, ids: Sequence[int]) -> None:
    conn.execute(
        "UPDATE action_requests SET state = ?, next_attempt_at = NULL"
        " WHERE id = ANY(?) AND state = ?",
        (RequestState.PENDING.value, list(ids), _IN_FLIGHT),
    )
