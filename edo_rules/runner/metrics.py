"""Runner metrics, rendered in the Prometheus text exposition format.

A tiny, thread-safe registry of counters and gauges: the dispatcher and the
loop update it, the HTTP endpoint renders it. Gauges may be callbacks so that
values owned elsewhere (the store's document count, the Bitrix24 client's
rate-limit waits) are read at scrape time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Labels = tuple[tuple[str, str], ...]


@dataclass(slots=True)
class _Family:
    kind: str  # "counter" | "gauge"
    help: str
    values: dict[Labels, float] = field(default_factory=dict)
    callback: Callable[[], float | None] | None = None


#: The metric families the runner exposes, with their help text.
_FAMILIES: dict[str, tuple[str, str]] = {
    "edo_rules_ticks_total": ("counter", "Ticks run, by result (ok, error)."),
    "edo_rules_tick_duration_seconds": ("gauge", "Duration of the last tick."),
    "edo_rules_last_tick_timestamp_seconds": ("gauge", "Unix time the last tick finished."),
    "edo_rules_documents": ("gauge", "Documents in the store."),
    "edo_rules_synced_documents_total": ("counter", "Documents written by syncs."),
    "edo_rules_sync_errors_total": ("counter", "Syncs that failed (the next tick retries)."),
    "edo_rules_firings_total": ("counter", "Rule firings recorded."),
    "edo_rules_actions_total": ("counter", "Action outcomes, by action and outcome."),
    "edo_rules_outbox_lag_seconds": (
        "gauge",
        "Age of the oldest due request still waiting in the outbox (0 when empty).",
    ),
    "edo_rules_rate_limit_waits_total": (
        "counter",
        "Times the Bitrix24 client waited for the rate limit.",
    ),
    "edo_rules_playbook_reload_errors_total": (
        "counter",
        "Playbook reloads refused because the new version is invalid.",
    ),
    "edo_rules_evaluation_failures_total": (
        "counter",
        "Documents a rule's where or template failed on, by rule and reason "
        "(budget:<limit> when the evaluation budget was exceeded, else error).",
    ),
}


class Metrics:
    """Counters and gauges of one runner (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._families = {
            name: _Family(kind=kind, help=text) for name, (kind, text) in _FAMILIES.items()
        }

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` to a counter."""
        key = _labels(labels)
        with self._lock:
            family = self._families[name]
            family.values[key] = family.values.get(key, 0.0) + amount

    def set(self, name: str, value: float, **labels: str) -> None:
        """Set a gauge."""
        with self._lock:
            self._families[name].values[_labels(labels)] = value

    def set_callback(self, name: str, callback: Callable[[], float | None]) -> None:
        """Read the (unlabelled) value of ``name`` from ``callback`` at render time."""
        with self._lock:
            self._families[name].callback = callback

    def value(self, name: str, **labels: str) -> float:
        """The current value (0 when never set): for tests and the CLI summary."""
        with self._lock:
            return self._families[name].values.get(_labels(labels), 0.0)

    def render(self) -> str:
        """The Prometheus text format (version 0.0.4)."""
        lines: list[str] = []
        with self._lock:
            families = {name: _snapshot(family) for name, family in self._families.items()}
        for name, (family, values) in families.items():
            lines.append(f"# HELP {name} {family.help}")
            lines.append(f"# TYPE {name} {family.kind}")
            lines.extend(f"{name}{_render_labels(key)} {_number(v)}" for key, v in values.items())
        return "\n".join(lines) + "\n"


def _snapshot(family: _Family) -> tuple[_Family, dict[Labels, float]]:
    values = dict(family.values)
    if family.callback is not None:
        try:
            current = family.callback()
        except Exception:  # a scrape must never fail because one value cannot be read
            current = None
        if current is not None:
            values[()] = current
    if not values and family.kind == "counter":
        values[()] = 0.0
    return family, values


def _labels(labels: Mapping[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


def _render_labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in labels)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)
