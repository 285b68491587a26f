"""Benchmark: what reading ``counterparty.stats`` in a rule's ``where`` costs a tick.

Builds a store of N outgoing documents (default 1,000,000) over 2,000
counterparties — 60 % signed after 1–15 working days, 5 % rejected, the rest
waiting — and brings it to "yesterday" with a first-ever evaluation (which also
builds the statistics from scratch, in chunks: its time and peak memory are
printed). Then a realistic day arrives: 1,000 documents are signed and 1,000
new ones are sent. The measured tick at NOW runs the same rule two ways, on
fresh copies of the same store:

  plain: ``where: doc.amount >= 0 and doc.number != ''``
  stats: ``where: doc.amount >= 0 and counterparty.stats.signed >= 0``

so both fire for exactly the same documents (checked: the script exits 1 when
the due sets differ); "stats" also brings the statistics up to date for the
2,000 changed documents and reads one histogram per counterparty it meets.
Median of --rounds ticks each, interleaved.

Run: .venv/bin/python benchmarks/counterparty_stats.py [--docs N] [--rounds R]
"""

# ruff: noqa: E402 -- the path fix below must run before any import.
from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse
import random
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice
from zoneinfo import ZoneInfo

from edo_rules.calendar import ProductionCalendar
from edo_rules.engine import Engine
from edo_rules.model import Counterparty, Direction, Document, Kind, Status
from edo_rules.playbook.loader import load_playbook_text
from edo_rules.playbook.rules import Playbook
from edo_rules.store.sqlite import SQLiteStore

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2025, 3, 12, 12, 0, tzinfo=MSK)
YESTERDAY = NOW - timedelta(days=1)
CALENDAR = ProductionCalendar.russia()
COUNTERPARTIES = 2_000
RULE = """
version: 1
name: pb
rules:
  - id: remind
    match: {{status: sent, where: "{where}"}}
    when: {{after: 3 working days, since: sent_at}}
    do: [{{log: {{message: "{{{{ doc.title }}}}"}}}}]
"""
WHERE = {
    "plain": "doc.amount >= 0 and doc.number != ''",
    "stats": "doc.amount >= 0 and counterparty.stats.signed >= 0",
}


def playbook(kind: str) -> Playbook:
    return load_playbook_text(RULE.format(where=WHERE[kind]), f"{kind}.yaml")


def _document(i: int, rng: random.Random) -> Document:
    sent = NOW - timedelta(days=rng.randint(2, 300), hours=rng.randint(0, 23))
    inn = f"77{rng.randrange(COUNTERPARTIES):08d}"
    roll = rng.random()
    doc = Document(
        id=f"doc-{i:07d}",
        kind=Kind.ACT if i % 3 else Kind.CONTRACT,
        number=str(i),
        date=sent.date(),
        direction=Direction.OUTGOING,
        status=Status.SENT,
        status_1c="sent",
        counterparty=Counterparty(f"ООО «Контрагент {inn[-4:]}»", inn),
        amount=Decimal(rng.randint(1_000, 900_000)),
        sent_at=sent,
        status_changed_at=sent,
        responsible="7",
    )
    if roll < 0.60:
        day = CALENDAR.add_working_days(sent.date(), rng.randint(1, 15))
        signed = datetime.combine(day, sent.timetz())
        return replace(doc, status=Status.SIGNED, counterparty_signed_at=signed)
    if roll < 0.65:
        return replace(doc, status=Status.REJECTED, rejected_at=sent + timedelta(days=2))
    return doc


def documents(n: int, seed: int = 1) -> Iterator[Document]:
    rng = random.Random(seed)
    return (_document(i, rng) for i in range(n))


def build(path: Path, n: int) -> None:
    with SQLiteStore(path) as store:
        batch = documents(n)
        while chunk := list(islice(batch, 20_000)):
            store.upsert_documents(chunk)


def first_evaluation(path: Path) -> tuple[float, float]:
    """Yesterday's evaluation with the stats rule: builds the statistics from scratch."""
    start = time.perf_counter()
    with SQLiteStore(path) as store:
        Engine(store, [playbook("stats")], CALENDAR).evaluate(YESTERDAY)
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def a_day(path: Path, n: int) -> None:
    """1,000 waiting documents get signed, 1,000 new ones are sent."""
    rng = random.Random(7)
    with SQLiteStore(path) as store:
        waiting = [d for d in islice(store.iter_documents(), 0, 50_000) if d.status is Status.SENT]
        signed = [
            replace(d, status=Status.SIGNED, counterparty_signed_at=NOW - timedelta(hours=2))
            for d in waiting[:1_000]
        ]
        fresh = [
            replace(_document(n + i, rng), status=Status.SENT, counterparty_signed_at=None)
            for i in range(1_000)
        ]
        store.upsert_documents([*signed, *fresh])


def tick(base: Path, kind: str, folder: Path) -> tuple[float, set[tuple[str, str]]]:
    copy = folder / f"{kind}.sqlite3"
    shutil.copyfile(base, copy)
    with SQLiteStore(copy) as store:
        engine = Engine(store, [playbook(kind)], CALENDAR)
        start = time.perf_counter()
        result = engine.evaluate(NOW)
        seconds = time.perf_counter() - start
    copy.unlink()
    return seconds, {(p.firing.document_id, p.firing.step) for p in result.fired}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000, help="documents in the store")
    parser.add_argument("--rounds", type=int, default=5, help="median of this many ticks")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edo-stats-bench-") as tmp:
        folder = Path(tmp)
        base = folder / "base.sqlite3"
        started = time.perf_counter()
        build(base, args.docs)
        print(f"built {args.docs:,} documents in {time.perf_counter() - started:.1f} s")
        seconds, rss = first_evaluation(base)
        print(f"first-ever evaluation, statistics from scratch: {seconds:.1f} s, peak {rss:.0f} MB")
        a_day(base, args.docs)
        times: dict[str, list[float]] = {"plain": [], "stats": []}
        answers: dict[str, set[tuple[str, str]]] = {}
        for _ in range(args.rounds):
            for kind, spent_times in times.items():
                spent, due = tick(base, kind, folder)
                spent_times.append(spent)
                answers.setdefault(kind, due)
        plain, stats = (statistics.median(times[k]) * 1000 for k in ("plain", "stats"))
        same = answers["plain"] == answers["stats"]
        extra = (stats / plain - 1) * 100
        print(
            f"tick at NOW, median of {args.rounds}: plain {plain:.0f} ms, with counterparty.stats"
            f" {stats:.0f} ms: {stats / plain:.2f}x ({extra:+.1f} %; goal < +10 %)"
        )
        print(f"due sets identical (plain, stats): {same}; {len(answers['plain'])} firing(s)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
