"""A client-side leaky bucket matched to the portal's plan.

The portal counts each HTTP request (a ``batch`` counts once) into a bucket of
``capacity`` that drains ``rate`` per second and refuses requests over it with
503 QUERY_LIMIT_EXCEEDED. Pacing on our side with the same bucket keeps a burst
from ever reaching that refusal. The clock and sleep are injected so tests run
on virtual time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class Plan:
    """Portal limits: bucket size and drain rate (requests per second)."""

    capacity: int
    rate: float

    @property
    def ceiling(self) -> float:
        """Actions per second the plan allows at 50 commands per batch."""
        return self.rate * 50


ORDINARY = Plan(capacity=50, rate=2.0)
ENTERPRISE = Plan(capacity=250, rate=5.0)
PLANS = {"ordinary": ORDINARY, "enterprise": ENTERPRISE}


class LeakyBucket:
    """Blocks in :meth:`acquire` until one more request fits under the plan.

    ``headroom`` requests of the capacity are kept free for other clients of
    the same portal (and for clock skew between us and the portal).
    """

    def __init__(
        self,
        plan: Plan,
        *,
        headroom: int = 2,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._plan = plan
        self._headroom = headroom
        self._rate = plan.rate
        self._limit = max(1.0, plan.capacity - headroom)
        self._clock = clock
        self._sleep = sleep
        self._level = 0.0
        self._at = clock()
        self._lock = threading.Lock()

    @property
    def plan(self) -> Plan:
        return self._plan

    def acquire(self) -> float:
        """Wait until a request fits, count it, and return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                delay = self._try_take()
            if delay <= 0:
                return waited
            self._sleep(delay)
            waited += delay

    def share(self, parts: int) -> None:
        """Take ``1/parts`` of the portal's rate and bucket (``parts`` runners share it)."""
        parts = max(1, parts)
        with self._lock:
            self._drain()
            self._rate = self._plan.rate / parts
            self._limit = max(1.0, (self._plan.capacity - self._headroom) / parts)

    def room(self) -> float:
        """How many requests would go out now without waiting (our side's view)."""
        with self._lock:
            self._drain()
            return max(0.0, self._limit - self._level)

    def penalize(self) -> None:
        """The portal refused a request: treat our bucket as full."""
        with self._lock:
            self._drain()
            self._level = max(self._level, self._limit)

    def _try_take(self) -> float:
        self._drain()
        if self._level + 1 <= self._limit:
            self._level += 1
            return 0.0
        return (self._level + 1 - self._limit) / self._rate

    def _drain(self) -> None:
        now = self._clock()
        self._level = max(0.0, self._level - (now - self._at) * self._rate)
        self._at = now
