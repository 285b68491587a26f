"""The ledger's counts in SQLite, kept by triggers: the dashboard's «Узкие места».

The page counts, per rule, its firings (and the skipped ones) and, per action,
its requests (failed, in doubt), under the page's filters. Joining every firing
and request to its document took seconds at a million documents; instead
``ledger_counts`` holds those counters per (rule or action, organisation,
manager, kind, status, month) of the documents — the filters a page applies by
equality, and the month of the document's date (``YYYY-MM``, '' without a date)
for a period: its whole months are sums of counts, only its partial months at
either end are joined (``web._queries``). A counterparty is not in the key (it
would multiply the table toward the ledger's size): with it the page keeps the
join, over the slice its index gives.

Triggers keep it equal to the join in the writer's transaction, whatever
writes (tick, dispatcher, prune, refresh, copy, migrations):

* a firing or request inserted or deleted adds or removes its unit under its
  document's key — only if the document exists (the join would not count it);
* a request's state change counts only into or out of ``failed``/``in_doubt``;
  the dispatcher's other moves (pending → in flight → done) write nothing here;
* a document whose organisation, manager, kind, status or month changes moves its
  firings' and requests' counts to the new key (read by document: the ledger's
  key leads with it, and ``action_requests_document``);
* a document deleted takes its counts with it, *before* the row goes: the
  foreign keys' cascade then deletes its firings (and their requests) after it,
  when their triggers no longer find the document and count nothing — so the
  order a prune deletes in does not matter.

Rows whose counters have gone back to zero stay; readers skip sums of zero.

Schema v17 kept the counts without the month; v18 (:data:`STATEMENTS_V18`) rebuilds
them with it. The builders below take ``dated`` so that v17's statements stay what
they were.
"""

from __future__ import annotations

#: The summary's key: rule or action, its name, then the document's filter columns
#: (a missing organisation or manager as '', which no filter value is), then (v18) the
#: month of the document's date.
KEY_V17 = ("what", "name", "organization", "responsible", "kind", "status")
KEY = (*KEY_V17, "month")
COUNTERS = ("n", "skipped", "failed", "in_doubt")
#: The month of a document's date, '' without one (no period filter matches it).
MONTH = "IFNULL(substr({row}.doc_date, 1, 7), '')"


def _key(dated: bool) -> tuple[str, ...]:
    return KEY if dated else KEY_V17


def _table(dated: bool) -> str:
    month = " month TEXT NOT NULL," if dated else ""
    return (
        "CREATE TABLE ledger_counts (what TEXT NOT NULL, name TEXT NOT NULL,"
        " organization TEXT NOT NULL, responsible TEXT NOT NULL, kind TEXT NOT NULL,"
        f" status TEXT NOT NULL,{month} n INTEGER NOT NULL, skipped INTEGER NOT NULL,"
        " failed INTEGER NOT NULL, in_doubt INTEGER NOT NULL,"
        f" PRIMARY KEY ({', '.join(_key(dated))})) WITHOUT ROWID"
    )


def _insert(dated: bool) -> str:
    return f"INSERT INTO ledger_counts ({', '.join((*_key(dated), *COUNTERS))})"


def _upsert(dated: bool) -> str:
    return f" ON CONFLICT ({', '.join(_key(dated))}) DO UPDATE SET " + ", ".join(
        f"{c} = {c} + excluded.{c}" for c in COUNTERS
    )


def _doc_key(row: str, dated: bool) -> str:
    month = f", {MONTH.format(row=row)}" if dated else ""
    return (
        f"IFNULL({row}.organization, ''), IFNULL({row}.responsible, ''), {row}.kind,"
        f" {row}.status{month}"
    )


def _state(row: str, state: str) -> str:
    return f"({row}.state = '{state}')"


def _firing(row: str, sign: str, dated: bool) -> str:
    """One firing (NEW or OLD) counted (``+``) or uncounted (``-``) under its document's key."""
    return (
        f"{_insert(dated)} SELECT 'rule', {row}.rule_key, {_doc_key('d', dated)}, {sign}1,"
        f" {sign}{row}.skipped, 0, 0 FROM documents d WHERE d.id = {row}.document_id"
        f"{_upsert(dated)};"
    )


def _request(row: str, sign: str, dated: bool) -> str:
    return (
        f"{_insert(dated)} SELECT 'action', {row}.action, {_doc_key('d', dated)}, {sign}1, 0,"
        f" {sign}{_state(row, 'failed')}, {sign}{_state(row, 'in_doubt')}"
        f" FROM documents d WHERE d.id = {row}.document_id{_upsert(dated)};"
    )


