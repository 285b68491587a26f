"""When the runner ticks: a fixed interval or a cron expression.

Cron expressions are the classic five fields (minute, hour, day of month,
month, day of week; ``*``, lists, ranges and steps; Sunday is 0 or 7), read in
the configured time zone. As in Vixie cron, when both day fields are
restricted a day matches if either matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from edo_rules._messages import Text, msg
from edo_rules.errors import EdoRulesError

_FIELDS: tuple[tuple[str, int, int], ...] = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)

_SEARCH_DAYS = 366 * 5  # e.g. "0 0 29 2 *" needs up to four years


class ScheduleError(EdoRulesError):
    """A schedule (interval or cron expression) is malformed."""


class Schedule(Protocol):
    """Answers "when is the next tick after this moment?"."""

    def next_after(self, moment: datetime) -> datetime: ...

    def describe(self) -> str: ...


@dataclass(frozen=True, slots=True)
class IntervalSchedule:
    """Tick every ``seconds`` (the next tick is counted from the end of the last)."""

    seconds: float

    def __post_init__(self) -> None:
        if self.seconds <= 0:
            raise ScheduleError(msg("interval_not_positive", seconds=self.seconds))

    def next_after(self, moment: datetime) -> datetime:
        return moment + timedelta(seconds=self.seconds)

    def describe(self) -> str:
        return f"every {self.seconds:g} s"


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A five-field cron expression in a time zone."""

    expression: str
    timezone: ZoneInfo
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday … 6 = Saturday
    days_restricted: bool
    weekdays_restricted: bool

    @classmethod
    def parse(cls, expression: str, timezone: ZoneInfo) -> CronSchedule:
        """Parse ``expression`` or raise :class:`ScheduleError` saying which field is wrong."""
        parts = expression.split()
        if len(parts) != len(_FIELDS):
            raise ScheduleError(msg("cron_fields", expression=expression, count=len(parts)))
        sets = [_parse_field(p, f) for p, f in zip(parts, _FIELDS, strict=True)]
        weekdays = frozenset(d % 7 for d in sets[4])
        return cls(
            expression=expression,
            timezone=timezone,
            minutes=sets[0],
            hours=sets[1],
            days=sets[2],
            months=sets[3],
            weekdays=weekdays,
            days_restricted=parts[2] != "*",
            weekdays_restricted=parts[4] != "*",
        )

    def next_after(self, moment: datetime) -> datetime:
        local = moment.astimezone(self.timezone)
        day = local.date()
        for _ in range(_SEARCH_DAYS):
            if self._day_matches(day):
                found = self._first_time_on(day, local)
                if found is not None:
                    return found
            day += timedelta(days=1)
        raise ScheduleError(msg("cron_never", expression=self.expression))

    def describe(self) -> str:
        return f"cron '{self.expression}' ({self.timezone.key})"

    def _day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        by_day = day.day in self.days
        by_weekday = (day.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return by_day or by_weekday
        return by_day and by_weekday

    def _first_time_on(self, day: date, after: datetime) -> datetime | None:
        for hour in sorted(self.hours):
            for minute in sorted(self.minutes):
                candidate = datetime.combine(day, time(hour, minute), self.timezone)
                if candidate > after:
                    return candidate
        return None


def _parse_field(text: str, spec: tuple[str, int, int]) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        values.update(_parse_item(item, spec))
    return frozenset(values)


def _parse_item(item: str, spec: tuple[str, int, int]) -> range:
    name, low, high = spec
    body, _, step_text = item.partition("/")
    step = _number(step_text, name, item) if step_text else 1
    if body == "*":
        start, end = low, high
    elif "-" in body:
        first, _, last = body.partition("-")
        start, end = _number(first, name, item), _number(last, name, item)
    else:
        start = _number(body, name, item)
        end = high if step_text else start
    if not low <= start <= end <= high or step < 1:
        raise ScheduleError(
            msg("cron_out_of_range", name=_field_name(name), item=item, low=low, high=high)
        )
    return range(start, end + 1, step)


def _number(text: str, name: str, item: str) -> int:
    if not text.isdigit():
        raise ScheduleError(msg("cron_not_a_number", name=_field_name(name), item=item, text=text))
    return int(text)


def _field_name(name: str) -> Text:
    """A cron field's name for the admin (``day of week`` → «день недели»)."""
    return msg(_FIELD_KEYS[name])


_FIELD_KEYS = {
    "minute": "cron_field_minute",
    "hour": "cron_field_hour",
    "day of month": "cron_field_day_of_month",
    "month": "cron_field_month",
    "day of week": "cron_field_day_of_week",
}
