"""Benchmark: the engine's tick at 1M documents and 20 rules, against competent baselines.

Builds a store of N documents (default 1,000,000; a realistic mix of kinds and
statuses) with a first sync's historical events, and 20 rules loaded from YAML by
the real loader (time ladders with 2–3 steps, repeats, event rules, a few
``where`` expressions). Then, each step in its own process (peak memory is the
step's own):

1. the **first-ever evaluation** at YESTERDAY: catching up a whole store
   (recorded), its time and peak memory;
2. **the day's sync**: 1,000 documents changed (new states, some back-dated, as a
   late 1C posting is) and 1,000 new status events (N/1000 of each below 1M);
3. the measured tick at NOW, where ~1 % of the documents are due, through the
   engine (recorded, then a second tick a minute later with nothing new; dry
   runs, incremental and a full re-scan) and through baselines written without
   the engine's helpers (``benchmarks/_tick_baselines.py``): the competent loop,
   and hand-written SQL, full and incremental. Each is repeated (the median is
   the figure); a recorded tick's writes are undone between repetitions.

Every due set must be identical, or the script exits 1. With ``--store
postgresql://…`` the day's store is copied into a new schema there and the engine
and the baselines run again on it, side by side with SQLite. Also measured: bulk
upsert, the go-live filter's cost, what the evaluation budget costs (the
bench and bundled playbooks' tick with the budget on and off, answers identical),
and what reading ``counterparty.stats`` in a rule's ``where`` costs: the same rule
with and without it, on a copy of the store whose statistics were built before the
day's sync and are brought up to date after it, as a recorded tick does (due sets
identical).

Run: .venv/bin/python benchmarks/tick.py [--docs N] [--repeat R] [--reuse FILE]
       [--store postgresql://…] [--no-budget | --budget-only | --stats-only] [--no-stats]
"""

# ruff: noqa: E402 -- the path fix below must run before any import.
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and its neighbour
# benchmarks/calendar.py would shadow the standard library's ``calendar``; the
# project root goes first instead (the baselines' module).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != _HERE)]

import argparse
import json
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks._tick_baselines import CompetentLoop, HandSql, Oracle, Previous, RecordingSql
from edo_rules.calendar import ProductionCalendar
from edo_rules.engine import Engine, EvaluationResult
from edo_rules.engine._due import ladder
from edo_rules.engine._stats import refresh as refresh_stats
from edo_rules.model import Counterparty, CrmBinding, Direction, Document, Kind, Status, StatusEvent
from edo_rules.playbook import Budget, use_budget
from edo_rules.playbook.context import make_names, render_params
from edo_rules.playbook.loader import load_playbook_text, load_playbooks
from edo_rules.playbook.rules import Playbook, Rule, StatusTrigger, TimeTrigger
from edo_rules.store.sqlite import SQLiteStore

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2025, 3, 12, 12, 0, tzinfo=MSK)  # a Wednesday
YESTERDAY = NOW - timedelta(days=1)
CALENDAR = ProductionCalendar.russia()
VIP_INNS = ["7700000001", "7700000002", "7700000003", "7700000004", "7700000005"]

# -- the playbook: 20 rules -------------------------------------------------------------

_RULES = """
- id: remind-contracts
  match: {kind: contract, status: sent}
  when: {after: 3 working days, since: sent_at}
  do: [{log: {message: "{{ doc.title }}: не подписан {{ elapsed.working_days }} раб. дн."}}]
  escalate: [{after: 5 working days, do: [{log: {message: "эскалация {{ doc.number }}"}}]}]
  repeat: {every: 2 working days, times: 2}
- id: remind-acts
  match: {kind: [act, upd], status: sent}
  when: {after: 2 working days, since: sent_at}
  do: [{log: {message: "{{ doc.title }}"}}]
  escalate:
    - {after: 4 working days, do: [{log: {message: "шаг 2"}}]}
    - {after: 7 working days, do: [{log: {message: "шаг 3"}}]}
- id: big-invoices
  match: {kind: invoice, status: sent, where: "doc.amount >= 100000"}
  when: {after: 1 working day, since: sent_at}
  do: [{log: {message: "{{ money(doc.amount) }}"}}]
  escalate: [{after: 3 working days, do: [{log: {message: "счёт"}}]}]
- id: huge-any
  match: {status: sent, where: "doc.amount >= 500000"}
  when: {after: 48 hours, since: sent_at}
  do: [{log: {message: "крупный документ"}}]
- id: our-signature
  match: {status: awaiting_our_signature, direction: incoming}
  when: {after: 1 working day, since: status_changed_at}
  do: [{log: {message: "подпишите"}}]
  escalate: [{after: 2 working days, do: [{log: {message: "подпишите!"}}]}]
  repeat: {every: 1 working day, times: 3}
- id: rejected-fix
  match: {status: rejected}
  when: {after: 2 working days, since: rejected_at}
  do: [{log: {message: "исправьте"}}]
  escalate: [{after: 5 working days, do: [{log: {message: "исправьте!"}}]}]
- id: vip
  match: {status: sent, counterparty: {inn: [VIP]}}
  when: {after: 1 working day, since: sent_at}
  do: [{log: {message: "VIP"}}]
  escalate: [{after: 2 working days, do: [{log: {message: "VIP!"}}]}]
- id: stale-drafts
  match: {status: draft}
  when: {after: 10 days, since: status_changed_at}
  do: [{log: {message: "черновик"}}]
  repeat: {every: 5 days, times: 2}
- id: contracts-calendar
  match: {kind: contract, status: sent}
  when: {after: 14 days, since: sent_at}
  do: [{log: {message: "две недели"}}]
  escalate: [{after: 30 days, do: [{log: {message: "месяц"}}]}]
- id: errors
  match: {status: error}
  when: {after: 4 hours, since: status_changed_at}
  do: [{log: {message: "ошибка ЭДО"}}]
  escalate: [{after: 1 working day, do: [{log: {message: "ошибка ЭДО!"}}]}]
- id: million-range
  match: {status: sent, amount: {min: 1000000, max: 10000000}}
  working_hours: "09:00-18:00"
  when: {after: 5 working days, since: sent_at}
  do: [{log: {message: "миллион"}}]
- id: small-upd
  match: {kind: upd, status: sent, where: "doc.amount < 5000"}
  when: {after: 6 working days, since: sent_at}
  do: [{log: {message: "мелкий УПД"}}]
- id: revoked
  match: {status: revoked}
  when: {after: 1 working day, since: revoked_at}
  do: [{log: {message: "аннулирован"}}]
- id: corrections
  match: {status: signed_with_corrections}
  when: {after: 2 working days, since: status_changed_at}
  do: [{log: {message: "разногласия"}}]
  escalate: [{after: 4 working days, do: [{log: {message: "разногласия!"}}]}]
- id: signed-contract
  match: {kind: contract}
  when: {status_changed: {to: signed}}
  do: [{log: {message: "договор подписан"}}]
- id: signed-acts
  match: {kind: [act, upd]}
  when: {status_changed: {from: sent, to: signed}}
  do: [{log: {message: "акт подписан"}}]
- id: on-rejected
  when: {status_changed: {to: rejected}}
  do: [{log: {message: "отклонён"}}]
- id: on-corrections
  when: {status_changed: {from: sent, to: signed_with_corrections}}
  do: [{log: {message: "с разногласиями"}}]
- id: on-revoked
  when: {status_changed: {to: revoked}}
  do: [{log: {message: "аннулирован"}}]
- id: on-error
  when: {status_changed: {to: error}}
  do: [{log: {message: "ошибка"}}]
"""


