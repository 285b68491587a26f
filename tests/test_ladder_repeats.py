"""Ladder semantics over the Bitrix24 emulator: repeats remind, they do not re-escalate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from _bitrix24_helpers import World, make_world
from _engine_helpers import CALENDAR, MSK, playbook

from edo_rules.engine import Engine
from edo_rules.errors import PlaybookError
from edo_rules.model import RequestState
from edo_rules.playbook.loader import load_playbooks
from edo_rules.playbook.rules import TimeTrigger
from edo_rules.runner.dispatch import Dispatcher

BUNDLED = Path(__file__).resolve().parent.parent / "playbooks" / "signing-control.yaml"
SENT = datetime(2026, 11, 2, 11, 0, tzinfo=MSK)  # a Monday


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = make_world(tmp_path)
    yield world
    world.close()


def _run_days(world: World, engine: Engine, days: int) -> list[tuple[str, str]]:
    """Evaluate and dispatch every day at 10:00 for ``days`` days; the steps fired, in order."""
    dispatcher = Dispatcher(world.store, world.actions(), clock=world.clock)
    fired: list[tuple[str, str]] = []
    for day in range(days):
        now = (SENT + timedelta(days=day)).replace(hour=10)
        world.clock.now = now
        result = engine.evaluate(now)
        fired += [(p.firing.step, ", ".join(r.action for r in p.requests)) for p in result.fired]
        dispatcher.dispatch()
    return fired


def test_bundled_ladder_creates_one_task_per_episode_and_pings_it(world: World) -> None:
    world.add_doc("d1", sent_at=SENT)
    engine = Engine(world.store, load_playbooks([BUNDLED]), CALENDAR)
    fired = _run_days(world, engine, 30)
    portal = world.emulator.portal
    assert len(portal.tasks()) == 1  # one task per episode, whatever the repeats
    (task,) = portal.tasks()
    comments = portal.t.task_comments.get(int(task["id"]), [])
    assert len(comments) == 3 and "Напоминание" in comments[0]["POST_MESSAGE"]
    head = [n for n in portal.notifications() if int(n["user_id"]) == world.head]
    manager = [n for n in portal.notifications() if int(n["user_id"]) == world.manager]
    assert len(head) == 1  # the head is told once, at the escalation
    assert len(manager) == 5  # the reminder, its repeat, then one per repeat after the escalation
    assert [step for step, _ in fired] == [
        "do",
        "do.repeat[1]",
        "escalate[1]",
        "repeat[1]",
        "repeat[2]",
        "repeat[3]",
    ]
    assert all(r.state is RequestState.DONE for r in world.store.requests(list(RequestState)))


def test_repeat_options_new_task_and_notify_head(world: World) -> None:
    book = playbook(
        """
        - id: r
          match: {status: sent}
          when: {after: 1 working day, since: sent_at}
          do:
            - notify: {to: head_of_responsible, text: "{{ doc.title }}"}
            - task: {responsible: responsible, title: "{{ doc.title }}"}
          repeat: {every: 1 working day, times: 2, task: new, notify_head: true}
        """
    )
    world.add_doc("d1", sent_at=SENT)
    _run_days(world, Engine(world.store, (book,), CALENDAR), 10)
    portal = world.emulator.portal
    assert len(portal.tasks()) == 3
    assert len([n for n in portal.notifications() if int(n["user_id"]) == world.head]) == 3


def test_explicit_repeat_do_and_the_compiled_positions() -> None:
    book = playbook(
        """
        - id: r
          match: {status: sent}
          when:
            after: 2 working days
            since: sent_at
            repeat: {every: 1 working day, times: 2}
          do: [{log: {message: "first"}}]
          escalate:
            - after: 5 working days
              do: [{task: {responsible: responsible, title: "t"}}]
              repeat:
                every: 3 working days
                times: 1
                do:
                  - notify: {to: responsible, text: "ещё раз"}
                  - task_comment: {text: "пинг"}
        """
    )
    trigger = book.rules[0].trigger
    assert isinstance(trigger, TimeTrigger)
    first, last = trigger.steps
    assert first.repeat is not None and [a.name for a in first.repeat.actions or ()] == ["log"]
    assert last.repeat is not None and trigger.repeat is last.repeat
    ping = (last.repeat.actions or ())[1]
    assert ping.name == "task_comment" and ping.refers == ("escalate[1]", 0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            """
            - id: r
              when:
                after: 2 working days
                since: sent_at
                repeat: {every: 2 working days, times: 2}
              do: [{log: {message: "x"}}]
              escalate: [{after: 5 working days, do: [{log: {message: "y"}}]}]
            """,
            "все повторы ступени do должны наступить раньше ступени escalate[1]",
        ),
        (
            """
            - id: r
              when: {after: 2 working days, since: sent_at, repeat: {every: 4 hours, times: 1}}
              do: [{log: {message: "x"}}]
              escalate: [{after: 5 working days, do: [{log: {message: "y"}}]}]
            """,
            "в тех же единицах, что и «after»",
        ),
        (
            """
            - id: r
              when: {after: 2 working days, since: sent_at}
              do: [{task_comment: {text: "x"}}]
            """,
            "task_comment пишется в do повтора",
        ),
        (
            """
            - id: r
              when: {after: 2 working days, since: sent_at}
              do: [{log: {message: "x"}}]
              repeat: {every: 1 day, times: 1, do: [{task_comment: {text: "x"}}]}
            """,
            "task_comment комментирует задачу, а ступень do задачу не создаёт",
        ),
        (
            """
            - id: r
              when: {after: 2 working days, since: sent_at}
              do: [{log: {message: "x"}}]
              escalate:
                - after: 5 working days
                  do: [{log: {message: "y"}}]
                  repeat: {every: 1 day, times: 1}
              repeat: {every: 1 day, times: 1}
            """,
            "у escalate[1] уже есть свой repeat: задайте повтор один раз",
        ),
        (
            """
            - id: r
              when: {after: 2 working days, since: sent_at}
              do: [{log: {message: "x"}}]
              repeat: {every: 1 day, times: 1, task: renew}
            """,
            "task",
        ),
    ],
)
def test_bad_repeats_are_refused_with_a_reason(body: str, message: str) -> None:
    with pytest.raises(PlaybookError) as caught:
        playbook(body)
    assert message in str(caught.value)


def test_catch_up_to_a_repeat_creates_the_skipped_steps_task_once(world: World) -> None:
    # First seen on 13.11 (repeat[1] due): catch-up skips do…escalate[1] and fires
    # repeat[1], which creates the episode's task in escalate[1]'s place.
    world.add_doc("d1", sent_at=SENT)
    engine = Engine(world.store, load_playbooks([BUNDLED]), CALENDAR)
    dispatcher = Dispatcher(world.store, world.actions(), clock=world.clock)
    fired: list[str] = []
    for day in range(11, 30):
        now = (SENT + timedelta(days=day)).replace(hour=10)
        world.clock.now = now
        fired += [p.firing.step for p in engine.evaluate(now).fired]
        dispatcher.dispatch()
    assert fired == ["repeat[1]", "repeat[2]", "repeat[3]"]
    (task,) = world.emulator.portal.tasks()
    assert len(world.emulator.portal.t.task_comments.get(int(task["id"]), [])) == 2
    assert all(r.state is RequestState.DONE for r in world.store.requests(list(RequestState)))
