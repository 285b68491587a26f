"""Engine.explain: which predicate fails with the values, the arithmetic, what fired."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from _engine_helpers import World, msk, playbook
from store_contract import make_document, make_event

from edo_rules.errors import StoreError
from edo_rules.model import Status

RULES = """
- id: remind
  description: Контрагент не подписал документ
  match: {kind: [contract, act], status: sent, where: "doc.amount >= 10000"}
  when: {after: 3 working days, since: sent_at}
  do: [{log: {message: "x"}}]
  escalate:
    - after: 5 working days
      do: [{log: {message: "y"}}]
  repeat: {every: 2 working days, times: 1}
- id: evening
  working_hours: "09:00-18:00"
  when: {after: 4 hours, since: sent_at}
  do: [{log: {message: "z"}}]
- id: on-signed
  when:
    status_changed: {to: signed}
  do: [{log: {message: "s"}}]
"""
SENT = msk("2024-04-26 15:30")


@pytest.fixture
def world(tmp_path: Path) -> World:
    world = World(tmp_path / "store.sqlite3", (playbook(RULES),))
    with world.store() as store:
        store.upsert_documents([make_document("a", sent_at=SENT)])
    return world


def test_the_working_day_arithmetic_is_shown(world: World) -> None:
    explanation = world.engine().explain("a", msk("2024-05-07 12:00"))
    remind = explanation.rules[0]
    assert remind.matches
    do, escalate, repeat = remind.steps
    assert do.arithmetic == (
        "sent Fri 26.04.2024; 3 working days: Sat 27.04 (working Saturday), Thu 02.05,"
        " Fri 03.05 → due Mon 06.05 00:00"
    )
    assert (do.state, escalate.state, repeat.state) == ("due", "not yet due", "not yet due")
    assert escalate.due_at == msk("2024-05-08 00:00")
    assert "repeat 1 × 2 working days → due Tue 14.05 00:00" in repeat.arithmetic


def test_a_failing_predicate_is_named_with_its_values(world: World) -> None:
    with world.store() as store:
        store.upsert_documents(
            [make_document("a", sent_at=SENT, status=Status.SIGNED, amount=Decimal("500"))]
        )
    remind = world.engine().explain("a", msk("2024-05-07 12:00")).rules[0]
    assert not remind.matches
    failed = {check.name: check.detail for check in remind.checks if not check.passed}
    assert failed == {
        "status": "status is 'signed', expected one of: sent",
        "where": "where 'doc.amount >= 10000' is false",
    }
    text = world.engine().explain("a", msk("2024-05-07 12:00")).render()
    assert "✗ status is 'signed', expected one of: sent" in text
    assert "due, but the document does not match" in text


def test_what_already_fired_is_shown(world: World) -> None:
    world.evaluate(msk("2024-05-06 12:00"))
    explanation = world.engine().explain("a", msk("2024-05-06 13:00"))
    do = explanation.rules[0].steps[0]
    assert do.state == "fired" and do.firing is not None
    text = explanation.render()
    assert "→ due Mon 06.05 00:00\n    fired at 2024-05-06T12:00:00+03:00" in text
    assert "do episode 2024-04-26T12:30:00+00:00: fired at 2024-05-06T12:00:00+03:00" in text


def test_working_hours_are_shown(world: World) -> None:
    evening = world.engine().explain("a", msk("2024-04-26 20:00")).rules[1]
    (step,) = evening.steps
    assert step.arithmetic == (
        "sent Fri 26.04.2024 15:30; 4 hours → due Fri 26.04 19:30;"
        " outside working hours → delivered Sat 27.04 09:00"
    )
    assert step.state == "not yet due"


def test_event_rules_show_each_event(world: World) -> None:
    world.evaluate(msk("2024-05-06 12:00"))
    with world.store() as store:
        store.write_sync_page(
            [],
            [
                make_event("a", msk("2024-04-20 10:00"), Status.SIGNED, historical=True),
                make_event("a", msk("2024-05-06 13:00"), Status.SIGNED, to_raw="Подписан"),
            ],
        )
    events = world.engine().explain("a", msk("2024-05-06 14:00")).rules[2].events
    assert [e.state for e in events] == ["historical", "pending"]
    world.evaluate(msk("2024-05-06 14:00"))
    events = world.engine().explain("a", msk("2024-05-06 14:00")).rules[2].events
    assert [e.state for e in events] == ["historical", "fired"]


def test_a_missing_since_is_explained(world: World) -> None:
    with world.store() as store:
        store.upsert_documents([make_document("a", sent_at=None)])
    remind = world.engine().explain("a", msk("2024-05-07 12:00")).rules[0]
    assert remind.note == "sent_at is not set: the ladder has not started"
    assert remind.steps == ()


def test_an_unknown_document(world: World) -> None:
    with pytest.raises(StoreError, match="в хранилище нет документа с id 'zzz'"):
        world.engine().explain("zzz", msk("2024-05-07 12:00"))


def test_catch_up_is_explained(world: World) -> None:
    remind = world.engine().explain("a", msk("2024-05-20 12:00")).rules[0]
    assert [step.state for step in remind.steps] == [
        "due, to be skipped",
        "due, to be skipped",
        "due",
    ]
    text = world.engine().explain("a", msk("2024-05-20 12:00")).render()
    assert "recorded as skipped (catch-up)" in text
