"""The ledger's counts (SQLite schema v19: by month, and by day) always equal the join of
the ledger to its documents.

A randomized run applies the writes the runner and the admins make — firings recorded
(some skipped), requests queued and moved through their states (into and out of
failed / in doubt), documents changing organisation, manager, kind, status and date, a
refresh that deletes and re-inserts a document, a prune — on a real store file,
and after each step compares, for every filter combination the page offers (periods of
whole and partial months among them), the «Узкие места» tables read from the counts
with the ones read through the join.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import sqlite3
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import Any

import pytest
from _web_helpers import DATES, MANAGERS, MSK, NOW, PERIODS, fill_store

from edo_rules.calendar import ProductionCalendar
from edo_rules.store import _pg_ledger, _sqlite_ledger
from edo_rules.store._sqlite_schema import MIGRATIONS, migrate
from edo_rules.store.sqlite import SQLiteStore
from edo_rules.web import _queries as q
from edo_rules.web._dashboard import context
from edo_rules.web._filters import Filters
from edo_rules.web._sql import SQLiteReader, dialect_for

RULES = ("pb/remind", "pb/escalate", "pb/close", "другой/правило")
ACTIONS = ("bitrix24.task", "bitrix24.comment", "log")
STATES = ("pending", "in_flight", "done", "failed", "in_doubt", "cancelled")
ORGANIZATIONS = (None, "ООО «Север»", "ООО «Юг»")
STATUSES = ("sent", "signed", "rejected", "closed")
KINDS = ("contract", "act", "upd")
_MONTH = "IFNULL(substr(d.doc_date, 1, 7), '')"
_DAY = "IFNULL(d.doc_date, '')"


def _join(date: str) -> str:
    return (
        "SELECT 'rule', f.rule_key, IFNULL(d.organization, ''), IFNULL(d.responsible, ''),"
        f" d.kind, d.status, {date}, COUNT(*), SUM(f.skipped), 0, 0 FROM firings f"
        " JOIN documents d ON d.id = f.document_id GROUP BY 2, 3, 4, 5, 6, 7"
        " UNION ALL SELECT 'action', a.action, IFNULL(d.organization, ''),"
        f" IFNULL(d.responsible, ''), d.kind, d.status, {date}, COUNT(*),"
        " SUM(a.state = 'failed'), SUM(a.state = 'in_doubt'), 0 FROM action_requests a"
        " JOIN documents d ON d.id = a.document_id GROUP BY 2, 3, 4, 5, 6, 7"
    )


def _counts(table: str, date: str) -> str:
    return (
        f"SELECT what, name, organization, responsible, kind, status, {date}, SUM(n),"
        " SUM(CASE WHEN what = 'rule' THEN skipped ELSE failed END), SUM(in_doubt), 0"
        f" FROM {table} GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING SUM(n) != 0 OR SUM(skipped) != 0"
        " OR SUM(failed) != 0 OR SUM(in_doubt) != 0"
    )


def _joined(conn: sqlite3.Connection, date: str = _MONTH) -> list[tuple[Any, ...]]:
    return sorted(conn.execute(_join(date)).fetchall())


def _counted(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return sorted(conn.execute(_counts("ledger_counts", "month")).fetchall())


def _counted_by_day(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return sorted(conn.execute(_counts("ledger_days", "day")).fetchall())


def _assert_counts(conn: sqlite3.Connection, step: object = None) -> None:
    """Both tables of counts equal the join, by month and by day."""
    assert _counted(conn) == _joined(conn), step
    assert _counted_by_day(conn) == _joined(conn, _DAY), step


class Ledger:
    """Random writes to a store file through a plain connection (the triggers see any writer)."""

    def __init__(self, conn: sqlite3.Connection, rng: random.Random) -> None:
        self.conn, self.rng = conn, rng
        self.serial = 0

    def _documents(self) -> list[str]:
        return [str(r[0]) for r in self.conn.execute("SELECT id FROM documents ORDER BY id")]

    def _requests(self) -> list[int]:
        return [int(r[0]) for r in self.conn.execute("SELECT id FROM action_requests ORDER BY id")]

    def tick(self) -> None:
        """A tick: firings of a few documents, each with a request or two."""
        for doc in self.rng.choices(self._documents(), k=5):
            self.fire(doc)

    def fire(self, doc: str) -> None:
        """One firing of ``doc``, with a request or two or none."""
        self.serial += 1
        cursor = self.conn.execute(
            "INSERT INTO firings (rule_key, document_id, step, episode, due_at,"
            " fired_at, playbook_hash, skipped) VALUES (?, ?, 'do', ?, 'x', ?, 'h', ?)",
            (
                self.rng.choice(RULES),
                doc,
                f"e{self.serial}",
                NOW.astimezone(UTC).isoformat(),
                int(self.rng.random() < 0.3),
            ),
        )
        for _ in range(self.rng.randint(0, 2)):
            self.request(cursor.lastrowid, doc)

    def request(self, firing: int | None, doc: str) -> None:
        self.serial += 1
        self.conn.execute(
            "INSERT INTO action_requests (firing_id, action, params, idempotency_key,"
            " document_id, rule_key, created_at, state) VALUES (?, ?, '{}', ?, ?, 'r', 't', ?)",
            (firing, self.rng.choice(ACTIONS), f"k{self.serial}", doc, self.rng.choice(STATES)),
        )

    def loose_request(self) -> None:
        """A request without a firing: it outlives its document (no cascade reaches it)."""
        self.request(None, self.rng.choice(self._documents()))

    def dispatch(self) -> None:
        for request in self.rng.sample(self._requests(), min(8, len(self._requests()))):
            self.conn.execute(
                "UPDATE action_requests SET state = ?, attempts = attempts + 1 WHERE id = ?",
                (self.rng.choice(STATES), request),
            )

    def change_documents(self) -> None:
        for doc in self.rng.choices(self._documents(), k=4):
            column, values = self.rng.choice(
                [
                    ("status", STATUSES),
                    ("responsible", (*MANAGERS, None)),
                    ("organization", ORGANIZATIONS),
                    ("kind", KINDS),
                    ("doc_date", DATES),
                ]
            )
            self.conn.execute(
                f"UPDATE documents SET {column} = ? WHERE id = ?", (self.rng.choice(values), doc)
            )

    def refresh(self) -> None:
        """A document deleted and written again (its firings go with it by the cascade)."""
        doc = self.rng.choice(self._documents())
        row = self.conn.execute("SELECT * FROM documents WHERE id = ?", (doc,)).fetchone()
        marks = ", ".join("?" * len(row))
        self.conn.execute("DELETE FROM documents WHERE id = ?", (doc,))
        self.conn.execute(f"INSERT INTO documents VALUES ({marks})", row)

    def forget_requests(self) -> None:
        self.conn.execute(
            "DELETE FROM action_requests WHERE id IN (SELECT id FROM action_requests"
            " ORDER BY random() LIMIT 3)"
        )


def _prune(path: Path) -> int:
    """The store's own retention, every final document (the order it deletes in)."""
    later = NOW + timedelta(days=400)
    with SQLiteStore(path) as store:
        return store.prune(later, later).documents


