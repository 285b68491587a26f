"""Snoozes: nothing fires while active; what became due meanwhile fires at the end, per catch_up."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from _engine_helpers import CALENDAR, World, fired_steps, msk, playbook, skipped_steps
from store_contract import make_document, make_event

from edo_rules.engine import Engine
from edo_rules.errors import EdoRulesError, StoreError
from edo_rules.model import Status
from edo_rules.store._sqlite_schema import CURRENT_VERSION, MIGRATIONS, migrate
from edo_rules.store.base import DueQuery, EventQuery
from edo_rules.store.sqlite import SQLiteStore

SENT = msk("2024-04-26 15:30")  # Friday before the May holidays of 2024
SNOOZED_AT = msk("2024-05-03 10:00")  # 5 working days: 06, 07, 08, 13, 14.05 → Wed 15.05 00:00
UNTIL = msk("2024-05-15 00:00")

LADDER = """
- id: remind
  match: {status: sent}
  when: {after: 3 working days, since: sent_at}
  do: [{log: {message: "напоминание"}}]
  escalate:
    - after: 5 working days
      do: [{log: {message: "эскалация"}}]
  repeat: {every: 2 working days, times: 2}
  catch_up: CATCH_UP
- id: other
  match: {status: sent}
  when: {after: 3 working days, since: sent_at}
  do: [{log: {message: "другое"}}]
"""
EVENTS = """
- id: signed
  when:
    status_changed: {to: signed}
  do: [{log: {message: "подписан"}}]
