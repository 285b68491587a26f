"""The service as the CLI runs it: lock the store, wire the pieces, tick, stop cleanly.

``edo-rules run`` calls :func:`serve`; ``edo-rules tick`` calls :func:`tick_once`.
Both hold the store lock for their whole life, so a timer-started tick never
overlaps a running service.
"""

from __future__ import annotations

import faulthandler
import logging
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

from edo_rules.config import Config
from edo_rules.runner.lock import StoreLock
from edo_rules.runner.loop import Runner, TickReport
from edo_rules.runner.metrics import Metrics
from edo_rules.runner.wiring import Service, describe, open_service
from edo_rules.store.base import Store

if TYPE_CHECKING:
    from edo_rules.web import WebServer

_log = logging.getLogger("edo_rules.runner")


def wall_clock() -> datetime:
    """The real time (the runner's edge: library code gets time injected)."""
    return datetime.now(UTC)


@contextmanager
def opened(
    config: Config,
    *,
    command: str,
    stop: threading.Event | None = None,
    metrics: Metrics | None = None,
    clock: Callable[[], datetime] = wall_clock,
) -> Iterator[Service]:
    """The wired service while holding the store's lock (raises LockError if taken)."""
    lock = None
    if config.store.path is not None:
        lock = StoreLock(config.store.path, command=command)
        lock.acquire()
    try:
        service = open_service(config, clock=clock, metrics=metrics, stop=stop)
        service.guard = _guard(lock, service.store)
        try:
            yield service
        finally:
            service.close()
    finally:
        if lock is not None:
            lock.release()


def _guard(lock: StoreLock | None, store: Store) -> Callable[[], None]:
    """Raises when the lock file or the SQLite file is no longer the one opened."""
    from edo_rules.store.sqlite import SQLiteStore

    def check() -> None:
        if lock is not None:
            lock.check()
        if isinstance(store, SQLiteStore):
            store.check_files()

    return check


def tick_once(config: Config) -> TickReport:
    """One tick (sync → evaluate → dispatch) and return its report."""
    with opened(config, command="tick") as service:
        runner = Runner(service.pipeline, config.schedule.build(config.timezone), clock=wall_clock)
        return runner.tick()


@dataclass(frozen=True, slots=True)
class ServeOptions:
    listen: str | None = None
    max_ticks: int | None = None


def serve(config: Config, options: ServeOptions) -> int:
    """Run until SIGTERM/SIGINT; returns the exit status."""
    stop = threading.Event()
    metrics = Metrics()
    with opened(config, command="run", stop=stop, metrics=metrics) as service:
        schedule = config.schedule.build(config.timezone)
        runner = Runner(
            service.pipeline,
            schedule,
            clock=wall_clock,
            metrics=metrics,
            stop_event=stop,
            route=service.route,
        )
        if service.route is not None:
            service.route.start(lambda: runner.trigger(False, 0.0))
        _log.info("edo-rules runner: %s", describe(service))
        metrics.watch_cluster(service.cluster_status)
        server = _control_server(config, options, runner, service.cluster_status)
        with _signals(runner):
            try:
                runner.run(max_ticks=options.max_ticks)
            finally:
                if server is not None:
                    server.stop()
    return 1 if runner.fatal else 0


def _control_server(
    config: Config,
    options: ServeOptions,
    runner: Runner,
    cluster: Callable[[], Mapping[str, Any]] | None = None,
) -> WebServer | None:
    """The web app on ``--listen`` (or http.listen): control endpoints and the dashboard."""
    from edo_rules.web import Control, Endpoint, WebServer, build_app
    from edo_rules.web._refresh import deal_documents, refresher
    from edo_rules.web._wiring import check_exposure, dashboard_for, guards_loopback

    listen = options.listen or config.http.listen
    if listen is None:
        return None
    endpoint = Endpoint.parse(listen)
    dashboard = dashboard_for(config, wall_clock)
    check_exposure(endpoint, dashboard, control_token=config.http.token)
    control = Control(
        trigger=runner.trigger,
        health=runner.health,
        metrics=runner.metrics,
        token=config.http.token,
        hook_token=config.http.hook_token,
        refresh=refresher(runner, config.onec is not None),
        refresh_request=runner.refresh if config.onec is not None else None,
        deal_documents=None if dashboard is None else deal_documents(dashboard),
        cluster=cluster,
    )
    guard = guards_loopback(endpoint, dashboard, control_token=config.http.token)
    closing = None if dashboard is None else dashboard.close
    server = WebServer(
        build_app(control, dashboard), endpoint, guard_loopback=guard, on_stop=closing
    )
    server.start()
    if dashboard is not None:
        dashboard.warm()  # the agenda's first view need not wait for its simulation
    return server


@contextmanager
def _signals(runner: Runner) -> Iterator[None]:
    """SIGTERM/SIGINT finish the batch in flight, then stop; a second one exits at once."""

    def stopping(signum: int) -> None:
        _log.info("%s received: finishing the batch in flight, then stopping", _name(signum))
        runner.stop()

    def handle(signum: int, frame: FrameType | None) -> None:
        if runner.stopping:  # a flag read: no lock
            raise KeyboardInterrupt
        # A handler runs in the main thread between two of its bytecodes, maybe while
        # it holds a lock the handler would take (an Event's condition, a log handler's
        # stream): logging and stopping from here could wait forever for the thread it
        # interrupted. Another thread does both; the main thread goes on and releases.
        threading.Thread(target=stopping, args=(signum,), name="edo-rules-signal").start()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    dumps = _stack_dumps()
    try:
        yield
    finally:
        if dumps:
            faulthandler.unregister(signal.SIGUSR1)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stack_dumps() -> bool:
    """`kill -USR1 PID`: every thread's stack to stderr (the journal), for a runner that
    seems stuck (it does not stop, a tick never ends). False where stderr is no file."""
    try:
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
        return False
    return True


def _name(signum: int) -> str:
    return signal.Signals(signum).name
