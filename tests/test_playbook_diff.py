"""``edo-rules diff``: what a playbook edit changes over a real store, both versions simulated."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from _engine_helpers import msk

from edo_rules._messages import in_language
from edo_rules.calendar import ProductionCalendar
from edo_rules.cli import main
from edo_rules.engine import Engine
from edo_rules.model import Counterparty, Direction, Document, Kind, Status
from edo_rules.playbook.loader import load_playbooks
from edo_rules.store.sqlite import SQLiteStore

LADDER = """\
version: 1
name: pb
rules:
  - id: {rule_id}
    match: {{kind: act, status: sent}}
    when: {{after: {after}, since: sent_at}}
    do:
      - notify: {{to: responsible, text: "{{{{ doc.title }}}} не подписан"}}
    escalate:
{escalate}
"""
HEAD = (
    "      - after: 5 рабочих дней\n        do:\n"
    "          - notify: {to: head_of_responsible, text: Эскалация}\n"
)
TASK = (
    "      - after: 7 рабочих дней\n        do:\n"
    "          - task: {responsible: responsible, title: Позвонить}\n"
)
NOW = "2024-05-03T10:00"


def _playbook(
    folder: Path, *, rule_id: str = "remind", after: str = "3 рабочих дня", escalate: str = HEAD
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = LADDER.format(rule_id=rule_id, after=after, escalate=escalate)
    (folder / "pb.yaml").write_text(text, encoding="utf-8")
    return folder


def _store(path: Path) -> Path:
    docs = [
        Document(
            id=f"d{i}",
            kind=Kind.ACT,
            number=str(i),
            date=None,
            direction=Direction.OUTGOING,
            status=Status.SENT,
            status_1c="sent",
            counterparty=Counterparty("ООО «Ромашка»", "7700000000"),
            sent_at=sent,
            responsible="7",
        )
        for i, sent in enumerate((msk("2024-04-26 15:00"), msk("2024-04-22 10:00")), start=1)
    ]
    with SQLiteStore(path) as store:
        store.upsert_documents(docs)
    return path


def _diff(
    capsys: pytest.CaptureFixture[str], store: Path, old: Path, new: Path, *lang: str
) -> tuple[int, str]:
    """The real CLI: Russian by default, English with ``lang`` = ``("--lang", "en")``."""
    code = main(["diff", str(old), str(new), "--store", str(store), "--at", NOW, *lang])
    return code, capsys.readouterr().out


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return _store(tmp_path / "edo.sqlite3")


def test_unchanged_playbook_exits_0(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _playbook(tmp_path / "old")
    new = _playbook(tmp_path / "new")
    (new / "pb.yaml").write_text("# a comment moves every line\n" + (old / "pb.yaml").read_text())
    code, out = _diff(capsys, store, old, new)
    assert code == 0, out
    assert out.splitlines() == [
        "обе версии смоделированы в 19 моментах, с 2024-05-03 10:00 по 2024-05-21 09:00",
        "изменений нет: обе версии делают одно и то же",
    ]
    code, out = _diff(capsys, store, old, new, "--lang", "en")
    assert code == 0, out
    assert out.splitlines() == [
        "simulated 19 moment(s) from 2024-05-03 10:00 to 2024-05-21 09:00 for both versions",
        "no change: both versions do the same",
    ]


def test_changed_duration_moves_actions(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _diff(
        capsys,
        store,
        _playbook(tmp_path / "old"),
        _playbook(tmp_path / "new", after="4 рабочих дня"),
    )
    assert code == 1
    assert "~ pb/remind (изменено): do: срок 3 рабочих дня → 4 рабочих дня" in out
    # d1 (sent 26.04): 3 wd → Mon 06.05; 4 wd → Tue 07.05. d2 (22.04): 3 wd → due 27.04, already
    # overdue now; 4 wd → 02.05, also overdue: both fire at the first moment, no move.
    assert "перенесено (1):\n  pb/remind do  d1  notify: 2024-05-06 09:00 → 2024-05-07 09:00" in out
    assert "добавлено (" not in out and "убрано (" not in out


def test_new_escalation_step(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = _playbook(tmp_path / "old"), _playbook(tmp_path / "new", escalate=HEAD + TASK)
    added = [
        "  2024-05-06 09:00  pb/remind escalate[2]  d2  task → responsible",
        "  2024-05-14 09:00  pb/remind escalate[2]  d1  task → responsible",
    ]
    code, out = _diff(capsys, store, old, new)
    assert code == 1
    assert out.splitlines()[1:] == [
        "правила (1):",
        "  ~ pb/remind (изменено): новая ступень escalate[2] через 7 рабочих дней"
        " (сработает для документов, уже прошедших её)",
        "добавлено (2):",
        *added,
        "по правилам (1):",
        "  pb/remind: +2 -0",
        "по получателям (1):",
        "  responsible: +2 -0",
        "правил изменено: 1; действия ближайших дней: добавлено +2, убрано -0, перенесено 0,"
        " с другими параметрами 0, повторно 0, пропущено 0",
    ]
    code, out = _diff(capsys, store, old, new, "--lang", "en")
    assert code == 1
    assert out.splitlines()[1:] == [
        "rules (1):",
        "  ~ pb/remind (changed): new step escalate[2] after 7 рабочих дней"
        " (fires for documents past it)",
        "added (2):",
        *added,
        "per rule (1):",
        "  pb/remind: +2 -0",
        "per recipient (1):",
        "  responsible: +2 -0",
        "rules: 1 changed; actions in the coming days: +2 added, -0 removed, 0 moved,"
        " 0 with other parameters, 0 replayed, 0 skipped",
    ]


def test_renamed_rule_replays_what_was_done(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _playbook(tmp_path / "old")
    with SQLiteStore(store) as opened:  # the running version already reminded d2
        Engine(opened, load_playbooks([old]), ProductionCalendar.russia()).evaluate(
            msk("2024-05-02 10:00")
        )
    new = _playbook(tmp_path / "new", rule_id="remind-unsigned")
    again = "  2024-05-03 10:00  pb/remind-unsigned escalate[1]  d2  notify → head_of_responsible"
    code, out = _diff(capsys, store, old, new)
    assert code == 1
    assert (
        "> pb/remind-unsigned (переименовано): прежний id pb/remind; его срабатывания"
        " не переносятся: уже обработанные документы будут обработаны снова" in out
    )
    # At 02.05 the old rule caught d2 up on escalate[1] (do recorded as skipped);
    # the new id has no ledger, so it escalates d2 again at once.
    title = "повторно (уже сделано под прежним id правила, будет сделано снова) (1):"
    assert out.split(title + "\n")[1].splitlines()[0] == again
    assert "повторно 1, " in out.splitlines()[-1]
    code, out = _diff(capsys, store, old, new, "--lang", "en")
    assert (
        "> pb/remind-unsigned (renamed): renamed from pb/remind; its firings do not carry over"
        in out
    )
    replayed = out.split("replayed (already done under the old rule id, done again) (1):\n")[1]
    assert replayed.splitlines()[0] == again
    assert "1 replayed" in out.splitlines()[-1]


def test_removed_rule_lists_removed_actions(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _playbook(tmp_path / "old")
    new = tmp_path / "new"
    new.mkdir()
    (new / "pb.yaml").write_text(
        textwrap.dedent("""\
            version: 1
            name: pb
            rules:
              - id: other
                match: {kind: contract}
                when: {status_changed: {to: signed}}
                do: [{log: {message: x}}]
            """),
        encoding="utf-8",
    )
    code, out = _diff(capsys, store, old, new)
    assert code == 1
    assert "- pb/remind (удалено)" in out
    assert "+ pb/other (добавлено): срабатывает на смены статуса, записанные с этого момента" in out
    # d2 (sent 22.04) is past do and escalate[1] now: catch-up fires escalate[1] only;
    # d1 (sent 26.04): do on 06.05, escalate[1] on 08.05.
    assert "убрано (3):" in out


def test_library_summary_and_horizon(tmp_path: Path, store: Path) -> None:
    old = load_playbooks([_playbook(tmp_path / "old")])
    new = load_playbooks([_playbook(tmp_path / "new", after="4 рабочих дня")])
    with SQLiteStore(store) as opened:
        diff = Engine(opened, old, ProductionCalendar.russia()).diff(
            new, msk("2024-05-03 10:00"), working_days=2
        )
        assert opened.firings_for("d1") == []  # the store itself is never written
    assert diff.moments[0] == datetime.fromisoformat("2024-05-03T10:00:00+03:00")
    assert diff.moments[-1].date().isoformat() == "2024-05-07"  # 2 working days: 06.05, 07.05
    assert diff.summary().startswith("правил изменено: 1; действия ближайших дней: добавлено +0")
    with in_language("en"):
        assert diff.summary().startswith("rules: 1 changed; actions in the coming days: +0 added")


def test_go_live_applies_to_both_versions(tmp_path: Path, store: Path) -> None:
    """Documents sent before go-live are left alone by both versions: no action changes."""
    old = load_playbooks([_playbook(tmp_path / "old")])
    new = load_playbooks([_playbook(tmp_path / "new", after="4 рабочих дня")])
    with SQLiteStore(store) as opened:
        engine = Engine(opened, old, ProductionCalendar.russia(), go_live=msk("2024-04-30 00:00"))
        diff = engine.diff(new, msk("2024-05-03 10:00"))
        without = Engine(opened, old, ProductionCalendar.russia()).diff(
            new, msk("2024-05-03 10:00")
        )
    assert (diff.added, diff.removed, diff.moved, diff.changed) == ((), (), (), ())
    assert len(without.moved) == 1  # d1's reminder, when go-live does not hold it back
    assert [c.rule_key for c in diff.rules] == ["pb/remind"]


def test_a_catch_up_change_lists_the_steps_skipped(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """catch_up: none — d2 (sent 22.04) is past do and escalate[1] at the first moment: the old
    version (latest) sends the escalation and skips do; the new one skips both, sends nothing."""
    old = _playbook(tmp_path / "old")
    new = _playbook(tmp_path / "new")
    text = (new / "pb.yaml").read_text(encoding="utf-8")
    (new / "pb.yaml").write_text(
        text.replace("    when:", "    catch_up: none\n    when:"), encoding="utf-8"
    )
    code, out = _diff(capsys, store, old, new)
    assert code == 1
    assert "~ pb/remind (изменено): catch_up: latest → none" in out
    skipped = out.split(
        "пропущено (новая версия запишет как пропущенное по catch_up, не отправит) (1):\n"
    )[1]
    assert skipped.splitlines()[0] == "  2024-05-03 10:00  pb/remind escalate[1]  d2"
    removed = out.split("убрано (1):\n")[1]
    assert (
        removed.splitlines()[0]
        == "  2024-05-03 10:00  pb/remind escalate[1]  d2  notify → head_of_responsible"
    )
    assert out.splitlines()[-1].endswith("повторно 0, пропущено 1")
    code, out = _diff(capsys, store, old, new, "--lang", "en")
    assert "~ pb/remind (changed): catch_up: latest → none" in out
    assert "skipped (recorded as skipped by the new version's catch-up, never sent) (1):\n" in out
    assert out.splitlines()[-1].endswith("0 replayed, 1 skipped")
