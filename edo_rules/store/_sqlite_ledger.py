"""The ledger's counts in SQLite, kept by triggers: the dashboard's «Узкие места».

The page counts, per rule, its firings (and the skipped ones) and, per action,
its requests (failed, in doubt), under the page's filters. Joining every firing
and request to its document took seconds at a million documents; instead
``ledger_counts`` holds those counters per (rule or action, organisation,
manager, kind, status) of the documents — the filters a page applies by
equality. A period or a counterparty is not in the key (it would multiply the
table toward the ledger's size): with those filters the page keeps the join,
over the slice their indexes give.

Triggers keep it equal to the join in the writer's transaction, whatever
writes (tick, dispatcher, prune, refresh, copy, migrations):

* a firing or request inserted or deleted adds or removes its unit under its
  document's key — only if the document exists (the join would not count it);
* a request's state change counts only into or out of ``failed``/``in_doubt``;
  the dispatcher's other moves (pending → in flight → done) write nothing here;
* a document whose organisation, manager, kind or status changes moves its
  firings' and requests' counts to the new key (read by document: the ledger's
  key leads with it, and ``action_requests_document``);
* a document deleted takes its counts with it, *before* the row goes: the
  foreign keys' cascade then deletes its firings (and their requests) after it,
  when their triggers no longer find the document and count nothing — so the
  order a prune deletes in does not matter.

Rows whose counters have gone back to zero stay; readers skip sums of zero.
"""

from __future__ import annotations

import sqlite3

#: The summary's key: rule or action, its name, then the document's filter columns
#: (a missing organisation or manager as '', which no filter value is).
KEY = ("what", "name", "organization", "responsible", "kind", "status")
COUNTERS = ("n", "skipped", "failed", "in_doubt")

TABLE = (
    "CREATE TABLE ledger_counts (what TEXT NOT NULL, name TEXT NOT NULL,"
    " organization TEXT NOT NULL, responsible TEXT NOT NULL, kind TEXT NOT NULL,"
    " status TEXT NOT NULL, n INTEGER NOT NULL, skipped INTEGER NOT NULL,"
    " failed INTEGER NOT NULL, in_doubt INTEGER NOT NULL,"
    f" PRIMARY KEY ({', '.join(KEY)})) WITHOUT ROWID"
)

_INSERT = f"INSERT INTO ledger_counts ({', '.join((*KEY, *COUNTERS))})"
_UPSERT = f" ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET " + ", ".join(
    f"{c} = {c} + excluded.{c}" for c in COUNTERS
)


def _doc_key(row: str) -> str:
    return (
        f"IFNULL({row}.organization, ''), IFNULL({row}.responsible, ''), {row}.kind, {row}.status"
    )


def _state(row: str, state: str) -> str:
    return f"({row}.state = '{state}')"


def _firing(row: str, sign: str) -> str:
    """One firing (NEW or OLD) counted (``+``) or uncounted (``-``) under its document's key."""
    return (
        f"{_INSERT} SELECT 'rule', {row}.rule_key, {_doc_key('d')}, {sign}1, {sign}{row}.skipped,"
        f" 0, 0 FROM documents d WHERE d.id = {row}.document_id{_UPSERT};"
    )


def _request(row: str, sign: str) -> str:
    return (
        f"{_INSERT} SELECT 'action', {row}.action, {_doc_key('d')}, {sign}1, 0,"
        f" {sign}{_state(row, 'failed')}, {sign}{_state(row, 'in_doubt')}"
        f" FROM documents d WHERE d.id = {row}.document_id{_UPSERT};"
    )


def _document(row: str, sign: str) -> str:
    """A document's whole ledger counted or uncounted under its (NEW or OLD) key."""
    return (
        f"{_INSERT} SELECT 'rule', rule_key, {_doc_key(row)}, {sign}COUNT(*), {sign}SUM(skipped),"
        f" 0, 0 FROM firings WHERE document_id = {row}.id GROUP BY rule_key{_UPSERT};"
        f" {_INSERT} SELECT 'action', action, {_doc_key(row)}, {sign}COUNT(*), 0,"
        f" {sign}SUM(state = 'failed'), {sign}SUM(state = 'in_doubt')"
        f" FROM action_requests WHERE document_id = {row}.id GROUP BY action{_UPSERT};"
    )


