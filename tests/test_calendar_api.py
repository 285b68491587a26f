"""ProductionCalendar behaviour: counting contracts, decree days, derived years, bad input."""

from __future__ import annotations

import datetime as dt
import warnings
from zoneinfo import ZoneInfo

import pytest

import edo_rules
from edo_rules.calendar import (
    LAST_YEAR,
    CalendarError,
    CalendarWarning,
    DayKind,
    ProductionCalendar,
)

D = dt.date


@pytest.fixture(scope="module")
def cal() -> ProductionCalendar:
    return ProductionCalendar.russia()


def test_reexported_from_package_root() -> None:
    assert edo_rules.ProductionCalendar is ProductionCalendar
    assert "ProductionCalendar" in edo_rules.__all__


def test_three_working_days_after_26_april_2024(cal: ProductionCalendar) -> None:
    # Sat 27 Apr works, 28 Apr-1 May rest: 27 Apr, 2 May, 3 May (workalendar says 2 May).
    assert cal.add_working_days(D(2024, 4, 26), 1) == D(2024, 4, 27)
    assert cal.add_working_days(D(2024, 4, 26), 3) == D(2024, 5, 3)
    assert cal.add_working_days(D(2024, 4, 26), 2) == D(2024, 5, 2)


def test_add_zero(cal: ProductionCalendar) -> None:
    assert cal.add_working_days(D(2024, 4, 26), 0) == D(2024, 4, 26)
    assert cal.add_working_days(D(2024, 4, 28), 0) == D(2024, 5, 2)  # a day off: the next one


def test_add_negative(cal: ProductionCalendar) -> None:
    assert cal.add_working_days(D(2024, 5, 2), -1) == D(2024, 4, 27)
    assert cal.add_working_days(D(2024, 5, 1), -1) == D(2024, 4, 27)
    assert cal.add_working_days(D(2024, 1, 9), -1) == D(2023, 12, 29)


def test_add_across_many_years(cal: ProductionCalendar) -> None:
    start = D(2015, 1, 1)
    total = sum(cal.working_days_in(year) for year in range(2015, 2028))
    assert cal.add_working_days(start, total) == D(2027, 12, 30)  # 31 Dec 2027 is a day off
    assert cal.add_working_days(D(2027, 12, 31), -total) == D(2015, 1, 12)


def test_next_and_previous(cal: ProductionCalendar) -> None:
    assert cal.next_working_day(D(2025, 12, 30)) == D(2026, 1, 12)
    assert cal.previous_working_day(D(2026, 1, 12)) == D(2025, 12, 30)
    assert cal.next_working_day(D(2024, 4, 26)) == D(2024, 4, 27)


def test_between_open_closed_ends(cal: ProductionCalendar) -> None:
    assert cal.working_days_between(D(2024, 4, 26), D(2024, 4, 26)) == 0
    assert cal.working_days_between(D(2024, 4, 26), D(2024, 4, 27)) == 1  # (a, b]
    assert cal.working_days_between(D(2024, 4, 27), D(2024, 4, 26)) == -1  # -[b, a)
    assert cal.working_days_between(D(2024, 4, 27), D(2024, 5, 1)) == 0
    assert cal.working_days_between(D(2024, 1, 1), D(2024, 12, 31)) == 248
    assert cal.working_days_between(D(2023, 12, 31), D(2025, 12, 31)) == 248 + 247


def test_short_days_and_hours(cal: ProductionCalendar) -> None:
    assert cal.is_short_day(D(2024, 2, 22))
    assert not cal.is_short_day(D(2024, 2, 21))
    assert cal.short_days_in(2024) == 5
    assert cal.hours_in(2024, 2) == 20 * 8 - 1


def test_datetime_accepted_as_its_own_date(cal: ProductionCalendar) -> None:
    moment = dt.datetime(2024, 4, 27, 23, 30, tzinfo=ZoneInfo("Europe/Moscow"))
    assert cal.is_working_day(moment)
    assert cal.add_working_days(moment, 1) == D(2024, 5, 2)


def test_explain_day_kinds(cal: ProductionCalendar) -> None:
    assert cal.explain_day(D(2024, 1, 7)).kind == DayKind.HOLIDAY
    assert cal.explain_day(D(2024, 1, 13)).kind == DayKind.WEEKEND
    assert cal.explain_day(D(2024, 1, 15)).kind == DayKind.WORKDAY
    info = cal.explain_day(D(2024, 11, 2))
    assert info.working and info.short and info.kind == DayKind.WORKING_WEEKEND
    assert "30.04.2024" in info.reason and "предпраздничный" in info.reason


