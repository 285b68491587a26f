"""Build the concrete pieces of a runner from the config: store, calendar, playbooks,
engine, source, adapters and the dispatcher — the one place they meet.

:func:`open_service` returns a :class:`Service` whose :attr:`Service.pipeline`
is what a tick drives; :meth:`Service.close` releases the store and clients.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from edo_rules._messages import in_language, msg
from edo_rules.actions.base import Action
from edo_rules.actions.log import LogAction
from edo_rules.calendar import ProductionCalendar
from edo_rules.config import Config
from edo_rules.engine import Engine, EvaluationResult, rule_changes
from edo_rules.errors import EdoRulesError, StoreError
from edo_rules.model import RequestState
from edo_rules.playbook import use_budget
from edo_rules.playbook.rules import Playbook
from edo_rules.runner._cluster import Membership
from edo_rules.runner._failures import failure_counts, log_failures
from edo_rules.runner._route import RefreshRoute
from edo_rules.runner.dispatch import Dispatcher
from edo_rules.runner.loop import Pipeline
from edo_rules.runner.metrics import Metrics
from edo_rules.runner.reload import PlaybookWatcher
from edo_rules.store.base import Store
from edo_rules.store.shared import SharedStore

_log = logging.getLogger("edo_rules.runner")

Clock = Callable[[], datetime]


@dataclass(slots=True)
class Service:
    """Everything a running edo-rules holds; ``close()`` when done."""

    config: Config
    store: Store
    calendar: ProductionCalendar
    watcher: PlaybookWatcher
    dispatcher: Dispatcher
    metrics: Metrics
    engine: Engine
    actions: dict[str, Action]
    sync: Callable[[datetime], int] | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)
    #: The result of the latest evaluation (the demo's timeline reads it).
    last_evaluation: EvaluationResult | None = None
    #: This runner among the others sharing a PostgreSQL store (None with SQLite).
    membership: Membership | None = None
    #: Raises when the store or its lock file is no longer the one opened (set by ``app``).
    guard: Callable[[], object] | None = None
    #: Refreshes routed to the sync lease's holder (with a shared store and 1C).
    route: RefreshRoute | None = None

    @property
    def pipeline(self) -> Pipeline:
        return Pipeline(
            store=self.store,
            dispatcher=self.dispatcher,
            evaluate=self.evaluate,
            sync=None if self.sync is None else self.synced,
            before_tick=self.watcher.check,
            refresh=getattr(self.sync, "refresh", None),
            failures=self.evaluation_failures,
            stage_limits=self.config.schedule.stage_limits,
            guard=self.guard,
            waiting=self.waiting,
        )

    def synced(self, now: datetime) -> int:
        """The sync stage: what changed in 1C, then ``counterparty.stats`` kept up to date
        from those documents (incrementally, here rather than in the tick that follows)."""
        assert self.sync is not None
        written = self.sync(now)
        try:
            self.engine.update_stats()
        except EdoRulesError as exc:  # the documents are synced all the same
            _log.warning("counterparty statistics not updated (the evaluation retries): %s", exc)
        return written

    def waiting(self) -> int:
        """Actions waiting in the outbox: pending (due or not) and in flight."""
        counts = self.store.request_counts([RequestState.PENDING, RequestState.IN_FLIGHT])
        return sum(counts.values())

    def cluster_status(self) -> dict[str, Any]:
        """This runner's id, what it holds and the other runners (for /healthz, /metrics).

        With SQLite: one runner, holding everything (the lock file guards it).
        """
        if self.membership is None:
            return {"runner": "local", "holds": ["store"], "live_runners": 1, "runners": []}
        return self.membership.status()

    def evaluate(self, now: datetime) -> int:
        """The evaluate stage: record due firings, log each, return how many fired."""
        with use_budget(self.config.evaluation):
            result = self.engine.evaluate(now)
        self.last_evaluation = result
        for planned in result.fired:
            firing = planned.firing
            self.metrics.inc("edo_rules_rule_firings_total", rule=firing.rule_key)
            keys = ", ".join(r.idempotency_key for r in planned.requests)
            _log.info(
                "rule %s fired for %s (%s): %s",
                firing.rule_key,
                firing.document_id,
                firing.step,
                ", ".join(r.action for r in planned.requests) or "no actions",
                extra={
                    "rule": firing.rule_key,
                    "document": firing.document_id,
                    "step": firing.step,
                    "key": keys,
                },
            )
        log_failures(result.failures)
        return len(result.fired)

    def evaluation_failures(self) -> Mapping[tuple[str, str], int]:
        """The latest evaluation's failed documents by (rule, reason): for the tick report."""
        last = self.last_evaluation
        return failure_counts(last.failures) if last is not None else {}

    def use_playbooks(self, playbooks: tuple[Playbook, ...]) -> None:
        """Swap in a new (already validated) playbook version."""
        self.engine = Engine(self.store, playbooks, self.calendar, go_live=self.config.go_live)

    def close(self) -> None:
        for close in reversed(self.closers):
            try:
                close()
            except Exception as exc:  # closing must go on whatever failed
                _log.warning("while closing: %s", exc)
        self.closers.clear()


