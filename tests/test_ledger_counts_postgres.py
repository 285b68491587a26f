"""The ledger's counts on PostgreSQL (schema v14: by month, and by day) always equal the
join, also with
several runners ticking, dispatching and syncing at once.

The writes are plain SQL on real connections (the triggers see any writer), plus
the store's own tick (``record_firings``, which folds), prune and scratch copy.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from _pg_helpers import pg_database, pg_schema
from _web_helpers import DATES, PERIODS
from psycopg import sql
from store_contract import make_document, make_firing, make_request

from edo_rules.calendar import ProductionCalendar
from edo_rules.model import RequestState, Status
from edo_rules.store._pg_ledger import fold
from edo_rules.store._pg_schema import MIGRATIONS, migrate
from edo_rules.store.copy import copy_store
from edo_rules.store.postgres import PostgresStore
from edo_rules.store.sqlite import SQLiteStore
from edo_rules.web import _queries as q
from edo_rules.web._filters import Filters
from edo_rules.web._pg_sql import PostgresReader
from edo_rules.web._sql import PgDialect

__all__ = ["pg_database", "pg_schema"]

RULES = ("pb/remind", "pb/escalate", "другой/правило")
ACTIONS = ("bitrix24.task", "log")
STATES = ("pending", "in_flight", "done", "failed", "in_doubt")
ORGANIZATIONS = (None, "ООО «Север»", "ООО «Юг»")
MANAGERS = (None, "Петров", "Сидорова")
KINDS = ("contract", "act")
STATUSES = ("sent", "signed", "rejected")

_MONTH = "COALESCE(substr(d.doc_date, 1, 7), '')"
_DAY = "COALESCE(d.doc_date, '')"


def _join(date: str) -> str:
    return (
        "SELECT 'rule', f.rule_key, COALESCE(d.organization, ''), COALESCE(d.responsible, ''),"
        f" d.kind, d.status, {date}, COUNT(*), SUM(f.skipped), 0 FROM firings f"
        " JOIN documents d ON d.id = f.document_id GROUP BY 2, 3, 4, 5, 6, 7"
        " UNION ALL SELECT 'action', a.action, COALESCE(d.organization, ''),"
        f" COALESCE(d.responsible, ''), d.kind, d.status, {date}, COUNT(*),"
        " SUM(CASE WHEN a.state = 'failed' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN a.state = 'in_doubt' THEN 1 ELSE 0 END) FROM action_requests a"
        " JOIN documents d ON d.id = a.document_id GROUP BY 2, 3, 4, 5, 6, 7"
    )


def _counts(table: str, column: str, date: str) -> str:
    """The deltas plus the pending rows of existing documents, as the reader sums them."""
    return (
        "SELECT what, name, o, r, k, s, m, SUM(n), SUM(CASE WHEN what = 'rule' THEN skipped"
        " ELSE failed END), SUM(in_doubt) FROM (SELECT what, name, organization AS o,"
        f" responsible AS r, kind AS k, status AS s, {column} AS m, n, skipped, failed,"
        f" in_doubt FROM {table} UNION ALL SELECT p.what, p.name, COALESCE(d.organization, ''),"
        f" COALESCE(d.responsible, ''), d.kind, d.status, {date}, p.n, p.skipped, p.failed,"
        " p.in_doubt FROM ledger_pending p JOIN documents d ON d.id = p.document_id) AS c"
        " GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING SUM(n) <> 0 OR SUM(skipped) <> 0"
        " OR SUM(failed) <> 0 OR SUM(in_doubt) <> 0"
    )


_JOIN = _join(_MONTH)
_COUNTS = _counts("ledger_deltas", "month", _MONTH)
_JOIN_DAYS = _join(_DAY)
_COUNTS_DAYS = _counts("ledger_day_deltas", "day", _DAY)


def _assert_counts(conn: psycopg.Connection[Any], step: object = None) -> None:
    """Both tables of counts equal the join, by month and by day."""
    assert _rows(conn, _COUNTS) == _rows(conn, _JOIN), step
    assert _rows(conn, _COUNTS_DAYS) == _rows(conn, _JOIN_DAYS), step


def _rows(conn: psycopg.Connection[Any], query: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(int(v) if isinstance(v, int) else v for v in row)
                  for row in conn.execute(query).fetchall())  # fmt: skip


def _connect(dsn: str, schema: str) -> psycopg.Connection[Any]:
    return psycopg.connect(dsn, autocommit=True, options=f"-c search_path={schema}")


@pytest.fixture
def store_schema(pg_database: str, pg_schema: str) -> Iterator[str]:
    PostgresStore(pg_database, schema=pg_schema, pool_size=1).close()
    with _connect(pg_database, pg_schema) as conn:
        for i in range(30):
            _document(conn, f"d{i:02d}", random.Random(i))
    yield pg_schema


def _document(conn: psycopg.Connection[Any], doc: str, rng: random.Random) -> None:
    conn.execute(
        "INSERT INTO documents (id, kind, status, direction, json, organization, responsible,"
        " doc_date) VALUES (%s, %s, %s, 'outgoing', '{}', %s, %s, %s)",
        (doc, rng.choice(KINDS), rng.choice(STATUSES), rng.choice(ORGANIZATIONS),
         rng.choice(MANAGERS), rng.choice(DATES)),
    )  # fmt: skip


class Writer:
    """One runner's (or the sync holder's) random writes, on its own connection."""

    def __init__(self, conn: psycopg.Connection[Any], rng: random.Random, name: str) -> None:
        self.conn, self.rng, self.name = conn, rng, name
        self.serial = 0

    def _docs(self, k: int) -> list[str]:
        return [f"d{self.rng.randrange(30):02d}" for _ in range(k)]

    def tick(self) -> None:
        with self.conn.transaction():
            for doc in sorted(self._docs(4)):
                self.serial += 1
                found = self.conn.execute(
                    "INSERT INTO firings (rule_key, document_id, step, episode, due_at, fired_at,"
                    " playbook_hash, skipped) SELECT %s, %s, 'do', %s, 'x', 'y', 'h', %s"
                    " WHERE EXISTS (SELECT 1 FROM documents WHERE id = %s) RETURNING id",
                    (self.rng.choice(RULES), doc, f"{self.name}-{self.serial}",
                     int(self.rng.random() < 0.3), doc),
                ).fetchone()  # fmt: skip
                if found:
                    self.serial += 1
                    self.conn.execute(
                        "INSERT INTO action_requests (firing_id, action, params, idempotency_key,"
                        " document_id, rule_key, created_at, state)"
                        " VALUES (%s, %s, '{}', %s, %s, 'r', 't', %s)",
                        (found[0], self.rng.choice(ACTIONS), f"{self.name}-{self.serial}", doc,
                         self.rng.choice(STATES)),
                    )  # fmt: skip
        with self.conn.transaction():
            fold(self.conn)

    def dispatch(self) -> None:
        with self.conn.transaction():
            self.conn.execute(
                "UPDATE action_requests SET state = %s WHERE id IN (SELECT id FROM"
                " action_requests ORDER BY random() LIMIT 3 FOR UPDATE SKIP LOCKED)",
                (self.rng.choice(STATES),),
            )

    def sync(self) -> None:
        with self.conn.transaction():
            for doc in sorted(self._docs(3)):
                column, values = self.rng.choice(
                    [("status", STATUSES), ("responsible", MANAGERS),
                     ("organization", ORGANIZATIONS), ("kind", KINDS), ("doc_date", DATES)]
                )  # fmt: skip
                self.conn.execute(
                    sql.SQL("UPDATE documents SET {} = %s WHERE id = %s").format(
                        sql.Identifier(column)
                    ),
                    (self.rng.choice(values), doc),
                )

    def prune_one(self) -> None:
        """A document and its ledger deleted in a prune's order (requests, firings, document),
        then written again by a later sync."""
        (doc,) = self._docs(1)
        with self.conn.transaction():
            row = self.conn.execute(
                "SELECT kind, status, organization, responsible, doc_date FROM documents"
                " WHERE id = %s",
                (doc,),
            ).fetchone()
            if row is None:
                return
            self.conn.execute("DELETE FROM action_requests WHERE document_id = %s", (doc,))
            self.conn.execute("DELETE FROM firings WHERE document_id = %s", (doc,))
            self.conn.execute("DELETE FROM documents WHERE id = %s", (doc,))
        with self.conn.transaction():
            self.conn.execute(
                "INSERT INTO documents (id, kind, status, direction, json, organization,"
                " responsible, doc_date) VALUES (%s, %s, %s, 'outgoing', '{}', %s, %s, %s)",
                (doc, *row),
            )


def _filters() -> list[Filters]:
    combos = itertools.product(ORGANIZATIONS, MANAGERS, (None, *KINDS), (None, *STATUSES))
    every = [Filters(organization=o, manager=m, kind=k, status=s) for o, m, k, s in combos]
    periods = itertools.product(PERIODS, ORGANIZATIONS[:2], (None, "sent"))
    every += [Filters(start, end, organization=o, status=s) for (start, end), o, s in periods]
    return every


def _assert_pages(dsn: str, schema: str) -> None:
    reader = PostgresReader(dsn, ProductionCalendar.russia(), schema=schema, pool_size=1)
    try:
        assert reader.ledger()
        base = q.Context(reader, PgDialect(180), ProductionCalendar.russia(), q.date(2024, 5, 20))
        counted = q.Context(base.reader, base.dialect, base.calendar, base.today, ledger=True)
        for filters in _filters():
            assert q.counted(counted, filters)
            for page in (q.noisy_rules, q.failing_actions):
                assert page(counted, filters, 50) == page(base, filters, 50), filters
    finally:
        reader.close()


def test_the_counts_equal_the_join_after_every_write(pg_database: str, store_schema: str) -> None:
    rng = random.Random(11)
    with _connect(pg_database, store_schema) as conn:
        writer = Writer(conn, rng, "one")
        steps = [writer.tick, writer.tick, writer.dispatch, writer.sync, writer.prune_one]
        for step in range(40):
            rng.choice(steps)()
            _assert_counts(conn, step)
        with conn.transaction():
            assert fold(conn)
        _assert_counts(conn)
        assert conn.execute("SELECT COUNT(*) FROM ledger_pending").fetchone() == (0,)
        # Folded: one row per key, none of them zero or loose, in both tables.
        for table, date in (("ledger_deltas", "month"), ("ledger_day_deltas", "day")):
            assert conn.execute(
                "SELECT COUNT(*) = COUNT(DISTINCT (what, name, organization, responsible, kind,"
                f" status, {date})) AND COUNT(*) > 0 AND bool_and(n <> 0 OR skipped <> 0"
                f" OR failed <> 0 OR in_doubt <> 0) AND NOT bool_or(loose) FROM {table}"
            ).fetchone() == (True,), table
    _assert_pages(pg_database, store_schema)


def test_runners_ticking_dispatching_and_syncing_at_once(
    pg_database: str, store_schema: str
) -> None:
    """Three runners tick and dispatch while the sync holder changes documents and a prune
    deletes some: no deadlock, no error, and the counts equal the join at the end."""
    errors: list[BaseException] = []

    def run(name: str, seed: int, steps: list[str]) -> None:
        try:
            with _connect(pg_database, store_schema) as conn:
                writer = Writer(conn, random.Random(seed), name)
                for _ in range(60):
                    getattr(writer, random.Random(seed).choice(steps))()
                    seed += 1
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(f"r{k}", k, ["tick", "tick", "dispatch"]))
        for k in range(3)
    ]
    threads.append(threading.Thread(target=run, args=("sync", 99, ["sync", "sync", "prune_one"])))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with _connect(pg_database, store_schema) as conn:
        assert conn.execute("SELECT COUNT(*) FROM firings").fetchone()[0] > 50
        _assert_counts(conn)
        with conn.transaction():
            assert fold(conn)
        _assert_counts(conn)
    _assert_pages(pg_database, store_schema)


def test_a_scratch_copy_keeps_the_counts(pg_database: str, store_schema: str) -> None:
    with _connect(pg_database, store_schema) as conn:
        writer = Writer(conn, random.Random(5), "one")
        for _ in range(6):
            writer.tick()
        writer.dispatch()  # leaves pending rows: the copy takes them as they are
        expected = _rows(conn, _JOIN), _rows(conn, _JOIN_DAYS)
    with (
        PostgresStore(pg_database, schema=store_schema, pool_size=1) as store,
        store.scratch_copy() as copy,
        _connect(pg_database, copy.schema or "") as conn,
    ):
        assert (_rows(conn, _COUNTS), _rows(conn, _COUNTS_DAYS)) == expected
        Writer(conn, random.Random(6), "copy").sync()
        _assert_counts(conn)


def _counts_version() -> int:
    """The first schema with the ledger's counts (v12, without the month)."""
    return min(m.version for m in MIGRATIONS if m.description.startswith("ledger counts"))