def load_bench_playbook() -> Playbook:
    body = _RULES.replace("[VIP]", "[" + ", ".join(f'"{inn}"' for inn in VIP_INNS) + "]")
    indented = "\n".join("  " + line if line else line for line in body.splitlines())
    return load_playbook_text(f"version: 1\nname: bench\nrules:{indented}\n", "bench.yaml")


# -- the data -------------------------------------------------------------------------------

_KINDS = [(Kind.CONTRACT, 20), (Kind.ACT, 35), (Kind.UPD, 30), (Kind.INVOICE, 10), (Kind.OTHER, 5)]
_STATUSES = [
    (Status.SIGNED, 72),
    (Status.CLOSED, 10),
    (Status.SENT, 3.5),
    (Status.REJECTED, 1.2),
    (Status.AWAITING_OUR_SIGNATURE, 1.5),
    (Status.DRAFT, 2.5),
    (Status.REVOKED, 1.5),
    (Status.SIGNED_WITH_CORRECTIONS, 1.0),
    (Status.ERROR, 0.3),
]
_OPEN_DAYS = 60  # documents still in progress changed state within the last two months


def _pick(rng: random.Random, table: list[tuple[Any, float]]) -> Any:
    return rng.choices([item for item, _ in table], [weight for _, weight in table])[0]


def _document(i: int, rng: random.Random) -> Document:
    kind, status = _pick(rng, _KINDS), _pick(rng, _STATUSES)
    settled = status in (Status.SIGNED, Status.CLOSED)
    age = timedelta(days=rng.uniform(0, 700) if settled else rng.uniform(0, _OPEN_DAYS))
    changed = NOW - age - timedelta(seconds=rng.randrange(86_400))
    sent = changed - timedelta(days=rng.uniform(0, 5)) if settled else changed
    amount = Decimal(rng.choice([rng.randint(500, 20_000), rng.randint(20_000, 2_000_000)]))
    inn = rng.choice(VIP_INNS) if rng.random() < 0.01 else f"77{rng.randrange(10**8):08d}"
    return Document(
        id=f"{i:08d}-1c-ref-key",
        kind=kind,
        number=str(i),
        date=sent.date(),
        direction=Direction.INCOMING if rng.random() < 0.3 else Direction.OUTGOING,
        status=status,
        status_1c=f"raw-{status.value}",
        counterparty=Counterparty(f"ООО «Контрагент {i % 5000}»", inn=inn, kpp="770101001"),
        amount=amount.quantize(Decimal("0.01")),
        organization="ООО «Наша фирма»",
        status_changed_at=changed,
        sent_at=sent if status is not Status.DRAFT else None,
        counterparty_signed_at=changed if settled else None,
        rejected_at=changed if status is Status.REJECTED else None,
        revoked_at=changed if status is Status.REVOKED else None,
        responsible=f"Менеджер {i % 40}",
        crm=CrmBinding(company_id=i % 9000, deal_id=i),
        version="AAAAAAAAB2E=",
        synced_at=NOW - timedelta(days=1),
    )


def documents(n: int) -> Iterator[Document]:
    rng = random.Random(20250312)
    return (_document(i, rng) for i in range(n))


def _events(docs: list[Document], *, at: datetime, historical: bool) -> list[StatusEvent]:
    return [
        StatusEvent(
            document_id=doc.id,
            at=at,
            from_status=Status.SENT,
            from_raw="raw-sent",
            to_status=doc.status,
            to_raw=doc.status_1c,
            historical=historical,
        )
        for doc in docs
    ]


# -- building the store -----------------------------------------------------------------------

