"""An initial 1C sync into an empty SQLite store is a bulk load (store._sqlite_bulk).

Its pages skip the secondary indexes and the dashboard summary's triggers; the
page that closes the load (or any other write) builds them once. The store it
leaves must equal one written row by row, also after the load was SIGKILLed
half way and run again.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from _onec_helpers import MOSCOW, clock_of, make_base, serving, settings_for, snapshot, sync
from _web_helpers import rebuilt_rows, summary_rows
from store_contract import T0, make_document, make_event

from edo_rules.calendar import ProductionCalendar
from edo_rules.emulators.onec import OneCEmulator
from edo_rules.model import Status
from edo_rules.sources.onec import OneCSource, run_sync
from edo_rules.store import _sqlite_bulk as bulk
from edo_rules.store._sqlite_dashboard import DIMENSIONS
from edo_rules.store.sqlite import SQLiteStore
from edo_rules.web import _pages as pages
from edo_rules.web import _summary as s
from edo_rules.web._dashboard import context
from edo_rules.web._filters import Filters
from edo_rules.web._sql import SQLiteReader, dialect_for

DOCUMENTS = 600


def _schema(path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master"
            " WHERE type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY name"
        ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def _deferred(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [str(row[0]) for row in conn.execute("SELECT name FROM deferred_schema")]


def _dashboard(path: Path, now: Any) -> dict[str, Any]:
    """The breakdown pages' numbers as the dashboard reads them from the summary."""
    calendar = ProductionCalendar.russia()
    reader = SQLiteReader(path, calendar)
    ctx = context(reader, dialect_for(MOSCOW, now), calendar, now, MOSCOW, 3)
    assert ctx.summary
    return {dim: sorted(s.breakdown(ctx, Filters(), dim), key=str) for dim in DIMENSIONS}


def _row_by_row(emulator: OneCEmulator, path: Path) -> None:
    """The same initial sync with every page written as an ordinary (non-initial) one."""
    with SQLiteStore(path) as store:
        source = OneCSource(
            settings_for(emulator), documents=store.get_documents, clock=clock_of(emulator.base)
        )
        try:
            for page in source.pages({}):
                store.write_sync_page(page.documents, page.events, page.state)
        finally:
            source.close()


def test_an_initial_sync_bulk_loads_and_leaves_the_store_a_row_by_row_load_leaves(
    tmp_path: Path,
) -> None:
    base = make_base(DOCUMENTS)
    bulk_path, rows_path = tmp_path / "bulk.db", tmp_path / "rows.db"
    seen: list[tuple[list[str], bool]] = []

    def progress(done: int, total: int) -> None:
        # Called after each page is written: the load runs without its indexes.
        names = {name for _, name, _ in _schema(bulk_path)}
        seen.append((_deferred(bulk_path), "documents_inn" in names))

    with serving(base) as emulator:
        with SQLiteStore(bulk_path) as store:
            run_sync(settings_for(emulator), store, clock=clock_of(base), progress=progress)
            bulk_snapshot = snapshot(store)
        _row_by_row(emulator, rows_path)
    assert seen and all(deferred and not indexed for deferred, indexed in seen)
    assert bulk.SUMMARY in seen[0][0] and "documents_groups_insert" in seen[0][0]
    assert all(bulk.EVENTS_KEY in deferred for deferred, _ in seen)
    assert _deferred(bulk_path) == []
    with SQLiteStore(rows_path) as store:
        assert snapshot(store) == bulk_snapshot
    assert _schema(bulk_path) == _schema(rows_path)
    assert summary_rows(bulk_path) == summary_rows(rows_path) == rebuilt_rows(rows_path)
    now = base.now.replace(tzinfo=MOSCOW)
    assert _dashboard(bulk_path, now) == _dashboard(rows_path, now)


