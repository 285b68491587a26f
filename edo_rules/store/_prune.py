"""Retention: closed documents past a horizon leave the store, each for a small tombstone.

Both stores run this SQL (``?`` placeholders; timestamps are UTC ISO text in
both). A document is pruned only when nothing can act on it any more:

* its status is final (signed, signed with corrections, revoked, closed) and
  has not changed since before the horizon;
* no firing of it is that recent, and no request of it is pending, in flight
  or in doubt (those are never pruned: an unsent action must stay to be sent
  or decided);
* no snooze of it is still running.

It goes with its events, firings, requests and outcomes (requests, outcomes
and firings deleted here, events and snoozes by the foreign keys' cascade); the
counterparty statistics keep its sample. The tombstone
(``pruned_documents``: id and the time of its last state) is what keeps the
promise "never twice": a sync that reads the document again (``sync --full``,
a wide healing window) drops it unless 1C shows a state change after the
tombstone, and then the events up to the tombstone come back as history, so
that no event rule fires on them again and the time rules only see the new
episode.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from edo_rules.model import Document, Status, StatusEvent
from edo_rules.store._sql import Connection

#: Statuses after which the exchange is over.
FINAL = (Status.SIGNED, Status.SIGNED_WITH_CORRECTIONS, Status.REVOKED, Status.CLOSED)

#: Requests in these states keep their document (they must still be sent or decided).
_OPEN_STATES = ("pending", "in_flight", "in_doubt")

_CHUNK = 500

_CANDIDATES = (
    "SELECT d.id, d.status_changed_at FROM documents d"
    f" WHERE d.status IN ({', '.join('?' for _ in FINAL)})"
    " AND d.status_changed_at IS NOT NULL AND d.status_changed_at < ?"
    " AND NOT EXISTS (SELECT 1 FROM firings f WHERE f.document_id = d.id AND f.fired_at >= ?)"
    " AND NOT EXISTS (SELECT 1 FROM action_requests r WHERE r.document_id = d.id"
    f" AND r.state IN ({', '.join('?' for _ in _OPEN_STATES)}))"
    " AND NOT EXISTS (SELECT 1 FROM snoozes s WHERE s.document_id = d.id AND s.until > ?)"
    " ORDER BY d.id"
)


@dataclass(frozen=True, slots=True)
class PruneReport:
    """What a prune removed (or, with ``dry_run``, would remove)."""

    documents: int = 0
    events: int = 0
    firings: int = 0
    requests: int = 0
    outcomes: int = 0
    dry_run: bool = False


def candidates(conn: Connection, before: str, now: str) -> list[tuple[str, str]]:
    """(id, status_changed_at) of every document that may be pruned, oldest horizon ``before``."""
    args = [*(s.value for s in FINAL), before, before, *_OPEN_STATES, now]
    return [(str(row[0]), str(row[1])) for row in conn.execute(_CANDIDATES, args)]


def prune(
    conn: Connection, found: Sequence[tuple[str, str]], now: str, *, dry_run: bool
) -> PruneReport:
    """Count, and unless ``dry_run`` delete, the ``found`` documents; write their tombstones."""
    totals = dict.fromkeys(("events", "firings", "requests", "outcomes"), 0)
    for start in range(0, len(found), _CHUNK):
        chunk = found[start : start + _CHUNK]
        ids = [doc for doc, _ in chunk]
        for name, count in _counts(conn, ids).items():
            totals[name] += count
        if not dry_run:
            _delete(conn, chunk, now)
    return PruneReport(documents=len(found), dry_run=dry_run, **totals)


def _counts(conn: Connection, ids: list[str]) -> dict[str, int]:
    marks = ", ".join("?" for _ in ids)
    queries = {
        "events": f"SELECT COUNT(*) FROM status_events WHERE document_id IN ({marks})",
        "firings": f"SELECT COUNT(*) FROM firings WHERE document_id IN ({marks})",
        "requests": f"SELECT COUNT(*) FROM action_requests WHERE document_id IN ({marks})",
        "outcomes": "SELECT COUNT(*) FROM outcomes o JOIN action_requests r"
        f" ON r.id = o.request_id WHERE r.document_id IN ({marks})",
    }
    return {name: int(conn.execute(sql, ids).fetchone()[0]) for name, sql in queries.items()}


def _delete(conn: Connection, chunk: Sequence[tuple[str, str]], now: str) -> None:
    ids = [doc for doc, _ in chunk]
    marks = ", ".join("?" for _ in ids)
    # Requests are keyed by document too (a firing's cascade covers the rest).
    conn.execute(
        "DELETE FROM outcomes WHERE request_id IN"
        f" (SELECT id FROM action_requests WHERE document_id IN ({marks}))",
        ids,
    )
    conn.execute(f"DELETE FROM action_requests WHERE document_id IN ({marks})", ids)
    # PostgreSQL's ledger has no foreign key to documents (a tick's hot path; see
    # store._pg_outbox): its firings go here, under the lock that keeps ticks out.
    conn.execute(f"DELETE FROM firings WHERE document_id IN ({marks})", ids)
    conn.execute(f"DELETE FROM documents WHERE id IN ({marks})", ids)
    conn.executemany(
        "INSERT INTO pruned_documents (id, status_changed_at, pruned_at) VALUES (?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET status_changed_at = excluded.status_changed_at,"
        " pruned_at = excluded.pruned_at",
        [(doc, changed, now) for doc, changed in chunk],
    )


def without_pruned(
    conn: Connection, documents: Sequence[Document], events: Sequence[StatusEvent]
) -> tuple[Sequence[Document], Sequence[StatusEvent]]:
    """A sync page minus the pruned documents 1C shows unchanged since their tombstone.

    A pruned document with a newer state comes back (its tombstone goes), its
    events up to the tombstone marked as history.
    """
    if not documents or conn.execute("SELECT 1 FROM pruned_documents LIMIT 1").fetchone() is None:
        return documents, events
    tombs = _tombstones(conn, [doc.id for doc in documents])
    if not tombs:
        return documents, events
    revived = {
        doc.id
        for doc in documents
        if doc.id in tombs
        and doc.status_changed_at is not None
        # Stored timestamps are normalised UTC text, comparable as text.
        and _utc(doc) > tombs[doc.id]
    }
    dropped = set(tombs) - revived
    if revived:
        marks = ", ".join("?" for _ in revived)
        conn.execute(f"DELETE FROM pruned_documents WHERE id IN ({marks})", sorted(revived))
    kept = [doc for doc in documents if doc.id not in dropped]
    kept_events = [
        dataclasses.replace(event, historical=True)
        if event.document_id in revived and _event_utc(event) <= tombs[event.document_id]
        else event
        for event in events
        if event.document_id not in dropped
    ]
    return kept, kept_events


def _tombstones(conn: Connection, ids: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = conn.execute(
            "SELECT id, status_changed_at FROM pruned_documents"
            f" WHERE id IN ({', '.join('?' for _ in chunk)})",
            chunk,
        )
        found.update((str(row[0]), str(row[1])) for row in rows)
    return found


def _utc(doc: Document) -> str:
    from edo_rules._codec import utc_text

    assert doc.status_changed_at is not None
    return utc_text(doc.status_changed_at)


def _event_utc(event: StatusEvent) -> str:
    from edo_rules._codec import utc_text

    return utc_text(event.at)
