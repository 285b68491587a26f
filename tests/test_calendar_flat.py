"""The flat index over the adopted years answers exactly as the per-year tables do.

The oracle is built from ``explain_day`` (the per-year tables, never the flat
index) and plain ``bisect`` arithmetic, over every day of 2014-2029 — across
the edges of the bundled run, where a query falls back to the per-year path.
"""

from __future__ import annotations

import bisect
import datetime as dt
import warnings
from pathlib import Path

import pytest

from edo_rules.calendar import ProductionCalendar
from edo_rules.errors import CalendarWarning

FIRST, LAST = dt.date(2014, 1, 1), dt.date(2029, 12, 31)


def _oracle(cal: ProductionCalendar) -> list[int]:
    days = (dt.date.fromordinal(o) for o in range(FIRST.toordinal(), LAST.toordinal() + 1))
    return [d.toordinal() for d in days if cal.explain_day(d).working]


def _check(cal: ProductionCalendar) -> None:
    ords = _oracle(cal)
    work = set(ords)
    for ordinal in range(FIRST.toordinal() + 40, LAST.toordinal() - 40):
        day = dt.date.fromordinal(ordinal)
        assert cal.is_working_day(day) == (ordinal in work), day
        after = bisect.bisect_right(ords, ordinal)
        before = bisect.bisect_left(ords, ordinal)
        for n in (1, 3, 17):
            assert cal.add_working_days(day, n).toordinal() == ords[after + n - 1], (day, n)
            assert cal.add_working_days(day, -n).toordinal() == ords[before - n], (day, -n)
        later = dt.date.fromordinal(ordinal + 30)
        expected = bisect.bisect_right(ords, later.toordinal()) - after
        assert cal.working_days_between(day, later) == expected, day
        assert cal.working_days_between(later, day) == -(
            bisect.bisect_left(ords, later.toordinal()) - before
        )


@pytest.fixture(autouse=True)
def _quiet() -> None:
    warnings.simplefilter("ignore", CalendarWarning)


def test_flat_index_matches_year_tables() -> None:
    _check(ProductionCalendar.russia())


def test_flat_index_applies_overrides(tmp_path: Path) -> None:
    path = tmp_path / "days.yaml"
    path.write_text(
        "days_off:\n  - {date: 2024-05-06, comment: приказ}\n"
        "working_days:\n  - {date: 2026-12-26, comment: отработка}\n",
        encoding="utf-8",
    )
    cal = ProductionCalendar.russia(path)
    assert not cal.is_working_day(dt.date(2024, 5, 6))
    assert cal.is_working_day(dt.date(2026, 12, 26))
    _check(cal)


def test_first_query_outside_the_run_still_warns() -> None:
    cal = ProductionCalendar.russia()
    assert cal.is_working_day(dt.date(2024, 5, 6))  # builds the flat index
    with pytest.warns(CalendarWarning, match="2031"):
        cal.add_working_days(dt.date(2031, 3, 2), 2)
