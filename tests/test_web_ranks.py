"""The working-day rank of a stored UTC moment's local day, as each dialect joins it.

PostgreSQL joins the rank table on the UTC day and picks that day's rank, the
next one's or the previous one's by the time of day; SQLite computes the local
date. Both must give the rank of the local day, and no row for a day the table
lacks, at every offset and on both sides of each cut-off.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta

import pytest

from edo_rules.calendar import ProductionCalendar
from edo_rules.store._sqlite_dashboard import working_day_ranks
from edo_rules.web._pg_sql import PostgresReader
from edo_rules.web._sql import RANKS_INSERT, RANKS_TABLE, Dialect, PgDialect, rank_rows

CALENDAR = ProductionCalendar.russia()
#: West and east of UTC, whole hours and not (Newfoundland, India), the widest (Kiribati).
OFFSETS = (-12 * 60, -210, -60, 0, 180, 330, 840)


def _moments() -> list[str]:
    """UTC texts as the stores write them, around every offset's cut-off, with and
    without a fraction, on ordinary days, at New Year and at the table's two ends."""
    days = [date(2013, 1, 1), date(2024, 12, 31), date(2025, 1, 8), date(2026, 5, 8)]
    days += [date(2060, 12, 31)]
    texts = []
    for day in days:
        for offset in OFFSETS:
            cut = datetime(day.year, day.month, day.day) + timedelta(minutes=(-offset) % 1440)
            for moment in (cut - timedelta(seconds=1), cut, cut + timedelta(microseconds=1)):
                if moment.date() == day:
                    texts.append(moment.isoformat() + "+00:00")
        texts += [f"{day.isoformat()}T00:00:00+00:00", f"{day.isoformat()}T23:59:59.999999+00:00"]
    return sorted(set(texts))


def _expected(offset: int) -> dict[str, int | None]:
    ranks = dict(working_day_ranks(CALENDAR))
    out: dict[str, int | None] = {}
    for text in _moments():
        local = datetime.fromisoformat(text) + timedelta(minutes=offset)
        out[text] = ranks.get(local.date().isoformat())
    return out


def _ranked(rows: list[tuple[object, ...]]) -> dict[str, int | None]:
    found: dict[str, int | None] = dict.fromkeys(_moments())
    for text, rank in rows:
        assert isinstance(text, str) and isinstance(rank, int)
        found[text] = rank
    return found


def _query(dialect: Dialect) -> str:
    join, rank = dialect.rank_of("r", "d.m")
    values = ", ".join("(?)" for _ in _moments())
    return f"SELECT d.m, {rank} FROM (VALUES {values}) AS d (m) {join}"


def test_the_rank_rows_hold_each_days_neighbours() -> None:
    rows = rank_rows(working_day_ranks(CALENDAR))
    assert [(day, rank) for day, rank, _, _ in rows] == working_day_ranks(CALENDAR)
    assert rows[0][2] is None and rows[-1][3] is None
    for before, row, after in zip(rows, rows[1:], rows[2:], strict=False):
        assert row[2] == before[1] and row[3] == after[1]


@pytest.mark.parametrize("offset", OFFSETS)
def test_sqlite_ranks_the_local_day(offset: int) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(RANKS_TABLE)
    conn.executemany(RANKS_INSERT, rank_rows(working_day_ranks(CALENDAR)))
    # SQLite's VALUES has no column list: the first column is named column1.
    sql = _query(Dialect(offset)).replace("AS d (m)", "AS d").replace("d.m", "d.column1")
    found, expected = _ranked(conn.execute(sql, _moments()).fetchall()), _expected(offset)
    # SQLite's date() rounds to the millisecond: the last half millisecond of a local day
    # is the next day's (its summary, kept by the same function, agrees).
    late = {t for t in expected if t.endswith("23:59:59.999999+00:00")}
    assert {t: found[t] for t in expected if t not in late} == {
        t: rank for t, rank in expected.items() if t not in late
    }


@pytest.mark.postgres
@pytest.mark.parametrize("offset", OFFSETS)
def test_postgresql_ranks_the_local_day_from_the_utc_day(pg_database: str, offset: int) -> None:
    reader = PostgresReader(pg_database, CALENDAR)
    try:
        found = _ranked(reader.rows(_query(PgDialect(offset)), _moments()))
    finally:
        reader.close()
    expected = _expected(offset)
    assert found == expected
    # The table's ends are among the moments: some have no local day in it.
    assert None in expected.values() or offset == 0
