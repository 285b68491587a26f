"""The agenda's plans: computed in the background, kept per horizon, recomputed when
stale only when viewed and rate-limited; a failure is shown and retried.

A real engine simulates over a real SQLite store and real playbook files; the only
stand-ins are simulations passed in where a test needs one slow or counted.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from _web_helpers import MSK, NOW, PLAYBOOK, fill_store, sql
from store_contract import make_document

from edo_rules.calendar import ProductionCalendar
from edo_rules.engine import Engine
from edo_rules.model import Status
from edo_rules.playbook import load_playbooks
from edo_rules.store.sqlite import SQLiteStore
from edo_rules.web._agenda import (
    PG_VERSION,
    AgendaCache,
    AgendaView,
    Planned,
    Prepare,
    playbooks_key,
    sqlite_version,
)
from edo_rules.web._documents import plan_agenda
from edo_rules.web._filters import Filters
from edo_rules.web._pg_sql import PostgresReader

CALENDAR = ProductionCalendar.russia()
#: Long enough for a test's steps to run inside it, short enough to wait out.
INTERVAL = 0.6


def _world(tmp_path: Path) -> tuple[Path, Path]:
    store, playbooks = tmp_path / "store.sqlite3", tmp_path / "playbooks"
    fill_store(store, count=30)
    playbooks.mkdir()
    (playbooks / "waiting.yaml").write_text(PLAYBOOK, encoding="utf-8")
    return store, playbooks


def _direct(store: Path, playbooks: Path, days: int) -> list[dict[str, object]]:
    """The plan computed in this thread, as the page did before (the reference)."""
    with SQLiteStore(store) as opened:
        engine = Engine(opened, load_playbooks([playbooks]), CALENDAR)
        return [row for _, row in plan_agenda(engine, NOW, CALENDAR, days, MSK)]


class Engines:
    """The dashboard's preparation (as ``web._wiring`` builds it), counting its simulations
    and their overlap; ``delay`` seconds more each, to catch one in flight."""

    def __init__(self, store: Path, playbooks: Path, delay: float = 0.0) -> None:
        self.store, self.playbooks, self.delay = store, playbooks, delay
        self.starts: list[float] = []
        self.running = self.most = 0
        self.lock = threading.Lock()

    def __call__(self, days: int) -> tuple[Hashable, Callable[[], Planned]]:
        def simulate() -> Planned:
            with self.lock:
                self.starts.append(time.monotonic())
                self.running += 1
                self.most = max(self.most, self.running)
            try:
                time.sleep(self.delay)
                with SQLiteStore(self.store) as opened:
                    engine = Engine(opened, load_playbooks([self.playbooks]), CALENDAR)
                    return plan_agenda(engine, NOW, CALENDAR, days, MSK)
            finally:
                with self.lock:
                    self.running -= 1

        return (days, NOW.date(), playbooks_key([self.playbooks])), simulate


def _cache(store: Path, prepare: Prepare, **options: float) -> AgendaCache:
    return AgendaCache(sqlite_version(store), prepare, **options)  # type: ignore[arg-type]


def _rows(view: AgendaView) -> list[dict[str, object]]:
    return view.rows(Filters())


def _commit(store: Path) -> None:
    """What a sync does: a document written by another connection."""
    with SQLiteStore(store) as opened:
        opened.upsert_documents([replace(make_document("new"), number="N-1", status=Status.SENT)])


def _until_running(cache: AgendaCache, days: int) -> None:
    """Views of ``days`` until its simulation has started (bounded)."""
    deadline = time.monotonic() + 10
    while cache.view(days).running is None:
        assert time.monotonic() < deadline, "the simulation did not start"
        time.sleep(0.02)


def test_a_view_never_waits_and_the_plan_equals_the_direct_one(tmp_path: Path) -> None:
    store, playbooks = _world(tmp_path)
    engines = Engines(store, playbooks, delay=0.5)
    cache = _cache(store, engines)
    try:
        started = time.monotonic()
        first = cache.view(5)
        assert time.monotonic() - started < 0.3  # the simulation runs elsewhere
        assert first.plan is None and first.state == "computing"
        assert first.running is not None or first.queued_at is not None  # starting
        ready = cache.wait(5, 30)
        assert ready.state == "fresh" and not ready.stale and ready.plan is not None
        assert _rows(ready) == _direct(store, playbooks, 5) != []
        assert ready.plan.took >= 0.5 and ready.plan.started < ready.plan.finished
        again = cache.view(5)  # nothing changed: the same plan, no simulation
        assert again.plan is ready.plan and len(engines.starts) == 1
    finally:
        cache.close()


def test_a_commit_makes_the_plan_stale_until_a_rate_limited_view_recomputes_it(
    tmp_path: Path,
) -> None:
    store, playbooks = _world(tmp_path)
    engines = Engines(store, playbooks)
    cache = _cache(store, engines, min_interval=INTERVAL)
    try:
        before = cache.wait(5, 30).plan
        _commit(store)
        assert cache.view(5).plan is before  # nothing is computed before a view
        stale = cache.view(5)
        assert stale.state == "stale" and stale.plan is before
        assert stale.queued_at is not None and stale.running is None  # the interval holds it
        fresh = cache.wait(5, 30)
        assert fresh.state == "fresh" and fresh.plan is not before and fresh.plan is not None
        assert len(engines.starts) == 2 and engines.starts[1] - engines.starts[0] >= INTERVAL
        assert [r["number"] for r in _rows(fresh)] == [
            r["number"] for r in _direct(store, playbooks, 5)
        ]
        assert "N-1" in {r["number"] for r in _rows(fresh)}  # the new document is planned
    finally:
        cache.close()


def test_the_interval_grows_with_a_slow_simulation(tmp_path: Path) -> None:
    store, playbooks = _world(tmp_path)
    cache = _cache(store, Engines(store, playbooks, delay=0.4), min_interval=0.1)
    try:
        ready = cache.wait(3, 30)
        assert ready.plan is not None and ready.interval == pytest.approx(3 * ready.plan.took)
        assert ready.interval >= 1.2 and ready.last_took == ready.plan.took
    finally:
        cache.close()


def test_a_commit_during_the_simulation_leaves_the_plan_stale(tmp_path: Path) -> None:
    store, playbooks = _world(tmp_path)
    engines = Engines(store, playbooks, delay=0.5)
    cache = _cache(store, engines, min_interval=60)
    try:
        _until_running(cache, 5)
        deadline = time.monotonic() + 10
        while not engines.running:  # in simulate(): the store's version was read before
            assert time.monotonic() < deadline
            time.sleep(0.01)
        _commit(store)  # while it simulates: the plan may predate this commit
        done = cache.wait(5, 30)
        assert done.plan is not None and done.state == "stale"
        assert done.queued_at is not None and done.running is None  # in a minute, if viewed
    finally:
        cache.close()


def test_one_simulation_at_a_time_and_a_few_horizons_kept(tmp_path: Path) -> None:
    store, playbooks = _world(tmp_path)
    engines = Engines(store, playbooks, delay=0.2)
    cache = _cache(store, engines, keep=2)
    try:
        for days in (1, 2, 3):
            assert cache.view(days).state == "computing"
        for days in (1, 2, 3):
            assert cache.wait(days, 30).state == "fresh"
        assert engines.most == 1 and len(engines.starts) == 3
        assert cache.view(3).plan is not None and cache.view(2).plan is not None
        assert cache.view(1).plan is None  # the least recently viewed was dropped
    finally:
        cache.close()


def test_a_broken_playbook_is_reported_then_retried_when_fixed(tmp_path: Path) -> None:
    store, playbooks = _world(tmp_path)
    cache = _cache(store, Engines(store, playbooks), min_interval=INTERVAL)
    try:
        good = cache.wait(5, 30).plan
        (playbooks / "waiting.yaml").write_text("version: 1\nrules: [}", encoding="utf-8")
        cache.view(5)  # the playbooks changed: stale, recomputed after the interval
        failed = cache.wait(5, 30)
        assert failed.failure is not None and failed.failure.playbooks
        assert "waiting.yaml" in failed.failure.error
        assert failed.plan is good and failed.state == "stale"  # the last good plan stays
        (playbooks / "waiting.yaml").write_text(PLAYBOOK, encoding="utf-8")
        retried = cache.view(5)
        assert retried.queued_at is not None  # a retry, no sooner than the interval
        fixed = cache.wait(5, 30)
        assert fixed.failure is None and fixed.state == "fresh" and fixed.plan is not good
        assert _rows(fixed) == _direct(store, playbooks, 5)
    finally:
        cache.close()


def test_a_store_error_without_a_plan_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    store, playbooks = _world(tmp_path)

    def prepare(days: int) -> tuple[Hashable, Callable[[], Planned]]:
        def simulate() -> Planned:
            with SQLiteStore(tmp_path / "missing" / "store.sqlite3") as opened:
                return plan_agenda(
                    Engine(opened, load_playbooks([playbooks]), CALENDAR), NOW, CALENDAR, days, MSK
                )

        return days, simulate

    cache = _cache(store, prepare, min_interval=60)
    try:
        failed = cache.wait(5, 30)
        assert failed.state == "failed" and failed.plan is None and failed.failure is not None
        assert not failed.failure.playbooks and failed.failure.error
        assert failed.queued_at is not None  # that view asked for a retry, in a minute
    finally:
        cache.close()


def test_close_stops_the_queue_and_waits_for_the_simulation(tmp_path: Path) -> None:
    store, playbooks = _world(tmp_path)
    engines = Engines(store, playbooks, delay=0.3)
    cache = _cache(store, engines)
    _until_running(cache, 1)
    assert cache.view(2).state == "computing"  # queued behind the first
    cache.close(timeout=10)
    assert len(engines.starts) == 1 and engines.running == 0
    assert cache.view(3).state == "computing" and len(engines.starts) == 1  # none after close


def test_close_stops_a_simulation_in_flight_and_its_copy_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, playbooks = _world(tmp_path)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the scratch copy goes
    ticks: list[float] = []

    def prepare(days: int) -> tuple[Hashable, Callable[[], Planned]]:
        def stop() -> bool:
            ticks.append(time.monotonic())
            time.sleep(0.3)  # a slow day, as at a million documents
            return cache.stopping.is_set()

        def simulate() -> Planned:
            with SQLiteStore(store) as opened:
                engine = Engine(opened, load_playbooks([playbooks]), CALENDAR)
                return plan_agenda(engine, NOW, CALENDAR, days, MSK, stop=stop)

        return days, simulate

    cache = _cache(store, prepare)
    deadline = time.monotonic() + 10
    while not ticks and time.monotonic() < deadline:
        cache.view(20)
        time.sleep(0.05)
    assert ticks  # the simulation is in flight
    started = time.monotonic()
    cache.close(timeout=10)
    assert time.monotonic() - started < 2 and len(ticks) < 20  # stopped, not finished
    assert list(scratch.iterdir()) == []  # the scratch copy went with it
    assert sql(store, "SELECT COUNT(*) FROM firings") == [(0,)]


@pytest.mark.postgres
def test_the_postgresql_version_changes_with_a_commit(pg_database: str) -> None:
    reader = PostgresReader(pg_database, ProductionCalendar.russia())
    try:
        before = reader.rows(PG_VERSION)[0][0]
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute("CREATE TEMP TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (1)")
        assert reader.rows(PG_VERSION)[0][0] != before
    finally:
        reader.close()


def test_the_playbooks_key_changes_with_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "a.yaml").write_text("version: 1\nrules: []\n", encoding="utf-8")
    first = playbooks_key([folder])
    assert playbooks_key([folder]) == first
    (folder / "a.yaml").write_text("version: 1\nrules: [] # edited\n", encoding="utf-8")
    second = playbooks_key([folder])
    (folder / "b.yml").write_text("version: 1\nrules: []\n", encoding="utf-8")
    assert len({first, second, playbooks_key([folder])}) == 3