def open_store(config: Config) -> Store:
    """The configured store (SQLite by default), created and migrated if needed.

    A PostgreSQL store (``store.dsn``) is set up when empty; an older schema
    is left to ``edo-rules store migrate`` (other runners may be using it).
    """
    if config.store.dsn is not None:
        return open_postgres(config.store.dsn, lease=config.store.lease)
    from edo_rules.store.sqlite import SQLiteStore

    assert config.store.path is not None
    folder = config.store.path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StoreError(msg("store_folder_create", folder=str(folder), reason=reason)) from exc
    return SQLiteStore(config.store.path)


#: Above this many documents a reload logs only the rule changes: simulating both
#: versions would copy the whole store while the runner waits.
RELOAD_DIFF_MAX_DOCUMENTS = 20_000


def reload_summary(engine: Engine, new: tuple[Playbook, ...], now: datetime) -> str:
    """What a hot reload changes, for the log: the rules, and the coming actions when cheap.

    In English whatever the admin's language: logs stay English (runner/logs.py).
    """
    with in_language("en"):
        return _reload_summary(engine, new, now)


def _reload_summary(engine: Engine, new: tuple[Playbook, ...], now: datetime) -> str:
    rules = rule_changes(engine.playbooks, new)
    listed = "; ".join(change.line() for change in rules) or "no rule changed"
    if engine.store.count_documents() > RELOAD_DIFF_MAX_DOCUMENTS:
        return f"{listed} (for the actions this changes, run `edo-rules diff`)"
    try:
        return f"{listed}; {engine.diff(new, now).summary()}"
    except EdoRulesError as exc:  # the reload itself must not fail on its report
        return f"{listed} (the actions could not be compared: {exc})"


def open_postgres(dsn: str, *, migrate: bool = False, lease: float = 30.0) -> Store:
    """The PostgreSQL store, or a StoreError saying what to install."""
    try:
        from edo_rules.store.postgres import PostgresStore
    except ImportError as exc:
        raise StoreError(msg("store_no_driver", name=exc.name)) from exc
    return PostgresStore(dsn, migrate=migrate, claim_lease=timedelta(seconds=lease))


def migrate_store(config: Config) -> str:
    """Apply the schema migrations to the configured store; says what it did."""
    if config.store.dsn is None:
        store = open_store(config)  # a SQLite file migrates itself when opened
        store.close()
        return f"{config.store.path}: the schema is up to date"
    from edo_rules.store.postgres import migrate_postgres

    before, after = migrate_postgres(config.store.dsn)
    if before == after:
        return f"the PostgreSQL store is up to date (schema version {after})"
    return f"the PostgreSQL store was migrated from schema version {before} to {after}"