_OPEN = [
    Status.SENT,
    Status.AWAITING_OUR_SIGNATURE,
    Status.REJECTED,
    Status.REVOKED,
    Status.SIGNED_WITH_CORRECTIONS,
    Status.ERROR,
    Status.SIGNED,
]


def build(path: Path, n: int) -> dict[str, float]:
    """Bulk upsert, then the first sync's history (historical events)."""
    with SQLiteStore(path) as store:
        upsert = 0.0
        stream = documents(n)
        # Generated outside the clock, written in batches of 50,000 (one transaction each).
        while batch := list(islice(stream, 50_000)):
            started = time.perf_counter()
            store.upsert_documents(batch)
            upsert += time.perf_counter() - started
        event_docs = [d for d in documents(min(n, 200_000)) if d.status is not Status.SENT]
        store.write_sync_page([], _events(event_docs[:5000], at=YESTERDAY, historical=True))
    return {"upsert_seconds": upsert, "docs_per_second": n / upsert}


def _engine_calendar(options: dict[str, Any]) -> ProductionCalendar:
    """The engine's calendar: with ``--engine-overrides``, different from the baselines'."""
    overrides = options.get("overrides")
    return CALENDAR if overrides is None else ProductionCalendar.russia(overrides)


def phase_first(target: str, options: dict[str, Any]) -> dict[str, Any]:
    """The first-ever evaluation: the whole store caught up at YESTERDAY (recorded)."""
    with _open(target) as store:
        engine = Engine(store, [load_bench_playbook()], _engine_calendar(options))
        started = time.perf_counter()
        result = engine.evaluate(YESTERDAY)
        seconds = time.perf_counter() - started
        seq = store.document_seq()
    return {
        "seconds": seconds,
        "fired": len(result.fired),
        "skipped": len(result.skipped),
        "seq": seq,
        "maxrss_mb": _maxrss_mb(),
    }


def _changed(doc: Document, rng: random.Random) -> tuple[Document, StatusEvent]:
    """A document as the day's sync brings it: a new state; a few postings are back-dated."""
    status = rng.choice([s for s in _OPEN if s is not doc.status])
    back = rng.uniform(2, 12) if rng.random() < 0.3 else rng.uniform(0, 0.9)
    changed = NOW - timedelta(days=back, hours=1)
    new = replace(
        doc,
        status=status,
        status_1c=f"raw-{status.value}",
        status_changed_at=changed,
        sent_at=changed if status is Status.SENT else doc.sent_at or changed,
        rejected_at=changed if status is Status.REJECTED else doc.rejected_at,
        revoked_at=changed if status is Status.REVOKED else doc.revoked_at,
        version="AAAAAAAAB2F=",
        synced_at=NOW - timedelta(minutes=30),
    )
    event = StatusEvent(
        document_id=doc.id,
        at=changed,
        from_status=doc.status,
        from_raw=doc.status_1c,
        to_status=status,
        to_raw=new.status_1c,
        historical=False,
    )
    return new, event


