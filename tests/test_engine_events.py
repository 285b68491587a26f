"""Event rules: once per recorded status event; never on history or on events before the rule."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from _engine_helpers import World, fired_steps, msk, playbook
from store_contract import make_document, make_event

from edo_rules.model import Kind, Status, StatusEvent
from edo_rules.store.base import event_episode

RULES = """
- id: signed-move-deal
  match: {kind: contract}
  when:
    status_changed: {from: sent, to: [signed, signed_with_corrections]}
  do:
    - log: {message: "Договор подписан {{ date(doc.counterparty_signed_at) }}"}
- id: any-rejection
  when:
    status_changed: {to: rejected}
  do: [{log: {message: "отклонён"}}]
"""
NOW = msk("2024-05-06 12:00")


def _world(tmp_path: Path) -> World:
    world = World(tmp_path / "store.sqlite3", (playbook(RULES),))
    with world.store() as store:
        store.upsert_documents([make_document("a"), make_document("b", kind=Kind.ACT)])
    return world


def _sync(world: World, *events: StatusEvent) -> None:
    with world.store() as store:
        store.write_sync_page([], events)


def _signed(doc_id: str, day: int, **changes: object) -> StatusEvent:
    at = msk("2024-04-27 10:00") + timedelta(days=day)
    return make_event(doc_id, at, Status.SIGNED, **{"from_status": Status.SENT, **changes})


def test_first_sync_events_are_history_not_triggers(tmp_path: Path) -> None:
    world = _world(tmp_path)
    world.evaluate(NOW)  # the rules start before any sync
    _sync(world, _signed("a", 0, historical=True), _signed("a", 1, historical=True))
    assert world.evaluate(NOW).fired == ()


def test_fires_once_per_new_event(tmp_path: Path) -> None:
    world = _world(tmp_path)
    world.evaluate(NOW)
    _sync(world, _signed("a", 0), _signed("b", 0))
    result = world.evaluate(NOW)
    assert fired_steps(result) == [("a", "event")]  # "b" is an act
    (planned,) = result.fired
    assert planned.firing.episode == event_episode(world.store().history("a")[0])
    assert planned.requests[0].params == {"message": "Договор подписан "}
    assert world.evaluate(NOW).fired == ()
    assert world.evaluate(NOW + timedelta(days=30)).fired == ()


def test_each_event_fires_even_for_the_same_document(tmp_path: Path) -> None:
    world = _world(tmp_path)
    world.evaluate(NOW)
    _sync(world, _signed("a", 0))
    world.evaluate(NOW)
    _sync(world, _signed("a", 5, to_raw="ПодписанСИсправлениями"))
    assert fired_steps(world.evaluate(NOW)) == [("a", "event")]
    assert len(world.ledger("a")) == 2


def test_a_rule_added_later_ignores_older_events(tmp_path: Path) -> None:
    world = _world(tmp_path)
    _sync(world, _signed("a", 0))  # recorded before the rule was ever evaluated
    assert world.evaluate(NOW).fired == ()
    _sync(world, make_event("a", msk("2024-05-06 09:00"), Status.REJECTED))
    assert [p.firing.rule_key for p in world.evaluate(NOW).fired] == ["pb/any-rejection"]


def test_from_and_to_must_both_match(tmp_path: Path) -> None:
    world = _world(tmp_path)
    world.evaluate(NOW)
    _sync(world, _signed("a", 0, from_status=Status.REJECTED))
    assert world.evaluate(NOW).fired == ()


def test_the_cursor_survives_a_restart(tmp_path: Path) -> None:
    world = _world(tmp_path)
    world.evaluate(NOW)
    _sync(world, _signed("a", 0))
    reloaded = World(world.path, (playbook(RULES),))
    assert fired_steps(reloaded.evaluate(NOW)) == [("a", "event")]
    assert World(world.path, (playbook(RULES),)).evaluate(NOW).fired == ()


def test_dry_run_neither_fires_nor_moves_the_cursor(tmp_path: Path) -> None:
    world = _world(tmp_path)
    world.evaluate(NOW)
    _sync(world, _signed("a", 0))
    assert fired_steps(world.evaluate(NOW, dry_run=True)) == [("a", "event")]
    assert fired_steps(world.evaluate(NOW)) == [("a", "event")]


def test_working_hours_hold_events_until_the_window_opens(tmp_path: Path) -> None:
    rules = RULES.replace(
        "- id: any-rejection", '- id: any-rejection\n  working_hours: "09:00-18:00"'
    )
    world = World(tmp_path / "store.sqlite3", (playbook(rules),))
    with world.store() as store:
        store.upsert_documents([make_document("a")])
    world.evaluate(NOW)
    _sync(world, make_event("a", msk("2024-05-06 19:00"), Status.REJECTED))
    assert world.evaluate(msk("2024-05-06 20:00")).fired == ()
    (planned,) = world.evaluate(msk("2024-05-07 09:05")).fired
    assert planned.firing.rule_key == "pb/any-rejection"


def test_the_document_must_still_match(tmp_path: Path) -> None:
    world = _world(tmp_path)
    world.evaluate(NOW)
    with world.store() as store:
        store.upsert_documents([make_document("a", kind=Kind.OTHER)])
    _sync(world, _signed("a", 0))
    assert world.evaluate(NOW).fired == ()


def test_keys_come_from_1c_not_from_the_store_ids(tmp_path: Path) -> None:
    """Two stores that recorded the same 1C history in another order fire with the same keys."""
    (tmp_path / "1").mkdir(), (tmp_path / "2").mkdir()
    first, second = _world(tmp_path / "1"), _world(tmp_path / "2")
    contract = make_document("c")
    for world in (first, second):
        with world.store() as store:
            store.upsert_documents([contract])
        world.evaluate(NOW)
    events = [
        _signed("a", 0),
        _signed("c", 0),
        make_event("a", msk("2024-04-29 10:00"), Status.REJECTED),
    ]
    _sync(first, *events)
    _sync(second, events[2])  # another page order: the store ids differ
    _sync(second, events[1], events[0])
    ids = [[e.id for e in w.store().history("a")] for w in (first, second)]
    assert ids[0] != ids[1]  # the same 1C events, other store ids

    def keys(world: World) -> set[tuple[str, str, str]]:
        result = world.evaluate(NOW)
        return {
            (p.firing.episode, r.idempotency_key, r.document_id)
            for p in result.fired
            for r in p.requests
        }

    got = keys(first)
    assert len(got) == 3 and got == keys(second)
