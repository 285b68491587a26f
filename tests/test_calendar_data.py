"""The bundled calendar against the official figures, year by year.

The per-month tables below were taken from the public production calendars
(consultant.ru via d10xa/holidays-calendar; the yearly totals match the official
norms: 247 working days a year 2015-2027, 248 in 2020 and 2024; 2024 = 1979 h).
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import pytest

from edo_rules.calendar import CalendarError, DayKind, ProductionCalendar
from edo_rules.calendar._data import FORMAT_VERSION, parse

# Working days per month, five-day week; the official norm (decree days counted as working).
OFFICIAL_MONTHS: dict[int, tuple[int, ...]] = {
    2015: (15, 19, 21, 22, 18, 21, 23, 21, 22, 22, 20, 23),
    2016: (15, 20, 21, 21, 19, 21, 21, 23, 22, 21, 21, 22),
    2017: (17, 18, 22, 20, 20, 21, 21, 23, 21, 22, 21, 21),
    2018: (17, 19, 20, 21, 20, 20, 22, 23, 20, 23, 21, 21),
    2019: (17, 20, 20, 22, 18, 19, 23, 22, 21, 23, 20, 22),
    2020: (17, 19, 21, 22, 17, 21, 23, 21, 22, 22, 20, 23),
    2021: (15, 19, 22, 22, 19, 21, 22, 22, 22, 21, 20, 22),
    2022: (16, 19, 22, 21, 18, 21, 21, 23, 22, 21, 21, 22),
    2023: (17, 18, 22, 20, 20, 21, 21, 23, 21, 22, 21, 21),
    2024: (17, 20, 20, 21, 20, 19, 23, 22, 21, 23, 21, 21),
    2025: (17, 20, 21, 22, 18, 19, 23, 21, 22, 23, 19, 22),
    2026: (15, 19, 21, 22, 19, 21, 23, 21, 22, 22, 20, 22),
    2027: (15, 19, 22, 22, 19, 21, 22, 22, 22, 21, 20, 22),
}
OFFICIAL_YEAR_DAYS = {year: 248 if year in (2020, 2024) else 247 for year in range(2015, 2028)}
# The official norm of hours for a 40-hour week.
OFFICIAL_YEAR_HOURS = {
    2015: 1971,
    2016: 1974,
    2017: 1973,
    2018: 1970,
    2019: 1970,
    2020: 1979,
    2021: 1972,
    2022: 1973,
    2023: 1973,
    2024: 1979,
    2025: 1972,
    2026: 1972,
    2027: 1972,
}
HOURS_2024 = (136, 159, 159, 168, 159, 151, 184, 176, 168, 184, 167, 168)

# (working Saturdays/Sundays, weekday days off that are not themselves holidays)
TRANSFERS: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    2015: ((), ("01-09", "03-09", "05-04", "05-11")),
    2016: (("02-20",), ("02-22", "03-07", "05-02", "05-03", "06-13")),
    2017: ((), ("02-24", "05-08", "11-06")),
    2018: (("04-28", "06-09", "12-29"), ("03-09", "04-30", "05-02", "06-11", "11-05", "12-31")),
    2019: ((), ("05-02", "05-03", "05-10")),
    2020: ((), ("02-24", "03-09", "05-04", "05-05", "05-11")),
    2021: (("02-20",), ("02-22", "05-03", "05-10", "06-14", "11-05", "12-31")),
    2022: (("03-05",), ("03-07", "05-02", "05-03", "05-10", "06-13")),
    2023: ((), ("02-24", "05-08", "11-06")),
    2024: (("04-27", "11-02", "12-28"), ("04-29", "04-30", "05-10", "12-30", "12-31")),
    2025: (("11-01",), ("05-02", "05-08", "06-13", "11-03", "12-31")),
    2026: ((), ("01-09", "03-09", "05-11", "12-31")),
    2027: (("02-20",), ("02-22", "05-03", "05-10", "06-14", "11-05", "12-31")),
}
YEARS = sorted(OFFICIAL_MONTHS)


@pytest.fixture(scope="module")
def cal() -> ProductionCalendar:
    return ProductionCalendar.russia()


def _day(year: int, month_day: str) -> dt.date:
    return dt.date.fromisoformat(f"{year}-{month_day}")


def test_bundled_years_cover_2015_to_2027(cal: ProductionCalendar) -> None:
    assert cal.bundled_years == range(2015, 2028)
    assert all(cal.year_status(year) == "adopted" for year in YEARS)


@pytest.mark.parametrize("year", YEARS)
def test_working_days_per_month_match_official(cal: ProductionCalendar, year: int) -> None:
    months = tuple(cal.working_days_in(year, month) for month in range(1, 13))
    assert months == OFFICIAL_MONTHS[year]


@pytest.mark.parametrize("year", YEARS)
def test_year_totals_match_official_norms(cal: ProductionCalendar, year: int) -> None:
    assert cal.working_days_in(year) == OFFICIAL_YEAR_DAYS[year] == sum(OFFICIAL_MONTHS[year])
    assert cal.hours_in(year) == OFFICIAL_YEAR_HOURS[year]


def test_2024_hours_per_month(cal: ProductionCalendar) -> None:
    assert tuple(cal.hours_in(2024, month) for month in range(1, 13)) == HOURS_2024
    assert cal.hours_in(2024) == 1979
    assert cal.hours_in(2024, week_hours=36) == pytest.approx(248 * 7.2 - 5)


@pytest.mark.parametrize("year", YEARS)
def test_transfer_dates_classified(cal: ProductionCalendar, year: int) -> None:
    working_weekends, moved_days_off = TRANSFERS[year]
    for month_day in working_weekends:
        info = cal.explain_day(_day(year, month_day))
        assert info.working and info.kind == DayKind.WORKING_WEEKEND, info
    for month_day in moved_days_off:
        info = cal.explain_day(_day(year, month_day))
        assert not info.working and info.kind == DayKind.DAY_OFF, info
        assert "перенесён" in info.reason


@pytest.mark.parametrize("year", YEARS)
def test_no_other_day_breaks_the_plain_week(cal: ProductionCalendar, year: int) -> None:
    working_weekends, moved = TRANSFERS[year]
    exceptions = {_day(year, md) for md in working_weekends + moved}
    first = dt.date(year, 1, 1)
    for offset in range(365):
        day = first + dt.timedelta(days=offset)
        if day in exceptions or (day.month, day.day) in _FIXED:
            continue
        assert cal.is_working_day(day) == (day.weekday() < 5), day


_FIXED = {(1, d) for d in range(1, 9)} | {(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)}


def test_famous_2024_dates(cal: ProductionCalendar) -> None:
    assert cal.is_working_day(dt.date(2024, 4, 27))
    assert not cal.is_working_day(dt.date(2024, 4, 29))
    assert cal.is_short_day(dt.date(2024, 11, 2))  # a working Saturday before 4 November
    assert not cal.is_short_day(dt.date(2024, 12, 28))  # before transferred days, not a holiday
    assert "1314" in cal.explain_day(dt.date(2024, 4, 27)).source


def test_data_file_is_versioned_data_with_provenance() -> None:
    text = resources.files("edo_rules.calendar").joinpath("data/ru.json").read_text("utf-8")
    raw = json.loads(text)
    assert raw["format_version"] == FORMAT_VERSION
    provenance = raw["provenance"]
    assert {"sources", "cross_check", "built", "method"} <= set(provenance)
    assert all(raw["years"][str(year)]["source"] for year in YEARS)


def test_data_parse_rejects_other_version() -> None:
    text = json.dumps({"format": "edo-rules/production-calendar", "format_version": 99})
    with pytest.raises(CalendarError, match=r"x\.json: .*format_version 99 is not supported"):
        parse(text, name="x.json")


def test_data_parse_rejects_broken_json_with_line() -> None:
    with pytest.raises(CalendarError, match=r"^x\.json:2: not valid JSON") as info:
        parse('{\n  "format": ,\n}', name="x.json")
    assert info.value.line == 2


def test_data_parse_rejects_a_day_of_another_year() -> None:
    doc = {
        "format": "edo-rules/production-calendar",
        "format_version": 1,
        "fixed_holidays": [{"date": "01-01", "name": "Новый год"}],
        "years": {
            "2030": {
                "status": "adopted",
                "source": "test",
                "days_off": [{"date": "2031-01-02", "reason": "x"}],
            }
        },
    }
    with pytest.raises(CalendarError, match="2031-01-02, a date of another year"):
        parse(json.dumps(doc), name="x.json")


def test_data_parse_rejects_unknown_status() -> None:
    doc = {
        "format": "edo-rules/production-calendar",
        "format_version": 1,
        "fixed_holidays": [],
        "years": {"2030": {"status": "maybe", "source": "test"}},
    }
    with pytest.raises(CalendarError, match="status 'maybe'"):
        parse(json.dumps(doc), name="x.json")


def test_data_parse_rejects_another_weekend() -> None:
    doc = {
        "format": "edo-rules/production-calendar",
        "format_version": 1,
        "weekend": ["friday", "saturday"],
        "fixed_holidays": [],
        "years": {},
    }
    with pytest.raises(CalendarError, match="only a saturday-sunday weekend is supported"):
        parse(json.dumps(doc), name="x.json")
