"""Turn a rendered duration ("1 working day", "2 дня", "4 hours") into a deadline.

A working-day deadline falls at the end of the N-th working day after today
(Russian practice: a term starts the day after the event), at the configured
end-of-day hour in the portal's time zone. Which days are working days is
injected (the runner passes the production calendar); the default treats
Monday–Friday as working days.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WorkingDay = Callable[[date], bool]
#: Working days in ``(start, end]`` (the production calendar's ``working_days_between``).
WorkingDaysBetween = Callable[[date, date], int]

_PATTERN = re.compile(r"^\s*(\d+)\s*(.+?)\s*$")
_UNITS: tuple[tuple[str, str], ...] = (
    ("working", "working_days"),
    ("рабоч", "working_days"),
    ("minute", "minutes"),
    ("мин", "minutes"),
    ("hour", "hours"),
    ("час", "hours"),
    ("day", "days"),
    ("дн", "days"),
    ("ден", "days"),
    ("сут", "days"),
)


def weekdays(day: date) -> bool:
    """The default working-day test: Monday to Friday."""
    return day.weekday() < 5


def parse(text: str) -> tuple[int, str]:
    """``"3 рабочих дня"`` → ``(3, "working_days")``; raises ValueError on anything else."""
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration (expected e.g. '1 working day')")
    word = match.group(2).lower()
    for stem, unit in _UNITS:
        if word.startswith(stem):
            return int(match.group(1)), unit
    raise ValueError(
        f"{text!r}: unknown unit {word!r} (expected working days, days, hours, minutes)"
    )


def deadline(
    text: str,
    now: datetime,
    *,
    zone: str = "Europe/Moscow",
    end_hour: int = 18,
    working_day: WorkingDay = weekdays,
) -> datetime:
    """The deadline ``text`` after ``now`` (aware), in the portal's zone."""
    amount, unit = parse(text)
    local = now.astimezone(ZoneInfo(zone))
    if unit == "minutes":
        return local + timedelta(minutes=amount)
    if unit == "hours":
        return local + timedelta(hours=amount)
    day = local.date()
    if unit == "days":
        day += timedelta(days=amount)
    else:
        for _ in range(amount):
            day = _next_working(day, working_day)
    return datetime.combine(day, time(end_hour), local.tzinfo)


def _next_working(day: date, working_day: WorkingDay) -> date:
    for _ in range(60):  # the longest Russian holiday run is far shorter
        day += timedelta(days=1)
        if working_day(day):
            return day
    raise ValueError(f"no working day within 60 days after {day}")
