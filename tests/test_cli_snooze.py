"""``edo-rules snooze`` / ``snooze --list`` / ``unsnooze`` on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _engine_helpers import msk
from store_contract import make_document

from edo_rules.cli import main
from edo_rules.store.sqlite import SQLiteStore

PLAYBOOK = """\
version: 1
name: signing
rules:
  - id: remind
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
        store.upsert_documents([make_document("a", sent_at=msk("2024-04-26 15:30"))])
    return store_path, playbooks


def _args(files: tuple[Path, Path], *extra: str) -> list[str]:
    return [*extra, "--store", str(files[0]), "--playbooks", str(files[1])]


def test_snooze_list_and_unsnooze(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    at = ("--at", "2024-05-03T10:00")
    argv = ["snooze", "a", "--rule", "signing/remind", "--for", "5 рабочих дней"]
    assert main(_args(files, *argv, "--reason", "ждём оригинал", *at)) == 0
    assert capsys.readouterr().out.strip() == (
        "отложено: Договор № 17 от 26.04.2024 (a) (правило signing/remind) до"
        " ср 15.05.2024 00:00 MSK (отсрочка #1); наступившее за это время выполнится,"
        " когда она закончится"
    )
    assert main(_args(files, "snooze", "--list", "--lang", "en", *at)) == 0
    header, _, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["id", "document", "rule", "until", "state", "reason"]
    assert row.split() == [
        "1", "Договор", "№", "17", "от", "26.04.2024", "signing/remind", "Wed", "15.05.2024",
        "00:00", "MSK", "active", "ждём",
        "оригинал",
    ]  # fmt: skip
    assert main(_args(files, "snooze", "--list", "--json", *at)) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"id": 1, "document": "a", "rule": "signing/remind", "until": "2024-05-15T00:00:00+03:00",
         "active": True, "reason": "ждём оригинал"}
    ]  # fmt: skip
    assert main(_args(files, "tick", "--dry-run", "--at", "2024-05-06T10:00")) == 0
    assert "ничего не наступило" in capsys.readouterr().out
    assert main(["unsnooze", "1", "--store", str(files[0]), "--at", "2024-05-06T11:00"]) == 0
    out = capsys.readouterr().out
    assert "пн 06.05.2024 11:00 MSK  закончилась" in out
    assert main(_args(files, "tick", "--dry-run", "--at", "2024-05-06T12:00")) == 0
    assert "сработало бы 1" in capsys.readouterr().out
    assert main(_args(files, "snooze", "--list", "--at", "2024-05-06T12:00")) == 0
    assert capsys.readouterr().out.strip() == "действующих отсрочек нет"
    assert main(_args(files, "snooze", "--list", "--all", "--at", "2024-05-06T12:00")) == 0
    assert "закончилась" in capsys.readouterr().out


def test_explain_names_the_snooze(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(files, "snooze", "a", "--for", "2 days", "--at", "2024-05-03T10:00")) == 0
    capsys.readouterr()
    assert main(_args(files, "explain", "a", "--at", "2024-05-05T10:00")) == 0
    assert "отложено до пн 06.05.2024 00:00 MSK (отсрочка #1)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["snooze", "a"], "snooze needs a document and a duration"),
        (["snooze", "zz", "--for", "1 day"], "no document 'zz' in the store"),
        (["snooze", "a", "--for", "soon"], "is not a duration"),
        (["snooze", "a", "--for", "1 day", "--rule", "signing/nope"], "no rule 'signing/nope'"),
        (["unsnooze", "5"], "no snooze with id 5"),
    ],
)
def test_bad_snooze_commands_exit_1(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    extra = ["--playbooks", str(files[1])] if argv[0] == "snooze" else []
    assert main([*argv, "--store", str(files[0]), "--lang", "en", *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith("edo-rules: error: ") and message in err
    with SQLiteStore(files[0]) as store:
        assert store.snoozes() == []
