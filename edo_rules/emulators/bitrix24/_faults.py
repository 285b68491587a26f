"""Fault injection: 5xx, timeouts, HTML instead of JSON, a domain-move redirect."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["500", "500_nocode", "html", "timeout", "redirect", "rate_limit"]


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault for the next request (of ``method`` when given).

    ``ran`` makes the method run before the fault replaces its answer (the call
    took effect but the client cannot know). ``delay`` is the timeout's sleep.
    """

    kind: FaultKind
    method: str | None = None
    ran: bool = False
    delay: float = 2.0
    location: str = "https://new-portal.bitrix24.ru"


class FaultQueue:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._faults.extend([fault] * times)

    def take(self, method: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.method is None or fault.method.lower() == method.lower():
                    return self._faults.pop(index)
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
