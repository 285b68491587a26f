"""``edo-rules diff``: what a playbook edit changes over a real store, both versions simulated."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from _engine_helpers import msk

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


def _diff(capsys: pytest.CaptureFixture[str], store: Path, old: Path, new: Path) -> tuple[int, str]:
    code = main(["diff", str(old), str(new), "--store", str(store), "--at", NOW])
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
    assert out.splitlines()[-1] == "no change: both versions do the same"
    assert "simulated 19 moment(s) from 2024-05-03 10:00 to 2024-05-21 09:00" in out


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
    assert "~ pb/remind (changed): do: after 3 рабочих дня → 4 рабочих дня" in out
    # d1 (sent 26.04): 3 wd → Mon 06.05; 4 wd → Tue 07.05. d2 (22.04): 3 wd → due 27.04, already
    # overdue now; 4 wd → 02.05, also overdue: both fire at the first moment, no move.
    assert "pb/remind do  d1  notify: 2024-05-06 09:00 → 2024-05-07 09:00" in out
    assert "moved (1):" in out
    assert "added (" not in out and "removed (" not in out


def test_new_escalation_step(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = _playbook(tmp_path / "old"), _playbook(tmp_path / "new", escalate=HEAD + TASK)
    code, out = _diff(capsys, store, old, new)
    assert code == 1
    new_step = "new step escalate[2] after 7 рабочих дней (fires for documents past it)"
    assert f"~ pb/remind (changed): {new_step}" in out
    assert "2024-05-06 09:00  pb/remind escalate[2]  d2  task → responsible" in out
    assert "2024-05-14 09:00  pb/remind escalate[2]  d1  task → responsible" in out
    assert "pb/remind: +2 -0" in out
    assert "responsible: +2 -0" in out


def test_renamed_rule_replays_what_was_done(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _playbook(tmp_path / "old")
    with SQLiteStore(store) as opened:  # the running version already reminded d2
        Engine(opened, load_playbooks([old]), ProductionCalendar.russia()).evaluate(
            msk("2024-05-02 10:00")
        )
    code, out = _diff(capsys, store, old, _playbook(tmp_path / "new", rule_id="remind-unsigned"))
    assert code == 1
    assert (
        "> pb/remind-unsigned (renamed): renamed from pb/remind; its firings do not carry over"
        in out
    )
    # At 02.05 the old rule caught d2 up on escalate[1] (do recorded as skipped);
    # the new id has no ledger, so it escalates d2 again at once.
    replayed = out.split("replayed (already done under the old rule id, done again) (1):")[1]
    assert (
        "2024-05-03 10:00  pb/remind-unsigned escalate[1]  d2  notify → head_of_responsible"
        in replayed
    )
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
    assert "- pb/remind (removed)" in out and "+ pb/other (added)" in out
    # d2 (sent 22.04) is past do and escalate[1] now: catch-up fires escalate[1] only;
    # d1 (sent 26.04): do on 06.05, escalate[1] on 08.05.
    assert "removed (3):" in out


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
    assert "~ pb/remind (changed): catch_up: latest → none" in out
    skipped = out.split(
        "skipped (recorded as skipped by the new version's catch-up, never sent) (1):\n"
    )[1]
    assert skipped.splitlines()[0] == "  2024-05-03 10:00  pb/remind escalate[1]  d2"
    removed = out.split("removed (1):\n")[1]
    assert (
        removed.splitlines()[0]
        == "  2024-05-03 10:00  pb/remind escalate[1]  d2  notify → head_of_responsible"
    )
    assert out.splitlines()[-1].endswith("0 replayed, 1 skipped")
