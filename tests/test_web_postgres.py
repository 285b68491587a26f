"""The dashboard over PostgreSQL: the same numbers as over SQLite, on every page.

The demo's month (documents, firings, actions, counterparty statistics) plus
documents the summary must not miscount are written to a SQLite store, copied
into PostgreSQL with ``store copy``, and both are served by the app that
``edo-rules serve`` builds; every page's tables and figures must be equal.
"""

from __future__ import annotations

import io
import os
import random
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from _browser import ARTIFACTS, launched_browser, open_page
from _web_helpers import MSK, SUMMARY_ROWS, agenda_ready, regrouped
from test_postgres_runner import with_schema
from test_web_summary import _awkward

from edo_rules.calendar import ProductionCalendar
from edo_rules.cli import main
from edo_rules.config import load_config
from edo_rules.demo._playbooks import bundled_playbooks
from edo_rules.demo._run import DemoOptions, run_demo
from edo_rules.errors import EdoRulesError, StoreError
from edo_rules.model import Status
from edo_rules.store._pg_dashboard import fill_kinds, fill_scoped, fill_totals, rebuild
from edo_rules.store._pg_schema import MIGRATIONS, migrate
from edo_rules.store._sqlite_rows import DOCUMENT_COLUMNS, UPSERT_DOCUMENT
from edo_rules.store.copy import copy_store
from edo_rules.store.postgres import PostgresStore
from edo_rules.store.sqlite import SQLiteStore
from edo_rules.web import Endpoint, WebServer, _pages, build_app
from edo_rules.web import _queries as q
from edo_rules.web._dashboard import context
from edo_rules.web._filters import Filters
from edo_rules.web._pg_sql import PostgresReader
from edo_rules.web._sql import SQLiteReader, dialect_for
from edo_rules.web._wiring import dashboard_for

pytestmark = pytest.mark.postgres

CALENDAR = ProductionCalendar.russia()
#: During the demo's month, and two years before it (the odd documents' time).
CLOCKS = (datetime(2026, 4, 24, 15, 0, tzinfo=MSK), datetime(2024, 5, 20, 12, 0, tzinfo=MSK))
PAGES = (
    "/",
    "/companies",
    "/managers",
    "/kinds",
    "/bottlenecks",
    "/search?q=Ромашка",
    "/search?q=ООО",
    "/deal/1",
)
FILTERS = (
    "",
    "status=sent",
    "status=signed",
    "kind=act",
    "period_from=2026-04-01",
    "organization=ООО «Наша фирма»",
)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "store.sqlite3"
    run_demo(DemoOptions(days=5, seed=5, store=path), io.StringIO())
    return path


