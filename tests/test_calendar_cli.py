"""`edo-rules calendar` through the real CLI entry point."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edo_rules.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["calendar", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_year_2024(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "2024")
    assert code == 0 and err == ""
    assert re.search(r"^Итого\s+248\s+5\s+1979$", out, re.MULTILINE)
    assert "Рабочие выходные: 27.04 (сб), 02.11 (сб), 28.12 (сб)" in out
    assert "29.04 (пн), 30.04 (вт)" in out
    assert "№ 1314" in out and "(adopted)" in out
    # in the grid, the working Saturdays carry the '+' mark
    assert re.search(r"\b27\+", out) and re.search(r"\b2\+", out) and re.search(r"\b28\+", out)
    assert re.search(r"^Январь\s+17\s+0\s+136$", out, re.MULTILINE)


def test_year_with_other_week_hours(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "2024", "--week-hours", "36")
    assert code == 0
    assert re.search(r"^Итого\s+248\s+5\s+1780\.6$", out, re.MULTILINE)


def test_derived_year_warns_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "2031")
    assert code == 0
    assert "(derived)" in out
    assert err == (
        "edo-rules: предупреждение: производственного календаря на 2031 год нет во встроенных"
        " данных: он выведен по ст. 112 ТК РФ без постановления Правительства о переносах и может"
        " отличаться от официального (добавьте файл дней компании или обновите edo-rules)\n"
    )
    code, out, err = _run(capsys, "2031", "--lang", "en")
    assert err.startswith("edo-rules: warning: the production calendar for 2031 is not in the")


def test_check_working_saturday(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "check", "2024-04-27")
    assert code == 0
    assert out.startswith("2024-04-27 (суббота): рабочий день\n")
    assert "выходной перенесён на 29.04.2024" in out and "№ 1314" in out


def test_check_short_and_day_off(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "check", "22.02.2024")
    assert "рабочий день, сокращённый на 1 час" in out and "23.02.2024" in out
    _, out, _ = _run(capsys, "check", "2024-04-29")
    assert "выходной день" in out and "с субботы 27.04.2024" in out
    _, out, _ = _run(capsys, "check", "2024-01-07")
    assert "нерабочий праздничный день" in out


def test_check_decree_day_opt_in(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "check", "2020-04-06")
    assert ": рабочий день\n" in out
    _, out, _ = _run(capsys, "check", "2020-04-06", "--decree-days")
    assert ": выходной день\n" in out and "Указ Президента" in out


def test_check_with_overrides(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "days.yaml"
    path.write_text("days_off:\n  - {date: 2026-12-30, comment: Приказ № 7}\n", encoding="utf-8")
    _, out, _ = _run(capsys, "check", "2026-12-30", "--overrides", str(path))
    assert ": выходной день\n" in out and "Приказ № 7" in out


@pytest.mark.parametrize(
    ("argv", "message", "status"),
    [
        (["check", "2024-02-30"], "'2024-02-30' — не дата; нужна ГГГГ-ММ-ДД или ДД.ММ.ГГГГ", 1),
        (["check"], "для `calendar check` нужна дата", 2),
        (["20x6"], "'20x6' — не год; нужны четыре цифры", 1),
        (["1990"], "год 1990 — вне поддерживаемых лет 2013-2099", 1),
        (["2024", "2025"], "лишний аргумент '2025'; пишите `calendar ГОД`", 2),
        (["check", "1999-01-01"], "год 1999 — вне поддерживаемых лет", 1),
        (["2024", "--week-hours", "60"], "week_hours должно быть больше 0 и не больше 40", 1),
        (
            ["2024", "--overrides", "/nonexistent/days.yaml"],
            "не удалось прочитать файл дней компании: No such file or directory",
            1,
        ),
    ],
)
def test_bad_input_exits_1_and_usage_errors_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str, status: int
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == status
    assert out == ""
    assert err.startswith("edo-rules: ошибка: ") and message in err


def test_malformed_override_reports_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "days.yaml"
    path.write_text("days_off:\n  - date: 2026-12-30\n", encoding="utf-8")
    code, _, err = _run(capsys, "2026", "--overrides", str(path))
    assert code == 1
    assert err == (
        f"edo-rules: ошибка: {path}:2: days_off: в записи нет комментария (comment) — напишите,"
        " почему день меняется (например: «days_off: [{date: 2026-12-30, comment: ...}]»)\n"
    )
    code, _, err = _run(capsys, "2026", "--overrides", str(path), "--lang", "en")
    assert err == (
        f"edo-rules: error: {path}:2: days_off entry has no comment (say why the day changes)"
        " (expected e.g. 'days_off: [{date: 2026-12-30, comment: ...}]')\n"
    )


def test_help_mentions_check(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["calendar", "--help"])
    assert info.value.code == 0
    assert "calendar check ДАТА" in capsys.readouterr().out
