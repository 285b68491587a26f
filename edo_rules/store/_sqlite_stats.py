"""Counterparty statistics in SQLite: per-document samples and per-counterparty histograms.

A sample is one decided outgoing document (signed, with the working days it
took, or rejected). The histogram keeps, per counterparty, month, outcome and
working-day count, how many samples there are; replacing a sample moves one
unit from its old bucket to its new one in the same transaction, so the
histogram always equals the samples without ever being rebuilt.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from edo_rules._codec import parse_datetime
from edo_rules.store._sql import Connection
from edo_rules.store.base import CounterpartySample, SigningFacts

_FACTS = (
    "SELECT seq, id, counterparty_inn, direction, sent_at, counterparty_signed_at, rejected_at"
    " FROM documents INDEXED BY documents_seq"
    " WHERE (seq, id) > (?, ?) AND seq <= ? ORDER BY seq, id LIMIT ?"
)
_BUMP = (
    "INSERT INTO counterparty_histogram (inn, month, outcome, working_days, count)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (inn, month, outcome, working_days)"
    " DO UPDATE SET count = counterparty_histogram.count + excluded.count"
)
_PUT = (
    "INSERT INTO counterparty_samples (document_id, inn, month, outcome, working_days)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (document_id) DO UPDATE SET inn = excluded.inn,"
    " month = excluded.month, outcome = excluded.outcome, working_days = excluded.working_days"
)


def stats_seq(conn: Connection) -> int:
    row = conn.execute("SELECT value FROM counters WHERE name = 'stats_seq'").fetchone()
    return int(row[0])


def signing_facts(
    conn: Connection, after: tuple[int, str], up_to_seq: int, limit: int, *, hint: bool = True
) -> list[SigningFacts]:
    """``hint=False`` leaves out SQLite's index hint (PostgreSQL's planner needs none)."""
    query = _FACTS if hint else _FACTS.replace(" INDEXED BY documents_seq", "")
    rows = conn.execute(query, (*after, up_to_seq, limit)).fetchall()
    return [
        SigningFacts(seq, doc_id, inn, direction, _dt(sent), _dt(signed), _dt(rejected))
        for seq, doc_id, inn, direction, sent, signed, rejected in rows
    ]


def _dt(text: str | None) -> datetime | None:
    return None if text is None else parse_datetime(text)


def apply_samples(conn: Connection, samples: Sequence[CounterpartySample], seq: int) -> None:
    """Inside the caller's write transaction: set-based, a few statements per chunk."""
    old = _old_samples(conn, [sample.document_id for sample in samples])
    delta: Counter[tuple[object, ...]] = Counter()
    puts: list[tuple[object, ...]] = []
    gone: list[tuple[str]] = []
    for sample in samples:
        before = old.get(sample.document_id)
        after = (sample.inn, sample.month, sample.outcome, sample.working_days)
        decided = sample.outcome is not None and sample.inn is not None and sample.month is not None
        if before == after or (before is None and not decided):
            continue
        if before is not None:
            delta[before] -= 1
        if decided:
            delta[after] += 1
            puts.append((sample.document_id, *after))
        else:
            gone.append((sample.document_id,))
    conn.executemany(_BUMP, [(*bucket, change) for bucket, change in delta.items() if change])
    conn.executemany(_PUT, puts)
    conn.executemany("DELETE FROM counterparty_samples WHERE document_id = ?", gone)
    if any(change < 0 for change in delta.values()):
        conn.execute("DELETE FROM counterparty_histogram WHERE count <= 0")
    conn.execute("UPDATE counters SET value = ? WHERE name = 'stats_seq'", (seq,))


def _old_samples(conn: Connection, document_ids: list[str]) -> dict[str, tuple[object, ...]]:
    found: dict[str, tuple[object, ...]] = {}
    for start in range(0, len(document_ids), 500):
        part = document_ids[start : start + 500]
        marks = ",".join("?" * len(part))
        rows = conn.execute(
            "SELECT document_id, inn, month, outcome, working_days FROM counterparty_samples"
            f" WHERE document_id IN ({marks})",
            part,
        )
        found.update((row[0], tuple(row[1:])) for row in rows)
    return found


def histogram(conn: Connection, inn: str, since_month: str) -> list[tuple[str, int, int]]:
    rows = conn.execute(
        "SELECT outcome, working_days, SUM(count) FROM counterparty_histogram"
        " WHERE inn = ? AND month >= ? GROUP BY outcome, working_days",
        (inn, since_month),
    ).fetchall()
    return [(str(outcome), int(days), int(count)) for outcome, days, count in rows]
