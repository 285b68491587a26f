"""``edo-rules test``: playbook tests in YAML, their failures and their own errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from edo_rules.cli import main

ROOT = Path(__file__).resolve().parents[1]

PLAYBOOK = """\
version: 1
name: pb
timezone: {zone}
rules:
  - id: remind
    match: {{kind: act, status: sent}}
    when: {{after: {after}, since: sent_at}}
    do:
      - notify:
          to: responsible
          text: "{{{{ doc.title }}}} не подписан {{{{ elapsed.working_days }}}} раб. дн."
    escalate:
      - after: 5 рабочих дней
        do:
          - notify: {{to: head_of_responsible, text: "Эскалация: {{{{ doc.title }}}}"}}
"""

DOCS = """\
playbooks: [pb.yaml]
users:
  7: {head: 3}
documents:
  - {id: d1, kind: act, number: 5, status: sent, sent_at: 2024-04-26T15:00, responsible: 7}
"""


def _write(
    folder: Path, test: str, *, after: str = "3 рабочих дня", zone: str = "Europe/Moscow"
) -> Path:
    (folder / "pb.yaml").write_text(PLAYBOOK.format(after=after, zone=zone), encoding="utf-8")
    path = folder / "case.yaml"
    path.write_text(textwrap.dedent(test), encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["test", *args])
    return code, capsys.readouterr().out


MAY = (
    DOCS
    + """\
expect:
  - at: 2024-05-03T09:00
    fired: []
  - at: 2024-05-06T09:00
    fired: [pb/remind do d1]
    actions:
      - {action: notify, to: 7, text_contains: "Акт № 5 не подписан 3 раб. дн."}
  - at: 2024-05-08T09:00
    fired: ["pb/remind escalate[1]"]
    actions:
      - {action: notify, to: 3, text_contains: Эскалация}
"""
)


def test_bundled_playbook_tests_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, str(ROOT / "playbooks" / "tests"))
    assert code == 0, out
    assert out.splitlines()[-1].endswith(", не прошло: 0")


def test_may_holidays_and_working_saturday_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(capsys, str(_write(tmp_path, MAY)))
    assert code == 0, out
    assert f"ок     {tmp_path / 'case.yaml'}: проверок 3" in out
    assert out.splitlines()[-1] == "прошло тестов: 1, не прошло: 0"
    code, out = _run(capsys, str(tmp_path / "case.yaml"), "--lang", "en")
    assert f"ok   {tmp_path / 'case.yaml'}: 3 expectation(s)" in out
    assert out.splitlines()[-1] == "1 passed, 0 failed"


def test_wrong_expectation_names_line_moment_and_arithmetic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = DOCS + "expect:\n  - at: 2024-05-03T09:00\n    fired: [pb/remind do d1]\n"
    path = _write(tmp_path, case)
    code, out = _run(capsys, str(path))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        f"{path}:7: на 2024-05-03 09:00: ожидалось срабатывание [pb/remind do d1],"
        " получено [] (ничего)"
    )
    assert lines[1] == "    объяснение d1:"
    assert "  подходит: да" in out and "    ещё не наступило" in out
    assert "3 рабочих дня: сб 27.04 (рабочая суббота), чт 02.05, пт 03.05 → срок пн 06.05" in out
    assert lines[-2] == f"ОШИБКА {path}: проверок 1"
    assert lines[-1] == "прошло тестов: 0, не прошло: 1"
    assert not [line for line in lines if "expected" in line or "explain" in line]
    code, out = _run(capsys, str(path), "--lang", "en")
    assert code == 1
    lines = out.splitlines()
    assert (
        lines[0]
        == f"{path}:7: at 2024-05-03 09:00: expected fired [pb/remind do d1], got [] (nothing)"
    )
    assert lines[1] == "    explain d1:" and "  match: yes" in out
    assert (
        "3 рабочих дня: Sat 27.04 (working Saturday), Thu 02.05, Fri 03.05 → due Mon 06.05 00:00"
        in out
    )
    assert lines[-2:] == [f"FAIL {path}: 1 expectation(s)", "0 passed, 1 failed"]


def test_a_broken_ladder_is_caught(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Calendar days instead of working days: the reminder comes during the holidays."""
    path = _write(tmp_path, MAY, after="3 дня")
    code, out = _run(capsys, str(path))
    assert code == 1
    assert (
        f"{path}:7: на 2024-05-03 09:00: ожидалось срабатывание [] (ничего),"
        " получено [pb/remind do d1]" in out
    )
    assert (
        f"{path}:9: на 2024-05-06 09:00: ожидалось срабатывание [pb/remind do d1],"
        " получено [] (ничего)" in out
    )


