"""Fault injection: make the emulated 1C misbehave the way real servers do."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal[
    "status500",  # a 500 with a JSON odata.error body
    "status503",  # a 503 (the web server or the cluster is busy)
    "html",  # a 500 with the platform's HTML error page
    "hang",  # answer only after ``Faults.hang_seconds`` (longer than the client's read timeout)
    "truncated",  # a 200 whose JSON body is cut in the middle
    "malformed",  # a 200 whose body is not JSON at all
    "control_char",  # a 200 with a raw control character inside a string value
    "body",  # a 200 with ``Fault.body`` verbatim
]


@dataclass
class Fault:
    """One injected fault: which requests it hits and how many times.

    A fault matches a data request (or ``$metadata``, counted as one, with the
    set name ``"$metadata"``) when every given selector matches:
    ``entity_set`` (the set name), ``skip`` (the ``$skip`` value, 0 when absent)
    and ``request`` (the 1-based number of the data request since start).
    It is spent after ``times`` hits.
    """

    kind: FaultKind
    entity_set: str | None = None
    skip: int | None = None
    request: int | None = None
    times: int = 1
    body: bytes = b""
    hits: int = 0

    def matches(self, entity_set: str, skip: int, request: int) -> bool:
        if self.hits >= self.times:
            return False
        if self.entity_set is not None and self.entity_set != entity_set:
            return False
        if self.skip is not None and self.skip != skip:
            return False
        return self.request is None or self.request == request


@dataclass
class Faults:
    """The fault knobs of one emulator (thread-safe; change them while it serves)."""

    first_request_delay: float = 0.0
    latency: float = 0.0  # added to every data request: a real 1C takes 0.1–2 s a page
    hang_seconds: float = 3.0
    #: Sets on which the server silently ignores ``$filter`` / ``$top`` (seen in the field).
    ignore_filter: set[str] = field(default_factory=set)
    ignore_top: set[str] = field(default_factory=set)
    rules: list[Fault] = field(default_factory=list)
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.rules.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def next_request(self, entity_set: str, skip: int) -> tuple[int, Fault | None]:
        """Count a data request and return its number and the fault that hits it, if any."""
        with self._lock:
            self.requests += 1
            for fault in self.rules:
                if fault.matches(entity_set, skip, self.requests):
                    fault.hits += 1
                    return self.requests, fault
            return self.requests, None

    @property
    def pending(self) -> list[Fault]:
        """Faults not yet spent."""
        with self._lock:
            return [fault for fault in self.rules if fault.hits < fault.times]