def day_sync(path: Path, n: int) -> dict[str, Any]:
    """The day's sync: N/1000 documents changed, each with its status event, in pages of 500."""
    rng = random.Random(20250311)
    count = max(n // 1000, 10)
    ids = [f"{i:08d}-1c-ref-key" for i in sorted(rng.sample(range(n), count))]
    with SQLiteStore(path) as store:
        found = store.get_documents(ids)
        pairs = [_changed(found[doc_id], rng) for doc_id in ids]
        started = time.perf_counter()
        for start in range(0, count, 500):
            page = pairs[start : start + 500]
            store.write_sync_page([d for d, _ in page], [e for _, e in page])
        seconds = time.perf_counter() - started
    return {"changed": count, "events": count, "seconds": seconds}


# -- measuring ----------------------------------------------------------------------------------


def _maxrss_mb() -> float:
    """This process's peak RSS. VmHWM, because ru_maxrss survives fork+exec (it would
    report the parent's peak); ru_maxrss where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _firing_keys(result: EvaluationResult) -> set[tuple[str, str, str, str]]:
    return {
        (p.firing.rule_key, p.firing.document_id, p.firing.step, p.firing.episode)
        for p in result.fired
    }


def _due_list(result: EvaluationResult) -> list[list[str]]:
    return sorted(list(key) for key in _firing_keys(result))


def _is_postgres(target: str) -> bool:
    return target.startswith(("postgresql:", "postgres:")) or "dbname=" in target


def _open(target: str) -> Any:
    """The store a phase measures: a SQLite file, or a PostgreSQL DSN (its schema set)."""
    if _is_postgres(target):
        from edo_rules.store.postgres import PostgresStore

        return PostgresStore(target, pool_size=2)
    return SQLiteStore(Path(target))


def _connect(target: str) -> tuple[Any, str]:
    """A plain DB-API connection (autocommit) for the baselines, and its placeholder."""
    if _is_postgres(target):
        import psycopg

        return psycopg.connect(target, autocommit=True), "%s"
    return sqlite3.connect(target, isolation_level=None), "?"


def _timed(run: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    times, answer = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        answer = run()
        times.append(time.perf_counter() - started)
    return times, answer


_UNDONE = ("event_cursors", "rule_progress")


class _Undo:
    """Undoes a recorded tick's writes, so that the next repetition measures the same tick."""

    def __init__(self, target: str):
        self.conn, self.ph = _connect(target)
        one = self.conn.execute
        self.firing = one("SELECT COALESCE(MAX(id), 0) FROM firings").fetchone()[0]
        self.request = one("SELECT COALESCE(MAX(id), 0) FROM action_requests").fetchone()[0]
        self.rows = {table: one(f"SELECT * FROM {table}").fetchall() for table in _UNDONE}
        if self.ph == "%s":
            # The requests go first; without this, deleting each firing would look for
            # requests of it by a scan (action_requests.firing_id has no index).
            one("SET session_replication_role = replica")

    def __call__(self) -> None:
        run = self.conn.execute
        run(f"DELETE FROM action_requests WHERE id > {self.ph}", (self.request,))
        run(f"DELETE FROM firings WHERE id > {self.ph}", (self.firing,))
        for table, rows in self.rows.items():
            run(f"DELETE FROM {table}")
            for row in rows:
                marks = ", ".join(self.ph for _ in row)
                run(f"INSERT INTO {table} VALUES ({marks})", row)
        if self.ph == "%s":  # PostgreSQL: the deleted rows' versions would slow the next tick
            run(f"VACUUM ANALYZE firings, action_requests, {', '.join(_UNDONE)}")

    def close(self) -> None:
        self.conn.close()


def phase_tick(target: str, options: dict[str, Any]) -> dict[str, Any]:
    """The recorded tick at NOW (undone between repetitions), then a second tick."""
    undo, book = _Undo(target), load_bench_playbook()
    first: list[float] = []
    second: list[float] = []
    due: list[list[str]] = []
    again = 0
    with _open(target) as store:
        for _ in range(options["repeat"]):
            engine = Engine(store, [book], _engine_calendar(options))
            started = time.perf_counter()
            result = engine.evaluate(NOW)
            first.append(time.perf_counter() - started)
            started = time.perf_counter()
            again += len(engine.evaluate(NOW + timedelta(minutes=1)).fired)
            second.append(time.perf_counter() - started)
            due = due or _due_list(result)
            requests = len(result.requests)
            rows = len(result.fired) + len(result.skipped) + requests
            undo()  # the store is left as the day's sync left it
    undo.close()
    return {
        "recorded": first,
        "second": second,
        "second_fired": again,
        "requests": requests,
        "rows": rows,
        "maxrss_mb": _maxrss_mb(),
        "due": due,
    }


def phase_dry(target: str, options: dict[str, Any]) -> dict[str, Any]:
    """The same tick as dry runs (nothing written): incremental, then a full re-scan."""
    with _open(target) as store:
        engine = Engine(store, [load_bench_playbook()], _engine_calendar(options))
        incremental, small = _timed(lambda: engine.evaluate(NOW, dry_run=True), options["repeat"])
        full, whole = _timed(
            lambda: engine.evaluate(NOW, dry_run=True, incremental=False), options["repeat"]
        )
    return {
        "incremental": incremental,
        "full": full,
        "maxrss_mb": _maxrss_mb(),
        "due": _due_list(small),
        "due_full": _due_list(whole),
    }


def phase_loop(target: str, options: dict[str, Any]) -> dict[str, Any]:
    """The competent loop (baselines module), repeated."""
    conn, ph = _connect(target)
    rules = list(load_bench_playbook().rules)
    oracle = Oracle(CALENDAR)
    times, due = _timed(
        lambda: CompetentLoop(conn, rules, oracle, NOW, ph).run(), options["repeat"]
    )
    conn.close()
    return {"full": times, "maxrss_mb": _maxrss_mb(), "due": sorted(due)}


def phase_sql(target: str, options: dict[str, Any]) -> dict[str, Any]:
    """Hand-written SQL: full, then incremental from the previous tick (YESTERDAY)."""
    conn, ph = _connect(target)
    sql = HandSql(conn, list(load_bench_playbook().rules), Oracle(CALENDAR), NOW, ph)
    previous = Previous(YESTERDAY, options["seq"])
    full, whole = _timed(sql.run, options["repeat"])
    incremental, small = _timed(lambda: sql.run(previous), options["repeat"])
    conn.close()
    return {
        "full": full,
        "incremental": incremental,
        "maxrss_mb": _maxrss_mb(),
        "due": sorted(small),
        "due_full": sorted(whole),
    }


def phase_sqlrec(target: str, options: dict[str, Any]) -> dict[str, Any]:
    """The incremental hand-written SQL that also writes the firings and requests (a second
    baseline, beside the issue's ids-only one), undone between repetitions."""
    undo, book = _Undo(target), load_bench_playbook()
    conn, ph = _connect(target)
    sql = HandSql(conn, list(book.rules), Oracle(CALENDAR), NOW, ph)
    recording = RecordingSql(sql, list(book.rules), book.content_hash)
    previous = Previous(YESTERDAY, options["seq"])
    times: list[float] = []
    due: list[list[str]] = []
    rows = (0, 0)
    for _ in range(options["repeat"]):
        started = time.perf_counter()
        due, rows = recording.run(previous)
        times.append(time.perf_counter() - started)
        undo()
    conn.close()
    undo.close()
    return {"recorded": times, "rows": sum(rows), "requests": rows[1], "due": sorted(due)}


#: Before every document's timestamps: the go-live filter runs on every candidate
#: but changes no answer, so the due sets must be identical with and without it.
GO_LIVE = NOW - timedelta(days=1000)


def phase_golive(target: str, options: dict[str, Any]) -> dict[str, Any]:
    """The dry-run full re-scan without and with a go-live moment, alternated."""
    book = load_bench_playbook()
    timings: dict[str, list[float]] = {"without": [], "with": []}
    keys: dict[str, set[tuple[str, str, str, str]]] = {}
    with _open(target) as store:
        for _ in range(options["repeat"]):
            for name, go_live in (("without", None), ("with", GO_LIVE)):
                engine = Engine(store, [book], _engine_calendar(options), go_live=go_live)
                started = time.perf_counter()
                result = engine.evaluate(NOW, dry_run=True, incremental=False)
                timings[name].append(time.perf_counter() - started)
                keys[name] = _firing_keys(result)
    return {
        "without": timings["without"],
        "with": timings["with"],
        "same": keys["with"] == keys["without"],
        "due": sorted(list(key) for key in keys["with"]),
    }


BUNDLED = Path(__file__).resolve().parents[1] / "playbooks"
_ROUNDS = 11  # the machine is shared: the best of many alternated runs is the figure


def _budget_engine(store: SQLiteStore) -> Engine:
    return Engine(store, [load_bench_playbook(), *load_playbooks([BUNDLED])], CALENDAR)


def _timed_tick(engine: Engine, budget: Budget) -> tuple[float, EvaluationResult]:
    with use_budget(budget):
        started = time.perf_counter()
        result = engine.evaluate(NOW, dry_run=True)
        return time.perf_counter() - started, result


def phase_budget(path: Path) -> dict[str, Any]:
    """The bench and the bundled playbooks' tick at NOW (dry run) with the evaluation budget
    on and off, alternated; then the tick's where/template evaluations alone, on and off.

    The bundled rules first catch up at YESTERDAY (recorded), as the bench's did in
    :func:`build`, so that the measured tick is an ordinary one.
    """
    on, off = Budget(), Budget(enabled=False)
    with SQLiteStore(path) as store:
        started = time.perf_counter()
        Engine(store, load_playbooks([BUNDLED]), CALENDAR).evaluate(YESTERDAY)
        catch_up = time.perf_counter() - started
        engine = _budget_engine(store)
        _timed_tick(engine, on)  # warm the caches (pages, compiled templates)
        times: dict[str, list[float]] = {"on": [], "off": []}
        results: dict[str, EvaluationResult] = {}
        for _ in range(_ROUNDS):
            for name, budget in (("off", off), ("on", on)):
                seconds, results[name] = _timed_tick(engine, budget)
                times[name].append(seconds)
        work = _evaluations(engine, results["on"])
    evaluations = {
        name: min(_evaluate_all(work, b) for _ in range(_ROUNDS))
        for name, b in (("on", on), ("off", off))
    }
    return {
        "catch_up": catch_up,
        "on": min(times["on"]),
        "off": min(times["off"]),
        "same": _firing_keys(results["on"]) == _firing_keys(results["off"])
        and [f.message for f in results["on"].failures]
        == [f.message for f in results["off"].failures],
        "fired": len(results["on"].fired),
        "evaluations": len(work),
        "eval_on": evaluations["on"],
        "eval_off": evaluations["off"],
    }


_Work = tuple[Any, dict[str, Any]]  # (a where expression or an action's params, the names)


def _evaluations(engine: Engine, result: EvaluationResult) -> list[_Work]:
    """Every where and template evaluation the tick made for its due firings."""
    rules = {rule.key: rule for rule in engine.rules}
    work: list[_Work] = []
    for planned in result.fired:
        rule, firing = rules[planned.firing.rule_key], planned.firing
        doc = engine.store.get_document(firing.document_id)
        assert doc is not None
        since = (
            getattr(doc, rule.trigger.since, None)
            if isinstance(rule.trigger, TimeTrigger)
            else None
        )
        names = make_names(
            doc, now=NOW, calendar=CALENDAR, since=since, step=firing.step, rule=rule
        )
        if rule.match.where is not None:
            work.append((rule.match.where, names))
        work += [(spec.params, names) for spec in _step_actions(rule, firing.step)]
    return work


def _step_actions(rule: Rule, step: str) -> tuple[Any, ...]:
    trigger = rule.trigger
    if isinstance(trigger, StatusTrigger):
        return trigger.actions
    position = next(p for p in ladder(trigger.steps, trigger.repeat) if p.name == step)
    return position.step.actions


def _evaluate_all(work: list[_Work], budget: Budget) -> float:
    with use_budget(budget):
        started = time.perf_counter()
        for item, names in work:
            if isinstance(item, dict) or hasattr(item, "items"):
                render_params(item, names)
            else:
                item.evaluate(names)
        return time.perf_counter() - started


# -- counterparty.stats in ``where`` ------------------------------------------------------------

#: One rule two ways: both ``where`` hold for every document, so the due sets must be the
#: same; "stats" reads the counterparty's histogram for each document it looks at.
_STATS_RULE = """
version: 1
name: {name}
rules:
  - id: remind
    match: {{status: sent, where: "{where}"}}
    when: {{after: 3 working days, since: sent_at}}
    do: [{{log: {{message: "{{{{ doc.title }}}}"}}}}]
"""
STATS_WHERE = {
    "plain": "doc.amount >= 0 and doc.number != ''",
    "stats": "doc.amount >= 0 and counterparty.stats.signed >= 0",
}


def stats_playbook(name: str) -> Playbook:
    text = _STATS_RULE.format(name=name, where=STATS_WHERE[name])
    return load_playbook_text(text, f"{name}.yaml")


def phase_stats_base(target: str, _: dict[str, Any]) -> dict[str, Any]:
    """Before the day's sync: the statistics built from scratch (time, peak memory), then both
    rules' first evaluation at YESTERDAY (recorded), so that NOW's tick is an ordinary one."""
    with SQLiteStore(Path(target)) as store:
        started = time.perf_counter()
        documents = refresh_stats(store, CALENDAR)
        built = time.perf_counter() - started
        books = [stats_playbook("plain"), stats_playbook("stats")]
        Engine(store, books, CALENDAR).evaluate(YESTERDAY)
    with sqlite3.connect(target) as conn:
        samples = conn.execute("SELECT COUNT(*) FROM counterparty_samples").fetchone()[0]
    return {"seconds": built, "documents": documents, "samples": samples, "maxrss_mb": _maxrss_mb()}


def phase_stats(target: str, options: dict[str, Any]) -> dict[str, Any]:
    """The day's statistics update (what a recorded tick does first), then the tick at NOW with
    each rule, dry runs alternated (nothing written, so every round is the same tick)."""
    CALENDAR.working_days_between(YESTERDAY.date(), NOW.date())  # a runner's calendar is warm
    with SQLiteStore(Path(target)) as store:
        started = time.perf_counter()
        documents = refresh_stats(store, CALENDAR)
        update = time.perf_counter() - started
        engines = {name: Engine(store, [stats_playbook(name)], CALENDAR) for name in STATS_WHERE}
        times: dict[str, list[float]] = {f"{name}{full}": [] for name in engines for full in "-+"}
        due: dict[str, set[tuple[str, str, str]]] = {}
        for engine in engines.values():
            engine.evaluate(NOW, dry_run=True)  # warm the caches
        for _ in range(options["repeat"]):
            for name, engine in engines.items():
                for full in "-+":
                    started = time.perf_counter()
                    result = engine.evaluate(NOW, dry_run=True, incremental=full == "-")
                    times[f"{name}{full}"].append(time.perf_counter() - started)
                    keys = {(p.firing.document_id, p.firing.step, p.firing.episode)
                            for p in result.fired}  # fmt: skip
                    if due.setdefault(f"{name}{full}", keys) != keys:  # not the same twice
                        due[f"{name}{full}"] = {("differs between rounds", "", "")}
    found = list(due.values())
    return {
        "update": update,
        "documents": documents,
        **{name: min(spent) for name, spent in times.items()},
        "fired": len(found[0]),
        "same": all(keys == found[0] for keys in found),
    }


_PHASES: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "first": phase_first,
    "tick": phase_tick,
    "dry": phase_dry,
    "loop": phase_loop,
    "sql": phase_sql,
    "sqlrec": phase_sqlrec,
    "golive": phase_golive,
    "budget": lambda target, _: phase_budget(Path(target)),
    "stats_base": phase_stats_base,
    "stats": phase_stats,
}


