"""The scale-out store: PostgreSQL through psycopg 3 and a connection pool.

Every public method raises :class:`~edo_rules.errors.StoreError` (what failed,
the server, what to do) and nothing else for database failures; every write
runs in one transaction. Several runners, on several hosts, may share one
database: the firing ledger's unique key decides who owns a firing
(``INSERT … ON CONFLICT DO NOTHING``) and the outbox is claimed with
``FOR UPDATE SKIP LOCKED`` (see :mod:`edo_rules.store._pg_outbox`).

The SQL of the engine's questions, snoozes and most of the outbox is shared
with :class:`~edo_rules.store.sqlite.SQLiteStore`.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from edo_rules._codec import parse_datetime, utc_text
from edo_rules._messages import msg
from edo_rules.errors import StoreError
from edo_rules.model import ActionRequest, Document, Firing, StatusEvent
from edo_rules.store import _pg_outbox as pg_outbox
from edo_rules.store import _pg_shared as shared
from edo_rules.store import _prune as retention
from edo_rules.store import _sqlite_snoozes as snoozes
from edo_rules.store import _sqlite_stats as stats
from edo_rules.store._common import StoreQueries
from edo_rules.store._pg_conn import PgConnection, pg_sql
from edo_rules.store._pg_errors import describe
from edo_rules.store._pg_ledger import SUMMARIZED
from edo_rules.store._pg_ledger import fold as fold_ledger
from edo_rules.store._pg_schema import (
    CURRENT_VERSION,
    ForeignDatabaseError,
    TooNewError,
    TooOldError,
    migrate,
)
from edo_rules.store._prune import PruneReport
from edo_rules.store._sqlite_queries import due_sql, event_sql
from edo_rules.store._sqlite_rows import (
    EVENT_COLUMNS,
    UPSERT_DOCUMENT,
    document_from_json,
    document_params,
    event_from_row,
    event_params,
)
from edo_rules.store._texts import document_loader, operation
from edo_rules.store.base import (
    DueCandidate,
    DueQuery,
    EventQuery,
    RuleProgress,
    SigningFacts,
)
from edo_rules.store.shared import RunnerInfo

_INSERT_EVENT = pg_sql(
    "INSERT INTO status_events (document_id, at_utc, at, from_status,"
    " from_raw, to_status, to_raw, comment, actor, historical)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    f" ON CONFLICT (document_id, at_utc, to_raw) DO NOTHING RETURNING {EVENT_COLUMNS}"
)
_UPSERT_SYNC_STATE = (
    "INSERT INTO sync_state (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
#: Copied by scratch_copy, parents before children.
_TABLES = (
    "documents",
    "status_events",
    "firings",
    "action_requests",
    "outcomes",
    "sync_state",
    "cache",
    "event_cursors",
    "counters",
    "rule_progress",
    "snoozes",
    "counterparty_samples",
    "counterparty_histogram",
    # Copied as they are (the copy's documents and ledger are written with their
    # triggers off).
    "dashboard_groups",
    "dashboard_kind_groups",
    "dashboard_totals",
    "dashboard_scoped_totals",
    "ledger_deltas",
    "ledger_day_deltas",
    "ledger_pending",
)
_SERIAL = ("status_events", "firings", "action_requests", "outcomes", "snoozes")


def migrate_postgres(dsn: str, *, schema: str | None = None) -> tuple[int, int]:
    """Apply every migration this edo-rules knows; returns (version before, version after)."""
    store = PostgresStore(dsn, schema=schema, migrate=True, pool_size=1)
    try:
        return store.migrated_from, CURRENT_VERSION
    finally:
        store.close()


def default_runner_id() -> str:
    """``host:pid`` — who claims outbox requests and holds leases."""
    return f"{socket.gethostname()}:{os.getpid()}"


class PostgresStore(StoreQueries):
    """The :class:`~edo_rules.store.base.Store` on a PostgreSQL database.

    ``PostgresStore("postgresql://user@host/db")`` opens a pool (``pool_size``
    connections at most). An empty database (or ``schema``) is set up on
    first open; an older schema needs ``edo-rules store migrate`` (or
    ``migrate=True``); a newer one is refused. ``schema`` (created when
    missing) keeps the tables apart from others in the same database.
    ``runner_id`` marks the requests this store object claims, each for
    ``claim_lease``. A prune waits at most ``prune_wait`` for the ticks
    recording at that moment (see :func:`~edo_rules.store._pg_outbox.hold_documents`).
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        migrate: bool = False,
        pool_size: int = 4,
        runner_id: str | None = None,
        claim_lease: timedelta = timedelta(minutes=5),
        connect_timeout: float = 10.0,
        prune_wait: timedelta = timedelta(seconds=10),
    ):
        self.dsn = dsn
        self.prune_wait = prune_wait
        self.schema = schema
        self.runner_id = runner_id or default_runner_id()
        self.claim_lease = claim_lease
        self._where = _server(dsn)
        self.migrated_from = 0  # the schema version found when opened
        kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": int(connect_timeout)}
        if schema is not None:
            kwargs["options"] = f"-c search_path={schema}"
        self._prepare(dsn, schema, migrate, kwargs)
        self._kwargs = kwargs
        self._listener: psycopg.Connection[Any] | None = None
        self._pool = ConnectionPool(
            dsn, min_size=1, max_size=pool_size, kwargs=kwargs, open=False, name="edo-rules"
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except psycopg.Error as exc:
            raise self._error("opening the connection pool", exc) from exc

    # -- opening and errors ----------------------------------------------------
    def _prepare(self, dsn: str, schema: str | None, upgrade: bool, kwargs: dict[str, Any]) -> None:
        try:
            with psycopg.connect(dsn, **kwargs) as conn:
                if schema is not None:
                    conn.execute(
                        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                    )
                self.migrated_from = migrate(conn, upgrade=upgrade)
        except ForeignDatabaseError as exc:
            raise StoreError(msg("store_foreign_pg", where=self._where, tables=str(exc))) from exc
        except TooNewError as exc:
            raise StoreError(
                msg("store_too_new_pg", where=self._where, version=exc.version)
            ) from exc
        except TooOldError as exc:
            raise StoreError(
                msg("store_too_old_pg", where=self._where, version=exc.version)
            ) from exc
        except psycopg.Error as exc:
            raise self._error("opening the store", exc) from exc

    def _error(self, what: str, exc: psycopg.Error) -> StoreError:
        message, hint = describe(exc)
        return StoreError(
            msg(
                "store_failed_pg",
                what=operation(what),
                where=self._where,
                message=message,
                hint=hint,
            )
        )

    @contextmanager
    def _reading(self, what: str) -> Iterator[PgConnection]:
        try:
            with self._pool.connection() as conn:
                yield PgConnection(conn)
        except psycopg.Error as exc:
            raise self._error(what, exc) from exc

    @contextmanager
    def _writing(self, what: str) -> Iterator[PgConnection]:
        """One transaction; rolled back entirely on any error."""
        try:
            with self._pool.connection() as conn, conn.transaction():
                yield PgConnection(conn)
        except psycopg.Error as exc:
            raise self._error(what, exc) from exc

    def prune(self, before: datetime, now: datetime, *, dry_run: bool = False) -> PruneReport:
        with self._writing("pruning old documents") as conn:
            if not dry_run:
                # Before the candidates are read: a tick recording now commits first,
                # so a document it just fired for is no candidate (pg_outbox).
                pg_outbox.hold_documents(conn, exclusive=True, wait=self.prune_wait)
            found = retention.candidates(conn, utc_text(before), utc_text(now))
            return retention.prune(conn, found, utc_text(now), dry_run=dry_run)

    def checkpoint(self) -> tuple[int, int]:
        """PostgreSQL recycles its own WAL (``max_wal_size``): nothing to do here."""
        return 0, 0

    def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def scratch_copy(self) -> Iterator[PostgresStore]:
        """A consistent copy in a new schema of the same database, dropped on exit."""
        name = f"edo_scratch_{secrets.token_hex(6)}"
        copy = PostgresStore(self.dsn, schema=name, pool_size=2, runner_id=self.runner_id)
        try:
            self._copy_into(name)
            yield copy
        finally:
            copy.close()
            with self._writing("dropping a scratch copy") as conn:
                conn.raw.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))

    def _copy_into(self, name: str) -> None:
        target = sql.Identifier(name)
        with self._writing("copying the store") as conn:
            raw = conn.raw
            raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            raw.execute(sql.SQL("DELETE FROM {}.counters").format(target))
            # Row by row, the summary's triggers would update the same few rows once
            # per document in one statement; the source's summary is copied instead.
            _summary_triggers(raw, target, "DISABLE")
            for table in _TABLES:
                raw.execute(
                    sql.SQL("INSERT INTO {}.{} SELECT * FROM {}").format(
                        target, sql.Identifier(table), sql.Identifier(table)
                    )
                )
            _summary_triggers(raw, target, "ENABLE")
            for table in _SERIAL:
                qualified = f"{name}.{table}"
                raw.execute(
                    sql.SQL(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'),"
                        " (SELECT COALESCE(MAX(id), 0) + 1 FROM {}.{}), false)"
                    ).format(target, sql.Identifier(table)),
                    (qualified,),
                )

    # -- documents and history ---------------------------------------------------
    def upsert_documents(self, documents: Iterable[Document]) -> int:
        written = 0
        with self._writing("writing documents") as conn:
            seq = self._next_seq(conn)
            batch: list[tuple[object, ...]] = []
            for doc in documents:
                batch.append(document_params(doc, seq))
                if len(batch) >= 5000:
                    written += _flush(conn, batch)
            written += _flush(conn, batch)
        return written

    @staticmethod
    def _next_seq(conn: PgConnection) -> int:
        row = conn.execute(
            "UPDATE counters SET value = value + 1 WHERE name = 'document_seq' RETURNING value"
        ).fetchone()
        return int(row[0])

    def write_sync_page(
        self,
        documents: Sequence[Document],
        events: Sequence[StatusEvent],
        state: Mapping[str, str] | None = None,
        *,
        initial: bool = False,  # PostgreSQL keeps its indexes and triggers row by row
    ) -> Sequence[StatusEvent]:
        with self._writing("writing a sync page") as conn:
            documents, events = retention.without_pruned(conn, documents, events)
            seq = self._next_seq(conn)
            if documents:
                conn.executemany(UPSERT_DOCUMENT, [document_params(doc, seq) for doc in documents])
            added = _insert_events(conn, events)
            if state:
                conn.executemany(_UPSERT_SYNC_STATE, sorted(state.items()))
        return added

    def get_document(self, document_id: str) -> Document | None:
        with self._reading("reading a document") as conn:
            found = conn.execute("SELECT json FROM documents WHERE id = ?", (document_id,))
            row = found.fetchone()
        return None if row is None else document_from_json(row[0])

    def get_documents(self, document_ids: Iterable[str]) -> dict[str, Document]:
        ids = sorted(set(document_ids))
        result: dict[str, Document] = {}
        with self._reading("reading documents") as conn:
            for start in range(0, len(ids), 1000):
                rows = conn.execute(
                    "SELECT json FROM documents WHERE id = ANY(?)", (ids[start : start + 1000],)
                )
                for (text,) in rows:
                    doc = document_from_json(text)
                    result[doc.id] = doc
        return result

    # -- the engine's questions ------------------------------------------------------
    def due_candidates(self, query: DueQuery) -> Iterator[Document]:
        statement, args = _portable(due_sql(query))
        with self._reading("selecting due documents") as conn:
            for (text,) in conn.execute(statement, args).fetchall():
                yield document_from_json(text)

    def due_candidates_lazy(self, query: DueQuery) -> Iterator[DueCandidate]:
        statement, args = _portable(due_sql(query, with_keys=True))
        with self._reading("selecting due documents") as conn:
            rows = conn.execute(statement, args).fetchall()
        for doc_id, since, text in rows:
            # The stored timestamp text is the episode (see store.base.episode_of).
            yield DueCandidate(
                doc_id,
                parse_datetime(since),
                since,
                document_loader(self.get_document, doc_id, text),
            )

    def event_candidates(self, query: EventQuery) -> Iterator[tuple[StatusEvent, Document]]:
        statement, args = event_sql(query)
        with self._reading("selecting new status events") as conn:
            rows = conn.execute(statement, args).fetchall()
        for row in rows:
            yield event_from_row(row[:-1]), document_from_json(row[-1])

    def set_event_cursors(self, cursors: Mapping[str, int]) -> None:
        with self._writing("writing event cursors") as conn:
            pg_outbox.set_event_cursors(conn, cursors)

    # -- firings and the outbox ------------------------------------------------------
    def record_firings(
        self,
        firings: Sequence[tuple[Firing, Sequence[ActionRequest]]],
        *,
        event_cursors: Mapping[str, int] | None = None,
        rule_progress: Mapping[str, RuleProgress] | None = None,
        released_snoozes: Iterable[int] = (),
    ) -> list[Firing]:
        with self._writing("recording firings") as conn:
            added = pg_outbox.insert_firings(conn, firings)
            pg_outbox.set_event_cursors(conn, event_cursors or {})
            pg_outbox.set_rule_progress(conn, rule_progress or {})
            snoozes.release(conn, released_snoozes)
        if added:
            # Apart, after the commit: the fold must not hold the tick's ledger locks.
            with self._writing("folding the ledger's counts") as conn:
                fold_ledger(conn.raw)
        return added

    def claim_requests(self, now: datetime, limit: int) -> list[ActionRequest]:
        with self._writing("claiming action requests") as conn:
            return pg_outbox.claim_requests(
                conn, now, limit, runner=self.runner_id, lease=self.claim_lease
            )

    # -- snoozes -----------------------------------------------------------------------
    # -- counterparty statistics -------------------------------------------------------
    def signing_facts(
        self, after: tuple[int, str], up_to_seq: int, limit: int
    ) -> list[SigningFacts]:
        with self._reading("reading documents for counterparty statistics") as conn:
            return stats.signing_facts(conn, after, up_to_seq, limit, hint=False)

    # -- several runners (edo_rules.store.shared.SharedStore) ----------------------------
    def heartbeat(self, lease_seconds: float) -> int:
        with self._writing("recording the runner's heartbeat") as conn:
            return shared.heartbeat(conn, self.runner_id, lease_seconds)

    def try_lease(self, name: str, lease_seconds: float) -> bool:
        with self._writing(f"taking the {name} lease") as conn:
            return shared.try_lease(conn, name, self.runner_id, lease_seconds)

    def leave(self) -> None:
        with self._writing("leaving the runners") as conn:
            shared.leave(conn, self.runner_id)

    def runners(self) -> list[RunnerInfo]:
        with self._reading("listing the runners") as conn:
            return shared.runners(conn)

    def take_over_stale_claims(self, lease_seconds: float | None = None) -> list[ActionRequest]:
        lease = self.claim_lease.total_seconds() if lease_seconds is None else lease_seconds
        with self._writing("taking over expired claims") as conn:
            return shared.take_over_stale_claims(conn, self.runner_id, lease)

    def give_up_claims(self) -> int:
        with self._writing("giving up the runner's claims") as conn:
            return shared.give_up_claims(conn, self.runner_id)

    def ask_refresh(self, request: str) -> int:
        with self._writing("asking for a refresh") as conn:
            return shared.ask_refresh(conn, self.runner_id, request)

    def take_refreshes(self, lease_seconds: float) -> list[tuple[int, str]]:
        with self._writing("taking the refresh requests") as conn:
            return shared.take_refreshes(conn, self.runner_id, lease_seconds)

    def answer_refreshes(self, request_ids: Sequence[int], answer: str) -> None:
        with self._writing("answering the refresh requests") as conn:
            shared.answer_refreshes(conn, request_ids, answer)

    def refresh_answer(self, request_id: int) -> str | None:
        with self._reading("reading a refresh's answer") as conn:
            return shared.refresh_answer(conn, request_id)

    def wait_refresh_asked(self, timeout: float) -> bool:
        """Block up to ``timeout`` s for a refresh request (LISTEN on a connection of its own;
        one thread calls it). True when one was announced."""
        try:
            listener = self._listener or self._listen()
            return any(True for _ in listener.notifies(timeout=timeout, stop_after=1))
        except psycopg.Error as exc:
            broken, self._listener = self._listener, None
            if broken is not None:
                broken.close()
            raise self._error("waiting for refresh requests", exc) from exc

    def _listen(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.dsn, **self._kwargs)
        channel = shared.refresh_channel(PgConnection(conn))
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        self._listener = conn
        return conn

    def release_requests(self, request_ids: Sequence[int]) -> None:
        with self._writing("giving claimed requests back") as conn:
            shared.release_requests(conn, request_ids)

    def waiting_behind(self, request_ids: Sequence[int], now: datetime) -> set[int]:
        with self._reading("checking the order of each document's requests") as conn:
            return shared.waiting_behind(conn, request_ids, now)

    # -- cache -------------------------------------------------------------------------


