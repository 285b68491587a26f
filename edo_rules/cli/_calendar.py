"""``edo-rules calendar [YEAR]`` and ``edo-rules calendar check DATE``.

The first prints the year as a month grid with the working days and hours per
month; the second says what one date is and why. Both read the bundled
production calendar (plus an optional override file).
"""

from __future__ import annotations

import argparse
import calendar as _stdcal
import datetime as dt
import sys
import warnings
from collections.abc import Iterator
from typing import Any

from edo_rules._messages import msg, t
from edo_rules.calendar import CalendarError, CalendarWarning, DayInfo, ProductionCalendar
from edo_rules.cli._context import UsageError, config_of

_MONTHS = (
    "Январь",
    "Февраль",
    "Март",
    "Апрель",
    "Май",
    "Июнь",
    "Июль",
    "Август",
    "Сентябрь",
    "Октябрь",
    "Ноябрь",
    "Декабрь",
)
_WEEKDAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
_WEEKDAY_NAMES = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")
_STATUS = {
    "adopted": "утверждён постановлением Правительства (adopted)",
    "draft": "проект, ещё не утверждён (draft) — даты могут измениться",
    "derived": "выведен по ст. 112 ТК РФ без постановления (derived) — не подтверждён",
}
_LEGEND = (
    "Обозначения: * — нерабочий день (праздник, перенос выходного); "
    "+ — рабочий выходной день; - — сокращённый предпраздничный день; "
    "сб и вс без отметки — обычные выходные."
)
_CELL = 4  # two digits, a mark, a space
_GAP = "   "


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "calendar",
        help="show the production calendar for a year, or check one date",
        description="Show the Russian production calendar for YEAR (default: this year) as a "
        "month grid with working days and hours, or `calendar check DATE` to see whether a "
        "date is a working day, a day off or a short day, and why.",
    )
    parser.add_argument("what", nargs="?", help="a year such as 2026, or the word 'check'")
    parser.add_argument("date", nargs="?", help="with 'check': a date YYYY-MM-DD or DD.MM.YYYY")
    parser.add_argument(
        "--overrides",
        metavar="FILE",
        help="YAML file of company/regional days (default: the config's calendar.override)",
    )
    parser.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        help="the config whose calendar.override to use (default: ./edo-rules.yaml when present)",
    )
    parser.add_argument(
        "--decree-days",
        action="store_true",
        help="count the 2020/2021 presidential non-working days as days off",
    )
    parser.add_argument(
        "--week-hours", type=float, default=40, help="hours per week for the norm (default 40)"
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CalendarWarning)
        cal = ProductionCalendar.russia(_overrides(args), include_decree_days=args.decree_days)
        if args.what == "check":
            lines = _check_lines(cal, _parse_date(args.date))
        else:
            if args.date is not None:
                raise UsageError(msg("cal_cli_extra", value=args.date))
            year = _parse_year(args.what) if args.what else dt.date.today().year
            lines = list(_year_lines(cal, year, args.week_hours))
    for warning in caught:
        print(t("warning", message=warning.message), file=sys.stderr)
    print("\n".join(lines))
    return 0


def _overrides(args: argparse.Namespace) -> Any:
    if args.overrides is not None:
        return args.overrides
    config = config_of(args)
    return config.calendar_override if config is not None else None


def _parse_year(text: str) -> int:
    if not text.isdigit() or len(text) != 4:
        raise CalendarError(msg("cal_cli_year", value=text))
    return int(text)


def _parse_date(text: str | None) -> dt.date:
    if text is None:
        raise UsageError(msg("cal_cli_needs_date"))
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CalendarError(msg("cal_cli_date", value=text))


def _check_lines(cal: ProductionCalendar, day: dt.date) -> list[str]:
    info = cal.explain_day(day)
    return [
        f"{day.isoformat()} ({_WEEKDAY_NAMES[day.weekday()]}): {_verdict(info)}",
        f"Почему: {info.reason}",
        f"Источник: {info.source}",
        f"Статус {day.year} года: {_STATUS[info.year_status]}",
    ]


