"""The benchmark scripts still run (tiny sizes; the figures themselves are not asserted)."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every benchmark script, each in a process of its own

ROOT = Path(__file__).resolve().parents[1]

CASES = {
    "calendar": (["benchmarks/calendar.py", "--dates", "50", "--rounds", "1"], "add_working_days"),
    "tick": (
        ["benchmarks/tick.py", "--docs", "3000", "--repeat", "2"],
        "due sets identical (engine, dry runs, go-live, competent loop, SQL",
    ),
    "sync": (["benchmarks/sync.py", "--documents", "300", "--changes", "5"], "ratio raw/sync"),
    "dashboard": (
        ["benchmarks/dashboard.py", "--documents", "2000", "--requests", "2"],
        "pages with different numbers: 0",
    ),
    "dispatch": (
        ["-m", "benchmarks.dispatch", "--seconds", "0.5", "--repeat", "1",
         "--latencies", "0.2", "--plans", "enterprise"],
        "enterprise",
    ),
    "soak": (
        ["benchmarks/soak.py", "--minutes", "0.3", "--documents", "60", "--rate", "30000",
         "--interval", "0.5"],
        "soak checks passed",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_benchmark_runs(name: str, tmp_path: Path) -> None:
    args, expected = CASES[name]
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert expected in done.stdout
    if name == "calendar":
        assert done.stdout.count("baseline: 0 differ") == 3
    if name == "tick":
        assert (
            "due sets identical (engine, dry runs, go-live, competent loop, SQL): True"
            in done.stdout
        )
        assert "DIFFERS" not in done.stdout
        assert "the second tick" not in done.stdout
        assert "recorded tick ÷ incremental SQL that also records" in done.stdout
        assert "answers identical with the budget on and off: True" in done.stdout
        assert "due sets identical with and without: True" in done.stdout
    if name == "dashboard":  # both goals counted over the 44 pages, the floor apart
        assert re.search(
            r"goals: <= 300 ms \d+/44; <= 1\.5x SQL \d+/44; floor \(a page with no SQL work\)"
            r" \d+\.\d ms, \d+\.\d beyond its SQL; SQL under twice that: .+; other misses: ",
            done.stdout,
        ), done.stdout
    if name == "soak":
        assert "done twice: task XML_ID 0, notification TAG 0, comment text 0" in done.stdout
        assert "not done 0" in done.stdout and "RSS MB" in done.stdout
    if name == "dispatch":
        row = next(line for line in done.stdout.splitlines() if line.startswith("enterprise"))
        assert row.split()[9:13] == ["0", "0", "0", "0"]  # lost, duplicated, out of order, 503s


def test_calendar_benchmark_fails_when_answers_differ(tmp_path: Path) -> None:
    """An override applied to edo-rules alone must make the benchmark exit non-zero."""
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text(
        "days_off:\n  - {date: 2024-05-06, comment: test}\n  - {date: 2020-03-03, comment: test}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "benchmarks/calendar.py", "--dates", "3000", "--rounds", "1",
         "--no-workalendar", "--overrides", str(overrides)],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert "disagree" in done.stderr


def test_tick_benchmark_fails_when_answers_differ(tmp_path: Path) -> None:
    """A working day made a day off for the engine alone must make the tick exit non-zero."""
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("days_off:\n  - {date: 2025-03-11, comment: test}\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "benchmarks/tick.py", "--docs", "3000", "--repeat", "1",
         "--no-budget", "--engine-overrides", str(overrides)],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert "DIFFERS: competent loop (SQLite)" in done.stdout
    assert "DIFFERS: SQL, incremental (SQLite)" in done.stdout
    assert "the answers differ" in done.stderr


KEY = "kind, dim, known, key, sign_days, status, rejected, organization"
SCOPED_KEY = "scope, value, dim, key, sign_days"
#: A row changed behind the triggers' back, and the pages that must then differ: the
#: count of sent acts in the summary by kind (read for the status counts and the kinds'
#: breakdown under the kind filter), one counterparty's unsigned acts in the scoped totals
#: (read by the counterparties' breakdown under the kind filter), one counterparty's
#: unsigned documents in the totals (read without a filter).
TAMPERED = {
    "kinds": (
        f"UPDATE dashboard_kind_groups SET n = n + 3 WHERE ({KEY}) = (SELECT {KEY}"
        " FROM dashboard_kind_groups WHERE kind = 'act' AND dim = 'kind'"
        " AND status = 'sent' LIMIT 1)",
        ["Обзор | вид", "По видам | вид", "Узкие места | вид"],
    ),
    "scoped": (
        f"UPDATE dashboard_scoped_totals SET n = n + 3 WHERE ({SCOPED_KEY}) = (SELECT"
        f" {SCOPED_KEY} FROM dashboard_scoped_totals WHERE scope = 'kind' AND value = 'act'"
        " AND dim = 'counterparty_name' AND sign_days = -1 LIMIT 1)",
        ["По компаниям | вид"],
    ),
    "totals": (
        "UPDATE dashboard_totals SET n = n + 3 WHERE (dim, key, sign_days) = (SELECT dim, key,"
        " sign_days FROM dashboard_totals WHERE dim = 'counterparty_name' AND sign_days = -1"
        " LIMIT 1)",
        ["По компаниям"],
    ),
}


@pytest.mark.parametrize("summary", sorted(TAMPERED))
def test_dashboard_benchmark_fails_when_a_page_differs(tmp_path: Path, summary: str) -> None:
    """A summary row changed behind the triggers' back must make the page that reads it
    differ from the derivation, and the benchmark exit 1."""
    store = tmp_path / "store.sqlite3"
    args = ["benchmarks/dashboard.py", "--documents", "1500", "--requests", "1"]
    run = partial(
        subprocess.run, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    assert run([sys.executable, *args, "--store", str(store)]).returncode == 0
    statement, pages = TAMPERED[summary]
    with sqlite3.connect(store) as conn:
        assert conn.execute(statement).rowcount == 1
    done = run([sys.executable, *args, "--store", str(store)])
    assert done.returncode == 1, done.stdout
    differ = [line.split("  ")[0] for line in done.stdout.splitlines() if line.endswith("False")]
    assert differ == pages, done.stdout
    assert f"pages with different numbers: {len(pages)}" in done.stdout


@pytest.mark.postgres
def test_tick_benchmark_runs_on_postgres(pg_database: str) -> None:
    done = subprocess.run(
        [sys.executable, "benchmarks/tick.py", "--docs", "2000", "--repeat", "1",
         "--no-budget", "--store", pg_database],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "SQL, both stores): True" in done.stdout
    assert "DIFFERS" not in done.stdout


@pytest.mark.postgres
def test_dashboard_benchmark_runs_on_postgres_and_times_the_agenda(pg_database: str) -> None:
    done = subprocess.run(
        [sys.executable, "benchmarks/dashboard.py", "--documents", "1500", "--requests", "2",
         "--unfiltered", "--agenda", "--store", pg_database],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "PostgreSQL: copied into schema" in done.stdout
    rows = [line for line in done.stdout.splitlines() if line.startswith("Поиск по ИНН ")]
    assert len(rows) == 2  # measured on both stores
    assert "Повестка (5 раб. дн.," in done.stdout
    assert "the same numbers as plan_agenda(): True" in done.stdout
    assert "pages with different numbers: 0" in done.stdout


@pytest.mark.postgres
def test_dispatch_by_several_runners_runs(pg_database: str) -> None:
    args = ["-m", "benchmarks.dispatch_runners", "--store", pg_database]
    done = subprocess.run(
        [sys.executable, *args, "--notifications", "60", "--runners", "1,2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    rows = [line.split() for line in done.stdout.splitlines()[1:]]
    assert [(row[0], *row[6:10]) for row in rows] == [  # lost, dups, out of order, 503s
        ("1", "0", "0", "0", "0"),
        ("2", "0", "0", "0", "0"),
    ]


def test_soak_fails_on_growth_beyond_its_bounds() -> None:
    """A WAL bound of 0 MB cannot hold: the soak must say so and exit non-zero."""
    done = subprocess.run(
        [sys.executable, "benchmarks/soak.py", "--minutes", "0.2", "--documents", "30",
         "--rate", "20000", "--interval", "0.5", "--wal-limit-mb", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr[-2000:]
    assert "WAL peaked at" in done.stderr
