"""The Store protocol: the one contract between sources, the engine and the dispatcher.

Every method raises :class:`edo_rules.errors.StoreError` (and nothing else) when
the backing database fails; a write either fully happens or not at all.
Implementations: :mod:`edo_rules.store.sqlite` (the embedded default) and
:mod:`edo_rules.store.postgres` (scale-out). ``tests/store_contract.py`` is the
suite every implementation must pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from edo_rules.model import (
    ActionRequest,
    Direction,
    Document,
    Firing,
    Kind,
    Outcome,
    RequestState,
    Status,
    StatusEvent,
)
from edo_rules.store._prune import PruneReport


def episode_of(since: datetime) -> str:
    """The episode of a time-rule firing: the ``since`` value as normalised UTC ISO text.

    Stores compare it in SQL, so every store must use exactly this text. It
    also sorts chronologically (``isoformat`` omits a zero fraction, and
    ``'+' < '.'``).
    """
    return since.astimezone(UTC).isoformat()


def event_episode(event: StatusEvent) -> str:
    """The episode of an event-rule firing: the state register's record, as 1C gives it.

    The record is the document's state and the period it took effect
    (``episode_of(at)|raw state``), never the store's id of the event, so a
    store rebuilt from 1C, a restored backup or a second runner's store that
    synced the same history in another order gives the same firing the same
    episode (and its actions the same idempotency keys). Stores compare it in
    SQL, so every store must use exactly this text.
    """
    return f"{episode_of(event.at)}|{event.to_raw}"


@dataclass(frozen=True, slots=True)
class DocumentFilter:
    """The pushed-down part of a rule's ``match``; ``None`` means "any"."""

    kinds: frozenset[Kind] | None = None
    statuses: frozenset[Status] | None = None
    directions: frozenset[Direction] | None = None
    counterparty_inns: frozenset[str] | None = None
    amount_min: Decimal | None = None  # inclusive; a document without an amount never matches
    amount_max: Decimal | None = None  # inclusive
    #: Bounds implied by ``where`` (a pre-filter: ``where`` still decides). A document
    #: without an amount passes them, so that ``where`` reports its failure on it.
    where_amount_min: Decimal | None = None  # inclusive
    where_amount_max: Decimal | None = None  # inclusive


@dataclass(frozen=True, slots=True)
class Snooze:
    """A pause of one document, for one rule or (``rule_key`` None) for every rule.

    While ``until`` is in the future the engine fires nothing it covers; what
    became due meanwhile fires when it ends, per the rule's catch-up policy.
    ``after_event_id``: status events with a larger id may have been held back
    (the smallest event-rule cursor when the snooze was added). ``released``:
    the engine has caught up on the snooze after it ended.
    """

    id: int
    document_id: str
    rule_key: str | None
    until: datetime
    reason: str | None
    created_at: datetime
    after_event_id: int = 0
    released: bool = False

    def applies_to(self, rule_key: str) -> bool:
        return self.rule_key is None or self.rule_key == rule_key

    def active_at(self, now: datetime) -> bool:
        return self.until > now


@dataclass(frozen=True, slots=True)
class DueQuery:
    """Candidates for one step of a time rule, as one indexed query.

    Selects documents passing ``filter`` whose ``since_field`` is set and lies
    in ``[not_before, before)`` and which have no firing (fired or skipped)
    for ``(rule_key, document, step, episode_of(since))``.
    """

    rule_key: str
    step: str
    since_field: str  # one of edo_rules.model.TIMESTAMP_FIELDS
    before: datetime  # exclusive upper bound of the since value
    not_before: datetime | None = None  # inclusive lower bound
    filter: DocumentFilter = DocumentFilter()
    #: Only documents written after this :meth:`Store.document_seq` value (None: any).
    changed_after: int | None = None
    #: Leave out documents with a snooze for this rule active at this moment (None: keep all).
    snoozed_at: datetime | None = None
    #: Only these documents (None: any).
    document_ids: frozenset[str] | None = None
    #: False: the caller will rarely need the documents themselves, so the store
    #: need not send them with the candidates (``DueCandidate.document`` reads one).
    documents: bool = True


class DueCandidate:
    """A document selected by a :class:`DueQuery`, decoded only when first asked for.

    Most firings need only the id and the ``since`` value (a rule without
    ``where`` whose action texts are plain), so the store may defer decoding.
    ``since`` is the value of the query's since field (its offset may differ
    from the document's own value; the instant is the same) and ``episode``
    is ``episode_of(since)``.
    """

    __slots__ = ("_document", "_load", "document_id", "episode", "since")

    def __init__(
        self, document_id: str, since: datetime, episode: str, load: Callable[[], Document]
    ):
        self.document_id = document_id
        self.since = since
        self.episode = episode
        self._load = load
        self._document: Document | None = None

    def document(self) -> Document:
        """The full document (decoded once)."""
        if self._document is None:
            self._document = self._load()
        return self._document