#: A request's update changes the counts only through these.
_COUNTED = "('failed', 'in_doubt')"
_REQUEST_MOVES = (
    f"(OLD.state IS NOT NEW.state AND (OLD.state IN {_COUNTED} OR NEW.state IN {_COUNTED}))"
    " OR OLD.action IS NOT NEW.action OR OLD.document_id IS NOT NEW.document_id"
)
_FIRING_MOVES = (
    "OLD.rule_key IS NOT NEW.rule_key OR OLD.document_id IS NOT NEW.document_id"
    " OR OLD.skipped IS NOT NEW.skipped"
)
_DOCUMENT_MOVES = " OR ".join(
    f"OLD.{c} IS NOT NEW.{c}" for c in ("organization", "responsible", "kind", "status")
)

TRIGGERS: tuple[str, ...] = (
    f"CREATE TRIGGER firings_ledger_insert AFTER INSERT ON firings BEGIN {_firing('NEW', '')} END",
    f"CREATE TRIGGER firings_ledger_delete AFTER DELETE ON firings BEGIN {_firing('OLD', '-')} END",
    f"CREATE TRIGGER firings_ledger_update AFTER UPDATE ON firings WHEN {_FIRING_MOVES}"
    f" BEGIN {_firing('OLD', '-')} {_firing('NEW', '')} END",
    "CREATE TRIGGER action_requests_ledger_insert AFTER INSERT ON action_requests"
    f" BEGIN {_request('NEW', '')} END",
    "CREATE TRIGGER action_requests_ledger_delete AFTER DELETE ON action_requests"
    f" BEGIN {_request('OLD', '-')} END",
    "CREATE TRIGGER action_requests_ledger_update AFTER UPDATE ON action_requests"
    f" WHEN {_REQUEST_MOVES} BEGIN {_request('OLD', '-')} {_request('NEW', '')} END",
    # A ledger row may outlive its document (a request without a firing): a document
    # inserted again counts what the join will find for it.
    f"CREATE TRIGGER documents_ledger_insert AFTER INSERT ON documents"
    f" BEGIN {_document('NEW', '')} END",
    f"CREATE TRIGGER documents_ledger_update AFTER UPDATE ON documents WHEN {_DOCUMENT_MOVES}"
    f" BEGIN {_document('OLD', '-')} {_document('NEW', '')} END",
    # BEFORE: the ledger rows are still there to count (the cascade deletes them after).
    f"CREATE TRIGGER documents_ledger_delete BEFORE DELETE ON documents"
    f" BEGIN {_document('OLD', '-')} END",
)

#: The counts from the whole ledger, in one pass over each table.
FILL: tuple[str, ...] = (
    "DELETE FROM ledger_counts",
    f"{_INSERT} SELECT 'rule', f.rule_key, {_doc_key('d')}, COUNT(*), SUM(f.skipped), 0, 0"
    " FROM firings f JOIN documents d ON d.id = f.document_id"
    f" GROUP BY f.rule_key, 3, 4, 5, 6",
    f"{_INSERT} SELECT 'action', a.action, {_doc_key('d')}, COUNT(*), 0,"
    " SUM(a.state = 'failed'), SUM(a.state = 'in_doubt')"
    " FROM action_requests a JOIN documents d ON d.id = a.document_id"
    " GROUP BY a.action, 3, 4, 5, 6",
)

#: Schema v17.
STATEMENTS_V17: tuple[str, ...] = (TABLE, *TRIGGERS, *FILL[1:])


def rebuild(conn: sqlite3.Connection) -> None:
    """Inside the caller's transaction: the counts again from the whole ledger."""
    for statement in FILL:
        conn.execute(statement)
