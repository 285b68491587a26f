"""The ledger and outbox statements that differ on PostgreSQL (the rest is shared SQL).

* Firing: ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` — the ledger's
  unique key decides, so of several runners evaluating the same firing only
  the one whose insert returns an id writes its requests, in the same
  transaction.
* Claiming: ``FOR UPDATE SKIP LOCKED``, so runners claiming at the same time
  take disjoint requests, each marked with ``claimed_by`` and a lease.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from edo_rules._codec import utc_text
from edo_rules.model import ActionRequest, Firing, RequestState
from edo_rules.store._pg_conn import PgConnection
from edo_rules.store._sqlite_rows import (
    REQUEST_COLUMNS,
    firing_params,
    progress_params,
    request_from_row,
    request_params,
)
from edo_rules.store.base import RuleProgress

#: The advisory lock between recording firings (shared: ticks of several runners
#: record at once) and pruning (exclusive): see :func:`hold_documents`. Its second
#: half is the schema's, so stores in other schemas of one database do not wait.
DOCUMENTS_LOCK = 0x6564_7072  # "edpr"

#: One statement per batch: the firings as column arrays, unnested in the (key) order
#: sent; ``RETURNING`` gives the ids of the rows inserted (the others were in the ledger,
#: or their document is gone). The ledger has no foreign key to ``documents`` (its
#: check locked a random row of the largest table per firing): the ``EXISTS`` reads
#: the document's key instead, under the lock that keeps a prune out.
_INSERT_FIRINGS = (
    "INSERT INTO firings (rule_key, document_id, step, episode, due_at, fired_at,"
    " playbook_hash, skipped)"
    " SELECT r, d, s, e, du, f, h, sk FROM unnest(%s::text[], %s::text[], %s::text[],"
    " %s::text[], %s::text[], %s::text[], %s::text[], %s::int[]) WITH ORDINALITY"
    " AS t(r, d, s, e, du, f, h, sk, n)"
    " WHERE EXISTS (SELECT 1 FROM documents x WHERE x.id = t.d) ORDER BY n"
    " ON CONFLICT (rule_key, document_id, step, episode) DO NOTHING"
    " RETURNING id, rule_key, document_id, step, episode"
)
_REQUEST_FIELDS = REQUEST_COLUMNS.split(", ", 1)[1]
_BATCH = 5000


def insert_firings(
    conn: PgConnection, firings: Sequence[tuple[Firing, Sequence[ActionRequest]]]
) -> list[Firing]:
    """Insert the firings the ledger does not hold yet, and the requests of those only.

    Per batch, one ``INSERT … SELECT FROM unnest(…)`` for the firings and one
    ``COPY`` for their requests: a statement per row would cost a round trip each.
    """
    # Every runner takes the unique key's row locks in the same (key) order, so two
    # runners recording overlapping firings wait for each other instead of deadlocking.
    ordered = sorted(firings, key=lambda pair: _ledger_key(pair[0]))
    if ordered:
        hold_documents(conn, exclusive=False)
    added: list[Firing] = []
    for start in range(0, len(ordered), _BATCH):
        added += _insert_batch(conn, ordered[start : start + _BATCH])
    return added


def _insert_batch(
    conn: PgConnection, firings: Sequence[tuple[Firing, Sequence[ActionRequest]]]
) -> list[Firing]:
    columns = list(zip(*(firing_params(f) for f, _ in firings), strict=True))
    rows = conn.raw.execute(_INSERT_FIRINGS, [list(column) for column in columns]).fetchall()
    ids = {(r[1], r[2], r[3], r[4]): int(r[0]) for r in rows}
    added: list[tuple[Firing, Sequence[ActionRequest]]] = []
    for firing, requests in firings:
        found = ids.get(_ledger_key(firing))
        if found is not None:
            added.append((replace(firing, id=found), requests))
    cursor = conn.raw.cursor()
    encoded: dict[int, str] = {}
    with cursor.copy(f"COPY action_requests ({_REQUEST_FIELDS}) FROM STDIN") as copy:
        for firing, requests in added:
            for request in requests:
                copy.write_row(request_params(request, firing.id, encoded))
    return [firing for firing, _ in added]


def _ledger_key(firing: Firing) -> tuple[str, str, str, str]:
    return (firing.rule_key, firing.document_id, firing.step, firing.episode)


def hold_documents(conn: PgConnection, *, exclusive: bool, wait: timedelta | None = None) -> None:
    """Take, until the transaction ends, the lock between recording firings and pruning.

    Without the foreign key, a tick that read a document before a concurrent
    prune deleted it would insert an orphan firing (and its requests): under
    ``READ COMMITTED`` its ``EXISTS`` sees the document while the prune has not
    committed, and the prune's ``DELETE FROM firings`` does not see the tick's
    uncommitted rows. With the lock, a prune waits for the ticks recording now and
    a tick waits for a prune; each statement after the wait sees what the other
    committed (a prune re-reads its candidates' recent firings, a tick's ``EXISTS``
    misses the pruned documents). Taken first in its transaction, before any row
    lock, so it cannot close a deadlock cycle.

    ``wait`` bounds the wait (the prune's: ticks that ask after it queue behind
    it, so a tick hung in its transaction — a host gone, not yet noticed by the
    server — would stall every runner's recording, not just the prune, which
    fails instead and is run again later).
    """
    take = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    if wait is not None:
        conn.raw.execute(f"SET LOCAL lock_timeout = {int(wait.total_seconds() * 1000)}")
    conn.raw.execute(f"SELECT {take}(%s, hashtext(current_schema()))", (DOCUMENTS_LOCK,))
    if wait is not None:
        conn.raw.execute("SET LOCAL lock_timeout = DEFAULT")


def set_event_cursors(conn: PgConnection, cursors: Mapping[str, int]) -> None:
    conn.executemany(
        "INSERT INTO event_cursors (rule_key, last_event_id) VALUES (?, ?)"
        " ON CONFLICT (rule_key) DO UPDATE SET"
        " last_event_id = GREATEST(event_cursors.last_event_id, excluded.last_event_id)",
        sorted(cursors.items()),
    )


def set_rule_progress(conn: PgConnection, progress: Mapping[str, RuleProgress]) -> None:
    conn.executemany(
        "INSERT INTO rule_progress (rule_key, fingerprint, document_seq, ranges)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (rule_key) DO UPDATE SET"
        " fingerprint = excluded.fingerprint, document_seq = excluded.document_seq,"
        " ranges = excluded.ranges",
        [progress_params(key, value) for key, value in sorted(progress.items())],
    )


def claim_requests(
    conn: PgConnection, now: datetime, limit: int, *, runner: str, lease: timedelta
) -> list[ActionRequest]:
    """Claim due pending requests, oldest first, skipping rows another runner is claiming."""
    rows = conn.execute(
        "UPDATE action_requests SET state = ?, claimed_by = ?,"
        " claimed_until = clock_timestamp() + make_interval(secs => ?)"
        " WHERE id IN (SELECT id FROM action_requests WHERE state = ?"
        " AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
        " ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)"
        f" RETURNING {REQUEST_COLUMNS}",
        (
            RequestState.IN_FLIGHT.value,
            runner,
            lease.total_seconds(),
            RequestState.PENDING.value,
            utc_text(now),
            limit,
        ),
    ).fetchall()
    claimed = sorted((request_from_row(row) for row in rows), key=lambda r: r.id or 0)
    return [replace(r, state=RequestState.IN_FLIGHT) for r in claimed]
