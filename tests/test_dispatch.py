"""The dispatcher against a real SQLite store and a recording action adapter."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from edo_rules.cli import main
from edo_rules.errors import ActionError
from edo_rules.model import (
    ActionRequest,
    Counterparty,
    Direction,
    Document,
    Firing,
    Kind,
    Outcome,
    OutcomeStatus,
    RequestState,
    Status,
)
from edo_rules.runner.dispatch import Dispatcher, RetryPolicy
from edo_rules.runner.metrics import Metrics
from edo_rules.store.sqlite import SQLiteStore

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Recorder:
    """A real adapter whose "remote side" is a dict of effects keyed by idempotency key.

    ``mode`` decides what ``execute`` does: ``ok``, ``retry``, ``fail``,
    ``raise`` (ActionError, not retryable), ``crash`` (a bug after sending
    half), ``short`` (forgets the last outcome).
    """

    params_schema: ClassVar[Mapping[str, Any]] = {"type": "object"}

    def __init__(self, name: str, *, can_check: bool = True, mode: str = "ok") -> None:
        self.name = name  # type: ignore[misc]
        self.can_check = can_check  # type: ignore[misc]
        self.mode = mode
        self.effects: dict[str, int] = {}
        self.calls: list[list[int]] = []
        self.on_execute: Any = None
        self.clock = lambda: NOW

    def execute(self, requests: Sequence[ActionRequest]) -> list[Outcome]:
        self.calls.append([r.id or 0 for r in requests])
        if self.on_execute is not None:
            self.on_execute()
        if self.mode == "raise":
            raise ActionError("insufficient scope", retryable=False, code="insufficient_scope")
        if self.mode == "crash":
            self._apply(requests[: len(requests) // 2])
            raise RuntimeError("adapter bug")
        status = {"retry": OutcomeStatus.RETRY, "fail": OutcomeStatus.FAILED}.get(
            self.mode, OutcomeStatus.DONE
        )
        if status == OutcomeStatus.DONE:
            self._apply(requests)
        outcomes = [
            Outcome(r.id or 0, status, self.clock(), reason=None if status == "done" else self.mode)
            for r in requests
        ]
        return outcomes[:-1] if self.mode == "short" else outcomes

    def _apply(self, requests: Sequence[ActionRequest]) -> None:
        for request in requests:
            self.effects[request.idempotency_key] = self.effects.get(request.idempotency_key, 0) + 1

    def check(self, request: ActionRequest) -> Outcome | None:
        if not self.can_check:
            return Outcome(request.id or 0, OutcomeStatus.IN_DOUBT, NOW, reason="cannot check")
        if request.idempotency_key in self.effects:
            return Outcome(request.id or 0, OutcomeStatus.DONE, NOW, remote_id="found")
        return None


def _document(doc_id: str) -> Document:
    return Document(
        id=doc_id,
        kind=Kind.ACT,
        number=doc_id,
        date=None,
        direction=Direction.OUTGOING,
        status=Status.SENT,
        status_1c="ОжидаетсяПодтверждение",
        counterparty=Counterparty("ООО Ромашка", "7701234567"),
    )


def _enqueue(store: SQLiteStore, plan: Sequence[tuple[str, str]]) -> None:
    """One firing per (document, action) pair, in order."""
    store.upsert_documents(_document(doc) for doc in sorted({d for d, _ in plan}))
    firings = []
    for index, (doc, action) in enumerate(plan):
        firing = Firing("pb/rule", doc, f"s{index}", "e", NOW, NOW, "hash")
        request = ActionRequest(
            action, {"n": index}, f"{action}-{doc}-{index}", doc, "pb/rule", NOW
        )
        firings.append((firing, [request]))
    store.record_firings(firings)


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    opened = SQLiteStore(tmp_path / "store.db")
    yield opened
    opened.close()


def _dispatcher(store: SQLiteStore, *adapters: Recorder, **kwargs: Any) -> Dispatcher:
    return Dispatcher(store, {a.name: a for a in adapters}, clock=lambda: NOW, **kwargs)


def _states(store: SQLiteStore) -> dict[str, str]:
    every = store.requests(list(RequestState))
    return {r.idempotency_key: r.state.value for r in every}


def test_sends_everything_grouped_by_action_in_order(store: SQLiteStore) -> None:
    _enqueue(store, [("d1", "notify"), ("d1", "task"), ("d2", "notify"), ("d2", "task")])
    notify, task = Recorder("notify"), Recorder("task")
    metrics = Metrics()
    report = _dispatcher(store, notify, task, metrics=metrics).dispatch()
    assert report.outcomes == {"done": 4}
    assert set(_states(store).values()) == {"done"}
    assert notify.calls == [[1, 3]] and task.calls == [[2, 4]]
    assert metrics.value("edo_rules_actions_total", action="notify", outcome="done") == 2


@pytest.mark.parametrize(("rate", "largest"), [(None, 300), (2.0, 100), (50.0, 300)])
def test_a_claim_holds_a_couple_of_seconds_at_the_runners_share_of_the_rate(
    store: SQLiteStore, rate: float | None, largest: int
) -> None:
    _enqueue(store, [(f"d{n:04d}", "notify") for n in range(700)])
    notify = Recorder("notify")
    dispatcher = _dispatcher(store, notify, batch_size=1000, parts=lambda: 3, rate=rate)
    assert dispatcher.dispatch().outcomes == {"done": 700}
    # Three runners: 1000 // 3 = 333, cut to whole batches of 50. At 2 requests a second,
    # a third of it for 4 s is 134 actions, two batches; at 50 a second the share is larger.
    assert max(len(call) for call in notify.calls) == largest


def test_retry_backs_off_then_gives_up(store: SQLiteStore) -> None:
    _enqueue(store, [("d1", "notify")])
    flaky = Recorder("notify", mode="retry")
    policy = RetryPolicy(base=60, max_attempts=3)
    clock = [NOW]
    flaky.clock = lambda: clock[0]
    dispatcher = Dispatcher(store, {"notify": flaky}, clock=lambda: clock[0], policy=policy)
    dispatcher.dispatch()
    (request,) = store.requests([RequestState.PENDING])
    assert request.next_attempt_at == NOW + timedelta(seconds=60)
    assert dispatcher.dispatch().sent == 0  # not due yet
    clock[0] = NOW + timedelta(seconds=60)
    dispatcher.dispatch()
    (request,) = store.requests([RequestState.PENDING])
    assert request.next_attempt_at == clock[0] + timedelta(seconds=120)
    clock[0] += timedelta(seconds=120)
    dispatcher.dispatch()
    (failed,) = store.requests([RequestState.FAILED])
    assert failed.last_error is not None and "gave up after 3 attempts" in failed.last_error
    assert len(flaky.calls) == 3


def test_one_failing_action_never_stops_the_others(store: SQLiteStore) -> None:
    _enqueue(store, [("d1", "task"), ("d1", "notify"), ("d2", "ghost"), ("d2", "notify")])
    broken, notify = Recorder("task", mode="raise"), Recorder("notify")
    report = _dispatcher(store, broken, notify).dispatch()
    states = _states(store)
    assert states["notify-d1-1"] == states["notify-d2-3"] == "done"
    assert states["task-d1-0"] == states["ghost-d2-2"] == "failed"
    reasons = {r.action: r.last_error for r in store.requests([RequestState.FAILED])}
    assert "insufficient_scope" in (reasons["task"] or "")
    assert "no action adapter named 'ghost'" in (reasons["ghost"] or "")
    assert report.outcomes == {"done": 2, "failed": 2}


def test_an_adapter_bug_is_treated_like_a_crash_of_its_batch(store: SQLiteStore) -> None:
    _enqueue(store, [(f"d{i}", "task") for i in range(4)])
    buggy = Recorder("task", mode="crash")
    _dispatcher(store, buggy).dispatch()
    states = _states(store)
    # The first half took effect before the bug: found by the check, recorded as done.
    assert [states[f"task-d{i}-{i}"] for i in range(4)] == ["done", "done", "pending", "pending"]
    buggy.mode = "ok"
    later = NOW + timedelta(minutes=5)  # after the back-off
    Dispatcher(store, {"task": buggy}, clock=lambda: later).dispatch()
    assert set(_states(store).values()) == {"done"}
    assert all(n == 1 for n in buggy.effects.values()) and len(buggy.effects) == 4


def test_a_missing_outcome_is_checked(store: SQLiteStore) -> None:
    _enqueue(store, [("d1", "task"), ("d2", "task")])
    forgetful = Recorder("task", mode="short")
    _dispatcher(store, forgetful).dispatch()
    assert set(_states(store).values()) == {"done"}  # the effect of the forgotten one was found


def test_recovery_checks_in_flight_requests_before_sending(store: SQLiteStore) -> None:
    _enqueue(store, [("d1", "task"), ("d2", "task"), ("d3", "comment")])
    task, comment = Recorder("task"), Recorder("comment", can_check=False)
    claimed = store.claim_requests(NOW, 10)  # a process claimed them, sent one, then died
    task.effects[claimed[0].idempotency_key] = 1
    report = _dispatcher(store, task, comment).dispatch()
    assert report.recovered == {"done": 1, "resend": 1, "in_doubt": 1}
    states = _states(store)
    assert states == {"task-d1-0": "done", "task-d2-1": "done", "comment-d3-2": "in_doubt"}
    assert task.effects == {"task-d1-0": 1, "task-d2-1": 1}
    assert comment.calls == []  # never re-sent on its own
    store.set_request_state(claimed[2].id or 0, RequestState.PENDING)  # the admin's decision
    _dispatcher(store, task, comment).dispatch()
    assert comment.effects == {"comment-d3-2": 1}


def test_stop_finishes_the_batch_in_flight_and_releases_the_rest(store: SQLiteStore) -> None:
    _enqueue(store, [("d1", "notify"), ("d1", "task"), ("d2", "notify")])
    stop = threading.Event()
    notify, task = Recorder("notify"), Recorder("task")
    notify.on_execute = stop.set  # SIGTERM arrives while the first batch is being sent
    report = _dispatcher(store, notify, task, stop=stop).dispatch()
    assert report.stopped
    assert _states(store) == {"notify-d1-0": "done", "task-d1-1": "pending", "notify-d2-2": "done"}
    assert store.requests([RequestState.IN_FLIGHT]) == []


def test_retry_policy_delay_honours_the_remote_hint() -> None:
    policy = RetryPolicy(base=10, factor=2, max_delay=100)
    assert [policy.delay(n) for n in (1, 2, 3, 5)] == [10, 20, 40, 100]
    assert policy.delay(1, hint=45) == 45


def test_a_failed_check_leaves_the_request_in_flight_for_the_next_pass(
    store: SQLiteStore,
) -> None:
    _enqueue(store, [("d1", "task")])
    store.claim_requests(NOW, 10)  # in flight at a crash
    task = Recorder("task")
    task.check = lambda request: Outcome(request.id or 0, OutcomeStatus.IN_DOUBT, NOW)  # type: ignore[method-assign]
    report = _dispatcher(store, task).dispatch()
    assert report.recovered == {"unresolved": 1}
    assert _states(store) == {"task-d1-0": "in_flight"}
    _dispatcher(store, Recorder("task")).dispatch()  # the portal answers again
    assert _states(store) == {"task-d1-0": "done"}


# -- the `edo-rules outbox` command ---------------------------------------------------


def _outbox(store: SQLiteStore, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["outbox", *args, "--store", store.path, "--lang", "en"])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_outbox_lists_retries_and_drops(
    store: SQLiteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    _enqueue(store, [("d1", "task"), ("d2", "todo"), ("d3", "notify")])
    store.claim_requests(NOW, 10)  # all in flight at a crash
    adapters = Recorder("task", mode="raise"), Recorder("todo", can_check=False), Recorder("notify")
    _dispatcher(store, *adapters).dispatch()
    status, text = _outbox(store, capsys)
    assert status == 0
    assert "IN DOUBT — check in Bitrix24, then retry or drop (1):" in text
    assert "#2      todo" in text and "FAILED (1):" in text and "insufficient_scope" in text
    assert "outbox retry ID" in text and "retry --failed" in text
    status, text = _outbox(store, capsys, "show", "1")
    assert status == 0 and '"n": 0' in text and "failed: insufficient_scope" in text
    assert _outbox(store, capsys, "retry", "--failed")[0] == 0
    assert _outbox(store, capsys, "drop", "2")[0] == 0
    assert _states(store) == {"task-d1-0": "pending", "todo-d2-1": "dropped", "notify-d3-2": "done"}
    status, text = _outbox(store, capsys, "drop", "3")
    assert status == 1 and "#3: is done; left as it is" in text
    status, text = _outbox(store, capsys, "retry", "99")
    assert status == 1 and "no request #99" in text
    status, text = _outbox(store, capsys, "retry")
    assert status == 2 and "say which requests" in text


def test_a_pass_sends_a_request_at_most_once(store: SQLiteStore) -> None:
    _enqueue(store, [("d1", "notify"), ("d2", "task")])
    ticks = iter(range(1000))

    def clock() -> datetime:  # every reading a second later: a retry is due again at once
        return NOW + timedelta(seconds=next(ticks))

    flaky = Recorder("notify", mode="retry")
    flaky.clock = clock
    policy = RetryPolicy(base=0.5, max_attempts=100)
    adapters = {"notify": flaky, "task": Recorder("task")}
    report = Dispatcher(store, adapters, clock=clock, policy=policy).dispatch()
    assert flaky.calls == [[1]] and report.outcomes == {"retry": 1, "done": 1}
    assert _states(store) == {"notify-d1-0": "pending", "task-d2-1": "done"}


def test_outbox_never_creates_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "typo.db"
    status = main(["outbox", "--store", str(missing)])
    err = capsys.readouterr().err
    assert status == 1 and f"нет хранилища {missing}" in err and "Что сделать" in err
    assert not missing.exists()
