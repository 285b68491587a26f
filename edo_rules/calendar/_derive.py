"""Deriving a year the data does not cover, from Labour Code art. 112.

The derivation knows only the law, not the yearly government decree: fixed
holidays are days off; a holiday on a weekend moves the day off to the next
working day, except the January holidays (their moves are decided by the decree
each year, so here they simply do not move); the working day right before a
holiday is one hour shorter (art. 95). Real years usually differ by a few
decree bridges, which is why a derived year is always announced with a warning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from edo_rules.calendar._data import DayNote, YearData

_ONE_DAY = dt.timedelta(days=1)
_SATURDAY = 5
_LAW = "ст. 112 ТК РФ"


def derive_year(year: int, fixed: Mapping[tuple[int, int], str]) -> YearData:
    """Build the year's days off and short days from art. 112 alone (status ``derived``)."""
    holidays = {dt.date(year, m, d): name for (m, d), name in fixed.items()}
    days_off = [
        DayNote(day, f"нерабочий праздничный день: {name}")
        for day, name in sorted(holidays.items())
        if day.weekday() < _SATURDAY
    ]
    days_off += _moved_days_off(holidays)
    days_off.sort(key=lambda note: note.date)
    off = {note.date for note in days_off}
    return YearData(
        year=year,
        status="derived",
        source=f"выведен по {_LAW} без постановления Правительства о переносах",
        days_off=tuple(days_off),
        working_days=(),
        short_days=tuple(_short_days(year, fixed, off)),
        decree_days=(),
    )


def _moved_days_off(holidays: Mapping[dt.date, str]) -> list[DayNote]:
    taken: set[dt.date] = set()
    moved: list[DayNote] = []
    for day, name in sorted(holidays.items()):
        if day.month == 1 or day.weekday() < _SATURDAY:
            continue
        target = day + _ONE_DAY
        while target.weekday() >= _SATURDAY or target in holidays or target in taken:
            target += _ONE_DAY
        if target.year != day.year:
            continue  # the move would leave the year; the next year's decree decides
        taken.add(target)
        reason = (
            f"выходной день перенесён: праздник {day:%d.%m.%Y} ({name}) "
            f"совпал с выходным днём ({_LAW})"
        )
        moved.append(DayNote(target, reason))
    return moved


def _short_days(
    year: int, fixed: Mapping[tuple[int, int], str], off: set[dt.date]
) -> list[DayNote]:
    # 31 December is the eve of next year's 1 January, so look one year ahead too.
    ahead = [(dt.date(y, m, d), name) for y in (year, year + 1) for (m, d), name in fixed.items()]
    shorts = []
    for day, name in sorted(ahead):
        eve = day - _ONE_DAY
        if eve.year == year and eve.weekday() < _SATURDAY and eve not in off:
            reason = (
                f"предпраздничный день, короче на 1 час (ст. 95 ТК РФ): "
                f"перед праздником {day:%d.%m.%Y}, {name}"
            )
            shorts.append(DayNote(eve, reason))
    return shorts
