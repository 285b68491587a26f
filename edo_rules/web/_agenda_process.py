"""The agenda's simulation in a process of its own.

Simulating the coming days is Python work for close to a minute at a million
documents. In the server's process it held the interpreter lock against every
page: the managers' page answered in 29 ms instead of 7 ms at 100,000 documents
while a simulation ran (benchmarks/README.md). A child process started with
``spawn`` (no copy of the server's threads and connections) opens the store,
loads the playbooks and simulates; the parent waits for its answer in the
agenda's background thread and tells it to stop when the server stops.

What crosses the boundary is plain data: a :class:`SimulationJob` in, and out
either the plan or a failure's text (a playbook's problems, a store's message,
an unexpected error with its traceback), never an exception object, whose
pickling a custom constructor can break.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import traceback
from collections.abc import Callable, Hashable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from edo_rules.errors import EdoRulesError, PlaybookError, Problem
from edo_rules.web._agenda import AgendaCache, Planned, playbooks_key

_log = logging.getLogger("edo_rules.http")

#: How often the waiting parent checks whether the server is stopping, seconds.
POLL_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class SimulationJob:
    """Everything a child needs to simulate, as plain data (no open connection)."""

    playbooks: tuple[Path, ...]
    zone: str  # an IANA name: the playbooks' local time
    now: datetime
    days: int
    store_path: Path | None = None
    store_dsn: str | None = None
    lease: float = 30.0
    calendar_override: Path | None = None


#: The child's answer: ("plan", planned), ("playbook", problems), ("store", message)
#: or ("error", message and traceback).
Answer = tuple[str, Any]


def agenda_in_process(
    version: Callable[[], Hashable],
    job: Callable[[int], SimulationJob],
    *,
    min_interval: float = 60.0,
) -> AgendaCache:
    """The agenda's plans, each simulated by a child process: ``job(days)`` says what to
    simulate for a horizon at this moment. A plan is keyed by the horizon, the local date
    of the job's moment (its ticks start the next day) and the playbook files' hashes;
    ``version`` changes with every commit to the store."""
    stopping = threading.Event()  # the server stops: so does a simulation in flight

    def prepare(days: int) -> tuple[Hashable, Callable[[], Planned]]:
        spec = job(days)
        today = spec.now.astimezone(ZoneInfo(spec.zone)).date()
        key = (days, today, playbooks_key(spec.playbooks))
        return key, partial(simulate_in_process, spec, stopping)

    return AgendaCache(version, prepare, min_interval=min_interval, stopping=stopping)


def simulate_in_process(job: SimulationJob, stopping: threading.Event) -> Planned:
    """The plan computed by a child process; raises what the simulation raised (as
    :class:`PlaybookError` or :class:`EdoRulesError`). When ``stopping`` is set the child
    stops before its next simulated day (its scratch copy removed) and this raises."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    with ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=_remember_stop, initargs=(stop,)
    ) as pool:
        future = pool.submit(_child, job)
        while True:
            try:
                kind, value = future.result(timeout=POLL_SECONDS)
                break
            except FutureTimeout:
                if stopping.is_set():
                    stop.set()
            except BrokenProcessPool as exc:
                raise EdoRulesError(
                    "процесс расчёта повестки завершился аварийно (нехватка памяти или"
                    " сигнал); повестка будет рассчитана заново при следующем просмотре"
                ) from exc
    return _answer(kind, value)


def _answer(kind: str, value: Any) -> Planned:
    if kind == "plan":
        planned: Planned = value
        return planned
    if kind == "playbook":
        problems: list[Problem] = value
        raise PlaybookError(problems)
    if kind == "store":
        raise EdoRulesError(str(value))
    message, trace = value
    _log.error("the agenda's simulation process failed:\n%s", trace)
    raise EdoRulesError(message)


# -- in the child -----------------------------------------------------------------------------

_STOP: Any = None  # the parent's stop event, inherited at the child's start
_TERMINATED = threading.Event()  # a SIGTERM to the child itself


def _remember_stop(stop: Any) -> None:
    global _STOP  # noqa: PLW0603 -- set once per child, read by its one simulation
    _STOP = stop
    # Ctrl-C reaches the whole process group: the parent stops us through the event.
    # A SIGTERM (systemd stops every process of the service) ends the simulation
    # before its next day too, so that its scratch copy is removed, not left behind.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda number, frame: _TERMINATED.set())


def _stopping() -> bool:
    return _TERMINATED.is_set() or bool(_STOP is not None and _STOP.is_set())


def _child(job: SimulationJob) -> Answer:
    try:
        return "plan", _simulate(job)
    except PlaybookError as exc:
        return "playbook", list(exc.problems)
    except EdoRulesError as exc:  # the store's errors say what and where themselves
        return "store", str(exc)
    except Exception as exc:  # any failure is reported, with its trace
        return "error", (f"{type(exc).__name__}: {exc}", traceback.format_exc())


def _simulate(job: SimulationJob) -> Planned:
    from edo_rules.calendar import ProductionCalendar
    from edo_rules.engine import Engine
    from edo_rules.playbook import load_playbooks
    from edo_rules.web._documents import plan_agenda

    calendar = ProductionCalendar.russia(overrides=job.calendar_override)
    playbooks = load_playbooks(list(job.playbooks))  # read per simulation: edits count
    with _open_store(job) as store:
        engine = Engine(store, playbooks, calendar)
        return plan_agenda(engine, job.now, calendar, job.days, ZoneInfo(job.zone), stop=_stopping)


def _open_store(job: SimulationJob) -> Any:
    if job.store_dsn is not None:
        from edo_rules.runner.wiring import open_postgres

        return open_postgres(job.store_dsn, lease=job.lease)
    from edo_rules.store.sqlite import SQLiteStore

    assert job.store_path is not None  # the wiring gives one or the other
    return SQLiteStore(job.store_path)
