"""SQL for the engine's questions: due candidates and new status events, filters pushed down."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from edo_rules.model import TIMESTAMP_FIELDS, Status
from edo_rules.store._sqlite_rows import EVENT_COLUMNS
from edo_rules.store._sqlite_snoozes import active_clause
from edo_rules.store.base import DocumentFilter, DueQuery, EventQuery, episode_of

_ALL_STATUSES = tuple(status.value for status in Status)


def _in(column: str, values: Iterable[str], args: list[Any]) -> str:
    items = sorted(values)
    args.extend(items)
    return f"{column} IN ({', '.join('?' for _ in items)})"


def filter_sql(
    flt: DocumentFilter, args: list[Any], alias: str = "d", *, indexed: bool = True
) -> list[str]:
    """WHERE clauses of a document filter; appends their parameters to ``args``.

    ``indexed``: the status clause is always present (all statuses when the
    rule says "any") so that the (status, timestamp) indexes serve every
    query. Otherwise (the documents are reached from another table) no
    clause may use an index: SQLite would start from the documents' status
    index and visit every document with that status instead of the few rows
    the other table's range gives (``col || ''`` is an expression, never
    indexed, in both SQLite and PostgreSQL).
    """

    def column(name: str) -> str:
        return f"{alias}.{name}" if indexed else f"({alias}.{name} || '')"

    clauses = []
    if indexed or flt.statuses is not None:
        statuses = _ALL_STATUSES if flt.statuses is None else (s.value for s in flt.statuses)
        clauses.append(_in(column("status"), statuses, args))
    if flt.kinds is not None:
        clauses.append(_in(column("kind"), (k.value for k in flt.kinds), args))
    if flt.directions is not None:
        clauses.append(_in(column("direction"), (d.value for d in flt.directions), args))
    if flt.counterparty_inns is not None:
        clauses.append(_in(column("counterparty_inn"), flt.counterparty_inns, args))
    # Decimal → float is monotone, so the approximate REAL column never drops
    # a matching document; the engine re-checks the exact bounds on candidates.
    if flt.amount_min is not None:
        clauses.append(f"{alias}.amount >= ?")
        args.append(float(flt.amount_min))
    if flt.amount_max is not None:
        clauses.append(f"{alias}.amount <= ?")
        args.append(float(flt.amount_max))
    if flt.where_amount_min is not None:
        clauses.append(f"({alias}.amount >= ? OR {alias}.amount IS NULL)")
        args.append(float(flt.where_amount_min))
    if flt.where_amount_max is not None:
        clauses.append(f"({alias}.amount <= ? OR {alias}.amount IS NULL)")
        args.append(float(flt.where_amount_max))
    return clauses


def _snooze_clauses(
    rule_key: str,
    snoozed_at: datetime | None,
    document_ids: frozenset[str] | None,
    args: list[Any],
) -> list[str]:
    clauses = []
    if document_ids is not None:
        clauses.append(_in("d.id", document_ids, args))
    if snoozed_at is not None:
        clauses.append(active_clause("d", args, rule_key, snoozed_at))
    return clauses


def due_sql(query: DueQuery, *, with_keys: bool = False) -> tuple[str, list[Any]]:
    """One indexed query: filters, the since range and "no firing recorded for this step".

    Selects the document's JSON; ``with_keys`` selects ``id, <since field>, json``
    (the JSON NULL unless ``query.documents``).
    """
    if query.since_field not in TIMESTAMP_FIELDS:
        raise ValueError(f"{query.since_field!r} is not a timestamp field")
    column = f"d.{query.since_field}"
    args: list[Any] = []
    clauses = filter_sql(query.filter, args)
    clauses.append(f"{column} < ?")
    args.append(episode_of(query.before))
    if query.not_before is not None:
        clauses.append(f"{column} >= ?")
        args.append(episode_of(query.not_before))
    source = "documents d"
    if query.changed_after is not None:
        # Few documents change between ticks: walk the write-sequence index.
        source = "documents d INDEXED BY documents_seq"
        clauses.append("d.seq > ?")
        args.append(query.changed_after)
    clauses += _snooze_clauses(query.rule_key, query.snoozed_at, query.document_ids, args)
    # The stored timestamp text *is* the episode (see store.base.episode_of).
    clauses.append(
        "NOT EXISTS (SELECT 1 FROM firings f WHERE f.rule_key = ? AND f.document_id = d.id"
        f" AND f.step = ? AND f.episode = {column})"
    )
    args.extend((query.rule_key, query.step))
    # No ORDER BY: sorting the candidates' JSON rows would double the query's cost.
    json = "d.json" if query.documents or not with_keys else "NULL"
    selected = f"d.id, {column}, {json}" if with_keys else json
    sql = f"SELECT {selected} FROM {source} WHERE {' AND '.join(clauses)}"
    return sql, args


def event_sql(query: EventQuery) -> tuple[str, list[Any]]:
    """New, non-historical events matching from/to whose document passes the filter."""
    args: list[Any] = [query.after_id, query.up_to_id]
    clauses = ["e.id > ?", "e.id <= ?", "e.historical = 0"]
    if query.to_statuses is not None:
        clauses.append(_in("e.to_status", (s.value for s in query.to_statuses), args))
    if query.from_statuses is not None:
        clauses.append(_in("e.from_status", (s.value for s in query.from_statuses), args))
    # The few new events lead (their id range), each joined to its document.
    clauses.extend(filter_sql(query.filter, args, indexed=False))
    clauses += _snooze_clauses(query.rule_key, query.snoozed_at, query.document_ids, args)
    clauses.append(
        "NOT EXISTS (SELECT 1 FROM firings f WHERE f.rule_key = ? AND f.document_id = d.id"
        " AND f.step = 'event' AND f.episode = e.at_utc || '|' || e.to_raw)"
    )
    args.append(query.rule_key)
    columns = ", ".join(f"e.{name.strip()}" for name in EVENT_COLUMNS.split(","))
    sql = (
        f"SELECT {columns}, d.json FROM status_events e"
        f" JOIN documents d ON d.id = e.document_id"
        f" WHERE {' AND '.join(clauses)} ORDER BY e.id"
    )
    return sql, args
