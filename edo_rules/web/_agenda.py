"""The agenda page's simulation, computed in the background and kept per horizon.

Simulating the coming days copies the store and runs the engine's ticks on the
copy: at a million documents that is close to a minute (benchmarks/README.md),
where every other page is an aggregate, and a running runner commits every tick.
So no request ever simulates (stale-while-revalidate): a view returns at once
with the last plan of its horizon and asks for a new one when the plan is older
than the store (any commit), the playbooks or today's date. One daemon thread
simulates, one plan at a time; a stale plan or a failure is recomputed only
when viewed, and no sooner than :meth:`AgendaCache.interval` after the previous
simulation started, so a busy store never keeps a core busy. The filters are
applied to the kept plan (changing them never simulates again).
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from edo_rules.errors import EdoRulesError, PlaybookError
from edo_rules.model import Document
from edo_rules.playbook.loader import playbook_files
from edo_rules.web._filters import Filters

_log = logging.getLogger("edo_rules.http")

#: One planned firing: its document (the filters test it) and the page's row.
Planned = list[tuple[Document, dict[str, Any]]]
#: For a horizon, at this moment: the plan's key (without the store's version) and
#: the simulation that computes it. Called in the worker when a simulation starts,
#: and per view for the key (cheap: the playbook files are hashed, not loaded).
Prepare = Callable[[int], tuple[Hashable, Callable[[], Planned]]]

#: The page's default horizon, simulated as soon as the dashboard is built.
DEFAULT_DAYS = 5


def sqlite_version(path: Path) -> Callable[[], Hashable]:
    """A value that changes whenever another connection commits to the store file.

    ``PRAGMA data_version`` is per connection, so one read-only connection is kept
    for it (it never writes: its own changes, which the pragma would not count,
    cannot happen).
    """
    conn = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False,
        isolation_level=None,
    )  # fmt: skip
    lock = threading.Lock()

    def version() -> Hashable:
        with lock:
            return int(conn.execute("PRAGMA data_version").fetchone()[0])

    return version


def playbooks_key(paths: Iterable[str | Path]) -> Hashable:
    """The playbook files' names and contents, in a few hashes: loading them (parsing and
    checking every rule) took 60-200 ms, the reads and hashes well under one."""
    return tuple(
        (str(file), hashlib.sha256(file.read_bytes()).hexdigest())
        for file in playbook_files(paths)
        if file.is_file()
    )


#: PostgreSQL: the current snapshot (xmin:xmax:running xids). Equal snapshots see
#: the same committed transactions, so an equal value means no commit in between;
#: any commit on the server changes it (conservative: other databases count too).
PG_VERSION = "SELECT CAST(pg_current_snapshot() AS text)"


@dataclass(frozen=True, slots=True)
class Plan:
    """A finished simulation: its firings, the key it was computed for, when and how long."""

    planned: Planned
    key: Hashable
    started: datetime  # the store as of this moment (the version was read then)
    finished: datetime
    took: float  # seconds


@dataclass(frozen=True, slots=True)
class Failure:
    """A simulation that raised: what to show (what, where, what to do) and when."""

    error: str
    started: datetime
    playbooks: bool  # the playbooks did not load (else the store or the engine failed)


@dataclass(frozen=True, slots=True)
class AgendaView:
    """What one view of a horizon shows: the last plan, if any, and what is under way."""

    plan: Plan | None
    stale: bool  # the store, the playbooks or the date changed since the plan
    running: datetime | None  # this horizon's simulation in progress, since
    queued_at: datetime | None  # a simulation of this horizon will start then (rate limit)
    failure: Failure | None  # the latest attempt failed (newer than ``plan``)
    last_took: float | None  # seconds the latest finished simulation took (any horizon)
    busy: bool  # another horizon is being simulated (this one waits for it)
    interval: float  # the least time between two simulations' starts, seconds

    @property
    def state(self) -> str:
        """fresh, stale (a plan is shown), computing or failed (none to show yet)."""
        if self.plan is not None:
            return "stale" if self.stale or self.failure is not None else "fresh"
        if self.running is not None or (self.queued_at is not None and self.failure is None):
            return "computing"
        return "failed" if self.failure is not None else "computing"

    def rows(self, filters: Filters) -> list[dict[str, Any]]:
        """The plan's rows whose document ``filters`` match (none without a plan)."""
        if self.plan is None:
            return []
        # Unfiltered, every firing is shown: 100,000 of them at 1M documents.
        if not filters.active:
            return [row for _, row in self.plan.planned]
        return [row for doc, row in self.plan.planned if filters.matches(doc)]


@dataclass(slots=True)
class _Slot:
    """One horizon: its last plan, its last failure, whether a simulation is due."""

    plan: Plan | None = None
    failure: Failure | None = None
    due: float | None = None  # monotonic time a queued simulation may start at
    running: datetime | None = None
    used: float = field(default=0.0)  # monotonic time of the last view (eviction)


