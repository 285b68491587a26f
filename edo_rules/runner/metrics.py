"""Runner metrics on ``prometheus-client``: one registry per runner, one small API.

The dispatcher, the loop and any other part call :meth:`Metrics.inc`,
:meth:`Metrics.set`, :meth:`Metrics.observe` by the family's name; the web app
renders :meth:`Metrics.render`. A family is declared once in :data:`FAMILIES`
(or at run time with :meth:`Metrics.declare`), with its kind, help and label
names, so every scrape shows the same series whether or not they moved yet.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# ``*_created`` series double every counter and no dashboard of ours reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

#: The content type of :meth:`Metrics.render` (the classic text format).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Buckets of the tick duration: a tick of a small company takes well under a
#: second, a full first sync of a large one minutes.
TICK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family: ``kind`` is ``counter``, ``gauge`` or ``histogram``."""

    kind: str
    help: str
    labels: tuple[str, ...] = ()
    #: Label values shown (as 0) before their first update.
    initial: tuple[tuple[str, ...], ...] = ()


#: The metric families every runner exposes.
FAMILIES: dict[str, Family] = {
    "edo_rules_ticks_total": Family(
        "counter", "Ticks run, by result (ok, error).", ("result",), (("ok",), ("error",))
    ),
    "edo_rules_tick_duration_seconds": Family("histogram", "Duration of the ticks."),
    "edo_rules_last_tick_timestamp_seconds": Family("gauge", "Unix time the last tick finished."),
    "edo_rules_documents": Family("gauge", "Documents in the store."),
    "edo_rules_synced_documents_total": Family("counter", "Documents written by syncs."),
    "edo_rules_sync_errors_total": Family("counter", "Syncs that failed (the next tick retries)."),
    "edo_rules_sync_lag_seconds": Family(
        "gauge", "Seconds since the last sync that succeeded (absent before the first)."
    ),
    "edo_rules_firings_total": Family("counter", "Rule firings recorded."),
    "edo_rules_rule_firings_total": Family("counter", "Rule firings, by rule.", ("rule",)),
    "edo_rules_actions_total": Family(
        "counter", "Action outcomes, by action and outcome.", ("action", "outcome")
    ),
    "edo_rules_outbox_requests": Family(
        "gauge", "Action requests in the outbox, by state (done ones are not counted).", ("state",)
    ),
    "edo_rules_outbox_lag_seconds": Family(
        "gauge", "Age of the oldest due request still waiting in the outbox (0 when empty)."
    ),
    "edo_rules_rate_limit_waits_total": Family(
        "counter", "Times the Bitrix24 client waited for the rate limit."
    ),
    "edo_rules_playbook_reload_errors_total": Family(
        "counter", "Playbook reloads refused because the new version is invalid."
    ),
    "edo_rules_evaluation_failures_total": Family(
        "counter",
        "Documents a rule's where or template failed on, by rule and reason "
        "(budget:<limit> when the evaluation budget was exceeded, else error).",
        ("rule", "reason"),
    ),
}

_Metric = Counter | Gauge | Histogram


