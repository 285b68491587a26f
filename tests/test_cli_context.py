"""Every command resolves store, zone, calendar override and playbooks the same way.

One config with a calendar override (Mon 07.12.2026 is a company day off);
``tick --dry-run``, ``simulate``, ``explain`` and ``agenda`` must agree on every
due moment, and that moment must count the override.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from _engine_helpers import msk
from store_contract import make_document, make_event

from edo_rules.cli import main
from edo_rules.cli._documents import DocumentQuery, find_documents, resolve_document
from edo_rules.errors import EdoRulesError
from edo_rules.model import Document, Status
from edo_rules.store.sqlite import SQLiteStore

PLAYBOOK = """\
version: 1
name: signing
description: Контроль подписания
rules:
  - id: remind
    description: Контрагент не подписал документ
    match: {status: sent}
    when: {after: 3 working days, since: sent_at}
    do:
      - log: {message: "{{ doc.title }} не подписан"}
    escalate:
      - after: 5 working days
        do:
          - log: {message: "эскалация {{ doc.title }}"}
    repeat: {every: 2 working days, times: 2}
"""

Due = tuple[str, str, str, str]  # rule, document, step, due (ISO in the config's zone)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with edo-rules.yaml (store, playbooks, override) and a synced store."""
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "signing.yaml").write_text(PLAYBOOK, encoding="utf-8")
    (tmp_path / "company-days.yaml").write_text(
        "days_off:\n  - date: 2026-12-07\n    comment: Корпоративный выходной\n",
        encoding="utf-8",
    )
    (tmp_path / "edo-rules.yaml").write_text(
        textwrap.dedent("""\
            version: 1
            timezone: Europe/Moscow
            store: {path: data/edo.db}
            playbooks: playbooks/
            calendar: {override: company-days.yaml}
        """),
        encoding="utf-8",
    )
    (tmp_path / "data").mkdir()
    with SQLiteStore(tmp_path / "data" / "edo.db") as store:
        store.write_sync_page(
            [
                make_document("a", number="183", sent_at=msk("2026-12-02 10:00")),
                make_document("b", number="184", sent_at=msk("2026-11-30 16:00")),
                make_document("c", number="185", status=Status.SIGNED),
            ],
            [make_event("a", msk("2026-12-02 10:00"), Status.SENT)],
        )
    monkeypatch.chdir(tmp_path)  # ./edo-rules.yaml is the default config
    return tmp_path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _fired(items: list[dict[str, Any]]) -> set[Due]:
    return {(f["rule"], f["document"], f["step"], f["due"]) for f in items}