def test_action_mismatch_lists_missing_and_requested(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = DOCS + textwrap.dedent("""\
        expect:
          - at: 2024-05-06T09:00
            actions:
              - {action: notify, to: 3, text_contains: Акт}
        """)
    path = _write(tmp_path, case)
    code, out = _run(capsys, str(path))
    assert code == 1
    assert (
        f"{path}:7: на 2024-05-06 09:00: ожидалось действий 1, получено 1; они различаются" in out
    )
    assert "    не хватает: notify, получателю 3, текст содержит 'Акт'" in out
    assert "    лишнее: notify для d1 получателю 7: 'Акт № 5 не подписан 3 раб. дн.'" in out
    code, out = _run(capsys, str(path), "--lang", "en")
    assert f"{path}:7: at 2024-05-06 09:00: expected 1 action(s), got 1; they differ" in out
    assert "    missing: notify, to 3, text containing 'Акт'" in out
    assert "    unexpected: notify for d1 to 7: 'Акт № 5 не подписан 3 раб. дн.'" in out


def test_moments_are_in_the_tests_zone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Yekaterinburg (+05): due at 00:00 local, i.e. 22:00 Moscow the day before."""
    case = textwrap.dedent("""\
        timezone: Asia/Yekaterinburg
        playbooks: [pb.yaml]
        documents:
          - {id: d1, kind: act, status: sent, sent_at: 2024-04-26T15:00, responsible: 7}
        expect:
          - at: 2024-05-05T23:59
            fired: []
          - at: 2024-05-06T00:00
            fired: [pb/remind do d1]
          - at: 2024-05-07T21:59+03:00
            fired: []
          - at: 2024-05-07T22:00+03:00
            fired: ["pb/remind escalate[1] d1"]
        """)
    code, out = _run(capsys, str(_write(tmp_path, case, zone="Asia/Yekaterinburg")))
    assert code == 0, out


def test_calendar_override_moves_the_due_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "days.yaml").write_text(
        "days_off:\n  - {date: 2024-05-03, comment: приказ}\n", encoding="utf-8"
    )
    case = DOCS.replace(
        "playbooks: [pb.yaml]", "playbooks: [pb.yaml]\ncalendar: {overrides: days.yaml}"
    )
    case += textwrap.dedent("""\
        expect:
          - {at: 2024-05-06T09:00, fired: []}
          - {at: 2024-05-07T09:00, fired: [pb/remind do d1]}
        """)
    code, out = _run(capsys, str(_write(tmp_path, case)))
    assert code == 0, out


def test_events_change_the_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = DOCS + textwrap.dedent("""\
        events:
          - {at: 2024-05-07T11:00, document: d1, status: signed}
        expect:
          - at: 2024-05-06T09:00
            fired: [pb/remind do d1]
          - at: 2024-05-08T09:00
            fired: []
        """)
    code, out = _run(capsys, str(_write(tmp_path, case)))
    assert code == 0, out


def test_every_adds_ticks_between_expectations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With daily ticks the reminder fires on 06.05 at 09:00, inside the interval to 07.05."""
    case = DOCS + textwrap.dedent("""\
        every: 1 day
        expect:
          - at: 2024-05-01T09:00
            fired: []
          - at: 2024-05-07T09:00
            fired: [pb/remind do d1]
        """)
    code, out = _run(capsys, str(_write(tmp_path, case)))
    assert code == 0, out


EVENT = (
    "events:\n  - {{at: 2024-05-07T11:00, document: {doc}, status: {status}}}\n"
    "expect:\n  - {{at: 2024-05-06T09:00}}\n"
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (EVENT.format(doc="d9", status="signed"),
         ":7:38: events[0].document: документа 'd9' нет в documents"),
        (EVENT.format(doc="d1", status="sined"),
         "events[0].status: неизвестный статус 'sined' (допустимы: draft,"),
        ("expect:\n  - {at: 06.05.2024}\n",
         "expect[0].at: '06.05.2024' — не момент времени (например, 2024-05-06T09:00)"),
        ("expect:\n  - {at: 2024-05-06T09:00}\n  - {at: 2024-05-01T09:00}\n",
         "expect: проверки должны идти по времени (сначала ранние)"),
        ("expect:\n  - {at: 2024-05-06T09:00, fird: []}\n", "fird"),
        ("timezone: Europe/Moskva\nexpect:\n  - {at: 2024-05-06T09:00}\n",
         "неизвестный часовой пояс 'Europe/Moskva' (например, Europe/Moscow)"),
    ],
)  # fmt: skip
def test_bad_test_files_are_reported_with_their_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, message: str
) -> None:
    path = _write(tmp_path, DOCS + body)
    code, out = _run(capsys, str(path))
    assert code == 1
    assert message in out, out
    assert f"ОШИБКА {path}: тест или его сценарии не загружаются" in out
    assert out.splitlines()[0].startswith(f"{path}:")


