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

Beside them (v19) ``ledger_days`` holds the same counters keyed by the document's
date itself, led by it: a period's partial month is a few days' range of its key,
summed (or taken from the month's counts), where the join read every document of those
days and their ledger rows (1.3 s at a million documents for the worst split of a
month). The triggers keep both tables in the same statements.

Schema v17 kept the counts without the month; v18 (:data:`STATEMENTS_V18`) rebuilds
them with it; v19 adds the days. The builders below take the :class:`Grain` (or
grains) they write, so that v17's and v18's statements stay what they were.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The summary's key: rule or action, its name, then the document's filter columns
#: (a missing organisation or manager as '', which no filter value is), then (v18) the
#: month of the document's date.
KEY_V17 = ("what", "name", "organization", "responsible", "kind", "status")
KEY = (*KEY_V17, "month")
COUNTERS = ("n", "skipped", "failed", "in_doubt")
#: The month of a document's date, '' without one (no period filter matches it).
MONTH = "IFNULL(substr({row}.doc_date, 1, 7), '')"
#: The document's date itself (v19's ``ledger_days``), '' without one.
DAY = "IFNULL({row}.doc_date, '')"


@dataclass(frozen=True, slots=True)
class Grain:
    """One table of counts: its name, its columns' order in the statements, its primary
    key, and the expression of the date column that ends the key (None: no date)."""

    table: str
    key: tuple[str, ...]
    primary: tuple[str, ...]
    date: str | None


#: v17's counts (no date), v18's by month, and v19's by day — led by the day, so that a
#: few days of a period's partial month are one range of the primary key.
UNDATED = Grain("ledger_counts", KEY_V17, KEY_V17, None)
MONTHLY = Grain("ledger_counts", KEY, KEY, MONTH)
DAILY = Grain("ledger_days", (*KEY_V17, "day"), ("what", "day", *KEY_V17[1:]), DAY)


def _table(grain: Grain) -> str:
    dated = f" {grain.key[-1]} TEXT NOT NULL," if grain.date else ""
    return (
        f"CREATE TABLE {grain.table} (what TEXT NOT NULL, name TEXT NOT NULL,"
        " organization TEXT NOT NULL, responsible TEXT NOT NULL, kind TEXT NOT NULL,"
        f" status TEXT NOT NULL,{dated} n INTEGER NOT NULL, skipped INTEGER NOT NULL,"
        " failed INTEGER NOT NULL, in_doubt INTEGER NOT NULL,"
        f" PRIMARY KEY ({', '.join(grain.primary)})) WITHOUT ROWID"
    )


def _insert(grain: Grain) -> str:
    return f"INSERT INTO {grain.table} ({', '.join((*grain.key, *COUNTERS))})"


def _upsert(grain: Grain) -> str:
    return f" ON CONFLICT ({', '.join(grain.primary)}) DO UPDATE SET " + ", ".join(
        f"{c} = {c} + excluded.{c}" for c in COUNTERS
    )


def _doc_key(row: str, grain: Grain) -> str:
    dated = f", {grain.date.format(row=row)}" if grain.date else ""
    return (
        f"IFNULL({row}.organization, ''), IFNULL({row}.responsible, ''), {row}.kind,"
        f" {row}.status{dated}"
    )


def _state(row: str, state: str) -> str:
    return f"({row}.state = '{state}')"


def _firing(row: str, sign: str, grain: Grain) -> str:
    """One firing (NEW or OLD) counted (``+``) or uncounted (``-``) under its document's key."""
    return (
        f"{_insert(grain)} SELECT 'rule', {row}.rule_key, {_doc_key('d', grain)}, {sign}1,"
        f" {sign}{row}.skipped, 0, 0 FROM documents d WHERE d.id = {row}.document_id"
        f"{_upsert(grain)};"
    )


def _request(row: str, sign: str, grain: Grain) -> str:
    return (
        f"{_insert(grain)} SELECT 'action', {row}.action, {_doc_key('d', grain)}, {sign}1, 0,"
        f" {sign}{_state(row, 'failed')}, {sign}{_state(row, 'in_doubt')}"
        f" FROM documents d WHERE d.id = {row}.document_id{_upsert(grain)};"
    )


def _document(row: str, sign: str, grain: Grain) -> str:
    """A document's whole ledger counted or uncounted under its (NEW or OLD) key."""
    key = _doc_key(row, grain)
    return (
        f"{_insert(grain)} SELECT 'rule', rule_key, {key}, {sign}COUNT(*), {sign}SUM(skipped),"
        f" 0, 0 FROM firings WHERE document_id = {row}.id GROUP BY rule_key{_upsert(grain)};"
        f" {_insert(grain)} SELECT 'action', action, {key}, {sign}COUNT(*), 0,"
        f" {sign}SUM(state = 'failed'), {sign}SUM(state = 'in_doubt')"
        f" FROM action_requests WHERE document_id = {row}.id GROUP BY action{_upsert(grain)};"
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


def _document_moves(grains: tuple[Grain, ...]) -> str:
    moves = [f"OLD.{c} IS NOT NEW.{c}" for c in ("organization", "responsible", "kind", "status")]
    dated = [g.date for g in grains if g.date]
    if dated:  # by the finest date: v18's a date moved within its month moves nothing
        moves.append(f"{dated[-1].format(row='OLD')} IS NOT {dated[-1].format(row='NEW')}")
    return " OR ".join(moves)


#: The triggers' names (v18 replaces v17's, v19 v18's).
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


def _triggers(grains: tuple[Grain, ...]) -> tuple[str, ...]:
    """The triggers, each keeping every one of ``grains`` (one statement each)."""

    def firing(row: str, sign: str) -> str:
        return " ".join(_firing(row, sign, g) for g in grains)

    def request(row: str, sign: str) -> str:
        return " ".join(_request(row, sign, g) for g in grains)

    def document(row: str, sign: str) -> str:
        return " ".join(_document(row, sign, g) for g in grains)

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
        f" WHEN {_document_moves(grains)} BEGIN {document('OLD', '-')} {document('NEW', '')} END",
        # BEFORE: the ledger rows are still there to count (the cascade deletes them after).
        "CREATE TRIGGER documents_ledger_delete BEFORE DELETE ON documents"
        f" BEGIN {document('OLD', '-')} END",
    )


def _fill(grain: Grain) -> tuple[str, ...]:
    """The counts from the whole ledger, in one pass over each table."""
    groups = ", ".join(str(k) for k in range(3, len(grain.key) + 1))
    return (
        f"{_insert(grain)} SELECT 'rule', f.rule_key, {_doc_key('d', grain)}, COUNT(*),"
        " SUM(f.skipped), 0, 0 FROM firings f JOIN documents d ON d.id = f.document_id"
        f" GROUP BY f.rule_key, {groups}",
        f"{_insert(grain)} SELECT 'action', a.action, {_doc_key('d', grain)}, COUNT(*), 0,"
        " SUM(a.state = 'failed'), SUM(a.state = 'in_doubt')"
        " FROM action_requests a JOIN documents d ON d.id = a.document_id"
        f" GROUP BY a.action, {groups}",
    )


#: Schema v17: the counts without the month.
STATEMENTS_V17: tuple[str, ...] = (_table(UNDATED), *_triggers((UNDATED,)), *_fill(UNDATED))
#: Schema v18: the counts again, with the month of the document's date in their key.
STATEMENTS_V18: tuple[str, ...] = (
    *(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGER_NAMES),
    "DROP TABLE IF EXISTS ledger_counts",
    _table(MONTHLY),
    *_triggers((MONTHLY,)),
    *_fill(MONTHLY),
)
#: Schema v19: beside v18's counts by month, ``ledger_days`` by the document's date; the
#: triggers keep both (v18's counts are kept as they are, not filled again).
STATEMENTS_V19: tuple[str, ...] = (
    _table(DAILY),
    *(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGER_NAMES),
    *_triggers((MONTHLY, DAILY)),
    *_fill(DAILY),
)