def test_tick_simulate_explain_and_agenda_agree_on_every_due_moment(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agenda = _json(capsys, ["agenda", "--days", "10", "--at", "2026-12-02T12:00", "--json"])
    planned = {due for day in agenda["days"] for due in _fired(day["fired"])}
    titles = {f["document"]: f["title"] for day in agenda["days"] for f in day["fired"]}
    assert titles == {"a": "Договор № 183 от 26.04.2024", "b": "Договор № 184 от 26.04.2024"}
    simulated = _json(
        capsys, ["simulate", "--from", "2026-12-02", "--to", agenda["to"], "--json", "-c",
                 str(project / "edo-rules.yaml")]
    )  # fmt: skip
    assert {due for m in simulated["moments"] for due in _fired(m["fired"])} == planned
    explained: set[Due] = set()
    for doc in ("a", "b"):
        answer = _json(capsys, ["explain", doc, "--at", "2026-12-02T12:00", "--json"])
        explained |= {
            ("signing/remind", doc, step["step"], step["due"])
            for rule in answer["rules"]
            for step in rule["steps"]
            if step["due"] <= f"{agenda['to']}T23:59:59+03:00"
        }
    assert explained == planned
    for rule, doc, step, due in sorted(planned, key=lambda p: p[3]):
        at = datetime.fromisoformat(due)
        earlier = (at - timedelta(seconds=1)).isoformat()
        before = _json(capsys, ["tick", "--dry-run", "--at", earlier, "--json"])
        assert (rule, doc, step, due) not in _fired(before["fired"])
        then = _json(capsys, ["tick", "--dry-run", "--at", at.isoformat(), "--json"])
        assert (rule, doc, step, due) in _fired(then["fired"]) or any(
            s["document"] == doc for s in then["skipped"]
        )
    # The override counts: a's third working day after Wed 02.12 is Tue 08.12 (07.12 is off).
    assert ("signing/remind", "a", "do", "2026-12-09T00:00:00+03:00") in planned
    assert not any(p[3].startswith("2026-12-08") for p in planned if p[1] == "a")


def test_the_agenda_lists_each_day_in_the_configured_zone(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["agenda", "--days", "3", "--at", "2026-12-07T09:30"]) == 0
    out = capsys.readouterr().out
    days = [line for line in out.splitlines() if not line.startswith(" ")]
    # b is overdue (due Fri 04.12): it fires at the first tick, on 07.12.
    assert days[:2] == ["пн 07.12.2026: 1", "ср 09.12.2026: 2"]
    assert (
        "сработает  signing/remind — Контрагент не подписал документ  Договор № 183 от"
        " 26.04.2024  первый шаг (do)  (срок ср 09.12.2026 00:00 MSK)"
    ) in out
    assert "№ 184 от 26.04.2024  эскалация 1 (escalate[1])  (срок ср 09.12.2026 00:00 MSK)" in out
    # 07.12 is off: three working days are 08, 09 and 10.12.
    assert days[2].startswith("план на 3 раб. дн. (пн 07.12.2026 … чт 10.12.2026): срабатываний 3")


def test_tick_dry_run_counts_the_override(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The case: with 07.12 off, nothing of `a` is due on 07.12 or 08.12.
    for at in ("2026-12-07T09:30", "2026-12-08T09:30"):
        result = _json(capsys, ["tick", "--dry-run", "--at", at, "--json"])
        assert [f for f in result["fired"] if f["document"] == "a"] == []
    result = _json(capsys, ["tick", "--dry-run", "--at", "2026-12-09T09:30", "--json"])
    assert ("signing/remind", "a", "do", "2026-12-09T00:00:00+03:00") in _fired(result["fired"])
    assert result["at"] == "2026-12-09T09:30:00+03:00"


@pytest.mark.parametrize("ref", ["183", "№ 183", "Договор № 183", "договор №183"])
def test_documents_are_found_by_number(
    project: Path, capsys: pytest.CaptureFixture[str], ref: str
) -> None:
    history = _json(capsys, ["history", ref, "--json"])
    assert history["document"]["id"] == "a"
    assert history["events"][0]["at"] == "2026-12-02T10:00:00+03:00"
    explained = _json(capsys, ["explain", ref, "--at", "2026-12-09T10:00", "--json"])
    assert explained["document"]["id"] == "a"


def test_a_number_of_several_documents_is_an_error_listing_them(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SQLiteStore(project / "data" / "edo.db") as store:
        store.upsert_documents([make_document("d", number="183", sent_at=msk("2026-12-03 10:00"))])
    assert main(["history", "183"]) == 1
    err = capsys.readouterr().err
    assert "номеру '183' соответствуют несколько документов" in err
    assert "  a  " in err and "  d  " in err
    assert main(["history", "Договор № 999"]) == 1
    assert "документ 'Договор № 999' не найден" in capsys.readouterr().err


class _NoScan(SQLiteStore):
    """A store that refuses to be read document by document."""

    def iter_documents(self) -> Iterator[Document]:
        raise AssertionError("a number or an INN must not read every document")


def test_a_number_is_found_through_the_index_in_any_spelling(project: Path) -> None:
    with SQLiteStore(project / "data" / "edo.db") as store:
        store.upsert_documents(
            [make_document("d", number=" эдо-7 "), make_document("e", number="ЭДО-7")]
        )
    with _NoScan(project / "data" / "edo.db") as store:
        assert [d.id for d in find_documents(store, DocumentQuery(number="эдо-7"))] == ["d", "e"]
        assert find_documents(store, DocumentQuery(number="№ 8")) == []
        inn = make_document("x").counterparty.inn
        by_inn = find_documents(store, DocumentQuery(inn=f" {inn} ", number="ЭДО-7"))
        assert [d.id for d in by_inn] == ["d", "e"]
        with pytest.raises(EdoRulesError, match="несколько документов"):
            resolve_document(store, "ЭДО-7")


def test_docs_finds_by_number_inn_counterparty_and_status(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert [d["id"] for d in _json(capsys, ["docs", "--number", "184", "--json"])] == ["b"]
    assert {d["id"] for d in _json(capsys, ["docs", "--status", "sent", "--json"])} == {"a", "b"}
    everyone = _json(capsys, ["docs", "--all", "--json"])
    inn, name = everyone[0]["counterparty"]["inn"], everyone[0]["counterparty"]["name"]
    assert len(_json(capsys, ["docs", "--inn", inn, "--json"])) == 3
    assert len(_json(capsys, ["docs", "--counterparty", name[2:8].upper(), "--json"])) == 3
    assert main(["docs", "--number", "184"]) == 0
    out = capsys.readouterr().out
    assert "отправлен, ждёт подписи контрагента (sent)" in out and "найдено документов: 1" in out
    assert main(["docs"]) == 2
    assert "укажите, что искать" in capsys.readouterr().err


def test_the_store_comes_from_the_config_for_every_command(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No --store anywhere: each command finds data/edo.db through ./edo-rules.yaml.
    for argv in (
        ["outbox", "--json"],
        ["snooze", "--list", "--json"],
        ["docs", "--all", "--json"],
        ["history", "a", "--json"],
    ):
        _json(capsys, argv)
    assert main(["snooze", "183", "--for", "2 рабочих дня", "--at", "2026-12-04T10:00"]) == 0
    # Two working days from Fri 04.12: 08 and 09.12 (07.12 is off) → until Thu 10.12.
    assert "до чт 10.12.2026 00:00 MSK" in capsys.readouterr().out
    assert main(["outbox", "--failed", "--lang", "en"]) == 0
    assert "no such requests in the outbox" in capsys.readouterr().out
    assert main(["outbox"]) == 0
    assert "очередь пуста" in capsys.readouterr().out


def test_a_missing_store_or_config_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["tick", "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert "нет хранилища edo-rules.db" in err and "--config" in err
    assert main(["explain", "a", "--config", "nope.yaml"]) == 1
    assert "nope.yaml:1:1: нет такого файла конфигурации" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    ["tick", "run", "sync", "agenda", "simulate", "explain", "history", "snooze", "unsnooze",
     "outbox", "docs", "diff", "calendar", "validate"],
)  # fmt: skip
def test_every_command_that_reads_the_store_or_playbooks_takes_config(command: str) -> None:
    from edo_rules.cli import build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    options = {o for a in action.choices[command]._actions for o in a.option_strings}
    assert {"--config", "-c"} <= options