def open_service(
    config: Config,
    *,
    clock: Clock,
    metrics: Metrics | None = None,
    stop: threading.Event | None = None,
    store: Store | None = None,
    http_client: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Service:
    """Wire a :class:`Service`; ``store``/``http_client``/``sleep`` override the defaults (demo)."""
    metrics = metrics or Metrics()
    opened = store or open_store(config)
    closers: list[Callable[[], None]] = [opened.close]
    shares: list[Callable[[int], None]] = []
    try:
        calendar = ProductionCalendar.russia(overrides=config.calendar_override)
        actions = _actions(
            config,
            opened,
            calendar=calendar,
            clock=clock,
            metrics=metrics,
            http_client=http_client,
            sleep=sleep,
            closers=closers,
            shares=shares,
        )
        membership = _membership(config, opened, shares, closers)
        sync = _sync(config, opened, clock, closers, membership)
        route = None
        if membership is not None and config.onec is not None:
            route = RefreshRoute(membership)
            closers.append(route.stop)
        holder: dict[str, Service] = {}

        def reloaded(playbooks: tuple[Playbook, ...]) -> None:
            service = holder["service"]
            _log.info("playbooks changed: %s", reload_summary(service.engine, playbooks, clock()))
            service.use_playbooks(playbooks)

        watcher = PlaybookWatcher(
            config.playbooks,
            on_change=reloaded,
            on_refused=lambda _: metrics.inc("edo_rules_playbook_reload_errors_total"),
        )
    except BaseException:
        for close in reversed(closers):
            close()
        raise
    dispatcher = Dispatcher(
        opened,
        actions,
        clock=clock,
        policy=config.dispatch.policy(),
        batch_size=config.dispatch.batch_size,
        metrics=metrics,
        stop=stop,
        in_flight=membership.stale_claims if membership is not None else None,
        parts=(lambda: membership.live) if membership is not None else None,
        rate=config.bitrix24.plan.rate if config.bitrix24 is not None else None,
    )
    service = Service(
        config=config,
        store=opened,
        calendar=calendar,
        watcher=watcher,
        dispatcher=dispatcher,
        metrics=metrics,
        engine=Engine(opened, watcher.playbooks, calendar, go_live=config.go_live),
        actions=actions,
        sync=sync,
        closers=closers,
        membership=membership,
        route=route,
    )
    holder["service"] = service
    return service


def _actions(
    config: Config,
    store: Store,
    *,
    calendar: ProductionCalendar,
    clock: Clock,
    metrics: Metrics,
    http_client: Any,
    sleep: Callable[[float], None],
    closers: list[Callable[[], None]],
    shares: list[Callable[[int], None]],
) -> dict[str, Action]:
    actions: dict[str, Action] = {"log": LogAction(clock=clock)}
    if config.bitrix24 is None:
        return actions
    from edo_rules.actions.bitrix24 import build_adapters, make_client

    def counted_sleep(seconds: float) -> None:
        # The client sleeps only to respect the portal's limits: count each wait.
        metrics.inc("edo_rules_rate_limit_waits_total")
        sleep(seconds)

    client = make_client(config.bitrix24, http_client=http_client, sleep=counted_sleep)
    closers.append(client.close)
    shares.append(client.share_rate)
    actions.update(
        build_adapters(
            config.bitrix24,
            store,
            clock=clock,
            client=client,
            working_day=calendar.is_working_day,
            working_days=calendar.working_days_between,
        )
    )
    return actions


def _sync(
    config: Config,
    store: Store,
    clock: Clock,
    closers: list[Callable[[], None]],
    membership: Membership | None,
) -> Callable[[datetime], int] | None:
    if config.onec is None:
        return None
    from edo_rules.runner._onec import make_sync

    sync = make_sync(config.onec, store, clock=clock, closers=closers)
    if membership is None:
        return sync

    def leased(now: datetime) -> int:
        # One runner syncs at a time; the others evaluate and dispatch what it wrote.
        return sync(now) if membership.may_sync() else 0

    return leased


def _membership(
    config: Config,
    store: Store,
    shares: list[Callable[[int], None]],
    closers: list[Callable[[], None]],
) -> Membership | None:
    """With a store shared by several runners: join them (heartbeat, leases, rate share)."""
    if not isinstance(store, SharedStore):
        return None

    def share(parts: int) -> None:
        for each in shares:
            each(parts)

    membership = Membership(store, lease=config.store.lease, share_rate=share).start()
    closers.append(membership.stop)
    return membership


def describe(service: Service) -> Mapping[str, Any]:
    """What the service runs, for the start-up log line."""
    return {
        "store": str(service.config.store.path or "postgresql"),
        "playbooks": len(service.watcher.playbooks),
        "rules": sum(len(p.rules) for p in service.watcher.playbooks),
        "actions": sorted(service.actions),
        "source": "1C" if service.sync is not None else "none",
    }
