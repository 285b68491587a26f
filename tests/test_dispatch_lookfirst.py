"""Look before creating: what was due before the dispatcher started is looked up first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from test_dispatch import NOW, Recorder, _document

from edo_rules.model import ActionRequest, Firing, Outcome, OutcomeStatus, RequestState
from edo_rules.runner.dispatch import Dispatcher
from edo_rules.store.sqlite import SQLiteStore

STARTED = NOW - timedelta(hours=1)


class LookingRecorder(Recorder):
    """A recorder that also finds, in one batch, what its remote side already holds."""

    def __init__(self, name: str, *, broken: bool = False) -> None:
        super().__init__(name)
        self.asked: list[list[str]] = []
        self.broken = broken

    def find_existing(self, requests: Sequence[ActionRequest]) -> list[Outcome]:
        self.asked.append([r.idempotency_key for r in requests])
        if self.broken:
            raise RuntimeError("the portal answered nonsense")
        return [
            Outcome(r.id or 0, OutcomeStatus.DONE, NOW, remote_id="old")
            for r in requests
            if r.idempotency_key in self.effects
        ]


def _enqueue(store: SQLiteStore, due: dict[str, timedelta]) -> None:
    """One task per key (each of its own document: one document's requests go one at
    a time), its firing due at STARTED + offset, written now."""
    store.upsert_documents([_document(f"d-{key}") for key in due])
    firings = []
    for index, (key, offset) in enumerate(due.items()):
        at = STARTED + offset
        firing = Firing("pb/rule", f"d-{key}", f"s{index}", "e", at, NOW, "hash")
        request = ActionRequest("task", {}, key, f"d-{key}", "pb/rule", NOW, due_at=at)
        firings.append((firing, [request]))
    store.record_firings(firings)


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    opened = SQLiteStore(tmp_path / "store.db")
    yield opened
    opened.close()


def _states(store: SQLiteStore) -> dict[str, RequestState]:
    return {r.idempotency_key: r.state for r in store.requests(list(RequestState))}


def test_what_was_due_before_the_start_is_looked_up_and_not_made_again(
    store: SQLiteStore,
) -> None:
    task = LookingRecorder("task")
    task.effects["made-by-the-old-store"] = 1
    _enqueue(
        store,
        {
            "made-by-the-old-store": -timedelta(days=3),
            "never-made": -timedelta(days=2),
            "due-after-the-start": timedelta(minutes=5),
        },
    )
    report = Dispatcher(store, {"task": task}, clock=lambda: NOW, since=STARTED).dispatch()
    assert task.asked == [["made-by-the-old-store", "never-made"]]  # one batch, no fresh one
    assert task.effects == {"made-by-the-old-store": 1, "never-made": 1, "due-after-the-start": 1}
    assert report.outcomes == {"done": 3}
    assert set(_states(store).values()) == {RequestState.DONE}


def test_the_steady_state_asks_nothing(store: SQLiteStore) -> None:
    task = LookingRecorder("task")
    _enqueue(store, {"a": timedelta(0), "b": timedelta(minutes=1)})
    Dispatcher(store, {"task": task}, clock=lambda: NOW, since=STARTED).dispatch()
    assert task.asked == [] and task.effects == {"a": 1, "b": 1}


def test_a_failed_look_up_sends_nothing_and_retries(store: SQLiteStore) -> None:
    task = LookingRecorder("task", broken=True)
    _enqueue(store, {"old": -timedelta(days=1)})
    report = Dispatcher(store, {"task": task}, clock=lambda: NOW, since=STARTED).dispatch()
    assert report.outcomes == {"retry": 1} and task.effects == {}
    assert _states(store) == {"old": RequestState.PENDING}


def test_by_default_the_dispatcher_started_when_it_was_built(store: SQLiteStore) -> None:
    task = LookingRecorder("task")
    _enqueue(store, {"due-an-hour-ago": timedelta(0)})  # due at STARTED < NOW
    Dispatcher(store, {"task": task}, clock=lambda: NOW).dispatch()
    assert task.asked == [["due-an-hour-ago"]]
