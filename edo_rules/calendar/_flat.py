"""One index over the contiguous run of adopted bundled years, keyed by date ordinal.

Almost every query an engine makes falls in the bundled, adopted years, so
those years are laid into three dictionaries keyed by ``date.toordinal()``:
whether the day is a working day (keyed by the date) and the count of working days before and up
to it, counted from the first day of the run. ``is_working_day`` is then one
dictionary look-up, and ``add_working_days`` / ``working_days_between`` are two
look-ups and an index into the run's working-day ordinals — no year arithmetic,
no branching on year boundaries. Days outside the run (derived or draft years,
which must warn on first use) are answered by the per-year tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from edo_rules.calendar._year import YearTable


@dataclass(frozen=True, slots=True)
class FlatIndex:
    """Working days of consecutive years, ready for O(1) queries by ordinal."""

    working: dict[dt.date, bool] = field(default_factory=dict)  # keyed by the date itself
    before: dict[int, int] = field(default_factory=dict)  # working days strictly before
    upto: dict[int, int] = field(default_factory=dict)  # working days up to and including
    work_ords: list[int] = field(default_factory=list)  # the run's working days, ascending


def fill(index: FlatIndex, tables: Iterable[YearTable]) -> None:
    """Lay consecutive year tables end to end into ``index`` (the caller passes them in order).

    Filled in place, so that a caller may keep direct references to the dictionaries
    (one attribute look-up less on the hot path).
    """
    count = 0
    for table in tables:
        for offset, flag in enumerate(table.working):
            ordinal = table.start + offset
            # Keyed by date, not ordinal: a date caches its hash, so the look-up
            # skips the toordinal() call that dominates a one-line query.
            index.working[dt.date.fromordinal(ordinal)] = bool(flag)
            index.before[ordinal] = count
            if flag:
                count += 1
                index.work_ords.append(ordinal)
            index.upto[ordinal] = count


def adopted_run(statuses: dict[int, str]) -> range:
    """The longest run of consecutive adopted years (empty when there is none)."""
    best = range(0)
    for year in sorted(statuses):
        if statuses[year] != "adopted" or statuses.get(year - 1) == "adopted":
            continue
        end = year
        while statuses.get(end + 1) == "adopted":
            end += 1
        if end + 1 - year > len(best):
            best = range(year, end + 1)
    return best
