"""The firing ledger and the action outbox on a SQLite connection (called inside transactions)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from edo_rules._codec import parse_datetime, utc_text
from edo_rules.model import ActionRequest, Firing, Outcome, OutcomeStatus, RequestState
from edo_rules.store._sql import Connection
from edo_rules.store._sqlite_rows import (
    FIRING_COLUMNS,
    OUTCOME_COLUMNS,
    REQUEST_COLUMNS,
    firing_from_row,
    firing_params,
    outcome_from_row,
    outcome_params,
    progress_from_row,
    progress_params,
    request_from_row,
    request_params,
)
from edo_rules.store.base import RuleProgress

#: Backoff for a retryable failure when the remote side did not say how long to wait.
_BACKOFF_BASE = timedelta(seconds=30)
_BACKOFF_MAX = timedelta(hours=1)

_NEXT_STATE = {
    OutcomeStatus.DONE: RequestState.DONE,
    OutcomeStatus.RETRY: RequestState.PENDING,
    OutcomeStatus.FAILED: RequestState.FAILED,
    OutcomeStatus.IN_DOUBT: RequestState.IN_DOUBT,
}


def insert_firings(
    conn: Connection, firings: Sequence[tuple[Firing, Sequence[ActionRequest]]]
) -> list[Firing]:
    """Insert new firings (ledger duplicates are ignored) and the requests of those added.

    Runs inside the caller's write transaction, so no other writer can add a
    firing between the duplicate check and the bulk insert; ids are assigned
    here so that both tables are written with ``executemany``.

    The engine sends firings it has just found missing from the ledger, so
    the whole batch is first inserted as is; only when the ledger's unique
    key refuses it (a duplicate) is it rolled back to a savepoint and the
    duplicates looked up and left out.
    """
    if not firings:
        return []
    conn.execute("SAVEPOINT insert_firings")
    try:
        added = _insert(conn, firings)
    except sqlite3.IntegrityError:
        conn.execute("ROLLBACK TO insert_firings")
        conn.execute("RELEASE insert_firings")
        fresh = _not_in_ledger(conn, firings)
        return _insert(conn, fresh) if fresh else []
    conn.execute("RELEASE insert_firings")
    return added


def _insert(
    conn: Connection, firings: Sequence[tuple[Firing, Sequence[ActionRequest]]]
) -> list[Firing]:
    first = _next_firing_id(conn)
    added = [_with_id(firing, first + offset) for offset, (firing, _) in enumerate(firings)]
    conn.executemany(
        "INSERT INTO firings (id, rule_key, document_id, step, episode, due_at,"
        " fired_at, playbook_hash, skipped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(firing.id, *firing_params(firing)) for firing in added],
    )
    encoded: dict[int, str] = {}
    conn.executemany(
        f"INSERT INTO action_requests ({REQUEST_COLUMNS.split(', ', 1)[1]})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            request_params(request, firing.id, encoded)
            for firing, (_, requests) in zip(added, firings, strict=True)
            for request in requests
        ],
    )
    return added


def _ledger_key(firing: Firing) -> tuple[str, str, str, str]:
    return (firing.rule_key, firing.document_id, firing.step, firing.episode)


def _not_in_ledger(
    conn: Connection, firings: Sequence[tuple[Firing, Sequence[ActionRequest]]]
) -> list[tuple[Firing, Sequence[ActionRequest]]]:
    by_rule: dict[str, set[str]] = {}
    for firing, _ in firings:
        by_rule.setdefault(firing.rule_key, set()).add(firing.document_id)
    seen: set[tuple[str, str, str, str]] = set()
    for rule_key, doc_ids in by_rule.items():
        ids = sorted(doc_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = conn.execute(
                "SELECT rule_key, document_id, step, episode FROM firings WHERE rule_key = ?"
                f" AND document_id IN ({', '.join('?' for _ in chunk)})",
                (rule_key, *chunk),
            )
            seen.update((r[0], r[1], r[2], r[3]) for r in rows)
    fresh = []
    for pair in firings:
        key = _ledger_key(pair[0])
        if key not in seen:
            seen.add(key)
            fresh.append(pair)
    return fresh


def _next_firing_id(conn: Connection) -> int:
    # AUTOINCREMENT semantics: never reuse an id, even one of a deleted row.
    row = conn.execute(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'firings'), 0),"
        " COALESCE((SELECT MAX(id) FROM firings), 0))"
    ).fetchone()
    return int(row[0]) + 1


def _with_id(firing: Firing, firing_id: int) -> Firing:
    return Firing(
        rule_key=firing.rule_key,
        document_id=firing.document_id,
        step=firing.step,
        episode=firing.episode,
        due_at=firing.due_at,
        fired_at=firing.fired_at,
        playbook_hash=firing.playbook_hash,
        skipped=firing.skipped,
        id=firing_id,
    )


def set_event_cursors(conn: Connection, cursors: Mapping[str, int]) -> None:
    conn.executemany(
        "INSERT INTO event_cursors (rule_key, last_event_id) VALUES (?, ?)"
        " ON CONFLICT (rule_key) DO UPDATE SET"
        " last_event_id = MAX(last_event_id, excluded.last_event_id)",
        sorted(cursors.items()),
    )


def set_rule_progress(conn: Connection, progress: Mapping[str, RuleProgress]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO rule_progress (rule_key, fingerprint, document_seq, ranges)"
        " VALUES (?, ?, ?, ?)",
        [progress_params(key, value) for key, value in sorted(progress.items())],
    )


def rule_progress(conn: Connection) -> dict[str, RuleProgress]:
    rows = conn.execute("SELECT rule_key, fingerprint, document_seq, ranges FROM rule_progress")
    return dict(progress_from_row(row) for row in rows)


def firings_for(conn: Connection, document_id: str) -> list[Firing]:
    rows = conn.execute(
        f"SELECT {FIRING_COLUMNS} FROM firings WHERE document_id = ? ORDER BY id",
        (document_id,),
    ).fetchall()
    return [firing_from_row(row) for row in rows]


def recorded_steps(
    conn: Connection, rule_key: str, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], frozenset[str]]:
    wanted = set(keys)
    found: dict[tuple[str, str], set[str]] = {}
    ids = sorted({doc_id for doc_id, _ in wanted})
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(
            "SELECT document_id, episode, step FROM firings WHERE rule_key = ?"
            f" AND document_id IN ({', '.join('?' for _ in chunk)})",
            (rule_key, *chunk),
        )
        for doc_id, episode, step in rows:
            if (doc_id, episode) in wanted:
                found.setdefault((doc_id, episode), set()).add(step)
    return {key: frozenset(steps) for key, steps in found.items()}


def claim_requests(conn: Connection, now: datetime, limit: int) -> list[ActionRequest]:
    rows = conn.execute(
        f"SELECT {REQUEST_COLUMNS} FROM action_requests WHERE state = ?"
        " AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id LIMIT ?",
        (RequestState.PENDING.value, utc_text(now), limit),
    ).fetchall()
    conn.executemany(
        "UPDATE action_requests SET state = ? WHERE id = ?",
        [(RequestState.IN_FLIGHT.value, row[0]) for row in rows],
    )
    return [replace(request_from_row(row), state=RequestState.IN_FLIGHT) for row in rows]


def record_outcomes(conn: Connection, outcomes: Sequence[Outcome]) -> list[int]:
    """Record outcomes and move their requests; returns ids of unknown requests."""
    unknown: list[int] = []
    for outcome in outcomes:
        row = conn.execute(
            "SELECT attempts FROM action_requests WHERE id = ?", (outcome.request_id,)
        ).fetchone()
        if row is None:
            unknown.append(outcome.request_id)
            continue
        attempts = int(row[0]) + 1
        conn.execute(
            f"INSERT INTO outcomes ({OUTCOME_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            outcome_params(outcome),
        )
        conn.execute(
            "UPDATE action_requests SET state = ?, attempts = ?, next_attempt_at = ?,"
            " last_error = ? WHERE id = ?",
            (
                _NEXT_STATE[outcome.status].value,
                attempts,
                _next_attempt(outcome, attempts),
                None if outcome.status is OutcomeStatus.DONE else outcome.reason,
                outcome.request_id,
            ),
        )
    return unknown


def _next_attempt(outcome: Outcome, attempts: int) -> str | None:
    if outcome.status is not OutcomeStatus.RETRY:
        return None
    if outcome.retry_after is not None:
        wait = timedelta(seconds=outcome.retry_after)
    else:
        wait = min(_BACKOFF_BASE * 2 ** (attempts - 1), _BACKOFF_MAX)
    return utc_text(outcome.at + wait)


def requests_in(conn: Connection, states: Iterable[RequestState]) -> list[ActionRequest]:
    values = sorted({state.value for state in states})
    rows = conn.execute(
        f"SELECT {REQUEST_COLUMNS} FROM action_requests"
        f" WHERE state IN ({', '.join('?' for _ in values)}) ORDER BY id",
        values,
    ).fetchall()
    return [request_from_row(row) for row in rows]


def request_counts(conn: Connection, states: Iterable[RequestState]) -> dict[RequestState, int]:
    values = sorted({state.value for state in states})
    rows = conn.execute(
        "SELECT state, COUNT(*) FROM action_requests"
        f" WHERE state IN ({', '.join('?' for _ in values)}) GROUP BY state",
        values,
    )
    found = {str(state): int(count) for state, count in rows}
    return {RequestState(value): found.get(value, 0) for value in values}


def oldest_waiting(conn: Connection, now: datetime) -> datetime | None:
    """The earliest due moment, up to ``now``, of the pending requests (two index look-ups).

    A request without a retry time is due since it was created; ids grow with
    creation, so the lowest such id is the oldest.
    """
    retry = conn.execute(
        "SELECT MIN(next_attempt_at) FROM action_requests"
        " WHERE state = 'pending' AND next_attempt_at IS NOT NULL AND next_attempt_at <= ?",
        (utc_text(now),),
    ).fetchone()[0]
    first = conn.execute(
        "SELECT created_at FROM action_requests"
        " WHERE state = 'pending' AND next_attempt_at IS NULL ORDER BY id LIMIT 1"
    ).fetchone()
    found = [parse_datetime(str(value)) for value in (retry, first and first[0]) if value]
    due = [moment for moment in found if moment <= now]
    return min(due) if due else None


def get_request(conn: Connection, request_id: int) -> ActionRequest | None:
    row = conn.execute(
        f"SELECT {REQUEST_COLUMNS} FROM action_requests WHERE id = ?", (request_id,)
    ).fetchone()
    return None if row is None else request_from_row(row)


def set_request_state(conn: Connection, request_id: int, state: RequestState) -> bool:
    """Returns False when there is no such request."""
    cursor = conn.execute(
        "UPDATE action_requests SET state = ?, next_attempt_at = NULL WHERE id = ?",
        (state.value, request_id),
    )
    return cursor.rowcount == 1


def outcomes_for(conn: Connection, request_id: int) -> list[Outcome]:
    rows = conn.execute(
        f"SELECT {OUTCOME_COLUMNS} FROM outcomes WHERE request_id = ? ORDER BY id",
        (request_id,),
    ).fetchall()
    return [outcome_from_row(row) for row in rows]