class Metrics:
    """The metrics of one runner (thread-safe: prometheus-client locks each value)."""

    def __init__(self, families: Mapping[str, Family] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._lock = threading.Lock()
        self._metrics: dict[str, _Metric] = {}
        for name, family in (families or FAMILIES).items():
            self.declare(name, family)

    def declare(self, name: str, family: Family) -> None:
        """Add a family (another part's own counters); declaring a name twice is an error."""
        with self._lock:
            if name in self._metrics:
                raise ValueError(f"metric {name} is already declared")
            self._metrics[name] = _build(name, family, self.registry)

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` to a counter."""
        metric = self._child(name, labels)
        assert isinstance(metric, Counter | Gauge)
        metric.inc(amount)

    def set(self, name: str, value: float, **labels: str) -> None:
        """Set a gauge."""
        metric = self._child(name, labels)
        assert isinstance(metric, Gauge)
        metric.set(value)

    def observe(self, name: str, value: float, **labels: str) -> None:
        """Record one observation of a histogram."""
        metric = self._child(name, labels)
        assert isinstance(metric, Histogram)
        metric.observe(value)

    def set_callback(self, name: str, callback: Callable[[], float | None]) -> None:
        """Read the (unlabelled) gauge ``name`` from ``callback`` at scrape time."""
        metric = self._metrics[name]
        assert isinstance(metric, Gauge)
        metric.set_function(lambda: _safe(callback))

    def watch_cluster(self, status: Callable[[], Mapping[str, Any]]) -> None:
        """Show this runner and the others at each scrape, read from ``status``
        (``Service.cluster_status``: the store's runners table, with PostgreSQL)."""
        self.registry.register(_ClusterCollector(status))

    def value(self, name: str, **labels: str) -> float:
        """The current value (0 when never set; a histogram's count): for tests and the CLI."""
        sample = name
        if isinstance(self._metrics[name], Histogram):
            sample = f"{name}_count"
        found = self.registry.get_sample_value(sample, dict(labels))
        return 0.0 if found is None else float(found)

    def render(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        return generate_latest(self.registry).decode("utf-8")

    def _child(self, name: str, labels: Mapping[str, str]) -> _Metric:
        metric = self._metrics[name]
        return metric.labels(**labels) if labels else metric


def _build(name: str, family: Family, registry: CollectorRegistry) -> _Metric:
    metric: _Metric
    if family.kind == "counter":
        metric = Counter(name, family.help, family.labels, registry=registry)
    elif family.kind == "gauge":
        metric = Gauge(name, family.help, family.labels, registry=registry)
    elif family.kind == "histogram":
        metric = Histogram(
            name, family.help, family.labels, registry=registry, buckets=TICK_BUCKETS
        )
    else:
        raise ValueError(f"metric {name}: unknown kind {family.kind!r}")
    for values in family.initial:
        metric.labels(*values)
    return metric


def _safe(callback: Callable[[], float | None]) -> float:
    # A scrape must never fail because one value cannot be read; NaN says "unknown".
    try:
        current = callback()
    except Exception:
        return float("nan")
    return float("nan") if current is None else float(current)


class _ClusterCollector(Collector):
    """The runners' families, read at scrape time (a runner may have died since the last)."""

    def __init__(self, status: Callable[[], Mapping[str, Any]]) -> None:
        self._status = status

    def describe(self) -> list[Metric]:
        return []  # read at scrape time: nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        try:
            status = self._status()
        except Exception:  # a scrape must never fail: the runner families are left out
            return
        runner = str(status.get("runner", ""))
        holds = set(status.get("holds", ()))
        info = GaugeMetricFamily(
            "edo_rules_runner_info", "This runner's id (the value is 1).", labels=("runner",)
        )
        info.add_metric((runner,), 1)
        lease = GaugeMetricFamily(
            "edo_rules_runner_holds_sync_lease",
            "1 when this runner holds the sync lease (syncs from 1C), else 0.",
        )
        lease.add_metric((), 1 if "sync" in holds or "store" in holds else 0)
        claims = GaugeMetricFamily(
            "edo_rules_runner_claims", "Outbox requests this runner has claimed and is sending."
        )
        claims.add_metric((), float(status.get("claims", 0)))
        live = GaugeMetricFamily(
            "edo_rules_live_runners", "Runners alive on this store (heartbeat within 2 leases)."
        )
        live.add_metric((), float(status.get("live_runners", 1)))
        yield from (info, lease, claims, live, _peers(status))


def _peers(status: Mapping[str, Any]) -> Metric:
    peers = GaugeMetricFamily(
        "edo_rules_runner_up",
        "Each runner the store knows: 1 alive, 0 silent for over two leases.",
        labels=("runner", "host", "sync_lease"),
    )
    for peer in status.get("runners", ()):
        holds = "yes" if "sync" in peer.get("holds", ()) else "no"
        peers.add_metric((str(peer["id"]), str(peer["host"]), holds), 1 if peer["alive"] else 0)
    return peers