class AgendaCache:
    """Plans per horizon, computed by one background thread; views never wait.

    ``prepare`` gives a horizon's key and simulation; ``version`` changes with
    every commit to the store. ``min_interval`` (seconds) and three times the
    last simulation's duration, whichever is larger, separate the starts of two
    simulations of plans already shown; a horizon with nothing to show yet is
    simulated as soon as the thread is free. At most ``keep`` horizons are kept.
    ``monotonic`` and ``wall`` are the clocks (tests pass their own); ``stopping``
    is set when the cache closes (see :meth:`close`).
    """

    def __init__(
        self,
        version: Callable[[], Hashable],
        prepare: Prepare,
        *,
        min_interval: float = 60.0,
        keep: int = 4,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        stopping: threading.Event | None = None,
    ) -> None:
        #: Set by :meth:`close`; ``prepare``'s simulations pass ``stopping.is_set`` to
        #: the engine, which stops before its next simulated day.
        self.stopping = stopping or threading.Event()
        self._version, self._prepare = version, prepare
        self._min_interval, self._keep = min_interval, keep
        self._monotonic, self._wall = monotonic, wall
        self._cond = threading.Condition()
        self._slots: dict[int, _Slot] = {}
        self._thread: threading.Thread | None = None
        self._last_start: float | None = None
        self._last_took: float | None = None
        self._closed = False

    @property
    def interval(self) -> float:
        """The least time between two simulations' starts, in seconds."""
        took = self._last_took or 0.0
        return max(self._min_interval, 3 * took)

    def view(self, days: int) -> AgendaView:
        """The horizon's last plan at once; a simulation is queued if it is stale or missing."""
        key, _ = self._prepare(days)
        current = (self._version(), key)
        with self._cond:
            slot = self._slots.setdefault(days, _Slot())
            slot.used = self._monotonic()
            if slot.running is None and slot.due is None and self._needs(slot, current):
                self._queue(days, slot)
            self._evict()
            return self._snapshot(slot, current)

    def warm(self, days: int = DEFAULT_DAYS) -> None:
        """Start simulating ``days`` now (the server has just started: nobody waits yet)."""
        self.view(days)

    def close(self, timeout: float = 30.0) -> None:
        """No more simulations; the one running stops before its next simulated day and
        removes its scratch copy. Waits up to ``timeout`` s for that (a daemon thread: one
        still running then is abandoned with the process, its copy left behind)."""
        self.stopping.set()
        with self._cond:
            self._closed = True
            for slot in self._slots.values():
                slot.due = None
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def wait(self, days: int, timeout: float) -> AgendaView:
        """A view of ``days``, then the view once nothing is running or queued for it, or
        after ``timeout`` s (for tests and scripts; the pages never wait)."""
        self.view(days)
        deadline = time.monotonic() + timeout
        with self._cond:
            slot = self._slots.get(days)
            while slot is not None and (slot.running is not None or slot.due is not None):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
        return self.view(days)

    # -- the state machine (under the lock) ---------------------------------------------------

    def _needs(self, slot: _Slot, current: Hashable) -> bool:
        if slot.failure is not None:
            return True  # the next view may retry (rate-limited by _queue)
        return slot.plan is None or slot.plan.key != current

    def _queue(self, days: int, slot: _Slot) -> None:
        if self._closed:
            return
        now = self._monotonic()
        shown = slot.plan is not None or slot.failure is not None
        if shown and self._last_start is not None:
            slot.due = max(now, self._last_start + self.interval)
        else:
            slot.due = now  # nothing to show yet: as soon as the thread is free
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="edo-rules-agenda", daemon=True)
            self._thread.start()
        self._cond.notify_all()

    def _evict(self) -> None:
        idle = [d for d, s in self._slots.items() if s.running is None and s.due is None]
        idle.sort(key=lambda d: self._slots[d].used)
        while len(self._slots) > self._keep and idle:
            del self._slots[idle.pop(0)]

    def _snapshot(self, slot: _Slot, current: Hashable) -> AgendaView:
        plan, failure = slot.plan, slot.failure
        queued = None
        if slot.due is not None:
            queued = self._wall() + timedelta(seconds=max(0.0, slot.due - self._monotonic()))
        return AgendaView(
            plan=plan,
            stale=plan is not None and plan.key != current,
            running=slot.running,
            queued_at=queued,
            failure=failure,
            last_took=self._last_took,
            busy=slot.running is None and any(s.running is not None for s in self._slots.values()),
            interval=self.interval,
        )

    # -- the worker thread --------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._cond:
                days = self._next()
                if days is None:
                    self._thread = None
                    self._cond.notify_all()
                    return
                slot = self._slots.setdefault(days, _Slot())
                slot.due, slot.running = None, self._wall()
                self._last_start = self._monotonic()
                started = slot.running
            result = self._simulate(days, started)
            with self._cond:
                slot = self._slots.setdefault(days, _Slot())
                slot.running = None
                if isinstance(result, Plan):
                    slot.plan, slot.failure = result, None
                    self._last_took = result.took
                else:
                    slot.failure = result
                self._cond.notify_all()

    def _next(self) -> int | None:
        """The horizon due first, after waiting for it; None when nothing is queued."""
        while not self._closed:
            queued = [(s.due, d) for d, s in self._slots.items() if s.due is not None]
            if not queued:
                return None
            due, days = min(queued)
            wait = due - self._monotonic()
            if wait <= 0:
                return days
            self._cond.wait(wait)
        return None

    def _simulate(self, days: int, started: datetime) -> Plan | Failure:
        began = self._monotonic()
        try:
            key, simulate = self._prepare(days)
            # Read before simulating: a commit during the simulation changes the next
            # view's key, so a plan that may predate it is never taken as fresh.
            current = (self._version(), key)
            planned = simulate()
        except PlaybookError as exc:  # a broken playbook: its file and line are in the text
            return Failure(str(exc), started, playbooks=True)
        except EdoRulesError as exc:  # the store's errors say what and where themselves
            if not self.stopping.is_set():  # else stopped on purpose (close)
                _log.warning("the agenda's simulation for %d days failed: %s", days, exc)
            return Failure(str(exc), started, playbooks=False)
        except Exception as exc:  # unexpected: the page says it, the log has the trace
            _log.exception("the agenda's simulation for %d days failed", days)
            return Failure(f"{type(exc).__name__}: {exc}", started, playbooks=False)
        took = self._monotonic() - began
        return Plan(planned, current, started, self._wall(), took)