_CHILD = """
import sys
from datetime import datetime
from zoneinfo import ZoneInfo
from edo_rules.sources.onec import OneCSettings, run_sync
from edo_rules.store.sqlite import SQLiteStore
url, base, user, password, path, now = sys.argv[1:]
settings = OneCSettings(url=url, base=base, user=user, password=password, page_size=10)
clock = datetime.fromisoformat(now)
with SQLiteStore(path) as store:
    run_sync(settings, store, clock=lambda: clock)
"""


def _kill_mid_load(emulator: OneCEmulator, path: Path, after: int) -> None:
    """Run the sync in another process and SIGKILL it once ``after`` documents are stored."""
    settings = settings_for(emulator)
    now = clock_of(emulator.base)().isoformat()
    args = [settings.url, settings.base, settings.user, settings.password, str(path), now]
    child = subprocess.Popen([sys.executable, "-c", _CHILD, *args], env=dict(os.environ))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.poll() is None:
            if path.exists() and _stored(path) >= after:
                break
            time.sleep(0.002)
        assert child.poll() is None, "the sync ended before it could be killed"
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()


def _stored(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=0.05) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_a_load_killed_half_way_is_completed_by_the_next_sync(tmp_path: Path) -> None:
    base = make_base(DOCUMENTS)
    killed, clean = tmp_path / "killed.db", tmp_path / "clean.db"
    with serving(base) as emulator:
        _kill_mid_load(emulator, killed, after=DOCUMENTS // 4)
        # Killed in bulk mode: part of the documents, the indexes and triggers still to build.
        assert 0 < _stored(killed) < DOCUMENTS
        assert bulk.SUMMARY in _deferred(killed)
        assert "documents_inn" not in {name for _, name, _ in _schema(killed)}
        with SQLiteStore(killed) as store:
            sync(emulator, store)  # the restarted load goes on in bulk mode, then finishes
            resumed = snapshot(store)
        with SQLiteStore(clean) as store:
            sync(emulator, store)
            whole = snapshot(store)
    assert resumed == whole
    assert _deferred(killed) == []
    assert _schema(killed) == _schema(clean)
    assert summary_rows(killed) == summary_rows(clean) == rebuilt_rows(killed)


def _pending_store(path: Path) -> SQLiteStore:
    store = SQLiteStore(path)
    docs = [make_document(f"d{i}", status=Status.SENT) for i in range(5)]
    events = [make_event(f"d{i}", T0, Status.SENT) for i in range(5)]
    store.write_sync_page(docs, events, initial=True)
    assert bulk.SUMMARY in _deferred(path)
    return store


def test_bulk_pages_keep_what_the_events_key_would_keep(tmp_path: Path) -> None:
    # Without the events' unique key, a page's repeated events are dropped before the
    # insert; a page naming a stored document (a restarted load) builds the key first.
    with _pending_store(tmp_path / "edo.db") as store:
        new = make_document("n", status=Status.SENT)
        first = make_event("n", T0, Status.SENT)
        added = store.write_sync_page([new], [first, first], initial=True)
        assert [(e.document_id, e.id) for e in added] == [("n", 6)]
        assert bulk.EVENTS_KEY in _deferred(tmp_path / "edo.db")
        again = [make_event(f"d{i}", T0, Status.SENT) for i in range(2)]
        later = make_event("d0", T0 + timedelta(hours=1), Status.SIGNED, from_status=Status.SENT)
        docs = [make_document(f"d{i}", status=Status.SENT) for i in range(2)]
        added = store.write_sync_page(docs, [*again, later, later], initial=True)
        assert [(e.document_id, e.to_status) for e in added] == [("d0", Status.SIGNED)]
        deferred = _deferred(tmp_path / "edo.db")
        assert bulk.EVENTS_KEY not in deferred and bulk.SUMMARY in deferred
        store.write_sync_page([], [], {"cursor": "1"})
        assert [e.id for e in store.history("d0")] == [1, added[0].id]
        assert len(store.history("n")) == 1
    assert _deferred(tmp_path / "edo.db") == []


def test_any_other_write_finishes_a_pending_bulk_load(tmp_path: Path) -> None:
    writes = {
        "upsert": lambda store: store.upsert_documents([make_document("x")]),
        "page": lambda store: store.write_sync_page([make_document("x")], []),
        "cursor": lambda store: store.write_sync_page([], [], {"cursor": "1"}),
        "prune": lambda store: store.prune(T0, T0, dry_run=True),
    }
    rows = tmp_path / "rows.db"
    with SQLiteStore(rows) as store:
        store.write_sync_page([make_document(f"d{i}", status=Status.SENT) for i in range(5)], [])
    for name, write in writes.items():
        path = tmp_path / f"{name}.db"
        with _pending_store(path) as store:
            write(store)
        assert _deferred(path) == [], name
        assert _schema(path) == _schema(rows), name
        assert summary_rows(path) == rebuilt_rows(path), name


def test_an_initial_page_into_a_store_with_documents_is_written_row_by_row(
    tmp_path: Path,
) -> None:
    path = tmp_path / "edo.db"
    with SQLiteStore(path) as store:
        store.upsert_documents([make_document("a")])
        added = store.write_sync_page(
            [make_document("b")], [make_event("b", T0, Status.SENT)], initial=True
        )
        assert [e.id for e in added] == [1]
    assert _deferred(path) == []
    assert summary_rows(path) == rebuilt_rows(path)


def test_a_file_left_mid_load_gets_its_schema_back_before_newer_migrations(
    tmp_path: Path,
) -> None:
    path = tmp_path / "edo.db"
    SQLiteStore(tmp_path / "fresh.db").close()
    _pending_store(path).close()
    with sqlite3.connect(path, isolation_level=None) as conn:
        bulk.restore_before_migrating(conn, 13, 14)  # as a newer release would open it
        assert [row[0] for row in conn.execute("SELECT name FROM deferred_schema")] == [
            bulk.SUMMARY
        ]
    assert _schema(path) == _schema(tmp_path / "fresh.db")
    with SQLiteStore(path) as store:
        store.write_sync_page([], [], {"cursor": "1"})  # the next write rebuilds the summary
    assert _deferred(path) == []
    assert summary_rows(path) == rebuilt_rows(path)


def _pages_numbers(path: Path, now: Any, expect_summary: bool) -> dict[Any, Any]:
    calendar = ProductionCalendar.russia()
    reader = SQLiteReader(path, calendar)
    try:
        ctx = context(reader, dialect_for(MOSCOW, now), calendar, now, MOSCOW, 3)
        assert ctx.summary is expect_summary
        filtered = Filters(period_from=T0.date(), manager=str(make_document("d0").responsible))
        numbers: dict[Any, Any] = {}
        for i, f in enumerate((Filters(), filtered)):
            numbers["status", i] = pages.status_counts(ctx, f)
            for by in ("company", "manager", "kind"):
                numbers[by, i] = sorted(pages.breakdown_rows(ctx, f, by), key=str)
            pages.overview(ctx, f)  # reads the age buckets and trends: must not fail
        return numbers
    finally:
        reader.close()


def test_the_dashboard_during_a_pending_load_reads_the_documents_not_the_missing_indexes(
    tmp_path: Path,
) -> None:
    # The pages name indexes (INDEXED BY) that an interrupted load has dropped: while it
    # is pending they take the per-document path, whose numbers the summary must match after.
    now = T0.replace(year=T0.year + 1)
    path = tmp_path / "pending.db"
    with _pending_store(path):
        pass
    during = _pages_numbers(path, now, expect_summary=False)
    with SQLiteStore(path) as store:
        store.write_sync_page([], [], {"cursor": "1"})  # the load's closing page
    assert during == _pages_numbers(path, now, expect_summary=True)
    assert during["manager", 0] and during["manager", 1]