def _summary_triggers(
    raw: psycopg.Connection[Any], schema: sql.Composable, switch: Literal["ENABLE", "DISABLE"]
) -> None:
    """``switch`` (ENABLE or DISABLE) the triggers that keep the summaries in ``schema``."""
    for table in SUMMARIZED:
        raw.execute(
            sql.SQL(f"ALTER TABLE {{}}.{{}} {switch} TRIGGER USER").format(
                schema, sql.Identifier(table)
            )
        )


def _flush(conn: PgConnection, batch: list[tuple[object, ...]]) -> int:
    conn.executemany(UPSERT_DOCUMENT, batch)
    count = len(batch)
    batch.clear()
    return count


def _insert_events(conn: PgConnection, events: Sequence[StatusEvent]) -> list[StatusEvent]:
    """Insert the events not yet recorded; the added ones, with their ids, in input order."""
    if not events:
        return []
    cursor = conn.raw.cursor()
    cursor.executemany(_INSERT_EVENT, [event_params(e) for e in events], returning=True)
    added = []
    for _ in events:
        row = cursor.fetchone()
        if row is not None:
            added.append(event_from_row(row))
        cursor.nextset()
    return added


def _portable(query: tuple[str, list[Any]]) -> tuple[str, list[Any]]:
    """SQLite's index hint out: PostgreSQL's planner picks the write-sequence index itself."""
    statement, args = query
    return statement.replace(" INDEXED BY documents_seq", ""), args


def _server(dsn: str) -> str:
    """The DSN without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "the PostgreSQL server (the DSN could not be parsed)"
    host = info.get("host") or "localhost"
    where = f"postgresql://{info.get('user') or ''}@{host}:{info.get('port') or 5432}"
    return f"{where}/{info.get('dbname') or ''}"
