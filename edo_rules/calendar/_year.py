"""One year precomputed for O(1) lookups: what each day is, and cumulative counts.

A :class:`YearTable` holds, for every day of the year, whether it is a working
day and a short day, the cumulative count of working days, and the sorted
ordinals of the working days. ``is_working_day`` is then an index into a byte
string, and adding or counting working days is arithmetic on the cumulative
table instead of a walk over days.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import accumulate

from edo_rules.calendar._data import YearData, YearStatus
from edo_rules.calendar._overrides import OverrideEntry

_SATURDAY = 5
_WEEKDAYS = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")


class DayKind(enum.StrEnum):
    """Why a day is what it is, coarsely (the reason text says it precisely)."""

    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    DAY_OFF = "day_off"
    WORKING_WEEKEND = "working_weekend"
    DECREE_DAY = "decree_day"


@dataclass(frozen=True, slots=True)
class DayInfo:
    """The answer to "what is this day and why" (see ``ProductionCalendar.explain_day``)."""

    date: dt.date
    working: bool
    short: bool
    kind: DayKind
    reason: str
    year_status: YearStatus
    source: str


@dataclass(slots=True)
class _Day:
    working: bool
    short: bool
    kind: DayKind
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class YearTable:
    """A year's days, ready for constant-time queries."""

    year: int
    status: YearStatus
    source: str
    start: int  # ordinal of 1 January
    working: bytes  # 1 per working day, by day of year (0-based)
    short: bytes
    cum: tuple[int, ...]  # cum[i] = working days among the first i days of the year
    work_ords: tuple[int, ...]  # ordinals of the working days, ascending
    notes: Mapping[int, tuple[DayKind, str]]  # ordinal -> kind and reason, listed days only
    total: int  # working days in the year (a field, not a property: it is on the hot path)

    def explain(self, day: dt.date) -> DayInfo:
        """Classify ``day`` (which must fall in this year) with the reason."""
        index = day.toordinal() - self.start
        kind, reason = self.notes.get(day.toordinal()) or _plain(day)
        return DayInfo(
            date=day,
            working=bool(self.working[index]),
            short=bool(self.short[index]),
            kind=kind,
            reason=reason,
            year_status=self.status,
            source=self.source,
        )


def build_table(
    data: YearData,
    fixed: Mapping[tuple[int, int], str],
    overrides: Iterable[OverrideEntry],
    include_decree_days: bool,
) -> YearTable:
    """Lay the year's data (and the user's overrides) over a Monday-to-Friday week."""
    days = _base_days(data.year, fixed)
    _apply_data(days, data, fixed, include_decree_days)
    for entry in overrides:
        _apply_override(days[entry.date], entry)
    return _freeze(data, days)


def _base_days(year: int, fixed: Mapping[tuple[int, int], str]) -> dict[dt.date, _Day]:
    first = dt.date(year, 1, 1)
    days: dict[dt.date, _Day] = {}
    for offset in range((dt.date(year + 1, 1, 1) - first).days):
        day = first + dt.timedelta(days=offset)
        weekend = day.weekday() >= _SATURDAY
        kind = DayKind.WEEKEND if weekend else DayKind.WORKDAY
        days[day] = _Day(working=not weekend, short=False, kind=kind, reasons=[])
        name = fixed.get((day.month, day.day))
        if name is not None and weekend:
            days[day].kind = DayKind.HOLIDAY
            days[day].reasons.append(f"нерабочий праздничный день ({name}), совпал с выходным")
    return days


def _apply_data(
    days: dict[dt.date, _Day],
    data: YearData,
    fixed: Mapping[tuple[int, int], str],
    include_decree_days: bool,
) -> None:
    for note in data.days_off:
        day = days[note.date]
        holiday = (note.date.month, note.date.day) in fixed
        day.working, day.short = False, False
        day.kind = DayKind.HOLIDAY if holiday else DayKind.DAY_OFF
        day.reasons = [note.reason]
    for note in data.working_days:
        day = days[note.date]
        day.working, day.kind, day.reasons = True, DayKind.WORKING_WEEKEND, [note.reason]
    for note in data.short_days:
        day = days[note.date]
        day.short = day.working
        day.reasons.append(note.reason)
    if include_decree_days:
        for note in data.decree_days:
            day = days[note.date]
            day.working, day.short, day.kind = False, False, DayKind.DECREE_DAY
            day.reasons = [note.reason]


def _apply_override(day: _Day, entry: OverrideEntry) -> None:
    if entry.section == "days_off":
        day.working, day.short, day.kind = False, False, DayKind.DAY_OFF
        day.reasons = [f"выходной по файлу переопределений: {entry.reason}"]
        return
    if not day.working:
        day.kind = DayKind.WORKING_WEEKEND if day.kind == DayKind.WEEKEND else DayKind.WORKDAY
        day.reasons = []
    day.working = True
    if entry.section == "short_days":
        day.short = True
        day.reasons.append(f"сокращённый день по файлу переопределений: {entry.reason}")
    else:
        day.short = False
        day.reasons = [f"рабочий день по файлу переопределений: {entry.reason}"]


def _freeze(data: YearData, days: dict[dt.date, _Day]) -> YearTable:
    ordered = sorted(days.items())
    working = bytes(day.working for _, day in ordered)
    start = ordered[0][0].toordinal()
    cum = (0, *accumulate(working))
    return YearTable(
        year=data.year,
        status=data.status,
        source=data.source,
        start=start,
        working=working,
        short=bytes(day.short for _, day in ordered),
        cum=cum,
        work_ords=tuple(start + i for i, flag in enumerate(working) if flag),
        notes={
            d.toordinal(): (day.kind, "; ".join(day.reasons)) for d, day in ordered if day.reasons
        },
        total=cum[-1],
    )


def _plain(day: dt.date) -> tuple[DayKind, str]:
    name = _WEEKDAYS[day.weekday()]
    if day.weekday() >= _SATURDAY:
        return DayKind.WEEKEND, f"выходной день ({name})"
    return DayKind.WORKDAY, f"обычный рабочий день ({name})"
