"""Time rules: every semantic rule of the design, on a real SQLite file and the real loader."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from _engine_helpers import CALENDAR, World, fired_steps, msk, playbook, skipped_steps
from store_contract import make_document

from edo_rules.engine import Engine
from edo_rules.errors import EdoRulesError
from edo_rules.model import Kind, RequestState, Status

SENT = msk("2024-04-26 15:30")  # Friday before the May holidays of 2024

LADDER = """
- id: remind
  description: Контрагент не подписал документ
  match: {kind: [contract, act], status: sent}
  when: {after: 3 working days, since: sent_at}
  do:
    - log: {message: "{{ doc.title }}: не подписан {{ elapsed.working_days }} раб. дн."}
  escalate:
    - after: 5 working days
      do:
        - log: {message: "эскалация {{ doc.number }}"}
        - log: {message: "руководителю", level: warning}
  repeat: {every: 2 working days, times: 2}
  catch_up: CATCH_UP
"""


def _world(tmp_path: Path, rules: str, *docs_ids: str, **changes: object) -> World:
    world = World(tmp_path / "store.sqlite3", (playbook(rules),))
    with world.store() as store:
        store.upsert_documents(make_document(i, sent_at=SENT, **changes) for i in docs_ids)  # type: ignore[arg-type]
    return world


def _ladder(catch_up: str = "latest") -> str:
    return LADDER.replace("CATCH_UP", catch_up)


def _set(world: World, doc_id: str, **changes: object) -> None:
    with world.store() as store:
        store.upsert_documents([make_document(doc_id, **changes)])  # type: ignore[arg-type]


# -- durations ---------------------------------------------------------------------------


def test_working_days_are_due_at_the_start_of_the_next_working_day(tmp_path: Path) -> None:
    # Fri 26.04 + 3 working days: Sat 27.04 (working), Thu 02.05, Fri 03.05 → Mon 06.05 00:00.
    world = _world(tmp_path, _ladder(), "a")
    assert world.evaluate(msk("2024-05-05 23:59:59")).fired == ()
    result = world.evaluate(msk("2024-05-06 00:00"))
    assert fired_steps(result) == [("a", "do")]
    (planned,) = result.fired
    assert planned.firing.due_at == msk("2024-05-06 00:00")
    assert planned.firing.episode == "2024-04-26T12:30:00+00:00"
    assert planned.requests[0].params == {
        "message": "Договор № 17 от 26.04.2024: не подписан 3 раб. дн."
    }


def test_a_second_evaluation_adds_nothing(tmp_path: Path) -> None:
    world = _world(tmp_path, _ladder(), "a", "b")
    assert len(world.evaluate(msk("2024-05-06 10:00")).fired) == 2
    assert world.evaluate(msk("2024-05-06 10:00")).fired == ()
    assert world.evaluate(msk("2024-05-07 10:00")).fired == ()
    with world.store() as store:
        assert len(store.requests([RequestState.PENDING])) == 2


def test_calendar_days(tmp_path: Path) -> None:
    rules = """
    - id: two-days
      match: {status: sent}
      when: {after: 2 дня, since: sent_at}
      do: [{log: {message: "x"}}]
    """
    # Sent Fri 26.04: the term runs Sat 27.04 and Sun 28.04 and ends with Sunday.
    world = _world(tmp_path, rules, "a")
    assert world.evaluate(msk("2024-04-28 23:59")).fired == ()
    (planned,) = world.evaluate(msk("2024-04-29 00:00")).fired
    assert planned.firing.due_at == msk("2024-04-29 00:00")


def test_hours_are_plain_elapsed_time(tmp_path: Path) -> None:
    rules = """
    - id: four-hours
      when: {after: 4 hours, since: sent_at}
      do: [{log: {message: "x"}}]
    """
    world = _world(tmp_path, rules, "a")
    assert world.evaluate(SENT + timedelta(hours=4) - timedelta(seconds=1)).fired == ()
    (planned,) = world.evaluate(SENT + timedelta(hours=4)).fired
    assert planned.firing.due_at == SENT + timedelta(hours=4)


def test_working_hours_delay_delivery_to_the_next_window(tmp_path: Path) -> None:
    # Due Fri 26.04 21:30 → the next window opens on the working Saturday 27.04 at 09:00.
    rules = """
    - id: evening
      when: {after: 6 hours, since: sent_at}
      working_hours: "09:00-18:00"
      do: [{log: {message: "x"}}]
    """
    world = _world(tmp_path, rules, "a")
    assert world.evaluate(msk("2024-04-26 22:00")).fired == ()
    assert world.evaluate(msk("2024-04-27 08:59")).fired == ()
    (planned,) = world.evaluate(msk("2024-04-27 09:00")).fired
    assert planned.firing.due_at == msk("2024-04-27 09:00")


def test_working_hours_skip_days_off(tmp_path: Path) -> None:
    # Due Mon 06.05 00:00 (3 working days); 09:00 on that working Monday.
    rules = _ladder().replace("catch_up: latest", 'working_hours: "09:00-18:00"')
    world = _world(tmp_path, rules, "a")
    assert world.evaluate(msk("2024-05-06 08:00")).fired == ()
    (planned,) = world.evaluate(msk("2024-05-06 09:30")).fired
    assert planned.firing.due_at == msk("2024-05-06 09:00")


def test_the_rule_time_zone_decides_the_dates(tmp_path: Path) -> None:
    # 20:00 Moscow on Fri 26.04 is already Sat 27.04 in Vladivostok.
    rules = """
    - id: moscow
      when: {after: 1 working day, since: sent_at}
      do: [{log: {message: "x"}}]
    - id: vladivostok
      timezone: Asia/Vladivostok
      when: {after: 1 working day, since: sent_at}
      do: [{log: {message: "x"}}]
    """
    world = _world(tmp_path, rules, "a")
    _set(world, "a", sent_at=msk("2024-04-26 20:00"))
    result = world.evaluate(msk("2024-05-02 12:00"))
    assert [p.firing.rule_key for p in result.fired] == ["pb/moscow"]
    (late,) = world.evaluate(msk("2024-05-02 17:00")).fired
    assert late.firing.rule_key == "pb/vladivostok"
    assert late.firing.due_at == msk("2024-05-02 17:00")  # 03.05 00:00 in Vladivostok


# -- ladders, repeats, episodes --------------------------------------------------------------


def _daily(world: World, start: str, days: int) -> list[tuple[str, str]]:
    """Tick at noon every day; return (date, step) of each firing."""
    seen = []
    for offset in range(days):
        now = msk(start) + timedelta(days=offset)
        seen += [(f"{now:%d.%m}", p.firing.step) for p in world.evaluate(now).fired]
    return seen


def test_escalation_and_repeats_fire_once_each_in_order(tmp_path: Path) -> None:
    world = _world(tmp_path, _ladder(), "a")
    assert _daily(world, "2024-04-26 12:00", 40) == [
        ("06.05", "do"),
        ("08.05", "escalate[1]"),  # start of the 6th working day after 26.04
        ("14.05", "repeat[1]"),  # 2 working days after 08.05 (09–12.05 are days off)
        ("16.05", "repeat[2]"),
    ]
    assert len(world.ledger("a")) == 4


def test_each_escalation_step_carries_its_own_actions(tmp_path: Path) -> None:
    world = _world(tmp_path, _ladder(), "a")
    world.evaluate(msk("2024-05-06 12:00"))
    (planned,) = world.evaluate(msk("2024-05-08 12:00")).fired
    assert [r.params for r in planned.requests] == [
        {"message": "эскалация 17"},
        {"message": "руководителю", "level": "warning"},
    ]
    keys = {r.idempotency_key for r in planned.requests}
    assert len(keys) == 2


def test_a_ladder_stops_when_the_document_stops_matching(tmp_path: Path) -> None:
    world = _world(tmp_path, _ladder(), "a")
    assert fired_steps(world.evaluate(msk("2024-05-06 12:00"))) == [("a", "do")]
    _set(world, "a", sent_at=SENT, status=Status.SIGNED)
    assert world.evaluate(msk("2024-05-20 12:00")).fired == ()
    assert [f.step for f in world.ledger("a")] == ["do"]


def test_a_resent_document_starts_a_new_ladder(tmp_path: Path) -> None:
    world = _world(tmp_path, _ladder(), "a")
    world.evaluate(msk("2024-05-06 12:00"))
    resent = msk("2024-05-13 10:00")
    _set(world, "a", sent_at=resent)
    assert world.evaluate(msk("2024-05-15 12:00")).fired == ()
    # 3 working days after Mon 13.05: 14, 15, 16.05 → due Fri 17.05 00:00.
    assert world.evaluate(msk("2024-05-16 23:59")).fired == ()
    (planned,) = world.evaluate(msk("2024-05-17 00:00")).fired
    assert (planned.firing.step, planned.firing.episode) == ("do", "2024-05-13T07:00:00+00:00")
    assert len({f.episode for f in world.ledger("a")}) == 2


def test_restart_between_ticks_continues_from_the_store(tmp_path: Path) -> None:
    world = _world(tmp_path, _ladder(), "a")
    first = world.engine()
    assert fired_steps(first.evaluate(msk("2024-05-06 12:00"))) == [("a", "do")]
    first.store.close()
    # A new process: new store object, freshly loaded playbooks, new engine.
    reloaded = World(world.path, (playbook(_ladder()),))
    assert reloaded.evaluate(msk("2024-05-07 12:00")).fired == ()
    assert fired_steps(reloaded.evaluate(msk("2024-05-08 12:00"))) == [("a", "escalate[1]")]


def test_ledger_keys_are_deterministic(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = _world(tmp_path / "one", _ladder(), "a")
    two = _world(tmp_path / "two", _ladder(), "a")
    now = msk("2024-05-06 12:00")
    keys_one = [r.idempotency_key for r in one.evaluate(now).requests]
    keys_two = [r.idempotency_key for r in two.evaluate(now).requests]
    assert keys_one == keys_two and len(keys_one) == 1


# -- catch-up after downtime -----------------------------------------------------------------


def _after_downtime(tmp_path: Path, policy: str) -> tuple[World, list[tuple[str, str]]]:
    world = _world(tmp_path, _ladder(policy), "a")
    world.evaluate(msk("2024-05-06 12:00"))  # "do" fires; then the runner is down
    result = world.evaluate(msk("2024-05-20 12:00"))  # escalate[1], repeat[1], repeat[2] due
    assert result.failures == ()
    return world, fired_steps(result) + [("skipped", s) for _, s in skipped_steps(result)]


def test_catch_up_latest_fires_the_latest_step_once(tmp_path: Path) -> None:
    world, seen = _after_downtime(tmp_path, "latest")
    assert seen == [("a", "repeat[2]"), ("skipped", "escalate[1]"), ("skipped", "repeat[1]")]
    assert world.evaluate(msk("2024-06-20 12:00")).fired == ()


def test_catch_up_all_fires_every_missed_step(tmp_path: Path) -> None:
    _, seen = _after_downtime(tmp_path, "all")
    assert seen == [("a", "escalate[1]"), ("a", "repeat[1]"), ("a", "repeat[2]")]


def test_catch_up_none_fires_nothing_and_never_later(tmp_path: Path) -> None:
    world, seen = _after_downtime(tmp_path, "none")
    assert seen == [("skipped", "escalate[1]"), ("skipped", "repeat[1]"), ("skipped", "repeat[2]")]
    assert world.evaluate(msk("2024-06-20 12:00")).fired == ()
    assert all(f.skipped for f in world.ledger("a") if f.step != "do")


def test_catch_up_none_still_fires_a_single_step_on_time(tmp_path: Path) -> None:
    world = _world(tmp_path, _ladder("none"), "a")
    assert fired_steps(world.evaluate(msk("2024-05-06 12:00"))) == [("a", "do")]


def test_a_document_imported_late_fires_only_its_latest_step(tmp_path: Path) -> None:
    world = _world(tmp_path, _ladder(), "a")
    result = world.evaluate(msk("2024-05-08 12:00"))  # do and escalate[1] both due
    assert fired_steps(result) == [("a", "escalate[1]")]
    assert skipped_steps(result) == [("a", "do")]


# -- match, where, failures, dry run -----------------------------------------------------------


def test_match_filters_are_applied(tmp_path: Path) -> None:
    rules = """
    - id: big-acts
      match:
        kind: act
        status: [sent, rejected]
        direction: outgoing
        counterparty: {inn: ["7701234567"]}
        amount: {min: 1000, max: 200000}
      when: {after: 1 working day, since: sent_at}
      do: [{log: {message: "x"}}]
    """
    world = _world(tmp_path, rules, "contract")
    _set(world, "act", kind=Kind.ACT, sent_at=SENT)
    _set(world, "small", kind=Kind.ACT, sent_at=SENT, amount=Decimal("999.99"))
    _set(world, "exact", kind=Kind.ACT, sent_at=SENT, amount=Decimal("200000.00"))
    _set(world, "over", kind=Kind.ACT, sent_at=SENT, amount=Decimal("200000.01"))
    _set(world, "signed", kind=Kind.ACT, sent_at=SENT, status=Status.SIGNED)
    result = world.evaluate(msk("2024-05-20 12:00"))
    assert fired_steps(result) == [("act", "do"), ("exact", "do")]


def test_a_failing_where_skips_only_that_document(tmp_path: Path) -> None:
    rules = """
    - id: big
      match: {status: sent, where: "doc.amount >= 10000"}
      when: {after: 3 working days, since: sent_at}
      do: [{log: {message: "x"}}]
    """
    world = _world(tmp_path, rules, "a", "c")
    _set(world, "b", sent_at=SENT, amount=None)  # None >= 10000 fails at run time
    _set(world, "small", sent_at=SENT, amount=Decimal("10"))
    result = world.evaluate(msk("2024-05-06 12:00"))
    assert fired_steps(result) == [("a", "do"), ("c", "do")]
    (failure,) = result.failures
    assert (failure.rule_key, failure.document_id) == ("pb/big", "b")
    assert "doc.amount >= 10000" in failure.message


def test_a_failing_template_skips_only_that_document(tmp_path: Path) -> None:
    rules = """
    - id: money
      when: {after: 3 working days, since: sent_at}
      do: [{log: {message: "{{ 100 / doc.crm.deal_id }}"}}]
    """
    world = _world(tmp_path, rules, "a")
    _set(world, "zero", sent_at=SENT, crm=make_document().crm.__class__(deal_id=0))
    result = world.evaluate(msk("2024-05-06 12:00"))
    assert fired_steps(result) == [("a", "do")]
    assert [f.document_id for f in result.failures] == ["zero"]
    assert world.ledger("zero") == []


def test_dry_run_records_nothing(tmp_path: Path) -> None:
    world = _world(tmp_path, _ladder(), "a")
    dry = world.evaluate(msk("2024-05-06 12:00"), dry_run=True)
    assert dry.dry_run and fired_steps(dry) == [("a", "do")]
    assert world.ledger("a") == []
    assert fired_steps(world.evaluate(msk("2024-05-06 12:00"))) == [("a", "do")]


def test_a_rule_key_defined_twice_is_refused(tmp_path: Path) -> None:
    world = _world(tmp_path, _ladder(), "a")
    with world.store() as store, pytest.raises(EdoRulesError, match="defined twice"):
        Engine(store, world.playbooks * 2, CALENDAR)


_LADDER = """
- id: remind
  match: {status: sent}
  when: {after: 3 working days, since: sent_at}
  do:
    - log: {message: "{{ doc.title }} не подписан"}
