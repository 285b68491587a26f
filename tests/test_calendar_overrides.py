"""The user override file: adding and removing days, and precise errors."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from edo_rules.calendar import CalendarError, DayKind, ProductionCalendar

D = dt.date


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "company-days.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_overrides_add_and_remove_days(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """\
        # Приказ по компании
        days_off:
          - date: 2026-12-30
            comment: Корпоративный выходной (приказ № 45)
          - {date: 2026-12-29, comment: Региональный праздник}
        working_days:
          - date: 2026-12-26
            comment: Отработка за 30 декабря
        short_days:
          - date: 2026-12-28
            comment: Сокращённый день перед корпоративным выходным
          - date: 2026-12-27
            comment: Воскресенье, короткая отработка
        """,
    )
    base = ProductionCalendar.russia()
    cal = ProductionCalendar.russia(overrides=path)
    assert base.is_working_day(D(2026, 12, 30)) and not cal.is_working_day(D(2026, 12, 30))
    assert not base.is_working_day(D(2026, 12, 26)) and cal.is_working_day(D(2026, 12, 26))
    assert cal.is_short_day(D(2026, 12, 28)) and not base.is_short_day(D(2026, 12, 28))
    assert cal.is_working_day(D(2026, 12, 27)) and cal.is_short_day(D(2026, 12, 27))
    # December: -2 days off +2 working weekend days; counting follows the overrides
    assert cal.working_days_in(2026, 12) == base.working_days_in(2026, 12)
    assert cal.add_working_days(D(2026, 12, 28), 1) == D(2027, 1, 11)
    info = cal.explain_day(D(2026, 12, 30))
    assert info.kind == DayKind.DAY_OFF
    assert "приказ № 45" in info.reason and f"{path}:3" in info.reason
    assert cal.explain_day(D(2026, 12, 26)).kind == DayKind.WORKING_WEEKEND
    assert cal.year_status(2026) == "adopted"


def test_override_removes_a_bundled_holiday(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """\
        working_days:
          - date: 2024-05-10
            comment: Непрерывное производство
        """,
    )
    cal = ProductionCalendar.russia(overrides=path)
    assert cal.is_working_day(D(2024, 5, 10))
    assert cal.working_days_in(2024) == 249


def test_empty_override_file_changes_nothing(tmp_path: Path) -> None:
    cal = ProductionCalendar.russia(overrides=_write(tmp_path, "# пока ничего\n"))
    assert cal.working_days_in(2024) == 248


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "days_off:\n  - date: 2026-13-01\n    comment: x\n",
            2,
            "days_off: '2026-13-01' — не дата в формате ГГГГ-ММ-ДД",
        ),
        ("days_off:\n  - date: 2026-12-30\n", 2, "days_off: в записи нет комментария (comment)"),
        ("days_off:\n  - comment: x\n", 2, "days_off: в записи нет даты (date)"),
        (
            "days_off:\n  - date: 2026-12-30\n    comment: '  '\n",
            3,
            "days_off: комментарий должен быть непустым текстом",
        ),
        (
            "holidays:\n  - date: 2026-12-30\n",
            1,
            "неизвестный раздел 'holidays'; допустимые: days_off, working_days, short_days",
        ),
        ("days_off: 2026-12-30\n", 1, "days_off: ожидается список записей"),
        ("- 2026-12-30\n", 1, "файл дней компании должен быть словарём списков"),
        (
            "days_off:\n  - 2026-12-30\n",
            2,
            "days_off: каждая запись должна быть словарём с date и comment",
        ),
        (
            "days_off:\n  - {date: 2026-12-30, comment: x, why: y}\n",
            2,
            "days_off: в записи неизвестные ключи ['why']",
        ),
        ("days_off:\n  - {date: 2026-12-30, comment: x\n", 3, "некорректный YAML: "),
        (
            "days_off:\n  - {date: 2026-12-30, comment: a}\nworking_days:\n"
            "  - {date: 2026-12-30, comment: b}\n",
            4,
            "2026-12-30 указана повторно (впервые — в days_off, строка 2); оставьте по одной"
            " записи на дату",
        ),
        (
            "days_off:\n  - {date: 2200-01-03, comment: far}\n",
            2,
            "2200-01-03: дата вне поддерживаемых лет 2013-2099",
        ),
    ],
)
def test_malformed_override_names_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(CalendarError) as info:
        ProductionCalendar.russia(overrides=path)
    assert info.value.file == str(path)
    assert info.value.line == line
    assert message in str(info.value)
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_missing_override_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(CalendarError, match="не удалось прочитать файл дней компании") as info:
        ProductionCalendar.russia(overrides=missing)
    assert info.value.file == str(missing)