def _document(row: str, sign: str, dated: bool) -> str:
    """A document's whole ledger counted or uncounted under its (NEW or OLD) key."""
    key = _doc_key(row, dated)
    return (
        f"{_insert(dated)} SELECT 'rule', rule_key, {key}, {sign}COUNT(*), {sign}SUM(skipped),"
        f" 0, 0 FROM firings WHERE document_id = {row}.id GROUP BY rule_key{_upsert(dated)};"
        f" {_insert(dated)} SELECT 'action', action, {key}, {sign}COUNT(*), 0,"
        f" {sign}SUM(state = 'failed'), {sign}SUM(state = 'in_doubt')"
        f" FROM action_requests WHERE document_id = {row}.id GROUP BY action{_upsert(dated)};"
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


def _document_moves(dated: bool) -> str:
    moves = [f"OLD.{c} IS NOT NEW.{c}" for c in ("organization", "responsible", "kind", "status")]
    if dated:  # a date moved within its month moves nothing
        moves.append(f"{MONTH.format(row='OLD')} IS NOT {MONTH.format(row='NEW')}")
    return " OR ".join(moves)


#: The triggers' names (v18 replaces v17's).
TRIGGER_NAMES = (
    "firings_ledger_insert",
    "firings_ledger_delete",
    "firings_ledger_update",
    "action_requests_ledger_insert",
    "action_requests_ledger_delete",
    "action_requests_ledger_update",
    "documents_ledger_insert",
    "documents_ledger_update",
    "documents_ledger_delete",
)


def _triggers(dated: bool) -> tuple[str, ...]:
    def firing(row: str, sign: str) -> str:
        return _firing(row, sign, dated)

    def request(row: str, sign: str) -> str:
        return _request(row, sign, dated)

    def document(row: str, sign: str) -> str:
        return _document(row, sign, dated)

    return (
        "CREATE TRIGGER firings_ledger_insert AFTER INSERT ON firings"
        f" BEGIN {firing('NEW', '')} END",
        "CREATE TRIGGER firings_ledger_delete AFTER DELETE ON firings"
        f" BEGIN {firing('OLD', '-')} END",
        f"CREATE TRIGGER firings_ledger_update AFTER UPDATE ON firings WHEN {_FIRING_MOVES}"
        f" BEGIN {firing('OLD', '-')} {firing('NEW', '')} END",
        "CREATE TRIGGER action_requests_ledger_insert AFTER INSERT ON action_requests"
        f" BEGIN {request('NEW', '')} END",
        "CREATE TRIGGER action_requests_ledger_delete AFTER DELETE ON action_requests"
        f" BEGIN {request('OLD', '-')} END",
        "CREATE TRIGGER action_requests_ledger_update AFTER UPDATE ON action_requests"
        f" WHEN {_REQUEST_MOVES} BEGIN {request('OLD', '-')} {request('NEW', '')} END",
        # A ledger row may outlive its document (a request without a firing): a document
        # inserted again counts what the join will find for it.
        "CREATE TRIGGER documents_ledger_insert AFTER INSERT ON documents"
        f" BEGIN {document('NEW', '')} END",
        "CREATE TRIGGER documents_ledger_update AFTER UPDATE ON documents"
        f" WHEN {_document_moves(dated)} BEGIN {document('OLD', '-')} {document('NEW', '')} END",
        # BEFORE: the ledger rows are still there to count (the cascade deletes them after).
        "CREATE TRIGGER documents_ledger_delete BEFORE DELETE ON documents"
        f" BEGIN {document('OLD', '-')} END",
    )


def _fill(dated: bool) -> tuple[str, ...]:
    """The counts from the whole ledger, in one pass over each table."""
    groups = ", ".join(str(k) for k in range(3, len(_key(dated)) + 1))
    return (
        f"{_insert(dated)} SELECT 'rule', f.rule_key, {_doc_key('d', dated)}, COUNT(*),"
        " SUM(f.skipped), 0, 0 FROM firings f JOIN documents d ON d.id = f.document_id"
        f" GROUP BY f.rule_key, {groups}",
        f"{_insert(dated)} SELECT 'action', a.action, {_doc_key('d', dated)}, COUNT(*), 0,"
        " SUM(a.state = 'failed'), SUM(a.state = 'in_doubt')"
        " FROM action_requests a JOIN documents d ON d.id = a.document_id"
        f" GROUP BY a.action, {groups}",
    )


#: Schema v17: the counts without the month.
STATEMENTS_V17: tuple[str, ...] = (_table(False), *_triggers(False), *_fill(False))
#: Schema v18: the counts again, with the month of the document's date in their key.
STATEMENTS_V18: tuple[str, ...] = (
    *(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGER_NAMES),
    "DROP TABLE IF EXISTS ledger_counts",
    _table(True),
    *_triggers(True),
    *_fill(True),
)