"""


def _sent(doc_id: str, at: str) -> Any:
    moment = msk(at)
    return replace(
        make_document(doc_id), status=Status.SENT, sent_at=moment, status_changed_at=moment
    )


def test_a_document_before_the_calendars_first_year_fails_alone(tmp_path: Path) -> None:
    # One contract sent in 2012 and never signed used to stop every tick's evaluation.
    world = World(tmp_path / "s.db", (playbook(_LADDER),))
    with world.store() as store:
        store.upsert_documents([_sent("old", "2012-12-20 10:00"), _sent("new", "2026-11-25 10:00")])
    result = world.evaluate(msk("2026-12-04 09:00"))
    assert fired_steps(result) == [("new", "do")]
    (failure,) = result.failures
    assert (failure.rule_key, failure.document_id) == ("pb/remind", "old")
    assert "год 2012" in failure.message
    assert "Что сделать: задайте go_live" in failure.message
    assert fired_steps(world.evaluate(msk("2026-12-04 10:00"))) == []  # the next tick goes on


def test_before_go_live_such_a_document_is_history(tmp_path: Path) -> None:
    world = World(tmp_path / "s.db", (playbook(_LADDER),))
    with world.store() as store:
        store.upsert_documents([_sent("old", "2012-12-20 10:00")])
    engine = Engine(world.store(), world.playbooks, CALENDAR, go_live=msk("2026-12-01 00:00"))
    try:
        result = engine.evaluate(msk("2026-12-04 09:00"))
    finally:
        engine.store.close()
    assert result.failures == () and fired_steps(result) == []
    assert skipped_steps(result) == [("old", "do")]
    assert [f.due_at for f in world.ledger("old")] == [msk("2012-12-20 10:00")]
