"""This runner among others on one shared (PostgreSQL) store.

A heartbeat thread, every fifth of the lease:

* records the runner as alive (the ``runners`` table) and renews the claims
  on the outbox requests it is sending, so no other runner takes them over;
* takes or renews the **sync lease**: one runner syncs from 1C at a time; when
  it dies its lease runs out and another takes it at its next heartbeat —
  within one lease period of the last renewal;
* shares the portal's Bitrix24 rate: each of N live runners paces itself at
  1/N of the plan (the rate limit is per portal).

Evaluation needs no lease: every runner evaluates, and the firing ledger's
unique key decides which one records a firing (docs/engine.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from edo_rules.errors import StoreError
from edo_rules.model import ActionRequest
from edo_rules.store.shared import SharedStore

_log = logging.getLogger("edo_rules.runner")

SYNC_LEASE = "sync"
#: The sync lease is granted for this part of the lease period and renewed every
#: fifth of it: a dead holder's lease runs out within 0.6 of a period, and the next
#: heartbeat of another runner (at most 0.2 later) takes it — 0.8 of a period in
#: all, the rest a margin for a loaded machine. A live holder that misses one
#: heartbeat still has 0.4 of a period left.
_GRANT = 0.6
_BEATS = 5


class Membership:
    """The heartbeat, the sync lease and the rate share of one runner (thread-safe)."""

    def __init__(
        self,
        store: SharedStore,
        *,
        lease: float,
        share_rate: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.lease = lease
        self._share_rate = share_rate
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.live = 1
        self.holds_sync_lease = False

    @property
    def runner_id(self) -> str:
        return self.store.runner_id

    def start(self) -> Membership:
        self.beat()
        self._thread = threading.Thread(target=self._run, name="edo-rules-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.lease / _BEATS):
            try:
                self.beat()
            except StoreError as exc:  # the next beat retries; claims live for a lease
                _log.warning("heartbeat failed: %s", exc)

    def beat(self) -> None:
        """Alive; claims renewed; the sync lease taken or renewed; the rate shared."""
        live = self.store.heartbeat(self.lease)
        held = self.store.try_lease(SYNC_LEASE, self.lease * _GRANT)
        with self._lock:
            changed = held != self.holds_sync_lease
            self.live, self.holds_sync_lease = live, held
        if changed:
            _log.info(
                "sync lease %s", "taken" if held else "lost", extra={"runner": self.runner_id}
            )
        if self._share_rate is not None:
            self._share_rate(live)

    def may_sync(self) -> bool:
        """True when this runner holds the sync lease (taking it now if it is free)."""
        held = self.store.try_lease(SYNC_LEASE, self.lease * _GRANT)
        with self._lock:
            self.holds_sync_lease = held
        return held

    def stale_claims(self) -> list[ActionRequest]:
        """In-flight requests of runners that died, now this runner's to check."""
        return self.store.take_over_stale_claims(self.lease)

    def stop(self) -> None:
        """Stop the heartbeat and leave (the leases go to the others at once)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.lease)
        try:
            self.store.leave()
        except StoreError as exc:
            _log.warning("could not leave the runners cleanly: %s", exc)

    def status(self) -> dict[str, Any]:
        """This runner, what it holds and the others: for /healthz and /metrics."""
        others = self.store.runners()
        mine = next((r for r in others if r.id == self.runner_id), None)
        return {
            "runner": self.runner_id,
            "holds": list(mine.leases) if mine else [],
            "claims": mine.claims if mine else 0,
            "live_runners": sum(r.alive for r in others),
            "runners": [
                {
                    "id": r.id,
                    "host": r.host,
                    "pid": r.pid,
                    "alive": r.alive,
                    "holds": list(r.leases),
                    "claims": r.claims,
                    "seen_at": _iso(r.seen_at),
                }
                for r in others
            ],
        }


def _iso(value: datetime) -> str:
    return value.isoformat()