"""


def _world(tmp_path: Path, catch_up: str = "latest", rules: str | None = None) -> World:
    body = rules if rules is not None else LADDER.replace("CATCH_UP", catch_up)
    tmp_path.mkdir(exist_ok=True)
    world = World(tmp_path / "store.sqlite3", (playbook(body),))
    with world.store() as store:
        store.upsert_documents(make_document(i, sent_at=SENT) for i in ("a", "b"))
    return world


def _snooze(world: World, duration: str = "5 working days", **options: str) -> int:
    engine = world.engine()
    try:
        return engine.snooze("a", duration, SNOOZED_AT, **options).id
    finally:
        engine.store.close()


def _days(first: str, last: str) -> list[datetime]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [msk(f"{start + timedelta(days=k)} 09:00") for k in range((end - start).days + 1)]


def _run(world: World, first: str, last: str) -> dict[str, list[tuple[str, str]]]:
    """Evaluate every day at 09:00; per day, what fired (document, step, "rule")."""
    fired = {}
    for now in _days(first, last):
        result = world.evaluate(now)
        steps = sorted(
            (p.firing.document_id, p.firing.step, p.firing.rule_key) for p in result.fired
        )
        if steps:
            fired[f"{now:%d.%m}"] = [(d, f"{s} {r.split('/')[1]}") for d, s, r in steps]
    return fired


def test_the_end_is_counted_in_working_days_like_a_rule(tmp_path: Path) -> None:
    world = _world(tmp_path)
    _snooze(world)
    with world.store() as store:
        (snooze,) = store.snoozes()
    assert snooze.until == UNTIL
    assert (snooze.document_id, snooze.rule_key, snooze.created_at) == ("a", None, SNOOZED_AT)


def test_nothing_fires_while_snoozed_and_latest_catches_up_at_the_end(tmp_path: Path) -> None:
    world = _world(tmp_path, "latest")
    _snooze(world, reason="ждём оригинал")
    fired = _run(world, "2024-05-06", "2024-05-16")
    assert fired == {
        "06.05": [("b", "do other"), ("b", "do remind")],
        "08.05": [("b", "escalate[1] remind")],
        "14.05": [("b", "repeat[1] remind")],
        # The snooze ends at 00:00 on 15.05: "do" of both rules, the escalation
        # and the first repeat became due meanwhile; latest fires one per rule.
        "15.05": [("a", "do other"), ("a", "repeat[1] remind")],
        "16.05": [("a", "repeat[2] remind"), ("b", "repeat[2] remind")],
    }
    assert {(f.step, f.skipped) for f in world.ledger("a") if f.rule_key == "pb/remind"} == {
        ("do", True),
        ("escalate[1]", True),
        ("repeat[1]", False),
        ("repeat[2]", False),
    }


@pytest.mark.parametrize(
    ("policy", "fired", "skipped"),
    [
        ("all", ["do", "escalate[1]", "repeat[1]"], []),
        ("none", [], ["do", "escalate[1]", "repeat[1]"]),
    ],
)
def test_the_catch_up_policy_decides_at_the_end(
    tmp_path: Path, policy: str, fired: list[str], skipped: list[str]
) -> None:
    world = _world(tmp_path, policy)
    _snooze(world, rule_key="pb/remind")
    for now in _days("2024-05-06", "2024-05-14"):
        result = world.evaluate(now)
        assert ("a", "do") not in fired_steps(result) or now.day == 6  # "other" is not snoozed
    result = world.evaluate(msk("2024-05-15 09:00"))
    remind = [p for p in result.fired if p.firing.rule_key == "pb/remind"]
    assert sorted(p.firing.step for p in remind if p.firing.document_id == "a") == fired
    assert [s for d, s in skipped_steps(result) if d == "a"] == skipped


def test_a_rule_snooze_leaves_the_other_rules_alone(tmp_path: Path) -> None:
    world = _world(tmp_path)
    _snooze(world, rule_key="pb/remind")
    assert fired_steps(world.evaluate(msk("2024-05-06 09:00"))) == [
        ("a", "do"),  # pb/other
        ("b", "do"),
        ("b", "do"),
    ]


def test_incremental_ticks_see_the_document_when_the_snooze_ends(tmp_path: Path) -> None:
    # Two copies of the same store: one ticks incrementally, one re-scans everything.
    fast, full = _world(tmp_path / "fast"), _world(tmp_path / "full")
    for world in (fast, full):
        _snooze(world)
    for now in _days("2024-05-04", "2024-05-20"):
        fast.evaluate(now)
        engine = full.engine()
        try:
            engine.evaluate(now, incremental=False)
        finally:
            engine.store.close()
        assert _ledger(fast) == _ledger(full), now
    assert ("repeat[1]", False) in {(f.step, f.skipped) for f in fast.ledger("a")}


def _ledger(world: World) -> list[tuple[str, str, str, bool, datetime]]:
    return sorted(
        (f.rule_key, f.document_id, f.step, f.skipped, f.fired_at)
        for doc in ("a", "b")
        for f in world.ledger(doc)
    )


def test_the_snooze_is_released_once_and_not_by_a_dry_run(tmp_path: Path) -> None:
    world = _world(tmp_path)
    _snooze(world)
    world.evaluate(msk("2024-05-14 09:00"))
    with world.store() as store:
        assert store.ended_snoozes(msk("2024-05-15 09:00"))[0].released is False
    assert world.evaluate(msk("2024-05-15 09:00"), dry_run=True).fired
    with world.store() as store:
        assert len(store.ended_snoozes(msk("2024-05-15 09:00"))) == 1
    assert world.evaluate(msk("2024-05-15 09:00")).fired
    with world.store() as store:
        assert store.ended_snoozes(msk("2024-05-15 09:00")) == []
        assert store.snoozes()[0].released is True


def test_ending_a_snooze_early_fires_at_the_next_tick(tmp_path: Path) -> None:
    world = _world(tmp_path)
    snooze_id = _snooze(world)
    assert world.evaluate(msk("2024-05-08 09:00")).fired[0].firing.document_id == "b"
    with world.store() as store:
        ended = store.end_snooze(snooze_id, msk("2024-05-08 12:00"))
        assert ended.until == msk("2024-05-08 12:00")
        # Ending again later never extends it.
        assert store.end_snooze(snooze_id, msk("2024-05-09 12:00")).until == ended.until
    result = world.evaluate(msk("2024-05-08 13:00"))
    assert fired_steps(result) == [("a", "do"), ("a", "escalate[1]")]  # pb/other, pb/remind
    assert skipped_steps(result) == [("a", "do")]


def test_an_event_during_a_snooze_fires_when_it_ends(tmp_path: Path) -> None:
    world = _world(tmp_path, rules=EVENTS)
    world.evaluate(msk("2024-05-02 09:00"))  # the rule starts: records its cursor
    _snooze(world, "2 days")  # until 06.05 00:00
    with world.store() as store:
        store.write_sync_page([], [make_event("a", msk("2024-05-04 11:00"), Status.SIGNED)])
        store.write_sync_page([], [make_event("b", msk("2024-05-04 11:00"), Status.SIGNED)])
    assert fired_steps(world.evaluate(msk("2024-05-04 12:00"))) == [("b", "event")]
    assert world.evaluate(msk("2024-05-05 12:00")).fired == ()
    assert fired_steps(world.evaluate(msk("2024-05-06 09:00"))) == [("a", "event")]
    assert world.evaluate(msk("2024-05-07 09:00")).fired == ()


def test_a_closed_window_keeps_the_snooze_until_the_event_can_fire(tmp_path: Path) -> None:
    rules = EVENTS + '  working_hours: "09:00-18:00"\n'
    world = _world(tmp_path, rules=rules)
    world.evaluate(msk("2024-05-02 10:00"))
    _snooze(world, "2 days")  # from Fri 03.05 10:00 until Mon 06.05 00:00
    with world.store() as store:
        store.write_sync_page([], [make_event("a", msk("2024-05-03 11:00"), Status.SIGNED)])
    assert world.evaluate(msk("2024-05-03 12:00")).fired == ()  # the cursor passes the event
    assert world.evaluate(msk("2024-05-06 07:00")).fired == ()  # ended, but the window is closed
    with world.store() as store:
        assert len(store.ended_snoozes(msk("2024-05-06 07:00"))) == 1
    assert fired_steps(world.evaluate(msk("2024-05-06 09:30"))) == [("a", "event")]


def test_explain_shows_the_snooze_as_the_reason(tmp_path: Path) -> None:
    world = _world(tmp_path)
    _snooze(world, rule_key="pb/remind", reason="ждём оригинал")
    engine = world.engine()
    try:
        explanation = engine.explain("a", msk("2024-05-06 09:00"))
        later = engine.explain("a", msk("2024-05-15 09:00"))
    finally:
        engine.store.close()
    remind, other = explanation.rules
    assert remind.snooze is not None and other.snooze is None
    text = explanation.render()
    assert "snoozed until Wed 15.05.2024 00:00 +0300 (snooze #1: ждём оригинал)" in text
    assert "due: held by the snooze, fires when it ends" in text
    assert "due: fires at the next tick" in text  # pb/other
    assert later.rules[0].snooze is None


def test_bad_snoozes_are_refused(tmp_path: Path) -> None:
    world = _world(tmp_path)
    engine = world.engine()
    try:
        with pytest.raises(StoreError, match="нет документа с id 'zz'; ничего не отложено"):
            engine.snooze("zz", "1 day", SNOOZED_AT)
        with pytest.raises(EdoRulesError, match=r"no rule 'pb/nope' .*rules: pb/other, pb/remind"):
            engine.snooze("a", "1 day", SNOOZED_AT, rule_key="pb/nope")
        with pytest.raises(EdoRulesError, match="'a while' — не длительность"):
            engine.snooze("a", "a while", SNOOZED_AT)
        with pytest.raises(EdoRulesError, match="ends at once"):
            engine.snooze("a", "0 days", SNOOZED_AT)
        with pytest.raises(StoreError, match="нет отсрочки с id 7"):
            engine.store.end_snooze(7, SNOOZED_AT)
        assert engine.store.snoozes() == []
    finally:
        engine.store.close()


# -- the store ----------------------------------------------------------------------------


def test_the_candidate_queries_leave_out_active_snoozes(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        store.write_sync_page(
            [make_document("a", sent_at=SENT), make_document("b", sent_at=SENT)],
            [make_event(d, SENT, Status.SIGNED) for d in ("a", "b")],
        )
        store.add_snooze("a", "pb/r", UNTIL, reason=None, created_at=SNOOZED_AT)
        store.add_snooze("b", "pb/x", UNTIL, reason=None, created_at=SNOOZED_AT)

        def due(at: datetime, rule: str = "pb/r") -> list[str]:
            query = DueQuery(rule, "do", "sent_at", UNTIL, snoozed_at=at)
            return sorted(c.document_id for c in store.due_candidates_lazy(query))

        def events(at: datetime) -> list[str]:
            query = EventQuery("pb/r", 0, 10, snoozed_at=at)
            return sorted(e.document_id for e, _ in store.event_candidates(query))

        assert due(SNOOZED_AT) == ["b"] and events(SNOOZED_AT) == ["b"]
        assert due(SNOOZED_AT, "pb/x") == ["a"]
        assert due(UNTIL) == ["a", "b"] and events(UNTIL) == ["a", "b"]
        only = DueQuery("pb/r", "do", "sent_at", UNTIL, document_ids=frozenset({"b"}))
        assert [c.document_id for c in store.due_candidates_lazy(only)] == ["b"]
        plan = store._conn.execute(
            "EXPLAIN QUERY PLAN SELECT 1 FROM snoozes s WHERE s.document_id = 'a' AND s.until > 'x'"
        ).fetchall()
        assert "snoozes_document" in str(plan)


def test_migrates_a_version_2_file_to_snoozes(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=2)
    conn.close()
    with SQLiteStore(path) as store:
        assert CURRENT_VERSION >= 4
        store.upsert_documents([make_document("a", sent_at=SENT)])
        store.record_firings([], event_cursors={"pb/e": 0})
    with sqlite3.connect(path) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
        assert sorted(versions) == [m.version for m in MIGRATIONS]
    with SQLiteStore(path) as store:
        snooze = store.add_snooze("a", None, UNTIL, reason="r", created_at=SNOOZED_AT)
        assert store.snoozes(active_at=SNOOZED_AT) == [snooze]
        assert store.snoozes(active_at=UNTIL) == []
        assert (snooze.id, snooze.after_event_id, snooze.released) == (1, 0, False)


def test_a_migration_from_version_2_keeps_the_engine_working(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=2)
    conn.close()
    world = World(path, (playbook(LADDER.replace("CATCH_UP", "latest")),))
    with world.store() as store:
        store.upsert_documents([make_document("a", sent_at=SENT)])
    engine = Engine(world.store(), world.playbooks, CALENDAR)
    try:
        assert len(engine.evaluate(msk("2024-05-06 09:00")).fired) == 2
    finally:
        engine.store.close()
