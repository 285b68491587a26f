"""Digests and the flood guard, over the Bitrix24 emulator: folded, never dropped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from _bitrix24_helpers import World, make_request, make_world
from _engine_helpers import MSK
from store_contract import make_firing

from edo_rules.actions.bitrix24 import Bitrix24Settings
from edo_rules.errors import ConfigError
from edo_rules.model import RequestState
from edo_rules.playbook.rules import TimeTrigger
from edo_rules.runner.dispatch import Dispatcher

FRIDAY_NOON = datetime(2026, 11, 27, 12, 0, tzinfo=MSK)
MONDAY_9 = datetime(2026, 11, 30, 9, 0, 30, tzinfo=MSK)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = make_world(tmp_path)
    world.clock.now = FRIDAY_NOON
    yield world
    world.close()


def _enqueue(world: World, count: int, **params: Any) -> None:
    """``count`` reminders to the manager from one tick, one per document."""
    pairs = []
    for i in range(count):
        world.add_doc(f"d{i}", number=str(100 + i), sent_at=FRIDAY_NOON - timedelta(days=7))
        text = {"to": "responsible", "text": f"Напоминание {i}", **params}
        request = replace(make_request("notify", text, f"d{i}"), created_at=FRIDAY_NOON)
        pairs.append((make_firing(f"d{i}"), [request]))
    world.store.record_firings(pairs)


def _dispatch(world: World, **section: Any) -> None:
    Dispatcher(world.store, world.actions(**section), clock=world.clock).dispatch()


def _to(world: World, user: int) -> list[dict[str, Any]]:
    return world.emulator.portal.notifications(user_id=user)


GUARD = {"flood_guard": {"per_tick": 10, "per_day": 30}}


def test_flood_guard_folds_the_excess_into_one_digest_and_tells_the_admin_once(
    world: World,
) -> None:
    section = {**GUARD, "fallback_user": world.director}
    _enqueue(world, 15)
    _dispatch(world, **section)
    assert len(_to(world, world.manager)) == 10  # the limit per tick
    held = world.store.requests([RequestState.PENDING])
    assert len(held) == 5 and all((r.last_error or "").startswith("в сводку") for r in held)
    (warning,) = _to(world, world.director)
    assert "не потеряны" in warning["message"]
    _dispatch(world, **section)  # later the same day: still held, the admin not told again
    assert len(_to(world, world.director)) == 1 and len(_to(world, world.manager)) == 10
    world.clock.now = MONDAY_9
    _dispatch(world, **section)
    messages = _to(world, world.manager)
    assert len(messages) == 11
    digest = messages[-1]["message"]
    assert digest.startswith("Сводка на 30.11.2026") and "(5)" in digest
    assert "Напоминание 14" in digest and "раб. дн." in digest and "[URL=" in digest
    assert {r.state for r in world.store.requests(list(RequestState))} == {RequestState.DONE}


def test_per_day_limit_counts_across_ticks(world: World) -> None:
    _enqueue(world, 4)
    _dispatch(world, flood_guard={"per_tick": 10, "per_day": 3})
    assert len(_to(world, world.manager)) == 3
    assert len(world.store.requests([RequestState.PENDING])) == 1


def test_digest_delivery_waits_for_the_first_working_hour_and_replaces_on_resend(
    world: World,
) -> None:
    _enqueue(world, 3, delivery="digest")
    _dispatch(world)
    assert _to(world, world.manager) == []  # Friday noon: held until Monday 09:00
    world.clock.now = MONDAY_9
    _dispatch(world)
    (digest,) = _to(world, world.manager)
    assert "(3)" in digest["message"]
    requests = world.store.requests([RequestState.DONE])
    again = world.actions()["notify"].execute(requests)  # a re-send of the same items
    assert all(o.status.value == "done" for o in again)
    assert len(_to(world, world.manager)) == 1  # the same TAG replaced it


def test_a_recipient_can_choose_digests(world: World) -> None:
    _enqueue(world, 2)
    _dispatch(world, digest={"users": [world.manager], "hour": 10})
    assert _to(world, world.manager) == []
    world.clock.now = MONDAY_9.replace(hour=10)
    _dispatch(world, digest={"users": [world.manager], "hour": 10})
    assert len(_to(world, world.manager)) == 1


def test_the_digest_hour_is_in_the_recipients_zone(world: World) -> None:
    _enqueue(world, 2, delivery="digest")
    zones = {"zones": {world.manager: "Asia/Yekaterinburg"}}  # 09:00 there is 07:00 in Moscow
    _dispatch(world, digest=zones)
    held = world.store.requests([RequestState.PENDING])
    assert {r.next_attempt_at for r in held} == {MONDAY_9.replace(hour=7, second=0)}
    world.clock.now = MONDAY_9.replace(hour=7, minute=30)
    _dispatch(world, digest=zones)
    assert len(_to(world, world.manager)) == 1


def test_playbook_delivery_digest_marks_its_notifications() -> None:
    text = (
        "version: 1\nname: pb\ndelivery: digest\nrules:\n"
        "  - id: r\n    when: {after: 1 day, since: sent_at}\n"
        "    do:\n      - notify: {to: responsible, text: x}\n"
        "      - notify: {to: 7, text: y, delivery: now}\n"
        "    repeat: {every: 1 day, times: 1}\n"
    )
    from edo_rules.playbook.loader import load_playbook_text

    (rule,) = load_playbook_text(text, "pb.yaml").rules
    assert isinstance(rule.trigger, TimeTrigger)
    first, second = rule.trigger.steps[0].actions
    assert first.params["delivery"] == "digest" and second.params["delivery"].source == "now"
    repeat = rule.trigger.repeat
    assert repeat is not None and repeat.actions is not None
    assert repeat.actions[0].params["delivery"] == "digest"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"digest": {"hour": 25}}, "bitrix24.digest.hour"),
        ({"digest": {"users": ["x"]}}, "bitrix24.digest.users"),
        ({"flood_guard": {"per_tick": 0}}, "bitrix24.flood_guard.per_tick"),
        ({"flood_guard": {"per_hour": 3}}, "bitrix24.flood_guard.per_hour"),
        ({"digest": {"zones": {12: "Europe/Nowhere"}}}, "bitrix24.digest.zones.12"),
    ],
)
def test_bad_digest_settings_are_reported(section: dict[str, Any], message: str) -> None:
    mapping = {"webhook_url": "https://x.bitrix24.ru/rest/1/abc/", **section}
    with pytest.raises(ConfigError) as caught:
        Bitrix24Settings.from_mapping(mapping, where="edo-rules.yaml")
    assert message in str(caught.value)
