"""What a store shared by several runners offers besides the Store protocol.

:class:`~edo_rules.store.postgres.PostgresStore` implements it; a SQLite file
has one runner (the lock file), so it does not. Times are the database
server's, so runners on several hosts agree on every lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from edo_rules.model import ActionRequest


@dataclass(frozen=True, slots=True)
class RunnerInfo:
    """One runner as the store knows it."""

    id: str
    host: str
    pid: int
    started_at: datetime
    seen_at: datetime
    alive: bool  # seen within two of its lease periods
    leases: tuple[str, ...]  # what it holds ("sync")
    claims: int  # outbox requests it has in flight


@runtime_checkable
class SharedStore(Protocol):
    """Membership, leases and claims among runners sharing one store (raise StoreError)."""

    runner_id: str

    def heartbeat(self, lease_seconds: float) -> int:
        """Record this runner as alive and renew its claims; returns how many runners are live."""
        ...

    def try_lease(self, name: str, lease_seconds: float) -> bool:
        """Take or renew the lease ``name`` unless another live holder has it."""
        ...

    def leave(self) -> None:
        """A clean stop: give up this runner's leases and membership."""
        ...

    def runners(self) -> list[RunnerInfo]:
        """Every runner that has not left, oldest first."""
        ...

    def take_over_stale_claims(self, lease_seconds: float | None = None) -> list[ActionRequest]:
        """In-flight requests whose claim expired (their runner died), now claimed by this one
        for ``lease_seconds`` (None: the store's claim lease)."""
        ...

    def give_up_claims(self) -> int:
        """Let this runner's claims expire now; returns how many.

        Called when a dispatch pass ends: a request still claimed then was left
        unresolved (the pass failed, or the look-up of a crashed request did not
        answer). Its claim would otherwise be renewed by every heartbeat and no
        runner would ever check it; expired, the next pass of any runner does.
        """
        ...

    def waiting_behind(self, request_ids: Sequence[int], now: datetime) -> set[int]:
        """Of the claimed ``request_ids``, those that must wait: an earlier request of the
        same document (not among them) is in flight or pending and due at ``now``."""
        ...

    def ask_refresh(self, request: str) -> int:
        """Ask the sync lease's holder for a refresh (``request``: JSON); returns its id."""
        ...

    def take_refreshes(self, lease_seconds: float) -> list[tuple[int, str]]:
        """The refresh requests nobody serves (or whose server died), now this runner's."""
        ...

    def answer_refreshes(self, request_ids: Sequence[int], answer: str) -> None:
        """Record the answer (JSON) to the refresh requests ``request_ids``."""
        ...

    def refresh_answer(self, request_id: int) -> str | None:
        """The answer to a refresh request; None while it is not served yet."""
        ...

    def wait_refresh_asked(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds for a refresh request to be asked."""
        ...

    def release_requests(self, request_ids: Sequence[int]) -> None:
        """Give claimed requests back (pending again), in one statement."""
        ...