@pytest.fixture(scope="module")
def sqlite_store(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("odd") / "store.sqlite3"
    shutil.copy(demo_store, path)
    rng = random.Random(3)
    with SQLiteStore(path) as opened:
        opened.upsert_documents([_awkward(rng, i) for i in range(120)])
    return path


def _copied(source: Path, pg_database: str) -> str:
    """The DSN of a PostgreSQL store holding a copy of the SQLite one."""
    dsn = with_schema(pg_database, f"t_{secrets.token_hex(6)}")
    assert all(check.same for check in copy_store(source, dsn))
    return dsn


@pytest.fixture(scope="module")
def pg_store(sqlite_store: Path, pg_database: str) -> str:
    return _copied(sqlite_store, pg_database)


def _config(folder: Path, store: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "edo-rules.yaml"
    path.write_text(
        f"version: 1\nstore: {store}\nplaybooks: {bundled_playbooks()}\ndashboard: {{}}\n",
        encoding="utf-8",
    )
    return path


@contextmanager
def _served(config: Path, now: datetime, env: dict[str, str]) -> Iterator[httpx.Client]:
    dashboard = dashboard_for(load_config(config, env=env), lambda: now)
    server = WebServer(build_app(None, dashboard), Endpoint("127.0.0.1", 0))
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            yield client
    finally:
        server.stop()
        assert dashboard is not None
        dashboard.reader.close()  # type: ignore[attr-defined]


def _pages_of(client: httpx.Client) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for page in PAGES:
        for query in FILTERS:
            url = page + ("&" if "?" in page else "?") + query + "&format=json"
            response = client.get(url)
            assert response.status_code == 200, (url, response.text[:300])
            found[url] = response.json()
    return found


@pytest.mark.parametrize("now", CLOCKS, ids=["demo", "earlier"])
def test_every_page_shows_the_same_numbers_over_both_stores(
    tmp_path: Path, sqlite_store: Path, pg_store: str, now: datetime
) -> None:
    env = {"EDO_TEST_DSN": pg_store}
    with _served(_config(tmp_path / "sqlite", f"{{path: {sqlite_store}}}"), now, {}) as client:
        expected = _pages_of(client)
        card = client.get("/document/odd-001")
    with _served(_config(tmp_path / "pg", '{dsn: "${EDO_TEST_DSN}"}'), now, env) as client:
        found = _pages_of(client)
        pg_card = client.get("/document/odd-001")
    assert found.keys() == expected.keys()
    for url, page in expected.items():
        assert found[url] == page, url
    # Not vacuous: the numbers are there, and the filters change them.
    overview = expected["/?&format=json"]
    assert sum(row["count"] for row in overview["tables"][0]["rows"]) == 152 + 120
    assert expected["/?status=sent&format=json"] != overview
    assert expected["/bottlenecks?&format=json"]["tables"][3]["rows"]  # the noisy rules
    assert card.status_code == pg_card.status_code == 200
    assert ("501" in pg_card.text and "Ромашка" in pg_card.text) or "Вектор" in pg_card.text


def test_the_agenda_is_the_same_simulated_on_a_postgresql_scratch_copy(
    tmp_path: Path, demo_store: Path, pg_database: str
) -> None:
    # The demo's documents only: the engine cannot evaluate the odd pre-2013 ones.
    env = {"EDO_TEST_DSN": _copied(demo_store, pg_database)}
    pages = [f"/agenda?days=5&{query}&format=json" for query in FILTERS]
    with _served(_config(tmp_path / "sqlite", f"{{path: {demo_store}}}"), CLOCKS[0], {}) as client:
        expected = [agenda_ready(client.get, page.removesuffix("&format=json")) for page in pages]
    with _served(_config(tmp_path / "pg", '{dsn: "${EDO_TEST_DSN}"}'), CLOCKS[0], env) as client:
        found = [agenda_ready(client.get, page.removesuffix("&format=json")) for page in pages]
    # PostgreSQL's version changes with any commit on the server: stale is possible there.
    assert {page["agenda"]["state"] for page in expected} == {"fresh"}
    assert all(page["agenda"]["as_of"] and page["agenda"]["error"] is None for page in found)
    assert [page["tables"] for page in found] == [page["tables"] for page in expected]
    planned = [page["tables"][3]["rows"] for page in expected]
    assert planned[0] and any(rows != planned[0] for rows in planned)  # the filters count
    with psycopg.connect(env["EDO_TEST_DSN"]) as conn:  # the scratch copies are gone
        schemas = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'edo_scratch%'")
        assert schemas.fetchall() == []
        assert conn.execute("SELECT COUNT(*) FROM firings").fetchone() == (843,)


@contextmanager
def _contexts(
    sqlite_store: Path, pg_store: str, now: datetime, zone: ZoneInfo = MSK
) -> Iterator[tuple[q.Context, q.Context]]:
    """(over SQLite, over PostgreSQL) with the same calendar, zone and today."""
    lite, pg = SQLiteReader(sqlite_store, CALENDAR), PostgresReader(pg_store, CALENDAR)
    try:
        yield (
            context(lite, dialect_for(zone, now), CALENDAR, now, zone, 3),
            context(pg, dialect_for(zone, now, postgres=True), CALENDAR, now, zone, 3),
        )
    finally:
        lite.close()
        pg.close()


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(status="sent"),
        Filters(manager="Петров П. П."),
        Filters(kind="upd"),
        Filters(organization="ООО «Наша фирма»"),
        Filters(organization="ООО «Наша фирма»", status="sent"),
        Filters(kind="act", organization="ООО «Наша фирма»", status="sent"),
    ],
)
def test_the_derivations_and_the_summary_agree_on_both_stores(
    sqlite_store: Path, pg_store: str, filters: Filters
) -> None:
    with _contexts(sqlite_store, pg_store, CLOCKS[0]) as (lite, pg):
        _assert_the_same(lite, pg, filters)


