"""Cross-check against the third-party ``holidays`` package (a test dependency only)."""

from __future__ import annotations

import datetime as dt

from holidays.countries.russia import Russia as HolidaysRussia

from edo_rules.calendar import ProductionCalendar


def test_zero_disagreements_with_holidays_package_2015_2027() -> None:
    cal = ProductionCalendar.russia()  # decree days excluded: holidays counts them as working too
    theirs = HolidaysRussia(years=range(2015, 2028))  # type: ignore[no-untyped-call]
    day, disagreements = dt.date(2015, 1, 1), []
    while day.year < 2028:
        if cal.is_working_day(day) != theirs.is_working_day(day):
            disagreements.append(day)
        day += dt.timedelta(days=1)
    assert disagreements == []


def test_holidays_package_knows_the_2024_transfers() -> None:
    # Guards the cross-check itself: it must see the decree transfers, not a plain week.
    theirs = HolidaysRussia(years=2024)  # type: ignore[no-untyped-call]
    assert theirs.is_working_day(dt.date(2024, 4, 27))
    assert not theirs.is_working_day(dt.date(2024, 4, 29))
