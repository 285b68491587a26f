"""The bundled playbooks cover the design's scenarios and validate clean."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from edo_rules.model import Direction, Kind, Status
from edo_rules.playbook import load_playbooks
from edo_rules.playbook.rules import Playbook, Rule, StatusTrigger, TimeTrigger

FOLDER = Path(__file__).resolve().parent.parent / "playbooks"
FILES = sorted(FOLDER.glob("*.yaml"))
ADAPTERS_INSTALLED = importlib.util.find_spec("edo_rules.actions.bitrix24.adapters") is not None


def _load() -> tuple[Playbook, ...]:
    # Strict as soon as the Bitrix24 adapters are importable; until then only their
    # parameter check is skipped (everything else, templates included, is checked).
    return load_playbooks([FOLDER], require_adapters=ADAPTERS_INSTALLED)


def _rules() -> dict[str, Rule]:
    return {rule.id: rule for playbook in _load() for rule in playbook.rules}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_file_points_editors_at_the_schema(path: Path) -> None:
    first = path.read_text("utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/playbook.schema.json"
    assert (path.parent / "../schemas/playbook.schema.json").resolve().is_file()


def test_all_bundled_playbooks_validate() -> None:
    playbooks = _load()
    assert len(playbooks) == len(FILES) >= 4


def test_reminder_and_escalation_ladder() -> None:
    rule = _rules()["remind-unsigned"]
    assert isinstance(rule.trigger, TimeTrigger)
    assert rule.trigger.since == "sent_at"
    assert rule.match.statuses == {Status.SENT}
    do, escalate = rule.trigger.steps
    assert (do.after.amount, do.after.unit) == (3, "working_days")
    assert [a.name for a in do.actions] == ["notify"]
    assert do.actions[0].params["to"].source == "responsible"
    assert (escalate.after.amount, escalate.after.unit) == (5, "working_days")
    assert [a.name for a in escalate.actions] == ["notify", "task"]
    assert escalate.actions[0].params["to"].source == "head_of_responsible"
    assert rule.trigger.repeat is not None and rule.trigger.repeat.times >= 1
    assert rule.working_hours is not None


def test_signing_rules() -> None:
    rules = _rules()
    notify = rules["notify-signed"]
    assert isinstance(notify.trigger, StatusTrigger)
    assert notify.trigger.to_statuses == {Status.SIGNED, Status.SIGNED_WITH_CORRECTIONS}
    contract = rules["signed-contract-move-deal"]
    assert isinstance(contract.trigger, StatusTrigger)
    assert contract.match.kinds == {Kind.CONTRACT}
    names = [a.name for a in contract.trigger.actions]
    assert names == ["deal_stage", "invoice", "comment", "task"]
    assert contract.trigger.actions[3].params["responsible"].source == "accounting"
    supplier = rules["signed-incoming-pay-supplier"]
    assert isinstance(supplier.trigger, StatusTrigger)
    assert supplier.match.directions == {Direction.INCOMING}
    assert [a.name for a in supplier.trigger.actions] == ["task"]
    assert supplier.trigger.actions[0].params["responsible"].source == "accounting"


def test_rejection_task_carries_the_comment() -> None:
    rule = _rules()["rejected-task"]
    assert isinstance(rule.trigger, StatusTrigger)
    assert rule.trigger.to_statuses == {Status.REJECTED}
    task = rule.trigger.actions[0]
    assert task.name == "task"
    assert "doc.rejection_comment" in task.params["description"].source


def test_crm_mirror_with_overdue_highlighting() -> None:
    rules = _rules()
    change, overdue = rules["mirror-on-change"], rules["mirror-overdue"]
    assert isinstance(change.trigger, TimeTrigger) and isinstance(overdue.trigger, TimeTrigger)
    assert change.trigger.since == "status_changed_at"
    assert change.match.statuses is None  # every document
    assert [a.name for a in change.trigger.steps[0].actions] == ["card_status", "mirror"]
    timeline = rules["timeline-on-change"]
    assert isinstance(timeline.trigger, StatusTrigger)
    assert timeline.trigger.to_statuses is None  # every change
    assert [a.name for a in timeline.trigger.actions] == ["timeline"]
    waiting = rules["card-waiting-days"]
    assert isinstance(waiting.trigger, TimeTrigger) and waiting.trigger.repeat is not None
    assert overdue.trigger.steps[0].actions[0].params["overdue"] is True
