"""In doubt heals itself: a timed-out task is re-checked by later ticks, never duplicated."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from _bitrix24_helpers import World, make_request, make_world

from edo_rules.actions.bitrix24 import build_adapters
from edo_rules.cli import main
from edo_rules.emulators.bitrix24._faults import Fault
from edo_rules.model import RequestState
from edo_rules.runner.dispatch import Dispatcher, RetryPolicy


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = make_world(tmp_path)
    yield world
    world.close()


def _short_timeouts(world: World) -> Dispatcher:
    from edo_rules.actions.bitrix24 import make_client
    from edo_rules.actions.bitrix24.client import RetryPolicy as ClientRetry

    settings = world.settings(timeout=0.3)
    retry = ClientRetry(uncertain_attempts=1, unreachable_attempts=1, backoff=0.01)
    client = make_client(settings, retry=retry)
    world.clients.append(client)
    actions = build_adapters(settings, world.store, client=client, clock=world.clock)
    policy = RetryPolicy(base=60.0, max_delay=600.0)
    return Dispatcher(world.store, dict(actions), clock=world.clock, policy=policy)


def _enqueue_task(world: World) -> int:
    from store_contract import make_firing

    world.add_doc("d1")
    request = make_request("task", {"responsible": "responsible", "title": "Позвонить"}, "d1")
    firing = make_firing("d1")
    world.store.record_firings([(firing, [request])])
    (stored,) = world.store.requests([RequestState.PENDING])
    return stored.id or 0


def _tasks(world: World) -> list[dict[str, object]]:
    return list(world.emulator.portal.t.tasks.values())


def test_a_timed_out_task_is_healed_by_later_ticks_without_duplicates(world: World) -> None:
    dispatcher = _short_timeouts(world)
    request_id = _enqueue_task(world)
    # The add takes effect but its answer never comes, and the look-up times out too.
    world.emulator.inject(Fault("timeout", method="tasks.task.add", ran=True, delay=1.0))
    world.emulator.inject(Fault("timeout", method="tasks.task.list", delay=1.0), times=3)
    dispatcher.dispatch()
    assert world.store.get_request(request_id).state is RequestState.IN_DOUBT  # type: ignore[union-attr]
    # The next tick comes too early (back-off): nothing is asked.
    world.clock.now += timedelta(seconds=10)
    assert dispatcher.dispatch().healed == {}
    # Later ticks: the portal still does not answer the look-up, then it does.
    world.clock.now += timedelta(seconds=61)
    assert dispatcher.dispatch().healed == {"still in doubt": 1}
    world.clock.now += timedelta(seconds=121)
    assert dispatcher.dispatch().healed == {"still in doubt": 1}
    world.clock.now += timedelta(seconds=241)
    report = dispatcher.dispatch()
    assert report.healed == {"done": 1}
    request = world.store.get_request(request_id)
    assert request is not None and request.state is RequestState.DONE
    assert len(_tasks(world)) == 1  # 0 duplicates


def test_a_task_that_never_arrived_is_sent_once_when_the_check_answers(world: World) -> None:
    dispatcher = _short_timeouts(world)
    request_id = _enqueue_task(world)
    world.emulator.inject(Fault("500", method="tasks.task.add"))  # refused: it did not run
    world.emulator.inject(Fault("timeout", method="tasks.task.list", delay=1.0))
    dispatcher.dispatch()
    assert world.store.get_request(request_id).state is RequestState.IN_DOUBT  # type: ignore[union-attr]
    world.clock.now += timedelta(minutes=2)
    report = dispatcher.dispatch()
    assert report.healed == {"resend": 1} and report.outcomes == {"done": 1}
    assert len(_tasks(world)) == 1


def test_a_timed_out_todo_heals_by_its_marker_without_duplicates(world: World) -> None:
    dispatcher = _short_timeouts(world)
    world.add_doc("d1")
    from store_contract import make_firing

    todo = make_request("todo", {"title": "Дело", "deadline": "1 рабочий день"}, "d1")
    world.store.record_firings([(make_firing("d1"), [todo])])
    # The add takes effect, its answer never comes, and the look-up times out too.
    world.emulator.inject(Fault("timeout", method="crm.activity.todo.add", ran=True, delay=1.0))
    world.emulator.inject(Fault("timeout", method="crm.activity.list", delay=1.0))
    dispatcher.dispatch()
    (request,) = world.store.requests([RequestState.IN_DOUBT])
    world.clock.now += timedelta(minutes=2)
    assert dispatcher.dispatch().healed == {"done": 1}
    healed = world.store.get_request(request.id or 0)
    assert healed is not None and healed.state is RequestState.DONE
    assert len(world.emulator.portal.todos()) == 1  # 0 duplicates


def test_a_todo_that_never_arrived_is_sent_once_when_the_check_answers(world: World) -> None:
    dispatcher = _short_timeouts(world)
    world.add_doc("d1")
    from store_contract import make_firing

    todo = make_request("todo", {"title": "Дело", "deadline": "1 рабочий день"}, "d1")
    world.store.record_firings([(make_firing("d1"), [todo])])
    world.emulator.inject(Fault("500", method="crm.activity.todo.add"))  # it did not run
    world.emulator.inject(Fault("timeout", method="crm.activity.list", delay=1.0))
    dispatcher.dispatch()
    assert len(world.store.requests([RequestState.IN_DOUBT])) == 1
    world.clock.now += timedelta(minutes=2)
    report = dispatcher.dispatch()
    assert report.healed == {"resend": 1} and report.outcomes == {"done": 1}
    assert len(world.emulator.portal.todos()) == 1


def _left_in_doubt(world: World, dispatcher: Dispatcher) -> int:
    request_id = _enqueue_task(world)
    world.emulator.inject(Fault("timeout", method="tasks.task.add", ran=True, delay=1.0))
    world.emulator.inject(Fault("timeout", method="tasks.task.list", delay=1.0))
    dispatcher.dispatch()
    assert world.store.get_request(request_id).state is RequestState.IN_DOUBT  # type: ignore[union-attr]
    return request_id


def test_the_admins_retry_checks_first_and_refuses_a_second_task(world: World) -> None:
    from edo_rules.runner._heal import retry_checked

    dispatcher = _short_timeouts(world)
    request_id = _left_in_doubt(world, dispatcher)
    request = world.store.get_request(request_id)
    assert request is not None
    adapter = build_adapters(world.settings(), world.store, client=world.client())["task"]
    assert retry_checked(dispatcher, adapter, request) == "done"
    assert world.store.get_request(request_id).state is RequestState.DONE  # type: ignore[union-attr]
    dispatcher.dispatch()
    assert len(_tasks(world)) == 1


def test_retry_with_only_a_store_refuses_a_checkable_in_doubt_request(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    dispatcher = _short_timeouts(world)
    request_id = _left_in_doubt(world, dispatcher)
    path = str(world.store.path)
    status = main(["outbox", "retry", "--in-doubt", "--store", path])
    assert status == 1
    assert "повторите его с --config ФАЙЛ" in capsys.readouterr().out  # Russian by default
    assert world.store.get_request(request_id).state is RequestState.IN_DOUBT  # type: ignore[union-attr]