def test_a_playbook_that_does_not_load_fails_the_test(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, MAY, after="3 рабочих дней")
    (tmp_path / "pb.yaml").write_text("version: 1\nname: pb\nrules: 7\n", encoding="utf-8")
    code, out = _run(capsys, str(path))
    assert code == 1
    assert f"{tmp_path / 'pb.yaml'}:3:" in out


def test_validate_checks_test_files_and_skips_them_as_playbooks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, MAY)
    assert main(["validate", str(tmp_path)]) == 0
    assert "OK: файлов 2, правил 1, файлов тестов 1" in capsys.readouterr().out
    (tmp_path / "case.yaml").write_text(DOCS + "expect:\n  - {at: soon}\n", encoding="utf-8")
    assert main(["validate", str(tmp_path)]) == 1
    assert "expect[0].at: 'soon' — не момент времени" in capsys.readouterr().out


def test_validate_reports_a_missing_playbook_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, MAY.replace("playbooks: [pb.yaml]", "playbooks: [gone.yaml]"))
    assert main(["validate", str(path)]) == 1
    assert f"playbooks: нет такого файла или папки сценариев: {tmp_path / 'gone.yaml'}" in (
        capsys.readouterr().out
    )


def test_schema_copies_are_identical() -> None:
    packaged = ROOT / "edo_rules" / "testing" / "playbook-test.schema.json"
    assert (ROOT / "schemas" / "playbook-test.schema.json").read_text() == packaged.read_text()


