"""``edo-rules tick``, ``explain`` and ``history`` on real files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from _engine_helpers import msk
from store_contract import make_document, make_event

from edo_rules.cli import main
from edo_rules.model import Status
from edo_rules.store.sqlite import SQLiteStore

PLAYBOOK = """\
version: 1
name: signing
rules:
  - id: remind
    description: Контрагент не подписал документ
    match: {status: sent}
    when: {after: 3 working days, since: sent_at}
    do:
      - log: {message: "{{ doc.title }} не подписан"}
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    (playbooks / "signing.yaml").write_text(PLAYBOOK, encoding="utf-8")
    store_path = tmp_path / "store.sqlite3"
    with SQLiteStore(store_path) as store:
        store.write_sync_page(
            [
                make_document("a", sent_at=msk("2024-04-26 15:30")),
                make_document("b", status=Status.SIGNED),
            ],
            [make_event("a", msk("2024-04-26 15:30"), Status.SENT, comment="отправлен")],
        )
    return store_path, playbooks


def _args(files: tuple[Path, Path], *extra: str) -> list[str]:
    return [*extra, "--store", str(files[0]), "--playbooks", str(files[1])]


def test_tick_dry_run_prints_a_table_and_records_nothing(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(files, "tick", "--dry-run", "--at", "2024-05-06T10:00")) == 0
    out = capsys.readouterr().out
    header, _, row, *_ = out.splitlines()
    assert header.split() == ["правило", "документ", "ступень", "срок", "действия"]
    assert [cell.strip() for cell in row.split("  ") if cell.strip()] == [
        "signing/remind — Контрагент не подписал документ",
        "Договор № 17 от 26.04.2024",  # people read titles; --json has the id
        "первый шаг (do)",
        "пн 06.05.2024 00:00 MSK",
        "log",
    ]
    assert "на пн 06.05.2024 10:00 MSK: сработало бы 1, действий 1" in out
    assert "(пробный прогон, ничего не записано)" in out
    with SQLiteStore(files[0]) as store:
        assert store.firings_for("a") == []


def test_tick_records_without_dry_run(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # Without --at a real tick runs at the wall clock: long after 2024, so it is due.
    assert main(_args(files, "tick", "--lang", "en")) == 0
    assert "1 firing(s) fired and recorded" in capsys.readouterr().out
    assert main(_args(files, "--lang", "en", "tick")) == 0
    assert "nothing is due" in capsys.readouterr().out
    assert main(_args(files, "history", "a")) == 0  # with the rule's description
    assert "сработало signing/remind — Контрагент не подписал документ первый шаг (do)" in (
        capsys.readouterr().out
    )
    (files[1] / "broken.yaml").write_text("version: 1\nname: x\nrules: 5\n", encoding="utf-8")
    assert main(_args(files, "history", "a")) == 0  # a broken playbook does not hide history
    captured = capsys.readouterr()
    assert "сработало signing/remind первый шаг (do)" in captured.out
    assert "описания правил не показаны" in captured.err


def test_tick_at_without_dry_run_is_refused_with_a_hint(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(files, "tick", "--at", "2024-05-06T10:00+03:00")) == 2
    err = capsys.readouterr().err
    assert "--at без --dry-run не выполняется" in err and "добавьте --dry-run" in err
    with SQLiteStore(files[0]) as store:
        assert store.firings_for("a") == []


def test_explain_shows_the_arithmetic(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(files, "explain", "a", "--at", "2024-05-06T10:00")) == 0
    out = capsys.readouterr().out
    assert "signing/remind — Контрагент не подписал документ" in out
    assert "сб 27.04 (рабочая суббота), чт 02.05, пт 03.05 → срок пн 06.05 00:00" in out
    assert "первый шаг (do): отправлен пт 26.04.2024; 3 раб. дн.:" in out
    assert "наступило: сработает на ближайшем тике" in out
    assert main(_args(files, "explain", "a", "--at", "2024-05-06T10:00", "--lang", "en")) == 0
    out = capsys.readouterr().out
    assert "Sat 27.04 (working Saturday), Thu 02.05, Fri 03.05 → due Mon 06.05 00:00" in out
    assert "due: fires at the next tick" in out and "at Mon 06.05.2024 10:00 MSK" in out


def test_history_lists_events(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "a", "--store", str(files[0])]) == 0
    out = capsys.readouterr().out
    assert "Договор № 17 от 26.04.2024 (id a): отправлен, ждёт подписи контрагента (sent)" in out
    assert (
        "пт 26.04.2024 15:30 MSK  отправлен, ждёт подписи контрагента (sent) [— → raw-sent]"
        "  «отправлен»"
    ) in out


def test_bad_input_becomes_exit_code_1(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(files, "explain", "zzz")) == 1
    assert "документ 'zzz' не найден" in capsys.readouterr().err
    missing = ["history", "a", "--store", str(tmp_path / "none.sqlite3"), "--lang", "en"]
    assert main(missing) == 1
    assert "edo-rules: error: no store at" in capsys.readouterr().err
    (files[1] / "broken.yaml").write_text("version: 1\nname: x\nrules: 5\n", encoding="utf-8")
    assert main(_args(files, "tick", "--dry-run")) == 1
    assert "broken.yaml:3" in capsys.readouterr().err


def test_a_bad_at_is_a_usage_error(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(files, "tick", "--dry-run", "--at", "next monday")) == 2
    assert "— не дата со временем ISO (например, 2026-12-07T09:30)" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["tick", "explain", "history"])
def test_commands_have_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert textwrap.shorten(capsys.readouterr().out, 20)
