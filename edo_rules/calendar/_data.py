"""Loading and validating the bundled calendar data file (``data/ru.json``).

The file is data, not code: a format tag and version, the Labour Code's fixed
holidays, and per year the days that differ from a plain Monday-to-Friday week,
each with the reason shown to users. This module turns it into frozen objects
and refuses a file it does not understand instead of guessing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from edo_rules.errors import CalendarError

FORMAT = "edo-rules/production-calendar"
FORMAT_VERSION = 1

YearStatus = Literal["adopted", "draft", "derived"]
_STATUSES: frozenset[str] = frozenset({"adopted", "draft"})
_LISTS = ("days_off", "working_days", "short_days", "decree_days")
_WEEKEND = ("saturday", "sunday")


@dataclass(frozen=True, slots=True)
class DayNote:
    """One listed day of a year with the reason users are shown."""

    date: dt.date
    reason: str


@dataclass(frozen=True, slots=True)
class YearData:
    """What the data says about one year (only the days that differ from Mon-Fri)."""

    year: int
    status: YearStatus
    source: str
    days_off: tuple[DayNote, ...]
    working_days: tuple[DayNote, ...]
    short_days: tuple[DayNote, ...]
    decree_days: tuple[DayNote, ...]


@dataclass(frozen=True, slots=True)
class CalendarData:
    """The whole data file: fixed holidays (month, day) -> name, and the bundled years."""

    fixed_holidays: Mapping[tuple[int, int], str]
    years: Mapping[int, YearData]
    provenance: Mapping[str, Any]


@cache
def bundled() -> CalendarData:
    """The calendar data shipped in the package (parsed once per process)."""
    ref = resources.files("edo_rules.calendar").joinpath("data/ru.json")
    return parse(ref.read_text(encoding="utf-8"), name="edo_rules/calendar/data/ru.json")


def parse(text: str, *, name: str) -> CalendarData:
    """Parse and validate the JSON text of a calendar data file.

    Raises:
        CalendarError: the text is not JSON, has another format or version, or a
            year or day entry is malformed; the message names ``name``.
    """
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CalendarError(f"not valid JSON: {exc.msg}", file=name, line=exc.lineno) from exc
    try:
        return _parse_doc(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise CalendarError(f"malformed calendar data: {exc}", file=name) from exc


def _parse_doc(raw: Any) -> CalendarData:
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ValueError(f"'format' must be {FORMAT!r}")
    if raw.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"format_version {raw.get('format_version')!r} is not supported "
            f"(this edo-rules reads version {FORMAT_VERSION})"
        )
    if raw.get("weekend", list(_WEEKEND)) != list(_WEEKEND):
        raise ValueError(f"only a {'-'.join(_WEEKEND)} weekend is supported")
    fixed = {_month_day(h["date"]): str(h["name"]) for h in raw["fixed_holidays"]}
    years = {int(y): _parse_year(int(y), body) for y, body in raw["years"].items()}
    return CalendarData(fixed_holidays=fixed, years=years, provenance=raw.get("provenance", {}))


def _parse_year(year: int, body: dict[str, Any]) -> YearData:
    status = body["status"]
    if status not in _STATUSES:
        raise ValueError(f"year {year}: status {status!r} is not one of {sorted(_STATUSES)}")
    lists = {key: tuple(_note(year, key, item) for item in body.get(key, [])) for key in _LISTS}
    return YearData(year=year, status=status, source=str(body["source"]), **lists)


def _note(year: int, key: str, item: dict[str, Any]) -> DayNote:
    day = dt.date.fromisoformat(item["date"])
    if day.year != year:
        raise ValueError(f"year {year}: {key} lists {day}, a date of another year")
    return DayNote(date=day, reason=str(item["reason"]))


def _month_day(text: str) -> tuple[int, int]:
    month, day = (int(part) for part in text.split("-"))
    dt.date(2000, month, day)  # validates; 2000 is a leap year, so 02-29 would pass
    return month, day
