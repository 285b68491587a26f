"""The agenda's simulation is kept until the store, the key or the day changes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from _web_helpers import fill_store
from store_contract import make_document

from edo_rules.calendar import ProductionCalendar
from edo_rules.store.sqlite import SQLiteStore
from edo_rules.web._agenda import PG_VERSION, AgendaCache, Planned, playbooks_key, sqlite_version
from edo_rules.web._pg_sql import PostgresReader


class Simulations:
    """A stand-in simulation that counts how often it ran (the cache's caller's callable)."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self) -> Planned:
        self.runs += 1
        return [(make_document(f"d{self.runs}"), {"run": self.runs})]


def test_the_plan_is_kept_until_another_connection_commits(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    fill_store(path, count=5)
    cache, simulate = AgendaCache(sqlite_version(path)), Simulations()
    first = cache.planned((5, "2026-11-20"), simulate)
    assert cache.planned((5, "2026-11-20"), simulate) is first and simulate.runs == 1
    assert cache.planned((3, "2026-11-20"), simulate) is not first  # another horizon
    assert simulate.runs == 2
    with SQLiteStore(path) as store:  # a sync writes a document
        store.upsert_documents([replace(make_document("new"), number="N-1")])
    again = cache.planned((3, "2026-11-20"), simulate)
    assert simulate.runs == 3 and again[0][1] == {"run": 3}
    assert cache.planned((3, "2026-11-20"), simulate) is again


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