def test_migrating_fills_the_counts_from_the_ledger_there(pg_database: str, pg_schema: str) -> None:
    """From before the counts (v11), through v12's counts without the month and v13's
    with it, to v14's by month and by day."""
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(pg_schema)))
        conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(pg_schema)))
        migrate(conn, target=_counts_version() - 1)
        for i in range(10):
            _document(conn, f"d{i:02d}", random.Random(i))
        for k, (rule, doc) in enumerate(itertools.product(RULES, ("d01", "d02", "d03", "d04"))):
            conn.execute(
                "INSERT INTO firings (rule_key, document_id, step, episode, due_at, fired_at,"
                " playbook_hash, skipped) VALUES (%s, %s, 'do', 'e', 'x', 'y', 'h', %s)",
                (rule, doc, k % 2),
            )
            conn.execute(
                "INSERT INTO action_requests (action, params, idempotency_key, document_id,"
                " rule_key, created_at, state) VALUES ('log', '{}', %s, %s, 'r', 't', %s)",
                (f"k{k}", doc, STATES[k % len(STATES)]),
            )
        assert conn.execute("SELECT to_regclass('ledger_deltas')").fetchone() == (None,)
        migrate(conn, target=_counts_version())
        # A firing under v12's triggers: a pending row, not folded (the fold is v13's now).
        conn.execute(
            "INSERT INTO firings (rule_key, document_id, step, episode, due_at, fired_at,"
            " playbook_hash) VALUES ('pb/late', 'd05', 'do', 'e', 'x', 'y', 'h')"
        )
        assert conn.execute("SELECT COUNT(*) FROM ledger_pending").fetchone() == (1,)
        reader = PostgresReader(pg_database, ProductionCalendar.russia(), schema=pg_schema)
        try:
            assert not reader.ledger()  # v12's counts have no month: the page joins
            expected = _rows(conn, _JOIN)
            migrate(conn, target=_counts_version() + 1)
            assert len({row[6] for row in expected}) > 2 and _rows(conn, _COUNTS) == expected
            assert not reader.ledger()  # v13's have no days: the page still joins
            conn.execute(  # a pending row under v13's function, counted by v14's fill
                "INSERT INTO firings (rule_key, document_id, step, episode, due_at, fired_at,"
                " playbook_hash) VALUES ('pb/later', 'd06', 'do', 'e', 'x', 'y', 'h')"
            )
            expected_days = _rows(conn, _JOIN_DAYS)
            migrate(conn)
            assert _rows(conn, _COUNTS_DAYS) == expected_days
            assert len({row[6] for row in expected_days}) > 3
            assert reader.ledger()
        finally:
            reader.close()
        conn.execute("UPDATE documents SET status = 'closed' WHERE id = 'd01'")
        conn.execute("UPDATE documents SET doc_date = '2024-07-01' WHERE id = 'd02'")
        conn.execute("UPDATE documents SET doc_date = '2024-07-02' WHERE id = 'd02'")
        _assert_counts(conn)


