"""The runner: one tick = sync → evaluate → dispatch, on a schedule, until stopped.

A failing stage never stops the runner: a sync error (1C down, a bad page)
is logged and the tick goes on with the data it has; an evaluation error is
logged and the outbox is still drained; the next tick heals. Ticks run in the
loop's thread only (a SQLite connection belongs to one thread); the HTTP
endpoint asks for a tick through :meth:`Runner.trigger`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from edo_rules._bounds import stage_limit
from edo_rules._messages import Text, reason
from edo_rules._signals import SLEEP_SLICE
from edo_rules.model import RequestState
from edo_rules.runner._failures import summary_text
from edo_rules.runner.dispatch import Dispatcher, DispatchReport
from edo_rules.runner.metrics import Metrics
from edo_rules.runner.schedule import Schedule
from edo_rules.store.base import Store

if TYPE_CHECKING:
    from edo_rules.runner._route import RefreshRoute
    from edo_rules.runner.refresh import RefreshRequest

_log = logging.getLogger("edo_rules.runner")

Clock = Callable[[], datetime]


#: The sync and evaluate stages of a tick: called with ``now``, return how many items they wrote.
Stage = Callable[[datetime], int]


@dataclass(slots=True)
class Pipeline:
    """The concrete pieces a tick drives (built from the config by :mod:`.wiring`).

    ``sync`` is ``None`` when no source is configured (documents come from a
    file or another program). ``before_tick`` reloads changed playbooks.
    """

    store: Store
    dispatcher: Dispatcher
    evaluate: Stage
    sync: Stage | None = None
    before_tick: Callable[[], object] | None = None
    #: Re-reads given documents instead of the sync (``POST /sync?document=…``).
    refresh: Callable[[Sequence[RefreshRequest]], int] | None = None
    #: The documents the last evaluation failed on, by (rule, reason) (see ``_failures``).
    failures: Callable[[], Mapping[tuple[str, str], int]] | None = None
    #: The longest each stage may run, in seconds, by stage name (``schedule.stage_limits``).
    stage_limits: Mapping[str, float] = field(default_factory=dict)
    #: Raises when the store or its lock file is no longer the one opened (see ``app``).
    guard: Callable[[], object] | None = None
    #: How many actions wait in the outbox (pending, in flight), for the tick's summary.
    waiting: Callable[[], int] | None = None


@dataclass(slots=True)
class TickReport:
    """What one tick did; ``errors`` name the stages that failed."""

    at: datetime
    synced: int = 0
    fired: int = 0
    dispatch: DispatchReport = field(default_factory=DispatchReport)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: Documents a rule failed on (its ``where`` or a template), by (rule, reason).
    failures: Mapping[tuple[str, str], int] = field(default_factory=dict)
    #: Actions still waiting in the outbox after the tick (None when unknown).
    waiting: int | None = None
    #: Why the runner must stop (its store or lock file is gone); no stage ran.
    fatal: Text | str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> Mapping[str, Any]:
        """A JSON-ready summary (the HTTP ``/sync?wait=1`` answer)."""
        return {
            "at": self.at.isoformat(),
            "ok": self.ok,
            "synced": self.synced,
            "fired": self.fired,
            "actions": dict(self.dispatch.outcomes),
            "errors": list(self.errors),
            "seconds": round(self.seconds, 3),
            "waiting": self.waiting,
            "failed_documents": [
                {"rule": rule, "reason": why, "documents": count}
                for (rule, why), count in sorted(self.failures.items())
            ],
        }

    def line(self) -> str:
        """One readable line for the log."""
        text = (
            f"tick: {self.synced} document(s) synced, {self.fired} firing(s), "
            f"actions: {self.dispatch.summary(self.waiting)} ({self.seconds:.2f} s)"
        )
        if self.failures:
            text += f"; {summary_text(self.failures)}"
        return text + (f"; failed: {', '.join(self.errors)}" if self.errors else "")


def run_tick(
    pipeline: Pipeline,
    now: datetime,
    metrics: Metrics | None = None,
    refreshes: Sequence[RefreshRequest] = (),
) -> TickReport:
    """One tick at ``now``: sync, evaluate, dispatch — each stage isolated from the others.

    With ``refreshes`` the sync stage re-reads just those documents.
    """
    started = time.monotonic()
    report = TickReport(at=now)
    if pipeline.guard is not None:
        try:
            pipeline.guard()
        except Exception as exc:
            # Writing on would go into a deleted file, beside a runner on the new one.
            report.fatal = reason(exc)  # rendered where shown (English in the log)
            report.errors.append("store files")
            return report
    limits = pipeline.stage_limits
    if pipeline.before_tick is not None:
        _stage(report, "reload", pipeline.before_tick)
    refresh = pipeline.refresh
    if refreshes and refresh is not None:
        report.synced = _stage(
            report, "refresh", lambda: refresh(refreshes), limits.get("sync"), key="sync"
        )
    elif pipeline.sync is not None:
        sync = pipeline.sync
        report.synced = _stage(report, "sync", lambda: sync(now), limits.get("sync"))
    report.fired = _stage(
        report, "evaluate", lambda: pipeline.evaluate(now), limits.get("evaluate")
    )
    if pipeline.failures is not None:
        report.failures = dict(pipeline.failures())
    dispatch = pipeline.dispatcher.dispatch
    dispatched = _stage(report, "dispatch", dispatch, limits.get("dispatch"))
    if isinstance(dispatched, DispatchReport):
        report.dispatch = dispatched
        if dispatched.limit is not None:  # stopped at its limit: what it sent is kept above
            _log.error("dispatch failed: %s", dispatched.limit)
            report.errors.append("dispatch")
    report.waiting = _waiting(pipeline)
    report.seconds = time.monotonic() - started
    if metrics is not None:
        _observe(metrics, pipeline.store, report, now, pipeline.sync is not None)
    return report


def _stage(
    report: TickReport,
    name: str,
    call: Callable[[], Any],
    limit: float | None = None,
    *,
    key: str = "",
) -> Any:
    try:
        with stage_limit(name, limit, key):
            return call() or 0
    except Exception as exc:
        # Any failure of one stage is logged and the tick goes on: the next one heals.
        _log.error("%s failed: %s", name, exc, exc_info=not _expected(exc))
        report.errors.append(name)
        return 0


def _waiting(pipeline: Pipeline) -> int | None:
    if pipeline.waiting is None:
        return None
    try:
        return pipeline.waiting()
    except Exception as exc:  # the summary must never break a tick
        _log.warning("cannot count the waiting actions: %s", exc)
        return None


def _expected(exc: Exception) -> bool:
    from edo_rules.errors import EdoRulesError

    return isinstance(exc, EdoRulesError)


def _observe(
    metrics: Metrics, store: Store, report: TickReport, now: datetime, pipeline_synced: bool
) -> None:
    metrics.inc("edo_rules_ticks_total", result="ok" if report.ok else "error")
    metrics.observe("edo_rules_tick_duration_seconds", report.seconds)
    metrics.set("edo_rules_last_tick_timestamp_seconds", time.time())
    metrics.inc("edo_rules_synced_documents_total", report.synced)
    metrics.inc("edo_rules_firings_total", report.fired)
    if "sync" in report.errors:
        metrics.inc("edo_rules_sync_errors_total")
    elif pipeline_synced:
        finished = time.time()
        metrics.set_callback("edo_rules_sync_lag_seconds", lambda: time.time() - finished)
    for (rule, why), count in report.failures.items():
        metrics.inc("edo_rules_evaluation_failures_total", count, rule=rule, reason=why)
    try:
        metrics.set("edo_rules_documents", store.count_documents())
        metrics.set("edo_rules_outbox_lag_seconds", _lag(store, now))
        # Counted by the index: held notifications pile up overnight, loading them
        # all at every tick made the tick slower by the hour.
        counts = store.request_counts(RequestState(state) for state in _COUNTED_STATES)
        for state, count in counts.items():
            metrics.set("edo_rules_outbox_requests", count, state=state.value)
    except Exception as exc:  # metrics must never break a tick
        _log.warning("cannot read the store for metrics: %s", exc)


#: Outbox states counted at each tick: the done ones grow without bound and say nothing.
_COUNTED_STATES = ("pending", "in_flight", "failed", "in_doubt")


def _lag(store: Store, now: datetime) -> float:
    oldest = store.oldest_waiting(now)
    return 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())


class Runner:
    """Ticks ``pipeline`` on ``schedule`` until :meth:`stop`; one instance per process."""

    def __init__(
        self,
        pipeline: Pipeline,
        schedule: Schedule,
        *,
        clock: Clock,
        metrics: Metrics | None = None,
        stop_event: threading.Event | None = None,
        on_tick: Callable[[TickReport], None] | None = None,
        route: RefreshRoute | None = None,
    ) -> None:
        self._pipeline = pipeline
        #: With runners sharing a store: refreshes go to the sync lease's holder.
        self._route = route
        self._schedule = schedule
        self._clock = clock
        self.metrics = metrics or Metrics()
        self._stop = stop_event or threading.Event()
        self._wake = threading.Event()
        self._done = threading.Condition()
        self._ticks = 0
        self._in_tick = False
        self._last: TickReport | None = None
        self._on_tick = on_tick
        self._refreshes: list[RefreshRequest] = []
        #: Why the runner stopped on its own (its store or lock file is gone), else None.
        self.fatal: Text | str | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        """Finish the batch in flight, then leave :meth:`run` (safe from a signal handler)."""
        self._stop.set()
        self._wake.set()

    def tick(self) -> TickReport:
        """Run one tick now (in the caller's thread)."""
        with self._done:
            self._in_tick = True
            refreshes, self._refreshes = self._refreshes, []
        # Refreshes other runners asked of this one, the sync lease's holder.
        served = self._route.take() if self._route is not None else []
        refreshes = [*refreshes, *(request for _, request in served)]
        try:
            report = run_tick(self._pipeline, self._clock(), self.metrics, refreshes)
        finally:
            with self._done:
                self._in_tick = False
        if served and self._route is not None:
            self._route.answer([number for number, _ in served], report.summary())
        if report.fatal is not None:
            _log.critical("the runner stops: %s", report.fatal)
            self.fatal = report.fatal
            self.stop()
        else:
            _log.log(logging.INFO if report.ok else logging.WARNING, "%s", report.line())
        with self._done:
            self._ticks += 1
            self._last = report
            self._done.notify_all()
        if self._on_tick is not None:
            self._on_tick(report)
        return report

    def run(self, *, max_ticks: int | None = None) -> None:
        """Tick at once, then on the schedule (or when triggered) until stopped."""
        _log.info("runner started: %s", self._schedule.describe())
        next_at = self._clock()
        while not self._stop.is_set():
            if self._wake.is_set() or self._clock() >= next_at:
                self._wake.clear()
                self.tick()
                next_at = self._schedule.next_after(self._clock())
                if max_ticks is not None and self._ticks >= max_ticks:
                    break
            wait = (next_at - self._clock()).total_seconds()
            # In slices: the main thread must wake to run a signal's handler (_signals).
            self._wake.wait(timeout=max(0.0, min(wait, SLEEP_SLICE)))
        _log.info("runner stopped")

    def trigger(self, wait: bool, timeout: float) -> Mapping[str, Any] | None:
        """Ask for a tick now; with ``wait``, block until it ends and return its summary."""
        with self._done:
            # A tick already running may have synced before the caller's change.
            target = self._ticks + (2 if self._in_tick else 1)
        self._wake.set()
        if not wait:
            return None
        with self._done:
            finished = self._done.wait_for(lambda: self._ticks >= target, timeout=timeout)
            if not finished or self._last is None:
                return None
            return self._last.summary()

    def refresh(
        self, request: RefreshRequest, wait: bool, timeout: float
    ) -> Mapping[str, Any] | None:
        """Ask for a tick that re-reads the request's documents instead of the sync.

        With runners sharing a store, the tick is the sync lease holder's: this
        runner serves it when it holds the lease (or takes it, being free), else
        asks the holder and waits for its answer.
        """
        if self._route is not None and not self._route.serves_here():
            return self._route.ask(request, wait, timeout)
        with self._done:
            self._refreshes.append(request)
        return self.trigger(wait, timeout)

    def health(self) -> tuple[bool, Mapping[str, Any]]:
        """(healthy, details) for ``GET /healthz``."""
        with self._done:
            last = self._last
        status = "failed" if self.fatal else "stopping" if self.stopping else "ok"
        info: dict[str, Any] = {"status": status, "ticks": self._ticks}
        if last is not None:
            info["last_tick"] = last.summary()
        return not self.stopping, info
