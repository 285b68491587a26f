"""The portal's limits: the request leaky bucket and the per-method operating time."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """Bucket size and drain rate: ordinary 50 + 2/s, Enterprise 250 + 5/s."""

    capacity: int
    rate: float


PLANS = {"ordinary": PlanLimits(50, 2.0), "enterprise": PlanLimits(250, 5.0)}


class RequestBucket:
    """Each HTTP request adds 1; the level drains ``rate`` per second; over capacity → refuse."""

    def __init__(self, limits: PlanLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        self._level = 0.0
        self._at = clock()
        self._lock = threading.Lock()

    def admit(self) -> bool:
        """Count one request; False (and not counted) when the bucket is full."""
        with self._lock:
            now = self._clock()
            self._level = max(0.0, self._level - (now - self._at) * self.limits.rate)
            self._at = now
            if self._level + 1 > self.limits.capacity:
                return False
            self._level += 1
            return True


class OperatingTime:
    """Seconds of processing per (credential, method) summed over a sliding window.

    The call that crosses the limit completes; later calls of that method are
    refused until enough of the window has passed (``reset_at``).
    """

    def __init__(self, limit: float, window: float, clock: Callable[[], float]) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._spent: dict[tuple[str, str], deque[tuple[float, float]]] = {}
        # The window's sum per key, kept as entries come and go: summing the window on
        # every call made a long run quadratic (every response reports the total).
        self._sums: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def blocked(self, who: str, method: str) -> bool:
        with self._lock:
            return self._total(who, method) >= self._limit

    def spend(self, who: str, method: str, seconds: float) -> None:
        with self._lock:
            key = (who, method)
            self._spent.setdefault(key, deque()).append((self._clock(), seconds))
            self._sums[key] = self._sums.get(key, 0.0) + seconds

    def operating(self, who: str, method: str) -> float:
        with self._lock:
            return self._total(who, method)

    def reset_at(self, who: str, method: str) -> float:
        """When the method is (or would be) under the limit again, on the emulator's clock."""
        with self._lock:
            entries = self._spent.get((who, method), deque())
            total = self._total(who, method)
            for at, seconds in entries:
                if total < self._limit:
                    break
                total -= seconds
                if total < self._limit:
                    return at + self._window
            return self._clock()

    def _total(self, who: str, method: str) -> float:
        key = (who, method)
        entries = self._spent.get(key)
        if not entries:
            return 0.0
        horizon = self._clock() - self._window
        total = self._sums[key]
        while entries and entries[0][0] <= horizon:
            total -= entries.popleft()[1]
        # An emptied window is exactly 0 (no rounding left over from the subtractions).
        self._sums[key] = total if entries else 0.0
        return max(0.0, self._sums[key])