def test_unexpected_skip_is_reported_with_the_arithmetic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sent 22.04: at the first tick on 03.05 ``do`` is long overdue and catch-up records it
    skipped while escalate[1] fires; a test expecting no skip fails and says what was skipped."""
    case = DOCS.replace("2024-04-26T15:00", "2024-04-22T10:00") + textwrap.dedent("""\
        expect:
          - at: 2024-05-03T09:00
            fired: ["pb/remind escalate[1] d1"]
            skipped: []
        """)
    path = _write(tmp_path, case)
    code, out = _run(capsys, str(path))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        f"{path}:7: на 2024-05-03 09:00: ожидался пропуск [] (ничего), получено [pb/remind do d1]"
    )
    assert lines[1] == "    объяснение d1:"
    assert "3 рабочих дня: вт 23.04, ср 24.04, чт 25.04 → срок пт 26.04" in out
    assert lines[-2:] == [f"ОШИБКА {path}: проверок 1", "прошло тестов: 0, не прошло: 1"]
    code, out = _run(capsys, str(path), "--lang", "en")
    assert out.splitlines()[0] == (
        f"{path}:7: at 2024-05-03 09:00: expected skipped [] (nothing), got [pb/remind do d1]"
    )


def test_a_rule_that_fails_on_a_document_fails_the_test(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An evaluation error is a failure of its own, even where nothing else was expected."""
    path = _write(tmp_path, MAY)
    playbook = (tmp_path / "pb.yaml").read_text(encoding="utf-8")
    where = "{kind: act, status: sent, where: 'doc.amount > 5'}"
    broken = playbook.replace("{kind: act, status: sent}", where)
    (tmp_path / "pb.yaml").write_text(broken, encoding="utf-8")
    code, out = _run(capsys, str(path))
    assert code == 1
    failed = [line for line in out.splitlines() if "ошибка на документе" in line]
    assert failed, out
    assert failed[0].startswith(
        f"{path}:9: на 2024-05-06 09:00: pb/remind: ошибка на документе d1:"
    )
    # The engine's own error: the rule's file and line, the expression, the document, why.
    assert f"{tmp_path / 'pb.yaml'}:6" in failed[0]
    assert failed[0].endswith(
        "в выражении 'doc.amount > 5' на документе d1: TypeError: '>' not supported between"
        " instances of 'NoneType' and 'int'"
    )
    assert "    объяснение d1:" in out
    code, out = _run(capsys, str(path), "--lang", "en")
    assert f"{path}:9: at 2024-05-06 09:00: pb/remind failed for d1: " in out


def test_a_folder_with_passing_and_failing_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(tmp_path, MAY)
    bad = tmp_path / "wrong.yaml"
    bad.write_text(DOCS + "expect:\n  - {at: 2024-05-03T09:00, fired: [pb/remind do]}\n")
    code, out = _run(capsys, str(tmp_path), "--lang", "en")
    assert code == 1
    assert f"ok   {good}: 3 expectation(s)" in out
    assert f"{bad}:7: at 2024-05-03 09:00: expected fired [pb/remind do], got [] (nothing)" in out
    assert f"FAIL {bad}: 1 expectation(s)" in out
    assert f"FAIL {tmp_path / 'pb.yaml'}: the test or its playbooks do not load" in out
    assert out.splitlines()[-1] == "1 passed, 2 failed"  # pb.yaml itself is no test file


def test_no_test_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, str(tmp_path))
    assert (code, out) == (1, "файлов тестов не найдено (нужны *.yaml или *.yml)\n")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("  - {id: d1, kind: act, status: sent}\nexpect:\n  - {at: 2024-05-06T09:00}\n",
         ":6:10: documents[1].id: документ 'd1' определён дважды"),
        ("every: 2 рабочих дня\nexpect:\n  - {at: 2024-05-06T09:00}\n",
         ":6:8: every: '2 рабочих дня' — нужны минуты, часы или дни (например, 1 час)"),
        ("every: 2 попугая\nexpect:\n  - {at: 2024-05-06T09:00}\n", ":6:8: every: "),
    ],
)  # fmt: skip
def test_more_bad_test_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, message: str
) -> None:
    path = _write(tmp_path, DOCS + body)
    code, out = _run(capsys, str(path))
    assert code == 1
    assert f"{path}{message}" in out, out
    assert f"ОШИБКА {path}: тест или его сценарии не загружаются" in out


def test_a_bad_set_in_an_event_names_the_events_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = DOCS + textwrap.dedent("""\
        events:
          - {at: 2024-05-07T11:00, document: d1, status: signed, set: {amount: много}}
        expect:
          - {at: 2024-05-08T09:00, fired: []}
        """)
    path = _write(tmp_path, case)
    code, out = _run(capsys, str(path))
    assert code == 1
    assert out.splitlines()[0].startswith(f"ОШИБКА {path}: {path}:7: ключ set: "), out
    assert "amount" in out.splitlines()[0]