def _filters() -> list[Filters]:
    organizations = ORGANIZATIONS[1:]
    combos = itertools.product(
        (None, *organizations), (None, *MANAGERS), (None, *KINDS), (None, *STATUSES)
    )
    every = [Filters(organization=o, manager=m, kind=k, status=s) for o, m, k, s in combos]
    periods = itertools.product(PERIODS, (None, organizations[0]), (None, "sent"))
    every += [Filters(start, end, organization=o, status=s) for (start, end), o, s in periods]
    return every


def _pages(ctx: q.Context, filters: Filters) -> tuple[Any, Any]:
    return q.noisy_rules(ctx, filters, limit=50), q.failing_actions(ctx, filters, limit=50)


def _assert_same_pages(reader: SQLiteReader, every: list[Filters]) -> None:
    dialect = dialect_for(MSK, NOW)
    counted = context(reader, dialect, ProductionCalendar.russia(), NOW, MSK, 3)
    assert counted.ledger
    joined = q.Context(reader, dialect, counted.calendar, counted.today, summary=True)
    for filters in every:
        assert q.counted(counted, filters)
        assert _pages(counted, filters) == _pages(joined, filters), filters


def _organize(conn: sqlite3.Connection, rng: random.Random) -> None:
    for (doc,) in conn.execute("SELECT id FROM documents").fetchall():
        conn.execute(
            "UPDATE documents SET organization = ?, doc_date = ? WHERE id = ?",
            (rng.choice(ORGANIZATIONS), rng.choice(DATES), doc),
        )