def _assert_the_same(lite: q.Context, pg: q.Context, filters: Filters) -> None:
    assert pg.summary and pg.spans and lite.summary and lite.spans
    for by in sorted(q.GROUPS):
        derived = sorted(q.breakdown(lite, filters, by), key=lambda r: r["name"])
        assert sorted(q.breakdown(pg, filters, by), key=lambda r: r["name"]) == derived
        page = _pages.breakdown_rows(pg, filters, by)
        assert sorted(page, key=lambda r: r["name"]) == derived
    assert q.waiting_ages(pg, filters) and sorted(q.waiting_ages(pg, filters)) == sorted(
        q.waiting_ages(lite, filters)
    )
    assert q.choices(pg, "responsible") == q.choices(lite, "responsible")
    # LIKE's wildcards in a search are plain characters, as in SQLite's GLOB.
    for text in ("ООО", "ООО%", "ООО_«", "рома", "7701234567"):
        assert q.documents(pg, filters, search=text) == q.documents(lite, filters, search=text)
    assert q.documents(pg, Filters(), search="ООО") and not q.documents(pg, Filters(), search="О%")
    assert q.stuck_longest(pg, filters) == q.stuck_longest(lite, filters)


def _summary(dsn: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(SUMMARY_ROWS).fetchall()
    return sorted(tuple(row) for row in rows)


def _rebuilt(dsn: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        rebuild(conn)
        rows = conn.execute(SUMMARY_ROWS).fetchall()
        conn.rollback()
    return sorted(tuple(row) for row in rows)


@pytest.fixture
def own_store(sqlite_store: Path, pg_database: str, pg_schema: str) -> str:
    """A copy this test may change."""
    dsn = with_schema(pg_database, pg_schema)
    copy_store(sqlite_store, dsn)
    return dsn


def test_writes_updates_and_deletes_keep_the_summary_equal_to_a_rebuild(
    sqlite_store: Path, own_store: str
) -> None:
    with sqlite3.connect(sqlite_store) as conn:
        kept = conn.execute(SUMMARY_ROWS).fetchall()
    # The copy's triggers counted every row as SQLite's did.
    assert _summary(own_store) == sorted(kept) == _rebuilt(own_store)
    with PostgresStore(own_store) as store:
        docs = list(store.iter_documents())[:60]
        changed = regrouped(docs, CLOCKS[0])
        store.upsert_documents(changed)
        store.upsert_documents(changed)  # unchanged: the update trigger does nothing
    with psycopg.connect(own_store) as conn:
        conn.execute("DELETE FROM documents WHERE id LIKE 'odd-0%'")
    assert _summary(own_store) == _rebuilt(own_store)
    summary = _summary(own_store)
    assert any(row[0] == "groups" and row[3] == "Новиков А. А." for row in summary)
    assert any(row[0] == "groups" and row[8] == "ООО «Другая»" for row in summary)
    assert any(
        row[0] == "kinds" and row[7] == "upd" and row[3] == "Новиков А. А." for row in summary
    )


def test_a_scratch_copy_counts_in_its_own_summary(own_store: str) -> None:
    before = _summary(own_store)
    with PostgresStore(own_store) as store, store.scratch_copy() as copy:
        with copy._reading("test") as conn:
            rows = conn.execute(SUMMARY_ROWS).fetchall()
            assert sorted(tuple(row) for row in rows) == before
        doc = next(iter(copy.iter_documents()))
        name = "Копия К. К."
        counterparty = replace(doc.counterparty, name=name)
        copy.upsert_documents([replace(doc, responsible=name, counterparty=counterparty)])
        with copy._reading("test") as conn:
            # In each summary as a manager and as a counterparty; in the scoped totals (the
            # counterparties') once per scope.
            for table, times in (
                ("dashboard_groups", 2),
                ("dashboard_kind_groups", 2),
                ("dashboard_totals", 2),
                ("dashboard_scoped_totals", 2),
            ):
                rows = conn.execute(f"SELECT SUM(n) FROM {table} WHERE key = 'Копия К. К.'")
                assert rows.fetchone()[0] == times, table
    assert _summary(own_store) == before


def test_the_dashboard_reads_what_was_written_after_it_started(own_store: str) -> None:
    reader = PostgresReader(own_store, CALENDAR)
    try:
        ctx = context(
            reader, dialect_for(MSK, CLOCKS[0], postgres=True), CALENDAR, CLOCKS[0], MSK, 3
        )
        closed = _pages.status_counts(ctx, Filters()).get("closed", 0)
        with PostgresStore(own_store) as store:
            doc = store.get_document("odd-002")
            assert doc is not None and doc.status is not Status.CLOSED
            store.upsert_documents([replace(doc, status=Status.CLOSED)])
        assert _pages.status_counts(ctx, Filters())["closed"] == closed + 1
        assert q.status_counts(ctx, Filters())["closed"] == closed + 1
        with pytest.raises(StoreError, match="read-only"):
            reader.rows("DELETE FROM documents")
        # A page's statements are planned for their values on every run (a generic plan
        # once prepared measured 14 times slower for a date range).
        assert reader.rows("SHOW plan_cache_mode") == [("force_custom_plan",)]
    finally:
        reader.close()


def test_another_calendar_or_zone_derives_the_spans(sqlite_store: Path, own_store: str) -> None:
    # A store built by a release with other calendar data (and so other code or data).
    with psycopg.connect(own_store) as conn:
        conn.execute("UPDATE counters SET value = value + 1 WHERE name LIKE 'workday_ranks%'")
        conn.execute("UPDATE workday_ranks SET rank = rank + 1 WHERE day >= '2026-04-01'")
    for zone in (MSK, ZoneInfo("Asia/Yekaterinburg")):
        with _contexts(sqlite_store, own_store, CLOCKS[0], zone) as (lite, pg):
            _assert_derived(lite, pg)
    # Opening the store (a runner, a command) rebuilds the summary with the bundled calendar.
    PostgresStore(own_store).close()
    with _contexts(sqlite_store, own_store, CLOCKS[0]) as (lite, pg):
        assert pg.spans
    assert _summary(own_store) == _rebuilt(own_store)


def _assert_derived(lite: q.Context, pg: q.Context) -> None:
    assert pg.summary and not pg.spans
    table = _pages.breakdown_table(pg, Filters(), "manager").complete()
    assert table.rows == _pages.breakdown_table(lite, Filters(), "manager").complete().rows
    assert table.rows == sorted(
        q.breakdown(pg, Filters(), "manager"), key=lambda r: (-r["unsigned"], r["name"])
    )
    assert (
        _pages.overview(pg, Filters()).tables[1].rows
        == _pages.overview(lite, Filters()).tables[1].rows
    )


@pytest.mark.parametrize(
    "fill", [fill_kinds, fill_totals, fill_scoped], ids=["kinds", "totals", "scoped"]
)
def test_migrating_from_the_previous_version_builds_the_summary(
    sqlite_store: Path, pg_store: str, pg_database: str, pg_schema: str, fill: object
) -> None:
    dsn = with_schema(pg_database, pg_schema)
    before = next(m.version for m in MIGRATIONS if m.fill is fill) - 1
    with psycopg.connect(dsn, autocommit=True) as conn:
        migrate(conn, target=before)
        with sqlite3.connect(sqlite_store) as source:
            rows = source.execute(
                f"SELECT {', '.join(DOCUMENT_COLUMNS)}, seq FROM documents"
            ).fetchall()
        with conn.cursor() as cursor:
            cursor.executemany(UPSERT_DOCUMENT.replace("?", "%s"), rows)
    reader = PostgresReader(dsn, CALENDAR)
    try:
        assert reader.summary() == (False, False)  # served before the migration: derived
    finally:
        reader.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert migrate(conn) == before
    assert _summary(dsn) == _summary(pg_store)


def test_an_unreachable_server_is_named_with_what_to_do() -> None:
    with pytest.raises(StoreError) as caught:
        PostgresReader("postgresql://edo:s3cret@127.0.0.1:1/edo", CALENDAR, connect_timeout=2)
    text = str(caught.value)
    assert "postgresql://edo@127.0.0.1:1/edo" in text and "pg_isready" in text
    assert "s3cret" not in text


def test_an_in_memory_store_is_refused_with_what_to_do(tmp_path: Path) -> None:
    config = _config(tmp_path, '{path: ":memory:"}')
    loaded = load_config(config)
    bare = replace(loaded, store=replace(loaded.store, path=None))
    with pytest.raises(EdoRulesError) as caught:
        dashboard_for(bare, lambda: CLOCKS[0])
    assert caught.value.message_key == "dashboard_no_store"
    assert str(config) in str(caught.value)
    assert "store.path" in str(caught.value) and "store.dsn" in str(caught.value)


def test_the_report_prints_the_same_table_from_postgresql(
    tmp_path: Path,
    sqlite_store: Path,
    pg_store: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EDO_TEST_DSN", pg_store)
    lite = _config(tmp_path / "sqlite", f"{{path: {sqlite_store}}}")
    pg = _config(tmp_path / "pg", '{dsn: "${EDO_TEST_DSN}"}')
    printed = []
    for config in (lite, pg):
        assert main(["report", "--config", str(config), "--by", "company", "--format", "csv"]) == 0
        printed.append(capsys.readouterr().out)
    assert printed[0] == printed[1]
    assert "ООО «Ромашка»" in printed[1]


def test_the_pages_over_postgresql_in_a_browser(tmp_path: Path, pg_store: str) -> None:
    manager = "Петров П. П."
    env = {"EDO_TEST_DSN": pg_store}
    ARTIFACTS.mkdir(exist_ok=True)
    config = _config(tmp_path / "pg", '{dsn: "${EDO_TEST_DSN}"}')
    with launched_browser() as browser, _served(config, CLOCKS[0], env) as client:
        base = str(client.base_url).rstrip("/")
        errors: list[str] = []
        for path in (*PAGES, "/document/odd-001"):
            page = open_page(browser, base + path, errors)
            assert page.locator("h1").count() == 1, path
            name = re.sub(r"[^a-z0-9]+", "-", path).strip("-") or "overview"
            page.screenshot(path=str(ARTIFACTS / f"pg-{name}.png"), full_page=True)
            page.close()
        page = open_page(browser, base + "/", errors)
        page.select_option("select[name=manager]", manager)
        page.click("form.filters button[type=submit]")
        page.wait_for_url(re.compile("manager="))
        total = int(page.locator('[data-figure="0"]').inner_text())
        page.close()
    with psycopg.connect(pg_store) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM documents WHERE responsible = %s", (manager,))
        assert total == rows.fetchone()[0] > 0
    assert errors == []


def test_serve_over_postgresql_shows_the_pages_and_the_document(
    tmp_path: Path, sqlite_store: Path, pg_store: str
) -> None:
    config = _config(tmp_path / "pg", '{dsn: "${EDO_TEST_DSN}"}')
    command = "import sys; from edo_rules.cli import main; sys.exit(main())"
    serve = ["serve", "--config", str(config), "--listen", "127.0.0.1:0"]
    process = subprocess.Popen(
        [sys.executable, "-c", command, *serve],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "EDO_TEST_DSN": pg_store},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"панель: (http://\S+)/", line)
        assert match, line + (process.stderr.read() if process.poll() is not None else "")
        base = match.group(1)
        managers = httpx.get(f"{base}/managers?format=json", timeout=60).json()
        card = httpx.get(f"{base}/document/odd-001", timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    rows = {row["name"]: row["total"] for row in managers["tables"][0]["rows"]}
    with sqlite3.connect(sqlite_store) as conn:
        expected = dict(
            conn.execute(
                "SELECT IFNULL(responsible, '—'), COUNT(*) FROM documents GROUP BY 1"
            ).fetchall()
        )
    assert rows == expected
    assert card.status_code == 200 and "odd-001" in card.text