@dataclass(frozen=True, slots=True)
class RuleProgress:
    """What a time rule's last recorded evaluation covered.

    ``ranges[i]`` is the ``[low, high)`` range of ``since`` values (``low``
    None: unbounded) whose latest due ladder position was ``i``; every
    document in it that was written up to ``document_seq`` has been decided.
    The engine then only looks at the newly covered ranges and at documents
    written since. ``fingerprint`` identifies the rule's definition.
    """

    fingerprint: str
    document_seq: int
    ranges: tuple[tuple[datetime | None, datetime], ...]


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Status events for an event rule: ids in ``(after_id, up_to_id]``, not historical,
    matching from/to, whose document passes ``filter`` and which have no firing
    ``(rule_key, document, "event", event_episode(event))``."""

    rule_key: str
    after_id: int
    up_to_id: int
    from_statuses: frozenset[Status] | None = None
    to_statuses: frozenset[Status] | None = None
    filter: DocumentFilter = DocumentFilter()
    #: Leave out documents with a snooze for this rule active at this moment (None: keep all).
    snoozed_at: datetime | None = None
    #: Only events of these documents (None: any).
    document_ids: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class SigningFacts:
    """The columns of one document that counterparty statistics are made from."""

    seq: int  # the document's write sequence number (see Store.document_seq)
    document_id: str
    inn: str | None
    direction: str
    sent_at: datetime | None
    signed_at: datetime | None  # the counterparty's signature
    rejected_at: datetime | None


@dataclass(frozen=True, slots=True)
class CounterpartySample:
    """One document's contribution to its counterparty's statistics (``outcome`` None: none)."""

    document_id: str
    inn: str | None = None
    month: str | None = None  # "YYYY-MM" of the decision, local time
    outcome: str | None = None  # "signed" or "rejected"
    working_days: int = 0


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
        *,
        initial: bool = False,
    ) -> Sequence[StatusEvent]:
        """Write one sync page atomically: documents, new status events and sync state.

        Events already recorded (same document, time and raw state) are ignored,
        so re-running a sync is idempotent. Returns the events actually added,
        with their store ids. ``initial`` marks a page of an initial load that
        the source closes with a later, non-initial page (its cursor): a store
        may defer its derived structures (indexes, summaries) until then.
        """
        ...

    def get_document(self, document_id: str) -> Document | None: ...

    def get_documents(self, document_ids: Iterable[str]) -> dict[str, Document]: ...

    def iter_documents(self) -> Iterator[Document]:
        """Every document, in id order (for exports and tests, not for the engine)."""
        ...

    def document_numbers(self) -> Iterator[str]:
        """Every distinct document number, as written in 1C (read from the number index)."""
        ...

    def documents_with(
        self, *, numbers: Sequence[str] = (), inn: str | None = None
    ) -> list[Document]:
        """The documents whose number is exactly one of ``numbers`` and whose ИНН is ``inn``
        (a condition not given holds), through the number and ИНН indexes; neither
        given: none (that question is :meth:`iter_documents`)."""
        ...

    def count_documents(self) -> int: ...

    def history(self, document_id: str) -> list[StatusEvent]:
        """The document's status events, oldest first."""
        ...

    def get_sync_state(self) -> dict[str, str]: ...

    # -- firings and the outbox ----------------------------------------------
    def record_firings(
        self,
        firings: Sequence[tuple[Firing, Sequence[ActionRequest]]],
        *,
        event_cursors: Mapping[str, int] | None = None,
        rule_progress: Mapping[str, RuleProgress] | None = None,
        released_snoozes: Iterable[int] = (),
    ) -> list[Firing]:
        """Write firings and their action requests in one transaction.

        A firing whose (rule_key, document_id, step, episode) is already in the
        ledger is skipped together with its requests. Returns the firings added
        (with their ids). ``event_cursors`` and ``rule_progress`` are replaced,
        and the snoozes ``released_snoozes`` marked released, in the same
        transaction, so the engine's bookkeeping never gets ahead of (or
        behind) the ledger.
        """
        ...

    def firings_for(self, document_id: str) -> list[Firing]: ...

    # -- what the engine asks (candidates, the ledger, event cursors) ----------
    def due_candidates(self, query: DueQuery) -> Iterator[Document]:
        """Documents selected by ``query`` (see :class:`DueQuery`), in no particular order."""
        ...

    def due_candidates_lazy(self, query: DueQuery) -> Iterator[DueCandidate]:
        """The documents of :meth:`due_candidates`, each decoded only when asked for."""
        ...

    def event_candidates(self, query: EventQuery) -> Iterator[tuple[StatusEvent, Document]]:
        """Events selected by ``query`` (see :class:`EventQuery`) with their documents, by id."""
        ...

    def document_seq(self) -> int:
        """A number that grows with every document write (0 for an empty store)."""
        ...

    def rule_progress(self) -> dict[str, RuleProgress]:
        """Per time-rule key: what its last recorded evaluation covered."""
        ...

    def max_event_id(self) -> int:
        """The largest status event id recorded so far (0 when there is none)."""
        ...

    def recorded_steps(
        self, rule_key: str, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], frozenset[str]]:
        """For each (document_id, episode): the steps already in the ledger (fired or skipped).

        Keys without any firing are absent from the result.
        """
        ...

    def event_cursors(self) -> dict[str, int]:
        """Per event-rule key: the last status event id the rule has seen."""
        ...

    def set_event_cursors(self, cursors: Mapping[str, int]) -> None:
        """Advance event-rule cursors (normally done by :meth:`record_firings`)."""
        ...

    def outcomes_for(self, request_id: int) -> list[Outcome]:
        """The audit trail of one action request, oldest first."""
        ...

    def claim_requests(self, now: datetime, limit: int) -> list[ActionRequest]:
        """Mark up to ``limit`` due pending requests in flight (oldest first) and return them."""
        ...

    def record_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        """Record outcomes and move their requests to done / pending (retry) / failed / in doubt."""
        ...

    def requests(self, states: Iterable[RequestState]) -> list[ActionRequest]: ...

    def oldest_waiting(self, now: datetime) -> datetime | None:
        """Since when the longest-waiting pending request has been due (None: none is due)."""
        ...

    def request_counts(self, states: Iterable[RequestState]) -> dict[RequestState, int]:
        """How many requests are in each of ``states`` (an index count: each tick asks)."""
        ...

    def get_request(self, request_id: int) -> ActionRequest | None: ...

    def set_request_state(self, request_id: int, state: RequestState) -> None:
        """Admin actions: retry (back to pending) or drop a request."""
        ...

    # -- cache (CRM binding, recipients) ---------------------------------------
    def cache_get(self, key: str, now: datetime) -> str | None: ...

    def cache_put(self, key: str, value: str, expires_at: datetime) -> None: ...

    # -- snoozes -----------------------------------------------------------------------
    def add_snooze(
        self,
        document_id: str,
        rule_key: str | None,
        until: datetime,
        *,
        reason: str | None,
        created_at: datetime,
    ) -> Snooze:
        """Record a snooze (see :class:`Snooze`); raises StoreError for an unknown document."""
        ...

    def snoozes(
        self, *, active_at: datetime | None = None, document_id: str | None = None
    ) -> list[Snooze]:
        """Snoozes by id (only those active at ``active_at`` / of ``document_id`` when given)."""
        ...

    def end_snooze(self, snooze_id: int, at: datetime) -> Snooze:
        """End a snooze at ``at`` (no later than planned); raises StoreError for an unknown id.

        The row stays, so the engine still catches up on what it held back.
        """
        ...

    def ended_snoozes(self, now: datetime) -> list[Snooze]:
        """Snoozes ended by ``now`` that the engine has not yet released, by id."""
        ...

    # -- simulation ------------------------------------------------------------------
    # -- counterparty statistics ---------------------------------------------------
    def stats_seq(self) -> int:
        """The document write sequence number the statistics are up to date with."""
        ...

    def signing_facts(
        self, after: tuple[int, str], up_to_seq: int, limit: int
    ) -> list[SigningFacts]:
        """Documents written after the (seq, id) pair ``after``, up to ``up_to_seq``, in order."""
        ...

    def apply_counterparty_samples(
        self, samples: Sequence[CounterpartySample], stats_seq: int
    ) -> None:
        """Replace the documents' samples (adjusting the histograms) and set :meth:`stats_seq`."""
        ...

    def counterparty_histogram(self, inn: str, since_month: str) -> list[tuple[str, int, int]]:
        """(outcome, working days, count) of ``inn``'s samples from ``since_month`` on."""
        ...

    def scratch_copy(self) -> AbstractContextManager[Store]:
        """A private, consistent copy of the whole store, open, discarded on exit.

        Whatever is written to the copy never reaches this store (``Engine.simulate``
        records its fake ticks there).
        """
        ...

    def prune(self, before: datetime, now: datetime, *, dry_run: bool = False) -> PruneReport:
        """Remove the closed documents whose last state is older than ``before``.

        With their events, firings, requests and outcomes, leaving a tombstone
        each; see :mod:`edo_rules.store._prune` for what is never pruned and
        why nothing pruned is ever acted on twice. ``dry_run`` only counts.
        """
        ...

    def checkpoint(self) -> tuple[int, int]:
        """After a large write (a sync, a prune): give the log's disk space back.

        SQLite checkpoints its write-ahead log into the database and truncates
        it when it is above a threshold; returns the log's size in bytes
        (before, after). PostgreSQL manages its WAL itself: (0, 0).
        """
        ...

    def close(self) -> None: ...