def _child(phase: str, target: Path | str, **options: Any) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--phase-store", str(target),
         "--phase-options", json.dumps(options)],
        check=False,
        capture_output=True,
        text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the {phase} phase failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000, help="documents in the store")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per phase (median)")
    parser.add_argument("--workdir", type=Path, help="where the temporary stores go")
    parser.add_argument(
        "--reuse",
        type=Path,
        help="keep the built store (documents and history) in this file, or start from it",
    )
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument(
        "--budget-only", action="store_true", help="measure only what the evaluation budget costs"
    )
    budget.add_argument("--no-budget", action="store_true", help="skip the budget's measurement")
    budget.add_argument(
        "--stats-only",
        action="store_true",
        help="measure only what reading counterparty.stats in where costs",
    )
    parser.add_argument(
        "--no-stats", action="store_true", help="skip the counterparty.stats measurement"
    )
    parser.add_argument(
        "--store",
        metavar="postgresql://…",
        help="also measure on this PostgreSQL (the day's store copied into a new schema,"
        " dropped afterwards)",
    )
    parser.add_argument(
        "--engine-overrides",
        metavar="FILE",
        help="production-calendar overrides for the engine alone (the baselines keep the"
        " plain calendar): checks that the script exits 1 when the answers differ",
    )
    parser.add_argument("--phase", choices=sorted(_PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--phase-store", help=argparse.SUPPRESS)
    parser.add_argument("--phase-options", default="{}", help=argparse.SUPPRESS)
    return parser.parse_args()


def _base(args: argparse.Namespace, path: Path) -> None:
    """The documents and their history: built, or copied from ``--reuse``."""
    if args.reuse is not None and args.reuse.exists():
        print(f"reusing the store built earlier in {args.reuse}", flush=True)
        shutil.copy(args.reuse, path)
        return
    print(f"building a store of {args.docs:,} documents …", flush=True)
    built = build(path, args.docs)
    print(
        f"bulk upsert: {built['upsert_seconds']:.1f} s = {built['docs_per_second']:,.0f} docs/s",
        flush=True,
    )
    if args.reuse is not None:
        shutil.copy(path, args.reuse)


def main() -> None:
    args = _arguments()
    if args.phase:
        options = json.loads(args.phase_options)
        print(json.dumps(_PHASES[args.phase](args.phase_store, options)))
        return
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        path = Path(tmp) / "bench.sqlite3"
        _base(args, path)
        if args.stats_only:
            stats = _stats(path, args.docs)
            _report_stats(stats)
            _exit_if(not stats["same"], "the due sets differ with and without counterparty.stats")
            return
        stats_path = None if args.no_stats or args.budget_only else Path(tmp) / "stats.sqlite3"
        if stats_path is not None:  # the stats rules get a copy of the store before YESTERDAY
            shutil.copy(path, stats_path)
        first = _child("first", path, overrides=args.engine_overrides)
        print(
            f"first-ever evaluation (catching up the whole store at YESTERDAY, recorded):"
            f" {first['seconds']:.2f} s, {first['fired']:,} fired, {first['skipped']:,} skipped,"
            f" peak RSS {first['maxrss_mb']:.0f} MB (goal < 300 MB)",
            flush=True,
        )
        day = day_sync(path, args.docs)
        print(
            f"the day's sync: {day['changed']:,} documents changed, {day['events']:,} status"
            f" events added in {day['seconds'] * 1000:.0f} ms",
            flush=True,
        )
        if args.budget_only:
            budget = _child("budget", path)
            _report_budget(budget)
            _exit_if(not budget["same"], "the tick's answers differ with the budget on and off")
            return
        options = {"repeat": args.repeat, "seq": first["seq"], "overrides": args.engine_overrides}
        results = {"SQLite": _measure(str(path), options)}
        results["SQLite"]["golive"] = _child("golive", path, **{**options, "repeat": 3})
        if args.store:
            results["PostgreSQL"] = _on_postgres(path, args.store, options)
        budget = None if args.no_budget else _child("budget", path)
        stats = None if stats_path is None else _stats(stats_path, args.docs)
    failed = _report(args.docs, results)
    if budget is not None:
        _report_budget(budget)
        failed = failed or not budget["same"]
    if stats is not None:
        _report_stats(stats)
        failed = failed or not stats["same"]
    _exit_if(failed, "the answers differ (see above)")


def _stats(path: Path, n: int) -> dict[str, Any]:
    """The counterparty.stats measurement on its own store: built, the day's sync, the tick."""
    base = _child("stats_base", path)
    print(
        f"counterparty.stats built from scratch before the day's sync: {base['seconds']:.1f} s"
        f" over {base['documents']:,} documents ({base['samples']:,} signed or rejected"
        f" outgoing), peak RSS {base['maxrss_mb']:.0f} MB",
        flush=True,
    )
    day_sync(path, n)  # the same day as the bench store's (seeded)
    return _child("stats", path, repeat=_ROUNDS)


def _exit_if(failed: bool, message: str) -> None:
    if failed:
        raise SystemExit(message)


def _measure(target: str, options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    order = ("loop", "sql", "dry", "sqlrec", "tick")  # the recorded ones last: they write
    return {phase: _child(phase, target, **options) for phase in order}


def _on_postgres(path: Path, server: str, options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Copy the day's store into a new schema, then measure the same phases there."""
    import secrets

    import psycopg
    from psycopg import sql

    from edo_rules.store.copy import copy_store

    schema = f"bench_tick_{secrets.token_hex(4)}"
    dsn = psycopg.conninfo.make_conninfo(server, options=f"-c search_path={schema}")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        started = time.perf_counter()
        copy_store(path, dsn)
        print(f"copied into PostgreSQL ({schema}) in {time.perf_counter() - started:.1f} s")
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        return _measure(dsn, options)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


# -- the report -------------------------------------------------------------------------------


def _median_ms(values: list[float]) -> float:
    return 1000 * statistics.median(values)


def _answers(store: dict[str, dict[str, Any]]) -> dict[str, set[tuple[str, ...]]]:
    return {
        "engine, recorded": {tuple(i) for i in store["tick"]["due"]},
        "engine, dry run": {tuple(i) for i in store["dry"]["due"]},
        "engine, dry run, full": {tuple(i) for i in store["dry"]["due_full"]},
        "competent loop": {tuple(i) for i in store["loop"]["due"]},
        "SQL, incremental": {tuple(i) for i in store["sql"]["due"]},
        "SQL, full": {tuple(i) for i in store["sql"]["due_full"]},
        "SQL, incremental, recording": {tuple(i) for i in store["sqlrec"]["due"]},
    }


def _compare(results: dict[str, dict[str, dict[str, Any]]]) -> bool:
    """Print any difference between the due sets; True when they all agree."""
    answers = {
        f"{name} ({store})": found
        for store, measured in results.items()
        for name, found in _answers(measured).items()
    }
    golive = results["SQLite"]["golive"]
    answers["engine, full, with go-live (SQLite)"] = {tuple(i) for i in golive["due"]}
    reference = answers["engine, recorded (SQLite)"]
    same = golive["same"]
    for name, found in answers.items():
        if found != reference:
            same = False
            more, fewer = len(found - reference), len(reference - found)
            example = sorted(found ^ reference)[:3]
            print(
                f"  DIFFERS: {name}: {more} more, {fewer} fewer than the recorded tick: {example}"
            )
    for store, measured in results.items():
        if measured["tick"]["second_fired"]:
            same = False
            print(f"  DIFFERS: the second tick on {store} fired again")
        if measured["sqlrec"]["requests"] != measured["tick"]["requests"]:
            same = False
            print(
                f"  DIFFERS: the recording SQL wrote {measured['sqlrec']['requests']:,} requests"
                f" on {store}, the engine {measured['tick']['requests']:,}"
            )
    return same


_ROWS = (
    ("engine: the tick at NOW, recorded", "tick", "recorded", ("sql", "incremental")),
    ("engine: second tick, nothing new", "tick", "second", None),
    ("engine: same tick, dry run", "dry", "incremental", ("sql", "incremental")),
    ("engine: dry run, full re-scan", "dry", "full", ("sql", "full")),
    ("competent loop (full pass)", "loop", "full", None),
    ("hand-written SQL, incremental", "sql", "incremental", None),
    ("hand-written SQL, full", "sql", "full", None),
    ("hand-written SQL, incr., recording", "sqlrec", "recorded", None),
)


def _report(n: int, results: dict[str, dict[str, dict[str, Any]]]) -> bool:
    """The side-by-side table and the goals; True when some answers differ."""
    lite = results["SQLite"]
    due = lite["tick"]["due"]
    pct = 100 * len({tuple(key[:2]) for key in due}) / n
    repeat = len(lite["tick"]["recorded"])
    same = _compare(results)
    print(
        f"due at the tick: {len(due):,} firings ({pct:.2f} % of {n:,} documents),"
        f" {lite['tick']['requests']:,} actions; median of {repeat} per phase;"
        f" due sets identical (engine, dry runs, go-live, competent loop, SQL"
        f"{', both stores' if len(results) > 1 else ''}): {same}"
    )
    head = "".join(f" {store:>12} {'÷ SQL':>7}" for store in results)
    print(f"  {'':<38}{head}")
    for title, phase, key, against in _ROWS:
        line = f"  {title:<38}"
        for measured in results.values():
            ms = _median_ms(measured[phase][key])
            ratio = (
                ""
                if against is None
                else f"{ms / _median_ms(measured[against[0]][against[1]]):.2f}x"
            )
            line += f" {ms:>9,.1f} ms {ratio:>7}"
        print(line)
    print(f"  {'peak RSS of the recorded tick':<38}" + "".join(
        f" {m['tick']['maxrss_mb']:>9,.0f} MB {'':>7}" for m in results.values()))  # fmt: skip
    for store, measured in results.items():
        _goals(store, measured)
    gate = lite["golive"]
    print(
        f"go-live filter (SQLite, dry-run full re-scan): {_median_ms(gate['without']):,.1f} ms"
        f" without, {_median_ms(gate['with']):,.1f} ms with; same answer: {gate['same']}"
    )
    return not same


def _goals(store: str, m: dict[str, dict[str, Any]]) -> None:
    recorded = _median_ms(m["tick"]["recorded"])
    sql_inc, sql_full = _median_ms(m["sql"]["incremental"]), _median_ms(m["sql"]["full"])
    full, loop = _median_ms(m["dry"]["full"]), _median_ms(m["loop"]["full"])
    print(
        f"{store}: recorded tick ÷ incremental SQL {recorded / sql_inc:.2f}x (goal ≤ 1.5x;"
        f" PostgreSQL ≤ 2x); full re-scan ÷ full SQL {full / sql_full:.2f}x (goal ≤ 2x);"
        f" competent loop ÷ recorded tick {loop / recorded:.1f}x (goal ≥ 10x);"
        f" second tick {_median_ms(m['tick']['second']):.1f} ms"
    )
    # A second baseline, not the goal: the same SQL writing the same firings and
    # requests (the incremental SQL writes nothing).
    writing = _median_ms(m["sqlrec"]["recorded"])
    print(
        f"{store}: recorded tick ÷ incremental SQL that also records {recorded / writing:.2f}x"
        f" (the engine wrote {m['tick']['rows']:,} rows, the SQL {m['sqlrec']['rows']:,}:"
        " the engine's skipped firings besides; the SQL's messages are not rendered)"
    )


def _report_budget(budget: dict[str, Any]) -> None:
    cost = 100 * (budget["on"] - budget["off"]) / budget["off"]
    count = max(budget["evaluations"], 1)
    print(
        f"evaluation budget, bench + bundled playbooks ({budget['fired']:,} due at NOW, dry run;"
        f" best of {_ROUNDS}, on and off alternated; the bundled rules' catch-up at YESTERDAY"
        f" took {budget['catch_up']:.1f} s):"
    )
    rows = [
        ("the tick, budget on", budget["on"], ""),
        ("the tick, budget off", budget["off"], ""),
        ("its where/template evaluations, budget on", budget["eval_on"], ""),
        ("its where/template evaluations, budget off", budget["eval_off"], ""),
    ]
    for name, seconds, _ in rows:
        each = 1e6 * seconds / count if "evaluations" in name else None
        tail = f"  ({count:,} evaluations, {each:.1f} µs each)" if each is not None else ""
        print(f"  {name:<50} {seconds * 1000:>10,.1f} ms{tail}")
    by_evaluations = 100 * (budget["eval_on"] - budget["eval_off"]) / budget["off"]
    print(
        f"budget cost: {cost:+.1f} % of the tick (goal < 5 %); from the evaluations alone"
        f" (on − off, over the tick without the budget): {by_evaluations:+.1f} %;"
        f" answers identical with the budget on and off: {budget['same']}"
    )


def _report_stats(stats: dict[str, Any]) -> None:
    rows = [
        ("where without counterparty.stats", stats["plain-"], stats["plain+"]),
        ("where reading counterparty.stats", stats["stats-"], stats["stats+"]),
    ]
    print(
        f"counterparty.stats in where (one rule on sent documents, {stats['fired']:,} due at"
        f" NOW, dry runs, best of {_ROUNDS}, alternated):"
    )
    print(f"  {'':<36} {'the tick':>12} {'full re-scan':>14}")
    for name, tick, full in rows:
        print(f"  {name:<36} {tick * 1000:>9,.1f} ms {full * 1000:>11,.1f} ms")
    update = stats["update"]
    print(
        f"  statistics brought up to date after the day's sync ({stats['documents']:,} documents"
        f" written since; the sync stage does it, a recorded tick catches up):"
        f" {update * 1000:,.1f} ms"
    )
    reads = 100 * (stats["stats-"] - stats["plain-"]) / stats["plain-"]
    cost = 100 * (stats["stats-"] + update - stats["plain-"]) / stats["plain-"]
    full = 100 * (stats["stats+"] - stats["plain+"]) / stats["plain+"]
    print(
        f"counterparty.stats cost: {reads:+.1f} % of the tick (goal < 10 %), {cost:+.1f} % with"
        f" the day's update counted in the tick; {full:+.1f} % on a full re-scan; due sets"
        f" identical with and without: {stats['same']}"
    )


if __name__ == "__main__":
    main()
