"""The embedded default store: one SQLite file (stdlib ``sqlite3``), WAL mode.

Every public method raises :class:`~edo_rules.errors.StoreError` (naming what
failed, the file and what to do) and nothing else for database failures; every
write runs in one ``BEGIN IMMEDIATE`` transaction. A store object belongs to
one thread; several processes may open the same file (readers never block the
writer in WAL mode, and writers wait up to ``busy_timeout`` seconds).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from edo_rules._codec import parse_datetime, utc_text
from edo_rules._messages import Text, msg
from edo_rules._private import create_private
from edo_rules.errors import StoreError
from edo_rules.model import ActionRequest, Document, Firing, StatusEvent
from edo_rules.store import _prune as retention
from edo_rules.store import _sqlite_bulk as bulk
from edo_rules.store import _sqlite_files as files
from edo_rules.store import _sqlite_outbox as outbox
from edo_rules.store import _sqlite_snoozes as snoozes
from edo_rules.store import _sqlite_stats as stats
from edo_rules.store._common import StoreQueries
from edo_rules.store._prune import PruneReport
from edo_rules.store._sqlite_dashboard import ensure as ensure_dashboard_summary
from edo_rules.store._sqlite_queries import due_sql, event_sql
from edo_rules.store._sqlite_rows import (
    EVENT_COLUMNS,
    UPSERT_DOCUMENT,
    document_from_json,
    document_params,
    event_from_row,
    event_params,
)
from edo_rules.store._sqlite_schema import (
    CURRENT_VERSION,
    ForeignDatabaseError,
    TooNewError,
    current_version,
    migrate,
)
from edo_rules.store._texts import document_loader, operation, sqlite_hint
from edo_rules.store.base import (
    DueCandidate,
    DueQuery,
    EventQuery,
    RuleProgress,
    SigningFacts,
)

_log = logging.getLogger("edo_rules.store")

_BATCH = 5000  # documents per executemany call in a bulk upsert

_CHECKPOINT_PAGES = 1000  # SQLite's default WAL size (in pages) that triggers a checkpoint
_SYNC_CHECKPOINT_PAGES = 8000  # 32 MB of WAL between checkpoints while sync pages are written
#: Above this size the WAL is checkpointed and truncated after a large write (a sync, a
#: prune); SQLite otherwise keeps the file at its high-water mark for good.
WAL_TRUNCATE_BYTES = 4 * 1024 * 1024

_INSERT_EVENT = (
    "INSERT OR IGNORE INTO status_events (document_id, at_utc, at, from_status,"
    " from_raw, to_status, to_raw, comment, actor, historical)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_SYNC_STATE = (
    "INSERT INTO sync_state (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


def _with_id(e: StatusEvent, event_id: int) -> StatusEvent:
    """``e`` as stored (``dataclasses.replace`` costs three times this on a big page)."""
    return StatusEvent(
        e.document_id, e.at, e.to_status, e.to_raw, e.from_status, e.from_raw, e.comment,
        e.actor, e.historical, event_id,
    )  # fmt: skip


def _first_of_each(
    events: Sequence[StatusEvent], params: list[tuple[Any, ...]]
) -> tuple[list[StatusEvent], list[tuple[Any, ...]]]:
    """The events (and their parameters) without repeats of a key (document, UTC moment,
    1C state): what ``INSERT OR IGNORE`` keeps when the key's index is not there."""
    seen: set[tuple[Any, Any, Any]] = set()
    kept: list[StatusEvent] = []
    kept_params: list[tuple[Any, ...]] = []
    for event, row in zip(events, params, strict=True):
        key = (row[0], row[1], row[6])
        if key not in seen:
            seen.add(key)
            kept.append(event)
            kept_params.append(row)
    return kept, kept_params


def _identity_of(path: str) -> tuple[int, int] | None:
    if path == ":memory:" or path.startswith("file:"):
        return None
    return files.identity(path)


def _gone(path: str, what: Text) -> Text:
    return msg("store_gone", path=path, what=what)


