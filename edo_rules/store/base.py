"""The Store protocol: the one contract between sources, the engine and the dispatcher.

Every method raises :class:`edo_rules.errors.StoreError` (and nothing else) when
the backing database fails; a write either fully happens or not at all.
Implementations: :mod:`edo_rules.store.sqlite` (the embedded default) and
:mod:`edo_rules.store.postgres` (scale-out). ``tests/store_contract.py`` is the
suite every implementation must pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from edo_rules.model import (
    ActionRequest,
    Document,
    Firing,
    Outcome,
    RequestState,
    StatusEvent,
)


@runtime_checkable
class Store(Protocol):
    """Documents, their status history, the firing ledger, the action outbox and sync state."""

    # -- documents and history ------------------------------------------------
    def upsert_documents(self, documents: Iterable[Document]) -> int:
        """Insert or replace documents by id in one transaction; returns how many were written."""
        ...

    def write_sync_page(
        self,
        documents: Sequence[Document],
        events: Sequence[StatusEvent],
        state: Mapping[str, str] | None = None,
    ) -> Sequence[StatusEvent]:
        """Write one sync page atomically: documents, new status events and sync state.

        Events already recorded (same document, time and raw state) are ignored,
        so re-running a sync is idempotent. Returns the events actually added,
        with their store ids.
        """
        ...

    def get_document(self, document_id: str) -> Document | None: ...

    def get_documents(self, document_ids: Iterable[str]) -> dict[str, Document]: ...

    def iter_documents(self) -> Iterator[Document]:
        """Every document, in id order (for exports and tests, not for the engine)."""
        ...

    def count_documents(self) -> int: ...

    def history(self, document_id: str) -> list[StatusEvent]:
        """The document's status events, oldest first."""
        ...

    def get_sync_state(self) -> dict[str, str]: ...

    # -- firings and the outbox ----------------------------------------------
    def record_firings(
        self, firings: Sequence[tuple[Firing, Sequence[ActionRequest]]]
    ) -> list[Firing]:
        """Write firings and their action requests in one transaction.

        A firing whose (rule_key, document_id, step, episode) is already in the
        ledger is skipped together with its requests. Returns the firings added.
        """
        ...

    def firings_for(self, document_id: str) -> list[Firing]: ...

    def claim_requests(self, now: datetime, limit: int) -> list[ActionRequest]:
        """Mark up to ``limit`` due pending requests in flight (oldest first) and return them."""
        ...

    def record_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        """Record outcomes and move their requests to done / pending (retry) / failed / in doubt."""
        ...

    def requests(self, states: Iterable[RequestState]) -> list[ActionRequest]: ...

    def get_request(self, request_id: int) -> ActionRequest | None: ...

    def set_request_state(self, request_id: int, state: RequestState) -> None:
        """Admin actions: retry (back to pending) or drop a request."""
        ...

    # -- cache (CRM binding, recipients) ---------------------------------------
    def cache_get(self, key: str, now: datetime) -> str | None: ...

    def cache_put(self, key: str, value: str, expires_at: datetime) -> None: ...

    def close(self) -> None: ...
