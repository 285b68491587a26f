"""Model objects ↔ SQLite rows (parameters in column order, rows back to frozen objects)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from edo_rules._codec import document_from_trusted, document_to_dict, parse_datetime, utc_text
from edo_rules.model import (
    TIMESTAMP_FIELDS,
    ActionRequest,
    Document,
    Firing,
    Outcome,
    OutcomeStatus,
    RequestState,
    Status,
    StatusEvent,
)
from edo_rules.store.base import RuleProgress

DOCUMENT_COLUMNS: tuple[str, ...] = (
    "id",
    "kind",
    "status",
    "direction",
    "counterparty_inn",
    "amount",
    *TIMESTAMP_FIELDS,
    "json",
    # The dashboard's read columns (schema v5): copies of JSON fields.
    "number",
    "doc_date",
    "organization",
    "counterparty_name",
    "responsible",
    "deal_id",
    "company_id",
)

# The last parameter is the write's sequence number (see Store.document_seq).
UPSERT_DOCUMENT = (
    f"INSERT INTO documents ({', '.join(DOCUMENT_COLUMNS)}, seq) "
    f"VALUES ({', '.join('?' for _ in DOCUMENT_COLUMNS)}, ?) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in (*DOCUMENT_COLUMNS[1:], "seq"))
)

EVENT_COLUMNS = (
    "id, document_id, at, from_status, from_raw, to_status, to_raw, comment, actor, historical"
)
FIRING_COLUMNS = (
    "id, rule_key, document_id, step, episode, due_at, fired_at, playbook_hash, skipped"
)
REQUEST_COLUMNS = (
    "id, firing_id, action, params, idempotency_key, document_id, rule_key, created_at,"
    " state, attempts, next_attempt_at, last_error, due_at"
)
OUTCOME_COLUMNS = "request_id, status, at, remote_id, reason, retry_after"


@lru_cache(maxsize=4096)
def _iso(value: datetime) -> str:
    """``isoformat`` of the many equal moments of one tick (``now``, shared due days)."""
    return value.isoformat()


def _utc(value: datetime | None) -> str | None:
    return None if value is None else utc_text(value)


def _opt_dt(value: str | None) -> datetime | None:
    return None if value is None else parse_datetime(value)


# One encoder for every document: json.dumps with options builds a new one per call.
_DOCUMENT_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_STATUS_OF = {status.value: status for status in Status}


def document_params(doc: Document, seq: int) -> tuple[Any, ...]:
    """Parameters of :data:`UPSERT_DOCUMENT` for ``doc`` written as write number ``seq``."""
    stamps = [_utc(getattr(doc, name)) for name in TIMESTAMP_FIELDS]
    # The REAL amount only serves the indexed range filter; the exact Decimal
    # lives in the JSON and the engine re-checks the bounds on candidates.
    amount = None if doc.amount is None else float(doc.amount)
    return (
        doc.id,
        doc.kind.value,
        doc.status.value,
        doc.direction.value,
        doc.counterparty.inn,
        amount,
        *stamps,
        _DOCUMENT_ENCODER.encode(document_to_dict(doc)),
        doc.number,
        None if doc.date is None else doc.date.isoformat(),
        doc.organization,
        doc.counterparty.name,
        doc.responsible,
        None if doc.crm.deal_id is None else str(doc.crm.deal_id),
        None if doc.crm.company_id is None else str(doc.crm.company_id),
        seq,
    )


def document_from_json(text: str) -> Document:
    return document_from_trusted(json.loads(text))


def event_params(event: StatusEvent) -> tuple[Any, ...]:
    # A sync page builds hundreds of thousands of these: ``_value_`` is the plain
    # attribute behind ``Enum.value`` (a Python-level property in 3.11, 40 % of this).
    at, before = event.at, event.from_status
    return (
        event.document_id,
        utc_text(at),
        at.isoformat(),
        None if before is None else before._value_,
        event.from_raw,
        event.to_status._value_,
        event.to_raw,
        event.comment,
        event.actor,
        int(event.historical),
    )


def event_from_row(row: tuple[Any, ...]) -> StatusEvent:
    return StatusEvent(
        id=row[0],
        document_id=row[1],
        at=parse_datetime(row[2]),
        from_status=None if row[3] is None else _STATUS_OF[row[3]],
        from_raw=row[4],
        to_status=_STATUS_OF[row[5]],
        to_raw=row[6],
        comment=row[7],
        actor=row[8],
        historical=bool(row[9]),
    )


def firing_params(firing: Firing) -> tuple[Any, ...]:
    return (
        firing.rule_key,
        firing.document_id,
        firing.step,
        firing.episode,
        _iso(firing.due_at),
        _iso(firing.fired_at),
        firing.playbook_hash,
        int(firing.skipped),
    )


def firing_from_row(row: tuple[Any, ...]) -> Firing:
    return Firing(
        id=row[0],
        rule_key=row[1],
        document_id=row[2],
        step=row[3],
        episode=row[4],
        due_at=parse_datetime(row[5]),
        fired_at=parse_datetime(row[6]),
        playbook_hash=row[7],
        skipped=bool(row[8]),
    )


# One encoder for every request: json.dumps with options builds a new one per call.
_PARAMS_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)


def params_json(params: Mapping[str, Any]) -> str:
    return _PARAMS_ENCODER.encode(params)


def request_params(
    request: ActionRequest, firing_id: int | None, encoded: dict[int, str] | None = None
) -> tuple[Any, ...]:
    """A request's row. ``encoded`` memoises the JSON by the params object's id: a
    tick's requests share the params of an action that reads no names (the caller
    keeps the requests alive while it uses the memo, so no id is reused)."""
    params = request.params
    text = None if encoded is None else encoded.get(id(params))
    if text is None:
        text = params_json(params)
        if encoded is not None:
            encoded[id(params)] = text
    return (
        firing_id,
        request.action,
        text,
        request.idempotency_key,
        request.document_id,
        request.rule_key,
        _iso(request.created_at),
        request.state.value,
        request.attempts,
        _utc(request.next_attempt_at),
        request.last_error,
        _utc(request.due_at),
    )


def request_from_row(row: tuple[Any, ...]) -> ActionRequest:
    return ActionRequest(
        id=row[0],
        firing_id=row[1],
        action=row[2],
        params=json.loads(row[3]),
        idempotency_key=row[4],
        document_id=row[5],
        rule_key=row[6],
        created_at=parse_datetime(row[7]),
        state=RequestState(row[8]),
        attempts=row[9],
        next_attempt_at=_opt_dt(row[10]),
        last_error=row[11],
        due_at=_opt_dt(row[12]),
    )


def outcome_params(outcome: Outcome) -> tuple[Any, ...]:
    return (
        outcome.request_id,
        outcome.status.value,
        outcome.at.isoformat(),
        outcome.remote_id,
        outcome.reason,
        outcome.retry_after,
    )


def outcome_from_row(row: tuple[Any, ...]) -> Outcome:
    return Outcome(
        request_id=row[0],
        status=OutcomeStatus(row[1]),
        at=parse_datetime(row[2]),
        remote_id=row[3],
        reason=row[4],
        retry_after=row[5],
    )


def progress_params(rule_key: str, progress: RuleProgress) -> tuple[Any, ...]:
    ranges = [
        [None if low is None else utc_text(low), utc_text(high)] for low, high in progress.ranges
    ]
    return (rule_key, progress.fingerprint, progress.document_seq, json.dumps(ranges))


def progress_from_row(row: tuple[Any, ...]) -> tuple[str, RuleProgress]:
    ranges = tuple(
        (None if low is None else parse_datetime(low), parse_datetime(high))
        for low, high in json.loads(row[3])
    )
    return row[0], RuleProgress(fingerprint=row[1], document_seq=row[2], ranges=ranges)