class SQLiteStore(StoreQueries):
    """The :class:`~edo_rules.store.base.Store` on a SQLite file.

    ``SQLiteStore(path)`` opens (creating and migrating if needed) the file;
    ``":memory:"`` gives a private in-memory store for tests and dry runs.
    ``cache_mb`` is SQLite's page cache; ``sync_cache_mb`` bounds it while
    :meth:`write_sync_page` runs (a sync's writes gain little from a big cache).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout: float = 5.0,
        cache_mb: int = 64,
        sync_cache_mb: int = 16,
    ):
        self.path = str(path)
        self._where = self.path
        self._cache_mb = cache_mb
        # A page of a bulk sync touches most leaves of the events' random-key
        # indexes anyway: 16 MB writes 100,000 documents as fast as 64 MB, and
        # keeps the cache from raising the sync's peak memory.
        self._sync_cache_mb = sync_cache_mb
        self._conn = self._open(busy_timeout)
        self._identity = _identity_of(self.path)

    # -- opening and errors ----------------------------------------------------
    def _open(self, busy_timeout: float) -> sqlite3.Connection:
        if self.path != ":memory:":
            create_private(self.path)  # the WAL and SHM files take its mode
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=busy_timeout)
        except sqlite3.Error as exc:
            raise self._error("opening the store", exc) from exc
        try:
            self._configure(conn, busy_timeout)
            bulk.restore_before_migrating(conn, current_version(conn), CURRENT_VERSION)
            migrate(conn)
            # A release with new calendar data recomputes the dashboard's spans.
            ensure_dashboard_summary(conn)
        except ForeignDatabaseError as exc:
            conn.close()
            raise StoreError(msg("store_foreign_sqlite", path=self.path, tables=str(exc))) from exc
        except TooNewError as exc:
            conn.close()
            raise StoreError(
                msg("store_too_new_sqlite", path=self.path, version=exc.version)
            ) from exc
        except sqlite3.Error as exc:
            conn.close()
            raise self._error("opening the store", exc) from exc
        return conn

    def _configure(self, conn: sqlite3.Connection, busy_timeout: float) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        # The default 2 MB page cache thrashes on the ledger's and outbox's
        # random-key indexes at a million documents; 64 MB halves a tick's writes.
        conn.execute(f"PRAGMA cache_size = {-1024 * int(self._cache_mb)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Each checkpoint that resets the WAL also cuts the file back to this size.
        conn.execute(f"PRAGMA journal_size_limit = {WAL_TRUNCATE_BYTES}")

    def _error(self, what: str, exc: sqlite3.Error) -> StoreError:
        message = files.with_problems(str(exc), self.path, disk_full=files.is_disk_full(exc))
        return StoreError(
            msg(
                "store_failed_sqlite",
                what=operation(what),
                path=self.path,
                message=message,
                hint=sqlite_hint(exc),
            )
        )

    @contextmanager
    def _reading(self, what: str) -> Iterator[sqlite3.Connection]:
        try:
            yield self._conn
        except sqlite3.Error as exc:
            raise self._error(what, exc) from exc

    @contextmanager
    def _writing(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back entirely on any error."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._error(what, exc) from exc
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except BaseException as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                if files.is_disk_full(exc):
                    self._give_back_wal()
                raise self._error(what, exc) from exc
            raise

    def _give_back_wal(self) -> None:
        """After a write failed on a full disk: truncate the WAL its rolled-back frames grew.

        Nothing of the failed transaction was committed; without this the WAL
        keeps the space those frames took while the disk stays full.
        """
        try:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error as exc:
            _log.warning("cannot truncate the WAL of %s after a failed write: %s", self.path, exc)

    def close(self) -> None:
        self._conn.close()

    # -- the files on disk -------------------------------------------------------------
    def prune(self, before: datetime, now: datetime, *, dry_run: bool = False) -> PruneReport:
        with self._writing("pruning old documents") as conn:
            self._settle(conn)
            found = retention.candidates(conn, utc_text(before), utc_text(now))
            report = retention.prune(conn, found, utc_text(now), dry_run=dry_run)
        if report.documents and not dry_run:
            self._vacuum()
        return report

    def _vacuum(self) -> None:
        """Give the pruned pages back to the disk; they are reused anyway if this cannot run."""
        try:
            self._conn.execute("VACUUM")
        except sqlite3.Error as exc:
            _log.warning(
                "the store %s was pruned but not compacted (%s): its free pages are reused;"
                " run `edo-rules store prune` again with the runner stopped to shrink the file",
                self.path,
                exc,
            )
        self.checkpoint(above=0)

    def wal_bytes(self) -> int:
        """The size of the write-ahead log file now (0 when there is none)."""
        try:
            return os.stat(self.path + "-wal").st_size
        except OSError:
            return 0

    def checkpoint(self, *, above: int = WAL_TRUNCATE_BYTES) -> tuple[int, int]:
        """Copy the WAL into the database and truncate it, when it is above ``above`` bytes.

        Called after large writes (a sync, a prune). Returns the WAL's size
        (before, after); a reader still on an old snapshot leaves it as it is.
        """
        before = self.wal_bytes()
        if before <= above or self.path == ":memory:" or before == 0:
            return before, before
        with self._reading("checkpointing the write-ahead log") as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        after = self.wal_bytes()
        _log.debug("WAL of %s checkpointed: %d -> %d bytes", self.path, before, after)
        return before, after

    def identity(self) -> tuple[int, int] | None:
        """(device, inode) of the database file as opened (None in memory)."""
        return self._identity

    def check_files(self) -> None:
        """Raise StoreError when the database file was deleted or replaced since it was opened.

        SQLite keeps writing into the open (deleted) file: a runner would go on
        in a ghost store, its work lost, while a new store re-sends everything.
        """
        if self._identity is None:
            return
        what = files.changed(self.path, self._identity)
        if what is not None:
            raise StoreError(_gone(self.path, what))

    @contextmanager
    def scratch_copy(self) -> Iterator[SQLiteStore]:
        """A consistent copy in a temporary file (SQLite's backup API), deleted on exit."""
        with tempfile.TemporaryDirectory(prefix="edo-rules-scratch-") as folder:
            path = Path(folder) / "scratch.sqlite3"
            with self._reading("copying the store") as conn:
                target = sqlite3.connect(path)
                try:
                    conn.backup(target)
                finally:
                    target.close()
            copy = SQLiteStore(path, cache_mb=self._cache_mb, sync_cache_mb=self._sync_cache_mb)
            try:
                yield copy
            finally:
                copy.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- documents and history ---------------------------------------------------
    def upsert_documents(self, documents: Iterable[Document]) -> int:
        written = 0
        with self._writing("writing documents") as conn:
            self._settle(conn)
            seq = self._next_seq(conn)
            batch: list[tuple[object, ...]] = []
            for doc in documents:
                batch.append(document_params(doc, seq))
                if len(batch) >= _BATCH:
                    written += self._flush(conn, batch)
            written += self._flush(conn, batch)
        return written

    @staticmethod
    def _next_seq(conn: sqlite3.Connection) -> int:
        """The sequence number of this write transaction (see ``Store.document_seq``)."""
        row = conn.execute(
            "UPDATE counters SET value = value + 1 WHERE name = 'document_seq' RETURNING value"
        ).fetchone()
        return int(row[0])

    @staticmethod
    def _flush(conn: sqlite3.Connection, batch: list[tuple[object, ...]]) -> int:
        conn.executemany(UPSERT_DOCUMENT, batch)
        count = len(batch)
        batch.clear()
        return count

    def write_sync_page(
        self,
        documents: Sequence[Document],
        events: Sequence[StatusEvent],
        state: Mapping[str, str] | None = None,
        *,
        initial: bool = False,
    ) -> Sequence[StatusEvent]:
        with self._sync_tuning(), self._writing("writing a sync page") as conn:
            deferred = bulk.deferred(conn)
            if initial and documents and (deferred or bulk.is_empty(conn)):
                if not deferred:
                    bulk.begin(conn)  # an initial load into an empty store: see _sqlite_bulk
                    deferred = bulk.deferred(conn)
            elif deferred:
                bulk.finish(conn)  # any other write finishes a bulk load left pending
                deferred = frozenset()
            documents, events = retention.without_pruned(conn, documents, events)
            unkeyed = bulk.EVENTS_KEY in deferred and bool(events)
            if unkeyed and bulk.any_stored(conn, {event.document_id for event in events}):
                bulk.build_events_key(conn)  # a restarted load: stored events to skip
                unkeyed = False
            seq = self._next_seq(conn)
            if documents:
                conn.executemany(UPSERT_DOCUMENT, [document_params(doc, seq) for doc in documents])
            added = self._insert_events(conn, events, unkeyed=unkeyed)
            if state:
                conn.executemany(_UPSERT_SYNC_STATE, sorted(state.items()))
        return added

    @staticmethod
    def _settle(conn: sqlite3.Connection) -> None:
        """Before any write but an initial load's page: finish a bulk load left pending."""
        if bulk.pending(conn):
            bulk.finish(conn)

    @staticmethod
    def _insert_events(
        conn: sqlite3.Connection, events: Sequence[StatusEvent], *, unkeyed: bool = False
    ) -> list[StatusEvent]:
        """Insert the events not yet recorded; the added ones, with their ids, in input order.

        The write transaction holds the only writer lock and ids only grow
        (AUTOINCREMENT), so the rows above the largest id before the insert
        are exactly this page's new events, and ascending ids follow the input.
        When every event was new (an initial load, most pages), those ids are
        the last ``len(events)`` ones and nothing is read back. ``unkeyed``: the
        key's index is deferred (a bulk load) and no event of these documents is
        stored, so only the page's own repeats of a key are left out here.
        """
        if not events:
            return []
        params = [event_params(event) for event in events]
        if unkeyed:
            events, params = _first_of_each(events, params)
        before = conn.execute("SELECT COALESCE(MAX(id), 0) FROM status_events").fetchone()[0]
        inserted = conn.executemany(_INSERT_EVENT, params)
        if inserted.rowcount == len(events):
            last = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
            first = last - len(events) + 1
            return [_with_id(event, first + n) for n, event in enumerate(events)]
        rows = conn.execute(
            f"SELECT {EVENT_COLUMNS} FROM status_events WHERE id > ? ORDER BY id", (before,)
        )
        return [event_from_row(row) for row in rows]

    @contextmanager
    def _sync_tuning(self) -> Iterator[None]:
        """While a sync page is written: a bounded page cache and fewer WAL checkpoints.

        A page of a bulk sync dirties thousands of leaves of the events'
        document-keyed indexes; a checkpoint after every such commit (SQLite's
        default, at 1000 WAL pages) copies them all back into the file each time.
        """
        self._tune(min(self._sync_cache_mb, self._cache_mb), _SYNC_CHECKPOINT_PAGES)
        try:
            yield
        finally:
            self._tune(self._cache_mb, _CHECKPOINT_PAGES)

    def _tune(self, cache_mb: int, checkpoint_pages: int) -> None:
        try:
            self._conn.execute(f"PRAGMA cache_size = {-1024 * int(cache_mb)}")
            self._conn.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint_pages)}")
        except sqlite3.Error as exc:
            raise self._error("tuning the connection for a sync page", exc) from exc

    def get_document(self, document_id: str) -> Document | None:
        with self._reading("reading a document") as conn:
            row = conn.execute("SELECT json FROM documents WHERE id = ?", (document_id,))
            found = row.fetchone()
        return None if found is None else document_from_json(found[0])

    def get_documents(self, document_ids: Iterable[str]) -> dict[str, Document]:
        ids = sorted(set(document_ids))
        result: dict[str, Document] = {}
        with self._reading("reading documents") as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows = conn.execute(
                    f"SELECT json FROM documents WHERE id IN ({', '.join('?' for _ in chunk)})",
                    chunk,
                )
                for (text,) in rows:
                    doc = document_from_json(text)
                    result[doc.id] = doc
        return result

    # -- the engine's questions ------------------------------------------------------
    def due_candidates(self, query: DueQuery) -> Iterator[Document]:
        sql, args = due_sql(query)
        with self._reading("selecting due documents") as conn:
            for (text,) in conn.execute(sql, args):
                yield document_from_json(text)

    def due_candidates_lazy(self, query: DueQuery) -> Iterator[DueCandidate]:
        sql, args = due_sql(query, with_keys=True)
        with self._reading("selecting due documents") as conn:
            for doc_id, since, text in conn.execute(sql, args):
                # The stored timestamp text is the episode (see store.base.episode_of).
                load = document_loader(self.get_document, doc_id, text)
                yield DueCandidate(doc_id, parse_datetime(since), since, load)

    def event_candidates(self, query: EventQuery) -> Iterator[tuple[StatusEvent, Document]]:
        sql, args = event_sql(query)
        with self._reading("selecting new status events") as conn:
            for row in conn.execute(sql, args):
                yield event_from_row(row[:-1]), document_from_json(row[-1])

    def set_event_cursors(self, cursors: Mapping[str, int]) -> None:
        with self._writing("writing event cursors") as conn:
            outbox.set_event_cursors(conn, cursors)

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
            added = outbox.insert_firings(conn, firings)
            outbox.set_event_cursors(conn, event_cursors or {})
            outbox.set_rule_progress(conn, rule_progress or {})
            snoozes.release(conn, released_snoozes)
        return added

    def claim_requests(self, now: datetime, limit: int) -> list[ActionRequest]:
        with self._writing("claiming action requests") as conn:
            return outbox.claim_requests(conn, now, limit)

    # -- snoozes -----------------------------------------------------------------------
    # -- counterparty statistics -------------------------------------------------------
    def signing_facts(
        self, after: tuple[int, str], up_to_seq: int, limit: int
    ) -> list[SigningFacts]:
        with self._reading("reading documents for counterparty statistics") as conn:
            return stats.signing_facts(conn, after, up_to_seq, limit)

    # -- cache -------------------------------------------------------------------------