def _verdict(info: DayInfo) -> str:
    if info.short:
        return "рабочий день, сокращённый на 1 час"
    if info.working:
        return "рабочий день"
    return "нерабочий праздничный день" if info.kind == "holiday" else "выходной день"


def _year_lines(cal: ProductionCalendar, year: int, week_hours: float) -> Iterator[str]:
    info = cal.explain_day(dt.date(year, 1, 1))  # builds the year (and warns) first
    yield f"Производственный календарь России на {year} год (пятидневная неделя)"
    yield ""
    for quarter in range(4):
        yield from _grid_row(cal, year, range(quarter * 3 + 1, quarter * 3 + 4))
        yield ""
    yield _LEGEND
    yield ""
    yield from _norm_table(cal, year, week_hours)
    yield ""
    yield from _special_days(cal, year)
    yield f"Источник: {info.source}"
    yield f"Статус: {_STATUS[info.year_status]}"


def _grid_row(cal: ProductionCalendar, year: int, months: range) -> Iterator[str]:
    blocks = [_month_block(cal, year, month) for month in months]
    height = max(len(block) for block in blocks)
    width = _CELL * 7 - 1
    for row in range(height):
        cells = [block[row] if row < len(block) else "" for block in blocks]
        yield _GAP.join(cell.ljust(width) for cell in cells).rstrip()


def _month_block(cal: ProductionCalendar, year: int, month: int) -> list[str]:
    width = _CELL * 7 - 1
    lines = [_MONTHS[month - 1].center(width), " ".join(f"{d:>3}" for d in _WEEKDAYS)]
    for week in _stdcal.Calendar().monthdatescalendar(year, month):
        cells = [_cell(cal, day) if day.month == month else "   " for day in week]
        lines.append(" ".join(cells))
    return lines


def _cell(cal: ProductionCalendar, day: dt.date) -> str:
    weekend = day.weekday() >= 5
    if cal.is_working_day(day):
        mark = "+" if weekend else "-" if cal.is_short_day(day) else " "
    else:
        mark = " " if weekend and cal.explain_day(day).kind == "weekend" else "*"
    return f"{day.day:>2}{mark}"


def _norm_table(cal: ProductionCalendar, year: int, week_hours: float) -> Iterator[str]:
    hours_title = f"Часы ({_num(week_hours)} ч/нед)"
    yield f"{'Месяц':<10} {'Раб. дней':>9} {'Сокр.':>6} {hours_title:>18}"
    for month in range(1, 13):
        yield _norm_line(
            _MONTHS[month - 1],
            cal.working_days_in(year, month),
            cal.short_days_in(year, month),
            cal.hours_in(year, month, week_hours),
        )
    total = (
        cal.working_days_in(year),
        cal.short_days_in(year),
        cal.hours_in(year, None, week_hours),
    )
    yield _norm_line("Итого", *total)


def _norm_line(title: str, days: int, shorts: int, hours: float) -> str:
    return f"{title:<10} {days:>9} {shorts:>6} {_num(hours):>18}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _special_days(cal: ProductionCalendar, year: int) -> Iterator[str]:
    days = [dt.date(year, 1, 1) + dt.timedelta(days=i) for i in range(366)]
    days = [day for day in days if day.year == year]
    infos = [cal.explain_day(day) for day in days]
    groups = (
        ("Рабочие выходные", [i for i in infos if i.working and i.date.weekday() >= 5]),
        ("Нерабочие будни", [i for i in infos if not i.working and i.date.weekday() < 5]),
        ("Сокращённые дни", [i for i in infos if i.short]),
    )
    for title, items in groups:
        listed = ", ".join(f"{i.date:%d.%m} ({_WEEKDAYS[i.date.weekday()]})" for i in items)
        yield f"{title}: {listed or 'нет'}"