@pytest.mark.parametrize("seed", [1, 2])
def test_the_counts_equal_the_join_after_every_write(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "ledger.sqlite3"
    fill_store(path, count=40, seed=seed)
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    _organize(conn, rng)
    ledger = Ledger(conn, rng)
    steps = [ledger.tick] * 4 + [
        ledger.loose_request,
        ledger.dispatch,
        ledger.dispatch,
        ledger.change_documents,
        ledger.refresh,
        ledger.forget_requests,
    ]
    reader = SQLiteReader(path, ProductionCalendar.russia())
    every = _filters()
    try:
        for step in range(36):
            rng.choice(steps)()
            if step == 30:
                assert _prune(path) > 0
            _assert_counts(conn, step)
            if step % 6 == 5:
                _assert_same_pages(reader, every)
        assert conn.execute("SELECT COUNT(*) FROM firings").fetchone()[0] > 0
        _assert_same_pages(reader, every)
    finally:
        reader.close()
        conn.close()


def test_a_counterparty_keeps_the_join_a_period_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    fill_store(path, count=10)
    reader = SQLiteReader(path, ProductionCalendar.russia())
    try:
        ctx = context(reader, dialect_for(MSK, NOW), ProductionCalendar.russia(), NOW, MSK, 3)
        assert q.counted(ctx, Filters(manager=MANAGERS[0], status="sent"))
        assert q.counted(ctx, Filters(period_from=NOW.date()))
        assert q.counted(ctx, Filters(period_to=NOW.date()))
        assert not q.counted(ctx, Filters(counterparty="7701234567"))
    finally:
        reader.close()


D = date


@pytest.mark.parametrize(
    ("start", "end", "split"),
    [
        (D(2024, 4, 1), D(2024, 4, 30), q.PeriodSplit(("2024-04", "2024-04"))),
        (D(2024, 2, 1), D(2024, 4, 30), q.PeriodSplit(("2024-02", "2024-04"))),
        (D(2024, 2, 1), D(2024, 2, 29), q.PeriodSplit(("2024-02", "2024-02"))),  # a leap year
        (
            D(2024, 3, 20),  # 12 days of March in, 19 out: the 12 are read
            D(2024, 5, 1),
            q.PeriodSplit(
                ("2024-04", "2024-04"), ((D(2024, 3, 20), D(2024, 3, 31)), (D(2024, 5, 1),) * 2)
            ),
        ),
        (
            D(2024, 4, 2),  # 28 days in, 2 out: April's counts minus its 1st and 30th
            D(2024, 4, 29),
            q.PeriodSplit(
                ("2024-04", "2024-04"), (), ((D(2024, 4, 1),) * 2, (D(2024, 4, 30),) * 2)
            ),
        ),
        (
            D(2024, 4, 1),
            D(2024, 4, 17),
            q.PeriodSplit(("2024-04", "2024-04"), (), ((D(2024, 4, 18), D(2024, 4, 30)),)),
        ),
        (D(2024, 4, 17), D(2024, 4, 30), q.PeriodSplit(None, ((D(2024, 4, 17), D(2024, 4, 30)),))),
        (
            D(2024, 3, 31),
            D(2024, 4, 1),
            q.PeriodSplit(None, ((D(2024, 3, 31),) * 2, (D(2024, 4, 1),) * 2)),
        ),
        (None, D(2024, 4, 30), q.PeriodSplit((None, "2024-04"))),
        (
            None,
            D(2024, 4, 10),
            q.PeriodSplit((None, "2024-03"), ((D(2024, 4, 1), D(2024, 4, 10)),)),
        ),
        (
            None,
            D(2024, 4, 28),
            q.PeriodSplit((None, "2024-04"), (), ((D(2024, 4, 29), D(2024, 4, 30)),)),
        ),
        (D(2024, 4, 1), None, q.PeriodSplit(("2024-04", None))),
        (D(2024, 12, 31), None, q.PeriodSplit(("2025-01", None), ((D(2024, 12, 31),) * 2,))),
        (D(2024, 3, 2), None, q.PeriodSplit(("2024-03", None), (), ((D(2024, 3, 1),) * 2,))),
        (D(2024, 5, 1), D(2024, 4, 1), q.PeriodSplit(None, ((D(2024, 5, 1), D(2024, 4, 1)),))),
    ],
)
def test_a_period_splits_into_months_and_the_days_read_at_its_ends(
    start: date | None, end: date | None, split: q.PeriodSplit
) -> None:
    assert q.split_period(start, end) == split


def _counts_version() -> int:
    """The first schema with the ledger's counts (v17, without the month)."""
    return min(m.version for m in MIGRATIONS if m.description.startswith("ledger counts"))


def test_migrating_fills_the_counts_from_the_ledger_already_there(tmp_path: Path) -> None:
    """From before the counts (v16), through v17's counts without the month and v18's
    with it, to v19's by month and by day."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    migrate(conn, target=_counts_version() - 1)
    for doc, org, manager, day in (
        ("a", "ООО «Север»", "Петров", "2024-04-03"),
        ("b", None, None, None),
        ("c", None, "Петров", "2024-05-31"),
    ):
        conn.execute(
            "INSERT INTO documents (id, kind, status, direction, json, organization, responsible,"
            " doc_date) VALUES (?, 'act', 'sent', 'outgoing', '{}', ?, ?, ?)",
            (doc, org, manager, day),
        )
    rng = random.Random(3)
    ledger = Ledger(conn, rng)
    for _ in range(6):
        ledger.tick()
    conn.execute(  # a request whose document is gone: the join does not count it
        "INSERT INTO action_requests (action, params, idempotency_key, document_id, rule_key,"
        " created_at, state) VALUES ('log', '{}', 'orphan', 'gone', 'r', 't', 'failed')"
    )
    assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'ledger_counts'").fetchall()
    migrate(conn, target=_counts_version())
    ledger.tick()
    reader = SQLiteReader(path, ProductionCalendar.russia())
    try:
        assert not reader.ledger()  # v17's counts have no month: the page joins
        before = _joined(conn)
        migrate(conn, target=_counts_version() + 1)
        assert _counted(conn) == before
        assert len({row[6] for row in before}) == 3  # two months and none
        assert not reader.ledger()  # v18's have no days: the page still joins
        ledger.tick()  # written under v18's triggers, counted by day by v19's fill
        ledger.dispatch()
        by_month = _joined(conn)
        migrate(conn)
        assert _counted(conn) == by_month  # v18's counts kept as they were
        assert _counted_by_day(conn) == _joined(conn, _DAY)
        assert reader.ledger()
    finally:
        reader.close()
    conn.execute("UPDATE documents SET status = 'signed', responsible = 'Иванов' WHERE id = 'a'")
    conn.execute("UPDATE documents SET doc_date = '2024-06-01' WHERE id = 'c'")
    ledger.fire("a")
    conn.execute("UPDATE documents SET doc_date = '2024-04-04' WHERE id = 'a'")  # same month
    _assert_counts(conn)  # and the triggers keep both from there
    conn.close()


def test_a_dispatch_that_only_moves_requests_along_writes_no_count(tmp_path: Path) -> None:
    """pending → in flight → done changes no counter: the dispatcher's hot path writes nothing."""
    path = tmp_path / "quiet.sqlite3"
    fill_store(path, count=5)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    Ledger(conn, random.Random(5)).request(None, "doc-000")
    conn.execute("UPDATE action_requests SET state = 'pending'")
    before = conn.execute("SELECT total_changes()").fetchone()[0]
    for state in ("in_flight", "done"):
        conn.execute("UPDATE action_requests SET state = ?", (state,))
    # Two rows updated, nothing else written (a trigger's upsert would count too).
    assert conn.execute("SELECT total_changes()").fetchone()[0] - before == 2
    conn.execute("UPDATE action_requests SET state = 'failed'")
    assert conn.execute("SELECT SUM(failed) FROM ledger_counts").fetchone() == (1,)
    conn.close()


def test_the_bottlenecks_page_reads_the_counts_not_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "plan.sqlite3"
    fill_store(path, count=5)
    reader = SQLiteReader(path, ProductionCalendar.russia())
    seen: list[str] = []

    class Noting:
        def rows(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
            seen.append(sql)
            return reader.rows(sql, params)

        def summary(self) -> tuple[bool, bool]:
            return reader.summary()

        def ledger(self) -> bool:
            return reader.ledger()

    try:
        ctx = context(Noting(), dialect_for(MSK, NOW), ProductionCalendar.russia(), NOW, MSK, 3)
        _pages(ctx, Filters(organization="x", manager=MANAGERS[1], kind="act", status="sent"))
        assert len(seen) == 2 and all("FROM ledger_counts" in sql for sql in seen), seen
        assert not any("firings" in sql or "action_requests" in sql for sql in seen)
        seen.clear()
        _pages(ctx, Filters(date(2024, 4, 1), date(2024, 5, 31), organization="x"))
        # Whole months: the counts alone.
        assert len(seen) == 2 and all("FROM ledger_counts" in sql for sql in seen), seen
        assert not any("firings" in sql or "action_requests" in sql for sql in seen)
        seen.clear()
        _pages(ctx, Filters(period_from=date(2024, 4, 20), period_to=date(2024, 5, 31)))
        # A partial month: its days' counts, beside the whole month's.
        assert len(seen) == 2 and all("FROM ledger_days" in sql for sql in seen), seen
        assert all("FROM ledger_counts" in sql for sql in seen), seen
        assert not any("firings" in sql or "action_requests" in sql for sql in seen)
        seen.clear()
        _pages(ctx, Filters(period_from=date(2024, 4, 20), period_to=date(2024, 4, 22)))
        assert len(seen) == 2 and all("FROM ledger_days" in sql for sql in seen), seen
        assert not any("ledger_counts" in sql or "firings" in sql for sql in seen), seen
        seen.clear()
        _pages(ctx, Filters(counterparty="7701234567"))
        assert all("FROM documents d" in sql for sql in seen), seen
        assert not any("ledger_counts" in sql for sql in seen), seen
    finally:
        reader.close()


#: SHA-256 of the released statements, joined by newlines (as they landed).
RELEASED = {
    "sqlite v17": "1ef393564f62f59bfa43ba1c516ffd405036ce65dd5e0044581650a3f4d9c2ca",
    "sqlite v18": "13e6d50009198f34a45b4d2e7361ebe92ca0e24e592c763aa938eff6f1134194",
    "postgresql v12": "0d39a3b4816dc73a84b56e00e4c16bea82f6990c43989c2c988593c2c7396e92",
    "postgresql v13": "acc890d3a81db371d59fdcf09724fda7a27ce5627554f75a50c770250a2a2e45",
}


def test_the_released_migrations_statements_are_unchanged() -> None:
    """Each migration of the counts reuses the earlier ones' statement builders: a change
    to them must not change what a released migration runs."""
    released = {
        "sqlite v17": _sqlite_ledger.STATEMENTS_V17,
        "sqlite v18": _sqlite_ledger.STATEMENTS_V18,
        "postgresql v12": _pg_ledger.STATEMENTS_V12,
        "postgresql v13": _pg_ledger.STATEMENTS_V13,
    }
    digests = {
        name: hashlib.sha256("\n".join(statements).encode()).hexdigest()
        for name, statements in released.items()
    }
    assert digests == RELEASED
