"""Property tests: add_working_days and working_days_between agree with each other."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edo_rules.calendar import CalendarWarning, ProductionCalendar

# Mostly the bundled years, reaching into derived ones on both sides.
dates = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2029, 12, 31))
steps = st.integers(min_value=-400, max_value=400)
positive = st.integers(min_value=1, max_value=400)


@pytest.fixture(scope="module")
def cal() -> ProductionCalendar:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalendarWarning)
        calendar = ProductionCalendar.russia()
        for year in range(2013, 2032):  # build every reachable year once, warnings aside
            calendar.working_days_in(year)
    return calendar


@settings(max_examples=300, deadline=None)
@given(day=dates, n=steps)
def test_between_inverts_add(cal: ProductionCalendar, day: dt.date, n: int) -> None:
    target = cal.add_working_days(day, n)
    expected = n if n != 0 or cal.is_working_day(day) else (1 if target > day else 0)
    assert cal.working_days_between(day, target) == expected


@settings(max_examples=300, deadline=None)
@given(a=dates, b=dates)
def test_add_inverts_between(cal: ProductionCalendar, a: dt.date, b: dt.date) -> None:
    n = cal.working_days_between(a, b)
    if cal.is_working_day(b) and (a != b):
        assert cal.add_working_days(a, n) == b
    elif n != 0:
        # b is a day off: the walk stops at the last working day before it (forward)
        # or the first working day after it (backward).
        landed = cal.add_working_days(a, n)
        assert landed == (cal.previous_working_day(b) if b > a else cal.next_working_day(b))


@settings(max_examples=300, deadline=None)
@given(day=dates, n=positive)
def test_adding_lands_on_a_working_day(cal: ProductionCalendar, day: dt.date, n: int) -> None:
    assert cal.is_working_day(cal.add_working_days(day, n))
    assert cal.is_working_day(cal.add_working_days(day, -n))
    assert cal.add_working_days(day, n) > day > cal.add_working_days(day, -n)


@settings(max_examples=300, deadline=None)
@given(a=dates, b=dates, n=steps)
def test_monotonic(cal: ProductionCalendar, a: dt.date, b: dt.date, n: int) -> None:
    early, late = min(a, b), max(a, b)
    assert cal.add_working_days(early, n) <= cal.add_working_days(late, n)
    assert cal.add_working_days(a, n) <= cal.add_working_days(a, n + 1)
    assert cal.working_days_between(a, early) <= cal.working_days_between(a, late)


@settings(max_examples=200, deadline=None)
@given(a=dates, b=dates, c=dates)
def test_between_is_additive_forward(
    cal: ProductionCalendar, a: dt.date, b: dt.date, c: dt.date
) -> None:
    x, y, z = sorted((a, b, c))
    assert cal.working_days_between(x, z) == (
        cal.working_days_between(x, y) + cal.working_days_between(y, z)
    )


@settings(max_examples=200, deadline=None)
@given(a=dates, b=dates)
def test_between_matches_a_day_by_day_count(
    cal: ProductionCalendar, a: dt.date, b: dt.date
) -> None:
    lo, hi = min(a, b), max(a, b)
    days = [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]
    if b >= a:
        expected = sum(cal.is_working_day(d) for d in days[1:])  # (a, b]
    else:
        expected = -sum(cal.is_working_day(d) for d in days[:-1])  # -[b, a)
    assert cal.working_days_between(a, b) == expected
