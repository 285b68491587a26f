"""``edo-rules validate``: every problem in every file, exit 1; OK summary, exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from edo_rules.cli import build_parser, main

GOOD = """\
version: 1
name: good
rules:
  - id: ok
    when: {status_changed: {to: signed}}
    do: [log: {message: "{{ doc.title }} подписан"}]
  - id: ok-2
    when: {after: 3 рабочих дня, since: sent_at}
    do: [log: ]
"""

BAD = """\
version: 1
name: bad
rules:
  - id: r
    when:
      aftr: 3 working days
      since: sent_at
    do:
      - lgo: {}
"""


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["validate", *args])
    return code, capsys.readouterr().out.splitlines()


def test_valid_files_exit_zero_with_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    code, out = _run(capsys, str(tmp_path))
    assert (code, out) == (0, ["OK: файлов 1, правил 2"])


def test_every_problem_of_every_file_is_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yml"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_text(BAD, encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nname: [\n", encoding="utf-8")
    code, out = _run(capsys, str(good), str(bad), str(broken))
    assert code == 1
    assert out == [
        f"{bad}:6:7: rules[0].when: правилу по времени нужен и «after» (например, after: 3"
        " working days, since: sent_at)",
        f"{bad}:6:7: rules[0].when.aftr: неизвестный ключ 'aftr' (возможно, 'after'?)",
        f"{bad}:9:9: rules[0].do[0].lgo: неизвестное действие 'lgo' (возможно, 'log'?);"
        " известные действия: card_status, comment, deal_stage, invoice, log, mirror, notify,"
        " remind_counterparty, task, task_comment, timeline, todo, workflow",
        f"{broken}:2:7: ошибка синтаксиса YAML: список, открытый здесь скобкой '[', не закрыт"
        " (файл закончился раньше)",
        "  2 | name: [",
        "    |       ^",
        "  подсказка: закройте список скобкой ']' и разделяйте элементы запятыми: [act, upd]",
        "ошибок: 4 в 2 из 3 файлов",
    ]


def test_duplicates_across_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD.replace("name: good", "name: other"), "utf-8")
    code, out = _run(capsys, str(tmp_path))
    assert code == 1
    assert out[0] == (
        f"{tmp_path / 'b.yaml'}:4:5: rules[0].id: id правила 'ok' уже определён в "
        f"{tmp_path / 'a.yaml'}:4"
    )


def test_missing_file_and_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, str(tmp_path / "nope.yaml"))
    assert code == 1
    assert (
        out[0]
        == f"{tmp_path / 'nope.yaml'}:1:1: не удалось прочитать файл: No such file or directory"
    )
    code, out = _run(capsys, str(tmp_path))
    assert (code, out) == (1, ["файлов сценариев не найдено (нужны *.yaml или *.yml)"])


def test_the_bundled_playbooks_validate(capsys: pytest.CaptureFixture[str]) -> None:
    folder = Path(__file__).resolve().parent.parent / "playbooks"
    code, out = _run(capsys, str(folder))
    assert code == 0, out
    assert out[-1].startswith("OK: ")


def test_validate_has_help() -> None:
    parser = build_parser()
    action = next(a for a in parser._subparsers._actions if a.dest == "command")  # type: ignore[union-attr]
    assert action.choices["validate"].description
    with pytest.raises(SystemExit) as info:
        main(["validate"])
    assert info.value.code == 2