def test_decree_days_are_opt_in(cal: ProductionCalendar) -> None:
    april_2020 = D(2020, 4, 15)
    assert cal.is_working_day(april_2020)
    assert cal.is_short_day(D(2020, 4, 30))
    covid = ProductionCalendar.russia(include_decree_days=True)
    info = covid.explain_day(april_2020)
    assert not info.working and info.kind == DayKind.DECREE_DAY and "Указ" in info.reason
    assert not covid.is_working_day(D(2020, 4, 30))
    assert not covid.is_short_day(D(2020, 4, 30))
    assert not covid.is_working_day(D(2021, 11, 2))
    assert covid.working_days_in(2020, 4) == 0
    assert covid.working_days_in(2024) == 248  # no decree days outside 2020/2021


def test_derived_year_warns_once_per_year() -> None:
    cal = ProductionCalendar.russia()
    assert cal.year_status(2030) == "derived"
    with pytest.warns(
        CalendarWarning, match="производственного календаря на 2030 год нет во встроенных данных"
    ) as record:
        cal.next_working_day(D(2030, 5, 6))
        assert record[0].filename == __file__  # points at the caller, not at the library
        cal.is_working_day(D(2030, 5, 6))
        cal.is_working_day(D(2030, 6, 6))
        cal.working_days_in(2030)
    assert len([w for w in record if "2030" in str(w.message)]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cal.is_working_day(D(2030, 7, 1))  # already announced: silent


def test_bundled_year_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ProductionCalendar.russia().working_days_in(2026) == 247


def test_derived_year_follows_article_112() -> None:
    cal = ProductionCalendar.russia()
    with pytest.warns(CalendarWarning):
        # 2028: 23 Feb is a Wednesday; 1 Jan a Saturday (January holidays never move).
        assert not cal.is_working_day(D(2028, 2, 23))
        assert cal.is_short_day(D(2028, 2, 22))
        assert cal.is_working_day(D(2028, 1, 10))
    with pytest.warns(CalendarWarning):
        # 2029: 8 Mar is Thursday, 12 Jun Tuesday; 2033: 1 May on a Sunday moves to Monday 2 May.
        assert cal.explain_day(D(2033, 5, 2)).kind == DayKind.DAY_OFF
        assert "ст. 112" in cal.explain_day(D(2033, 5, 2)).reason
    with pytest.warns(CalendarWarning):
        assert cal.is_short_day(D(2029, 12, 31))  # the eve of 1 January 2030


def test_derived_years_have_the_usual_size() -> None:
    cal = ProductionCalendar.russia()
    with pytest.warns(CalendarWarning):
        totals = [cal.working_days_in(year) for year in range(2028, 2040)]
    assert all(245 <= total <= 252 for total in totals), totals


@pytest.mark.parametrize("year", [2012, LAST_YEAR + 1, 1])
def test_unsupported_years(cal: ProductionCalendar, year: int) -> None:
    with pytest.raises(CalendarError, match=f"год {year} — вне поддерживаемых лет 2013-2099"):
        cal.working_days_in(year)
    with pytest.raises(CalendarError, match="вне поддерживаемых лет 2013-2099"):
        cal.year_status(year)


def test_adding_past_the_supported_range_fails_clearly(cal: ProductionCalendar) -> None:
    with (
        warnings.catch_warnings(),
        pytest.raises(CalendarError, match="вне поддерживаемых лет 2013-2099"),
    ):
        warnings.simplefilter("ignore", CalendarWarning)
        cal.add_working_days(D(2024, 1, 1), 10**6)


@pytest.mark.parametrize("bad", ["2024-04-27", None, 20240427])
def test_non_dates_rejected(cal: ProductionCalendar, bad: object) -> None:
    with pytest.raises(CalendarError, match="ожидается дата, получено "):
        cal.is_working_day(bad)  # type: ignore[arg-type]


def test_bad_month_and_week_hours(cal: ProductionCalendar) -> None:
    with pytest.raises(CalendarError, match="месяц должен быть от 1 до 12, получено 13"):
        cal.working_days_in(2024, 13)
    with pytest.raises(CalendarError, match="week_hours должно быть больше 0 и не больше 40"):
        cal.hours_in(2024, week_hours=48)
    with pytest.raises(CalendarError, match="год должен быть целым числом, получено "):
        cal.year_status("2024")  # type: ignore[arg-type]


def test_repr_says_what_the_calendar_is(cal: ProductionCalendar) -> None:
    assert repr(cal) == "<ProductionCalendar data 2015-2027, 0 override(s), decree days off>"
