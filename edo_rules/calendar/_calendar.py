"""``ProductionCalendar``: working days of the official Russian production calendar."""

from __future__ import annotations

import datetime as dt
import sys
import warnings
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from edo_rules._messages import Text, msg
from edo_rules.calendar._data import CalendarData, YearStatus, bundled
from edo_rules.calendar._derive import derive_year
from edo_rules.calendar._flat import FlatIndex, adopted_run, fill
from edo_rules.calendar._overrides import OverrideEntry, load_overrides
from edo_rules.calendar._year import DayInfo, YearTable, build_table
from edo_rules.errors import CalendarError, CalendarWarning

#: Years the calendar answers for. The current art. 112 holiday list is in force
#: since 2013; past 2099 a derived year would be guesswork piled on guesswork.
FIRST_YEAR = 2013
LAST_YEAR = 2099


def _as_date(value: object) -> dt.date:
    # A datetime is a date subclass whose comparisons with dates fail; reduce it.
    if type(value) is dt.date:
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    raise CalendarError(msg("cal_expected_date", type=type(value).__name__, value=value))


class ProductionCalendar:
    """Working days, short days and working-time norms of the Russian production calendar.

    Build it with :meth:`russia`. Years in the bundled data are answered from it;
    any other year from :data:`FIRST_YEAR` to :data:`LAST_YEAR` is derived from
    Labour Code art. 112 and announced once per year with a
    :class:`~edo_rules.errors.CalendarWarning`. Every method accepts a ``date``;
    a ``datetime`` is reduced to its own ``.date()`` (convert it to the wanted
    time zone first). Dates outside the supported years raise
    :class:`~edo_rules.errors.CalendarError`.

    Queries are answered from per-year precomputed tables: ``is_working_day`` is
    an index lookup, and ``add_working_days`` / ``working_days_between`` cost
    O(1) per calendar year spanned, never a walk over days.
    """

    def __init__(
        self,
        data: CalendarData,
        overrides: Iterable[OverrideEntry] = (),
        *,
        include_decree_days: bool = False,
    ) -> None:
        self._data = data
        self._decree = include_decree_days
        self._overrides: dict[int, list[OverrideEntry]] = defaultdict(list)
        for entry in overrides:
            if not FIRST_YEAR <= entry.date.year <= LAST_YEAR:
                raise CalendarError(
                    msg("cal_entry_outside", date=entry.date, first=FIRST_YEAR, last=LAST_YEAR),
                    file=entry.file,
                    line=entry.line,
                )
            self._overrides[entry.date.year].append(entry)
        self._tables: dict[int, YearTable] = {}
        # Filled on the first query (building 13 years at construction would
        # slow every short-lived calendar); until then every look-up misses.
        self._flat = FlatIndex()
        self._flat_built = False
        self._working = self._flat.working

    @classmethod
    def russia(
        cls, overrides: str | Path | None = None, include_decree_days: bool = False
    ) -> ProductionCalendar:
        """The bundled official calendar, optionally with a user override file.

        Args:
            overrides: a YAML file of extra days off, working days and short days
                (see ``docs/calendar.md``); it wins over the bundled data.
            include_decree_days: count the 2020/2021 presidential non-working
                days as days off. Off by default: the official working-time norm
                and the courts count them as working days.

        Raises:
            CalendarError: the override file is missing or malformed (with file and line).
        """
        entries = load_overrides(overrides) if overrides is not None else ()
        return cls(bundled(), entries, include_decree_days=include_decree_days)

    def __repr__(self) -> str:
        years = self.bundled_years
        count = sum(len(entries) for entries in self._overrides.values())
        return (
            f"<ProductionCalendar data {years.start}-{years.stop - 1}, {count} override(s), "
            f"decree days {'on' if self._decree else 'off'}>"
        )

    @property
    def bundled_years(self) -> range:
        """The years the bundled data covers (the others are derived)."""
        years = self._data.years
        return range(min(years), max(years) + 1)

    def year_status(self, year: int) -> YearStatus:
        """How sure the year is: ``"adopted"`` (government decree), ``"draft"`` or ``"derived"``."""
        _check_year(year)
        data = self._data.years.get(year)
        return data.status if data is not None else "derived"

    def is_working_day(self, d: dt.date) -> bool:
        """Whether ``d`` is a working day (short days included)."""
        try:
            return self._working[d]
        except (KeyError, TypeError):  # a datetime, a day outside the run, or not a date
            day = _as_date(d)
        if self._build_flat():
            return self.is_working_day(day)
        table = self._table(day.year)
        return bool(table.working[day.toordinal() - table.start])

    def is_short_day(self, d: dt.date) -> bool:
        """Whether ``d`` is a working day one hour shorter (the eve of a holiday)."""
        day = _as_date(d)
        table = self._tables.get(day.year) or self._table(day.year)
        return bool(table.short[day.toordinal() - table.start])

    def explain_day(self, d: dt.date) -> DayInfo:
        """What ``d`` is (working, short, kind) and why, with the year's source and status."""
        day = _as_date(d)
        return self._table(day.year).explain(day)

    def next_working_day(self, d: dt.date) -> dt.date:
        """The first working day strictly after ``d``."""
        return self.add_working_days(d, 1)

    def previous_working_day(self, d: dt.date) -> dt.date:
        """The last working day strictly before ``d``."""
        return self.add_working_days(d, -1)

    def add_working_days(self, d: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``d`` (``n`` > 0) or before it (``n`` < 0).

        ``d`` itself is never counted: ``add_working_days(d, 1)`` is the next
        working day and ``add_working_days(d, -1)`` the previous one, whether or
        not ``d`` is a working day. ``n == 0`` returns ``d`` when it is a working
        day, otherwise the next working day (a term of zero days that starts on a
        day off ends on the first working day).

        For every ``d`` and ``n != 0``:
        ``working_days_between(d, add_working_days(d, n)) == n``.
        """
        flat = self._flat
        try:
            ordinal = d.toordinal()
            if n > 0:
                return dt.date.fromordinal(flat.work_ords[flat.upto[ordinal] + n - 1])
            if n < 0 and flat.before[ordinal] + n >= 0:
                return dt.date.fromordinal(flat.work_ords[flat.before[ordinal] + n])
        except (KeyError, IndexError, AttributeError):
            pass
        return self._add_slow(_as_date(d), n)

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working-day steps from ``a`` to ``b``: the inverse of :meth:`add_working_days`.

        For ``b >= a`` it counts the working days in ``(a, b]`` (``a`` excluded,
        ``b`` included, as a term runs from the day after the event). For
        ``b < a`` it is minus the number of working days in ``[b, a)``, mirroring
        the backward walk. So ``add_working_days(a, working_days_between(a, b))
        == b`` whenever ``b`` is a working day and differs from ``a``.
        """
        upto, before = self._flat.upto, self._flat.before
        try:
            first, last = a.toordinal(), b.toordinal()
            if last >= first:
                return upto[last] - upto[first]
            return before[last] - before[first]
        except (KeyError, AttributeError):
            pass
        start, end = _as_date(a), _as_date(b)
        if self._build_flat():
            return self.working_days_between(start, end)
        if end >= start:
            return self._rank(end, inclusive=True) - self._rank_from(start, end, inclusive=True)
        return -(self._rank(start, inclusive=False) - self._rank_from(end, start, inclusive=False))

    def working_days_in(self, year: int, month: int | None = None) -> int:
        """Working days in a year, or in one month of it."""
        table = self._table(year)
        first, last = _span(year, month)
        return table.cum[last - table.start] - table.cum[first - table.start]

    def short_days_in(self, year: int, month: int | None = None) -> int:
        """Short (pre-holiday) working days in a year, or in one month of it."""
        table = self._table(year)
        first, last = _span(year, month)
        return sum(table.short[first - table.start : last - table.start])

    def hours_in(self, year: int, month: int | None = None, week_hours: float = 40) -> float:
        """The working-time norm in hours: ``working_days * week_hours / 5 - short_days``.

        This is the official method (Minzdravsotsrazvitiya order No. 588n):
        a short day is one hour shorter whatever the week length.
        """
        if not 0 < week_hours <= 40:
            raise CalendarError(msg("cal_week_hours", value=week_hours))
        days = self.working_days_in(year, month)
        return days * week_hours / 5 - self.short_days_in(year, month)

    def _add_slow(self, day: dt.date, n: int) -> dt.date:
        if n == 0:
            return day if self.is_working_day(day) else self.add_working_days(day, 1)
        if self._build_flat():
            return self.add_working_days(day, n)
        table = self._table(day.year)
        index = day.toordinal() - table.start
        if n > 0:
            rank = table.cum[index + 1] + n
            if rank <= table.total:  # the common case: the answer is in the same year
                return dt.date.fromordinal(table.work_ords[rank - 1])
            return self._forward(table, rank)
        return self._backward(table, table.cum[index] + n)

    def _build_flat(self) -> bool:
        """Build the flat index once; True when it was built now (the caller retries)."""
        if self._flat_built:
            return False
        self._flat_built = True
        run = adopted_run({year: data.status for year, data in self._data.years.items()})
        run = range(max(run.start, FIRST_YEAR), min(run.stop, LAST_YEAR + 1)) if run else run
        fill(self._flat, (self._table(year) for year in run))
        return bool(run)

    def _table(self, year: int) -> YearTable:
        table = self._tables.get(year)
        if table is None:
            table = self._tables[year] = self._build(year)
        return table

    def _build(self, year: int) -> YearTable:
        _check_year(year)
        data = self._data.years.get(year) or derive_year(year, self._data.fixed_holidays)
        table = build_table(
            data, self._data.fixed_holidays, self._overrides.get(year, ()), self._decree
        )
        if data.status != "adopted":
            # The warning's text is rendered when shown (the admin's language, or the log's).
            warning = CalendarWarning(_unconfirmed(year, data.status))
            warnings.warn(warning, stacklevel=_outside())
        return table

    def _forward(self, table: YearTable, rank: int) -> dt.date:
        # rank: 1-based position of the wanted working day counted from 1 January of table.year
        while rank > table.total:
            rank -= table.total
            table = self._table(table.year + 1)
        return dt.date.fromordinal(table.work_ords[rank - 1])

    def _backward(self, table: YearTable, index: int) -> dt.date:
        # index: 0-based position within table.year; negative reaches into earlier years
        while index < 0:
            table = self._table(table.year - 1)
            index += table.total
        return dt.date.fromordinal(table.work_ords[index])

    def _rank(self, day: dt.date, *, inclusive: bool) -> int:
        table = self._table(day.year)
        return table.cum[day.toordinal() - table.start + inclusive]

    def _rank_from(self, day: dt.date, later: dt.date, *, inclusive: bool) -> int:
        """``_rank(day)`` re-based to ``later``'s year: minus the full years in between."""
        rank = self._rank(day, inclusive=inclusive)
        for year in range(day.year, later.year):
            rank -= self._table(year).total
        return rank


_PACKAGE_DIR = str(Path(__file__).parent)


def _outside() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside this package."""
    frame = sys._getframe(1)  # the frame that calls warnings.warn
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


def _check_year(year: int) -> None:
    if isinstance(year, bool) or not isinstance(year, int):
        raise CalendarError(msg("cal_year_type", value=year))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CalendarError(msg("cal_year_outside", year=year, first=FIRST_YEAR, last=LAST_YEAR))


def _span(year: int, month: int | None) -> tuple[int, int]:
    """Ordinals [first, last) of the year or of the month."""
    _check_year(year)
    if month is None:
        return dt.date(year, 1, 1).toordinal(), dt.date(year + 1, 1, 1).toordinal()
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise CalendarError(msg("cal_month", value=month))
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return dt.date(year, month, 1).toordinal(), nxt.toordinal()


def _unconfirmed(year: int, status: str) -> Text:
    return msg("cal_draft" if status == "draft" else "cal_derived", year=year)
