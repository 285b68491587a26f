"""Running a playbook test: a scratch store, the engine ticking at the given moments.

The scenario's documents are written as a first sync (their states are
history), every event rule starts watching from there, and the engine is
evaluated — recorded, as the runner would — at each expectation's moment (and
at ``every`` steps between them). What fired, was skipped and was requested
since the previous expectation is compared with what the test expects.
Recipients resolve through the declared users; nothing touches the network.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from edo_rules._codec import CodecError, document_from_dict, document_to_dict
from edo_rules._display import DEFAULT_ZONE
from edo_rules._messages import msg, reason
from edo_rules.calendar import ProductionCalendar
from edo_rules.engine import Engine, EvaluationResult
from edo_rules.errors import EdoRulesError
from edo_rules.model import Document, Status, StatusEvent
from edo_rules.playbook.durations import parse_duration
from edo_rules.playbook.loader import load_playbooks
from edo_rules.store.sqlite import SQLiteStore
from edo_rules.testing._compare import Failure, compare
from edo_rules.testing._spec import EventSpec, TestSpec

#: The document timestamp a status change sets (outgoing: the counterparty signs).
_STAMPS: dict[Status, str] = {
    Status.SENT: "sent_at",
    Status.SIGNED: "counterparty_signed_at",
    Status.SIGNED_WITH_CORRECTIONS: "counterparty_signed_at",
    Status.REJECTED: "rejected_at",
    Status.REVOKED: "revoked_at",
}
_MAX_TICKS = 10_000


@dataclass(frozen=True, slots=True)
class TestResult:
    """The outcome of one test file."""

    file: str
    expectations: int
    failures: tuple[Failure, ...] = field(default_factory=tuple)
    #: The test's time zone: its moments are shown in it.
    zone: ZoneInfo = DEFAULT_ZONE

    @property
    def passed(self) -> bool:
        return not self.failures


def run_test(spec: TestSpec) -> TestResult:
    """Run one scenario (:class:`EdoRulesError` when its playbooks or calendar do not load)."""
    playbooks = load_playbooks(spec.playbooks)
    calendar = ProductionCalendar.russia(spec.overrides)
    with _scratch_store() as store:
        _first_sync(store, spec.documents)
        engine = Engine(store, playbooks, calendar)
        store.set_event_cursors({rule.key: store.max_event_id() for rule in engine.rules})
        failures: list[Failure] = []
        pending = list(spec.events)
        previous: datetime | None = None
        for expectation in spec.expectations:
            results = [
                _tick(engine, pending, moment)
                for moment in _moments(spec.every, previous, expectation.at)
            ]
            failures += compare(spec, engine, expectation, results)
            previous = expectation.at
    return TestResult(spec.file, len(spec.expectations), tuple(failures), spec.zone)


@contextmanager
def _scratch_store() -> Iterator[SQLiteStore]:
    with tempfile.TemporaryDirectory(prefix="edo-rules-test-") as folder:
        store = SQLiteStore(Path(folder) / "test.sqlite3")
        try:
            yield store
        finally:
            store.close()


def _first_sync(store: SQLiteStore, documents: Sequence[Document]) -> None:
    events = [
        StatusEvent(doc.id, _stamp(doc), doc.status, doc.status_1c, historical=True)
        for doc in documents
    ]
    store.write_sync_page(documents, events)


def _stamp(doc: Document) -> datetime:
    """When the document reached its initial state (the latest timestamp it has)."""
    stamps = [getattr(doc, name) for name in (*_STAMPS.values(), "status_changed_at")]
    known = [s for s in stamps if s is not None]
    return max(known) if known else datetime(2000, 1, 1, tzinfo=UTC)


def _tick(engine: Engine, pending: list[EventSpec], moment: datetime) -> EvaluationResult:
    while pending and pending[0].at <= moment:
        _apply(engine, pending.pop(0))
    return engine.evaluate(moment)


def _apply(engine: Engine, event: EventSpec) -> None:
    store = engine.store
    document = store.get_document(event.document_id)
    if document is None:  # the reader checked every event's document
        raise EdoRulesError(msg("test_vanished", id=event.document_id))
    data = document_to_dict(document)
    data.update(status=event.status.value, status_1c=event.status.value)
    data["status_changed_at"] = event.at.isoformat()
    if event.status in _STAMPS:
        stamp = _STAMPS[event.status]
        if document.direction.value == "incoming" and stamp == "counterparty_signed_at":
            stamp = "our_signed_at"
        data[stamp] = event.at.isoformat()
    data.update(event.changes)
    try:
        updated = document_from_dict(data)
    except CodecError as exc:
        raise EdoRulesError(
            msg("test_bad_set", file=event.file, line=event.line, error=reason(exc))
        ) from exc
    store.write_sync_page(
        [updated],
        [
            StatusEvent(
                document.id,
                event.at,
                event.status,
                event.status.value,
                from_status=document.status,
                from_raw=document.status_1c,
                comment=event.comment,
                actor=event.actor,
            )
        ],
    )


def _moments(every: str | None, previous: datetime | None, until: datetime) -> list[datetime]:
    """The ticks in (previous, until]: ``until`` itself, and ``every`` steps before it."""
    if every is None or previous is None:
        return [until]
    step = parse_duration(every)
    if step.unit not in ("minutes", "hours", "days"):
        raise EdoRulesError(msg("test_bad_every", every=every))
    delta = timedelta(**{step.unit: step.amount})
    found: list[datetime] = []
    moment = previous + delta
    while moment < until and len(found) < _MAX_TICKS:
        found.append(moment)
        moment += delta
    return [*found, until]
