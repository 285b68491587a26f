"""The Store methods whose SQL is the same on SQLite and PostgreSQL, written once.

Both stores run the shared, portable SQL of ``_sqlite_outbox``,
``_sqlite_snoozes`` and ``_sqlite_stats`` (``?`` placeholders; the PostgreSQL
connection adapts them) inside their own ``_reading``/``_writing`` context
managers, which differ: one SQLite connection under a lock against a pool of
psycopg connections with their own error mapping. What is left in each store
is what really differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from edo_rules._codec import utc_text
from edo_rules._messages import msg
from edo_rules.errors import StoreError
from edo_rules.model import ActionRequest, Document, Firing, Outcome, RequestState, StatusEvent
from edo_rules.store import _sqlite_outbox as outbox
from edo_rules.store import _sqlite_snoozes as snoozes
from edo_rules.store import _sqlite_stats as stats
from edo_rules.store._sql import Connection
from edo_rules.store._sqlite_rows import EVENT_COLUMNS, document_from_json, event_from_row
from edo_rules.store.base import CounterpartySample, RuleProgress, Snooze


class StoreQueries:
    """The shared half of :class:`SQLiteStore` and :class:`PostgresStore`."""

    #: Where the store is, for errors: the file's path, or the PostgreSQL server.
    _where: str

    def _reading(self, what: str) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _writing(self, what: str) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def iter_documents(self) -> Iterator[Document]:
        with self._reading("reading documents") as conn:
            for (text,) in conn.execute("SELECT json FROM documents ORDER BY id"):
                yield document_from_json(text)

    def document_numbers(self) -> Iterator[str]:
        with self._reading("reading document numbers") as conn:
            for (number,) in conn.execute("SELECT DISTINCT number FROM documents"):
                yield str(number)

    def documents_with(
        self, *, numbers: Sequence[str] = (), inn: str | None = None
    ) -> list[Document]:
        clauses: list[str] = []
        params: list[str] = []
        if numbers:
            clauses.append(f"number IN ({', '.join('?' for _ in numbers)})")
            params.extend(numbers)
        if inn is not None:
            clauses.append("counterparty_inn = ?")
            params.append(inn)
        if not clauses:
            return []
        with self._reading("finding documents") as conn:
            rows = conn.execute(f"SELECT json FROM documents WHERE {' AND '.join(clauses)}", params)
            return [document_from_json(text) for (text,) in rows]

    def count_documents(self) -> int:
        with self._reading("counting documents") as conn:
            return int(conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    def history(self, document_id: str) -> list[StatusEvent]:
        with self._reading("reading the status history") as conn:
            rows = conn.execute(
                f"SELECT {EVENT_COLUMNS} FROM status_events WHERE document_id = ?"
                " ORDER BY at_utc, id",
                (document_id,),
            ).fetchall()
        return [event_from_row(row) for row in rows]

    def get_sync_state(self) -> dict[str, str]:
        with self._reading("reading the sync state") as conn:
            return {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM sync_state")}

    def document_seq(self) -> int:
        with self._reading("reading the document sequence") as conn:
            row = conn.execute("SELECT value FROM counters WHERE name = 'document_seq'")
            return int(row.fetchone()[0])

    def rule_progress(self) -> dict[str, RuleProgress]:
        with self._reading("reading rule progress") as conn:
            return outbox.rule_progress(conn)

    def max_event_id(self) -> int:
        with self._reading("reading the status history") as conn:
            return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM status_events").fetchone()[0])

    def recorded_steps(
        self, rule_key: str, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], frozenset[str]]:
        with self._reading("reading the firing ledger") as conn:
            return outbox.recorded_steps(conn, rule_key, keys)

    def event_cursors(self) -> dict[str, int]:
        with self._reading("reading event cursors") as conn:
            rows = conn.execute("SELECT rule_key, last_event_id FROM event_cursors")
            return {str(key): int(value) for key, value in rows}

    def firings_for(self, document_id: str) -> list[Firing]:
        with self._reading("reading the firing ledger") as conn:
            return outbox.firings_for(conn, document_id)

    def requests(self, states: Iterable[RequestState]) -> list[ActionRequest]:
        with self._reading("reading the outbox") as conn:
            return outbox.requests_in(conn, states)

    def oldest_waiting(self, now: datetime) -> datetime | None:
        with self._reading("reading the outbox") as conn:
            return outbox.oldest_waiting(conn, now)

    def request_counts(self, states: Iterable[RequestState]) -> dict[RequestState, int]:
        with self._reading("counting the outbox") as conn:
            return outbox.request_counts(conn, states)

    def get_request(self, request_id: int) -> ActionRequest | None:
        with self._reading("reading the outbox") as conn:
            return outbox.get_request(conn, request_id)

    def outcomes_for(self, request_id: int) -> list[Outcome]:
        with self._reading("reading outcomes") as conn:
            return outbox.outcomes_for(conn, request_id)

    def snoozes(
        self, *, active_at: datetime | None = None, document_id: str | None = None
    ) -> list[Snooze]:
        with self._reading("reading snoozes") as conn:
            return snoozes.select(conn, active_at, document_id)

    def ended_snoozes(self, now: datetime) -> list[Snooze]:
        with self._reading("reading snoozes") as conn:
            return snoozes.ended(conn, now)

    def stats_seq(self) -> int:
        with self._reading("reading the statistics cursor") as conn:
            return stats.stats_seq(conn)

    def apply_counterparty_samples(
        self, samples: Sequence[CounterpartySample], stats_seq: int
    ) -> None:
        with self._writing("writing counterparty statistics") as conn:
            stats.apply_samples(conn, samples, stats_seq)

    def counterparty_histogram(self, inn: str, since_month: str) -> list[tuple[str, int, int]]:
        with self._reading("reading counterparty statistics") as conn:
            return stats.histogram(conn, inn, since_month)

    def cache_get(self, key: str, now: datetime) -> str | None:
        with self._reading("reading the cache") as conn:
            row = conn.execute(
                "SELECT value FROM cache WHERE key = ? AND expires_at > ?", (key, utc_text(now))
            ).fetchone()
        return None if row is None else str(row[0])

    def cache_put(self, key: str, value: str, expires_at: datetime) -> None:
        with self._writing("writing the cache") as conn:
            conn.execute(
                "INSERT INTO cache (key, value, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                " expires_at = excluded.expires_at",
                (key, value, utc_text(expires_at)),
            )

    def record_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        with self._writing("recording outcomes") as conn:
            unknown = outbox.record_outcomes(conn, outcomes)
            if unknown:  # raised inside the transaction: nothing is recorded
                raise StoreError(msg("store_no_request_recorded", id=unknown[0], where=self._where))

    def set_request_state(self, request_id: int, state: RequestState) -> None:
        with self._writing("changing a request's state") as conn:
            found = outbox.set_request_state(conn, request_id, state)
        if not found:
            raise StoreError(msg("store_no_request", id=request_id, where=self._where))

    def add_snooze(
        self,
        document_id: str,
        rule_key: str | None,
        until: datetime,
        *,
        reason: str | None,
        created_at: datetime,
    ) -> Snooze:
        with self._writing("adding a snooze") as conn:
            added = snoozes.add(
                conn, document_id, rule_key, until, reason=reason, created_at=created_at
            )
        if added is None:
            raise StoreError(msg("store_no_document_snooze", id=document_id, where=self._where))
        return added

    def end_snooze(self, snooze_id: int, at: datetime) -> Snooze:
        with self._writing("ending a snooze") as conn:
            ended = snoozes.end(conn, snooze_id, at)
        if ended is None:
            raise StoreError(msg("store_no_snooze", id=snooze_id, where=self._where))
        return ended