def _recorded(store: Any, docs: list[str], tag: str) -> None:
    """A tick through the store's own API (PostgreSQL's folds after it commits)."""
    pairs = [
        (
            make_firing(doc, rule_key=rule, episode=f"{tag}{k}", skipped=k % 3 == 0),
            [make_request(doc, f"{tag}{k}", action=ACTIONS[k % 2])],
        )
        for k, (doc, rule) in enumerate(itertools.product(docs, RULES))
    ]
    store.record_firings(pairs)


def test_the_store_api_tick_dispatch_and_copy_keep_the_counts(
    pg_database: str, pg_schema: str, tmp_path: Any
) -> None:
    """Through the stores' own methods: a tick (PostgreSQL folds after it), request states
    set by the dispatcher's calls, a SQLite store copied into PostgreSQL."""
    path = tmp_path / "source.sqlite3"
    docs = [
        make_document(f"s{i}", organization=ORGANIZATIONS[i % 3], responsible=MANAGERS[i % 3])
        for i in range(6)
    ]
    with SQLiteStore(path) as lite:
        lite.upsert_documents(docs)
        _recorded(lite, [d.id for d in docs], "a")
        lite.set_request_state(1, RequestState.FAILED)
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(pg_schema)))
    copy_store(path, f"{pg_database} options='-c search_path={pg_schema}'")
    with _connect(pg_database, pg_schema) as conn:
        _assert_counts(conn)
        assert conn.execute("SELECT COUNT(*) FROM ledger_pending").fetchone() == (0,)
    with PostgresStore(pg_database, schema=pg_schema, pool_size=1) as store:
        _recorded(store, [d.id for d in docs], "b")
        store.set_request_state(2, RequestState.IN_DOUBT)
        store.upsert_documents([replace(d, status=Status.REJECTED) for d in docs[:3]])
    with _connect(pg_database, pg_schema) as conn:
        # The tick's own rows were folded; the dispatcher's wait for the next fold.
        assert conn.execute("SELECT COUNT(*) FROM ledger_pending").fetchone() == (2,)
        _assert_counts(conn)
        # Three documents moved to rejected with both ticks' firings (three rules each).
        moved = [row for row in _rows(conn, _COUNTS) if row[0] == "rule" and row[5] == "rejected"]
        assert sum(row[7] for row in moved) == 3 * len(RULES) * 2
