"""The ledger's counts in PostgreSQL: append-only deltas, folded by one runner at a time.

SQLite's ``ledger_counts`` (:mod:`._sqlite_ledger`, read its notes) is upserted
by row triggers: one writer. Here several runners tick and dispatch at once;
upserting the same hot counter rows from their transactions would serialise
them (each row locked until its transaction ends) and could deadlock. And a
firing's count needs its document's organisation, manager, kind and status,
which the sync-lease holder may be changing at that moment in a transaction the
tick cannot see (and which cannot see the tick's firing): reading the document
there would count the firing under a key the document is leaving. So:

* the ledger's writers never read a document: a statement's firings and
  requests (inserted, deleted, a request into or out of failed / in doubt) go
  to ``ledger_pending`` by document, aggregated per statement — appended,
  locking nothing but the new rows;
* ``ledger_deltas`` holds counts by the document key (the SQLite table's key,
  the month of the document's date included since v13, without a primary key:
  rows are appended and summed by the reader);
* a document inserted, changed in one of the key's columns (or its date's month)
  or deleted moves
  what is counted for it — its ledger minus its pending — in ``ledger_deltas``;
* :func:`fold` (at the end of each tick that recorded firings) moves the
  pending rows of existing documents to ``ledger_deltas`` under their key,
  drops those of documents gone, and folds the deltas to one row per key (since
  v13 only the keys it moves rows to and those of ``loose`` rows, the ones a
  document's move appended: a key's other rows are already one folded row).

The document triggers take the advisory lock :data:`LEDGER_LOCK` shared until
their transaction ends; :func:`fold` tries it exclusively and skips its turn if
a document write is under way. So a fold never reads a document key that an
uncommitted write is changing (that write's trigger then sees the fold's
result), and a document's move never misses a pending row (it reads the ledger
and the pending rows in one snapshot; a tick commits both at once).

What the page reads — the deltas plus the pending rows joined to their
documents — then always equals the join of the ledger to its documents.

``ledger_day_deltas`` (v14) holds the same deltas keyed by the document's date
instead of its month, for a period's partial months: every move and fold writes both.

Schema v12 kept the counts without the month; v13 adds it; v14 the days. The builders
below take the schema version they build for, so that v12's and v13's statements stay
what they were.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

#: The tables whose triggers keep the dashboard's summaries (``dashboard_groups`` and
#: the ledger's counts): bulk writers turn them off and build the summaries after.
SUMMARIZED = ("documents", "firings", "action_requests")
#: The advisory lock between document writes (shared) and the fold (exclusive); its
#: second half is the schema's, as the documents lock's (store._pg_outbox).
LEDGER_LOCK = 0x6564_6C63  # "edlc"
_LOCK_ARGS = f"{LEDGER_LOCK}, hashtext(current_schema())"

_KEY = "what TEXT NOT NULL, name TEXT NOT NULL"
_COUNTERS = (
    "n BIGINT NOT NULL, skipped BIGINT NOT NULL, failed BIGINT NOT NULL, in_doubt BIGINT NOT NULL"
)
_SUMS = "SUM(n), SUM(skipped), SUM(failed), SUM(in_doubt)"
_NONZERO = "HAVING SUM(n) <> 0 OR SUM(skipped) <> 0 OR SUM(failed) <> 0 OR SUM(in_doubt) <> 0"
_DELTA_KEY_V12 = "what, name, organization, responsible, kind, status"
_DELTA_KEY = f"{_DELTA_KEY_V12}, month"
_DELTA_COLUMNS_V12 = f"{_DELTA_KEY_V12}, n, skipped, failed, in_doubt"
_DELTA_COLUMNS = f"{_DELTA_KEY}, n, skipped, failed, in_doubt"
#: The month of a document's date (``YYYY-MM``), '' without one (no period matches it).
MONTH = "COALESCE(substr({row}.doc_date, 1, 7), '')"
#: v14's counts by the document's date itself, '' without one.
DAY = "COALESCE({row}.doc_date, '')"
_DAY_KEY = f"{_DELTA_KEY_V12}, day"
_DAY_COLUMNS = f"{_DAY_KEY}, n, skipped, failed, in_doubt"
_PENDING_COLUMNS = "document_id, what, name, n, skipped, failed, in_doubt"


def _firings(rows: str, sign: str) -> str:
    return (
        f"SELECT document_id, 'rule', rule_key, {sign}COUNT(*), {sign}SUM(skipped), 0, 0"
        f" FROM {rows} GROUP BY document_id, rule_key"
    )


def _failed(state: str) -> str:
    return f"CASE WHEN {state} = 'failed' THEN 1 ELSE 0 END"


def _doubt(state: str) -> str:
    return f"CASE WHEN {state} = 'in_doubt' THEN 1 ELSE 0 END"


def _requests(rows: str, sign: str) -> str:
    return (
        f"SELECT document_id, 'action', action, {sign}COUNT(*), 0,"
        f" {sign}SUM({_failed('state')}), {sign}SUM({_doubt('state')})"
        f" FROM {rows} GROUP BY document_id, action"
    )


def _pending(select: str) -> str:
    # Every group counts at least one row: never zero.
    return f"INSERT INTO ledger_pending ({_PENDING_COLUMNS}) {select}"


def _statement_function(name: str, body: str, *, replace: bool = False) -> str:
    create = "CREATE OR REPLACE FUNCTION" if replace else "CREATE FUNCTION"
    return (
        f"{create} {name}() RETURNS trigger LANGUAGE plpgsql"
        f" SET search_path FROM CURRENT AS $$ BEGIN {body} RETURN NULL; END $$"
    )


def _statement_trigger(table: str, op: str, function: str) -> str:
    tables = {
        "INSERT": "NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    }[op]
    return (
        f"CREATE TRIGGER {table}_ledger_{op.lower()} AFTER {op} ON {table}"
        f" REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    )


#: What is counted for the documents ``docs`` (a CTE of id and key columns): their
#: firings and requests minus their pending rows, a row each. The ledger is read per
#: document through its document index (``OFFSET 0`` keeps each lookup a nested
#: loop: the planner, guessing a transition table's size, may otherwise scan it all).
_COUNTED = (
    "SELECT x.id AS document_id, 'rule' AS what, f.rule_key AS name, 1 AS n, f.skipped,"
    " 0 AS failed, 0 AS in_doubt FROM docs x CROSS JOIN LATERAL (SELECT rule_key, skipped"
    " FROM firings WHERE document_id = x.id OFFSET 0) AS f"
    f" UNION ALL SELECT x.id, 'action', a.action, 1, 0, {_failed('a.state')},"
    f" {_doubt('a.state')} FROM docs x CROSS JOIN LATERAL (SELECT action, state"
    " FROM action_requests WHERE document_id = x.id OFFSET 0) AS a"
    " UNION ALL SELECT document_id, what, name, -n, -skipped, -failed, -in_doubt"
    " FROM ledger_pending WHERE document_id IN (SELECT id FROM docs)"
)


def _doc_key(dated: bool) -> str:
    key = "COALESCE(d.organization, ''), COALESCE(d.responsible, ''), d.kind, d.status"
    return f"{key}, {MONTH.format(row='d')}" if dated else key


def _groups(dated: bool) -> str:
    # The key's columns after what and name, by position.
    return "3, 4, 5, 6, 7" if dated else "3, 4, 5, 6"


def _move(docs: str, sign: str, version: int) -> str:
    """``ledger_deltas`` (and since v14 ``ledger_day_deltas``) += (or -=) what is counted
    for the documents ``docs`` selects, under their key there."""
    if version >= 14:
        return _move_both(docs, sign)
    dated = version >= 13
    columns = _DELTA_COLUMNS if dated else _DELTA_COLUMNS_V12
    return (
        f"WITH docs AS ({docs}) INSERT INTO ledger_deltas ({columns})"
        f" SELECT c.what, c.name, {_doc_key(dated)}, {sign}SUM(c.n), {sign}SUM(c.skipped),"
        f" {sign}SUM(c.failed), {sign}SUM(c.in_doubt)"
        f" FROM ({_COUNTED}) AS c JOIN docs d ON d.id = c.document_id"
        f" GROUP BY c.what, c.name, {_groups(dated)} {_NONZERO.replace('SUM(', 'SUM(c.')};"
    )


def _move_both(docs: str, sign: str) -> str:
    """v14's move: the documents' ledger read once (``c``, materialized as it is read
    twice), summed into the counts by month and into those by day."""
    nonzero = _NONZERO.replace("SUM(", "SUM(c.")
    sums = f"{sign}SUM(c.n), {sign}SUM(c.skipped), {sign}SUM(c.failed), {sign}SUM(c.in_doubt)"
    return (
        f"WITH docs AS ({docs}), c ({_DELTA_KEY}, day, n, skipped, failed, in_doubt) AS"
        f" (SELECT c.what, c.name, {_doc_key(True)}, {DAY.format(row='d')}, c.n, c.skipped,"
        f" c.failed, c.in_doubt FROM ({_COUNTED}) AS c JOIN docs d ON d.id = c.document_id),"
        f" by_month AS (INSERT INTO ledger_deltas ({_DELTA_COLUMNS}) SELECT {_DELTA_KEY},"
        f" {sums} FROM c GROUP BY {_DELTA_KEY} {nonzero})"
        f" INSERT INTO ledger_day_deltas ({_DAY_COLUMNS}) SELECT {_DAY_KEY}, {sums} FROM c"
        f" GROUP BY {_DAY_KEY} {nonzero};"
    )


_SHARED = f"PERFORM pg_advisory_xact_lock_shared({_LOCK_ARGS});"
_WATCHED = ("organization", "responsible", "kind", "status")


def _changed(version: int) -> str:
    changes = [f"o.{c} IS DISTINCT FROM n.{c}" for c in _WATCHED]
    if version >= 14:  # the day is in the key: any change of the date moves
        changes.append("o.doc_date IS DISTINCT FROM n.doc_date")
    elif version == 13:  # a date moved within its month moves nothing
        changes.append(f"{MONTH.format(row='o')} IS DISTINCT FROM {MONTH.format(row='n')}")
    return "FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE " + " OR ".join(changes)


def _rows(alias: str, version: int) -> str:
    columns = ("id", *_WATCHED, *(("doc_date",) if version >= 13 else ()))
    return f"SELECT {', '.join(f'{alias}.{c}' for c in columns)}"


def _documents_body(version: int) -> str:
    changed = _changed(version)
    return (
        # An upsert whose rows all existed inserts none: no lock, no move.
        f"IF TG_OP = 'INSERT' THEN IF EXISTS (SELECT 1 FROM new_rows) THEN {_SHARED}"
        f" {_move(_rows('n', version) + ' FROM new_rows n', '', version)} END IF;"
        f" ELSIF TG_OP = 'DELETE' THEN IF EXISTS (SELECT 1 FROM old_rows) THEN {_SHARED}"
        f" {_move(_rows('o', version) + ' FROM old_rows o', '-', version)} END IF;"
        # A sync page upserts hundreds of documents; few change a key column.
        f" ELSIF EXISTS (SELECT 1 {changed}) THEN {_SHARED}"
        f" {_move(_rows('o', version) + ' ' + changed, '-', version)}"
        f" {_move(_rows('n', version) + ' ' + changed, '', version)}"
        " END IF;"
    )


_LEDGER_BODY = (
    "IF TG_TABLE_NAME = 'firings' THEN"
    f" IF TG_OP <> 'INSERT' THEN {_pending(_firings('old_rows', '-'))}; END IF;"
    f" IF TG_OP <> 'DELETE' THEN {_pending(_firings('new_rows', ''))}; END IF;"
    " ELSE"
    f" IF TG_OP <> 'INSERT' THEN {_pending(_requests('old_rows', '-'))}; END IF;"
    f" IF TG_OP <> 'DELETE' THEN {_pending(_requests('new_rows', ''))}; END IF;"
    " END IF;"
)


def _request_row(row: str, sign: str) -> str:
    return (
        f"INSERT INTO ledger_pending ({_PENDING_COLUMNS}) VALUES ({row}.document_id, 'action',"
        f" {row}.action, {sign}1, 0, {sign}{_failed(f'{row}.state')},"
        f" {sign}{_doubt(f'{row}.state')});"
    )


_COUNTED_STATES = "('failed', 'in_doubt')"
#: A request's update changes a count only through these: the dispatcher's other moves
#: (pending → in flight → done, claims, leases) do not call the function at all.
_REQUEST_MOVES = (
    f"(OLD.state IS DISTINCT FROM NEW.state AND (OLD.state IN {_COUNTED_STATES}"
    f" OR NEW.state IN {_COUNTED_STATES})) OR OLD.action IS DISTINCT FROM NEW.action"
    " OR OLD.document_id IS DISTINCT FROM NEW.document_id"
)


def _fill(version: int) -> tuple[str, ...]:
    """The counts from the whole ledger, in one pass over each table (and, since v14,
    a second for the counts by day)."""
    dated = version >= 13
    # v13: one row per key, folded (not ``loose``).
    columns, folded = (f"{_DELTA_COLUMNS}, loose", ", false") if dated else (_DELTA_COLUMNS_V12, "")
    statements = (
        "DELETE FROM ledger_deltas",
        "DELETE FROM ledger_pending",
        f"INSERT INTO ledger_deltas ({columns}) SELECT 'rule', f.rule_key, {_doc_key(dated)},"
        f" COUNT(*), SUM(f.skipped), 0, 0{folded} FROM firings f"
        f" JOIN documents d ON d.id = f.document_id GROUP BY 2, {_groups(dated)}",
        f"INSERT INTO ledger_deltas ({columns}) SELECT 'action', a.action, {_doc_key(dated)},"
        f" COUNT(*), 0, SUM({_failed('a.state')}), SUM({_doubt('a.state')}){folded}"
        f" FROM action_requests a JOIN documents d ON d.id = a.document_id"
        f" GROUP BY 2, {_groups(dated)}",
    )
    if version < 14:
        return statements
    return ("DELETE FROM ledger_day_deltas", *statements, _FILL_DAYS)


#: The counts by day from the whole ledger, minus the pending rows (which the reader adds
#: to them): v14 fills them beside v13's counts by month without touching those.
#: Written in the order the reader reads them, by day: a partial month's days are then a
#: few hundred adjacent pages. In grouping order the worst split's 30 days of rows lay
#: over thousands of pages: 164 ms against 35 ms for the page's two tables at 1M.
_DAY_DOC_KEY = f"{_doc_key(False)}, {DAY.format(row='d')}"
_FILL_DAYS = (
    f"INSERT INTO ledger_day_deltas ({_DAY_COLUMNS}, loose) SELECT {_DAY_KEY}, {_SUMS}, false"
    f" FROM (SELECT 'rule' AS what, f.rule_key AS name, {_DAY_DOC_KEY}, COUNT(*) AS n,"
    " SUM(f.skipped) AS skipped, 0 AS failed, 0 AS in_doubt FROM firings f"
    " JOIN documents d ON d.id = f.document_id GROUP BY 2, 3, 4, 5, 6, 7"
    f" UNION ALL SELECT 'action', a.action, {_DAY_DOC_KEY}, COUNT(*), 0,"
    f" SUM({_failed('a.state')}), SUM({_doubt('a.state')}) FROM action_requests a"
    " JOIN documents d ON d.id = a.document_id GROUP BY 2, 3, 4, 5, 6, 7"
    f" UNION ALL SELECT p.what, p.name, {_DAY_DOC_KEY}, -SUM(p.n), -SUM(p.skipped),"
    " -SUM(p.failed), -SUM(p.in_doubt) FROM ledger_pending p"
    " JOIN documents d ON d.id = p.document_id GROUP BY 1, 2, 3, 4, 5, 6, 7)"
    f" AS c (what, name, organization, responsible, kind, status, day, n, skipped, failed,"
    f" in_doubt) GROUP BY {_DAY_KEY} {_NONZERO} ORDER BY what, day"
)


#: Schema v12.
STATEMENTS_V12: tuple[str, ...] = (
    "CREATE TABLE ledger_deltas (what TEXT NOT NULL, name TEXT NOT NULL,"
    " organization TEXT NOT NULL, responsible TEXT NOT NULL, kind TEXT NOT NULL,"
    f" status TEXT NOT NULL, {_COUNTERS})",
    # No index: a tick appends a row per firing; readers and folds read it whole, and
    # the folds keep it small (a tick's firings at most).
    f"CREATE TABLE ledger_pending (document_id TEXT NOT NULL, {_KEY}, {_COUNTERS})",
    _statement_function("edo_ledger_pending", _LEDGER_BODY),
    *(
        _statement_trigger(table, op, "edo_ledger_pending")
        for table in ("firings", "action_requests")
        for op in ("INSERT", "DELETE")
    ),
    _statement_trigger("firings", "UPDATE", "edo_ledger_pending"),
    "CREATE FUNCTION edo_ledger_request() RETURNS trigger LANGUAGE plpgsql"
    f" SET search_path FROM CURRENT AS $$ BEGIN {_request_row('OLD', '-')}"
    f" {_request_row('NEW', '')} RETURN NULL; END $$",
    "CREATE TRIGGER action_requests_ledger_update AFTER UPDATE ON action_requests"
    f" FOR EACH ROW WHEN ({_REQUEST_MOVES}) EXECUTE FUNCTION edo_ledger_request()",
    _statement_function("edo_ledger_documents", _documents_body(12)),
    *(_statement_trigger("documents", op, "edo_ledger_documents") for op in ("INSERT", "DELETE")),
    _statement_trigger("documents", "UPDATE", "edo_ledger_documents"),
    *_fill(12)[2:],
)

#: Schema v13: the month of the document's date in the counts' key.
STATEMENTS_V13: tuple[str, ...] = (
    # No tick, dispatch or prune writes the ledger meanwhile (a runner of the previous
    # version may still run): the fill below counts each row once.
    "LOCK TABLE documents, firings, action_requests, ledger_pending IN SHARE MODE",
    # ``loose``: appended by a document's move and not folded since. The fold folds the
    # keys of loose rows and of the rows it moves, found by index: with the month the
    # table has ~24 times the keys (181,000 rows at 1M documents), and grouping all of
    # it at every fold, as v12's fold did, took a quarter of a second.
    "ALTER TABLE ledger_deltas ADD COLUMN month TEXT NOT NULL DEFAULT '',"
    " ADD COLUMN loose BOOLEAN NOT NULL DEFAULT true",
    f"CREATE INDEX ledger_deltas_key ON ledger_deltas ({_DELTA_KEY})",
    "CREATE INDEX ledger_deltas_loose ON ledger_deltas (what) WHERE loose",
    _statement_function("edo_ledger_documents", _documents_body(13), replace=True),
    *_fill(13),
)

#: Schema v14: beside the counts by month, ``ledger_day_deltas`` by the document's date,
#: for a period's partial months (read as a range of days: the key's index leads with
#: the day after ``what``). The documents function moves both; the fold folds both.
STATEMENTS_V14: tuple[str, ...] = (
    # As v13's: nothing writes the ledger meanwhile, so the fill counts each row once.
    "LOCK TABLE documents, firings, action_requests, ledger_pending IN SHARE MODE",
    "CREATE TABLE ledger_day_deltas (what TEXT NOT NULL, name TEXT NOT NULL,"
    " organization TEXT NOT NULL, responsible TEXT NOT NULL, kind TEXT NOT NULL,"
    f" status TEXT NOT NULL, day TEXT NOT NULL, {_COUNTERS},"
    " loose BOOLEAN NOT NULL DEFAULT true)",
    "CREATE INDEX ledger_day_deltas_key ON ledger_day_deltas"
    " (what, day, name, organization, responsible, kind, status)",
    "CREATE INDEX ledger_day_deltas_loose ON ledger_day_deltas (what) WHERE loose",
    _statement_function("edo_ledger_documents", _documents_body(14), replace=True),
    _FILL_DAYS,
)


#: The key of one document, looked up by its primary key (``LIMIT 1`` keeps it a
#: probe per document: joined plainly, the planner may read the whole table).
def _key_of(document_id: str) -> str:
    return (
        "CROSS JOIN LATERAL (SELECT COALESCE(d.organization, '') AS organization,"
        f" COALESCE(d.responsible, '') AS responsible, d.kind, d.status,"
        f" {MONTH.format(row='d')} AS month, {DAY.format(row='d')} AS day FROM documents d"
        f" WHERE d.id = {document_id} LIMIT 1) AS d"
    )


def _folded(tag: str, table: str, key: str, columns: str) -> str:
    """The CTEs ``folded_<tag>``: the rows of ``table`` under every key with a row moved
    now or a loose one, deleted (returned with ``columns``, to be summed again)."""
    match = " AND ".join(f"y.{c} = t.{c}" for c in key.split(", "))
    return (
        f" touched_{tag} AS (SELECT {key} FROM moved UNION SELECT {key} FROM {table}"
        " WHERE loose),"
        # Each touched key's rows looked up by the key's index, then deleted by their row
        # addresses (a TID scan): joined plainly, the planner hashed the touched keys and
        # read the whole table once a few hundred were loose (161 ms against 59 at 1M).
        f" folded_{tag} AS (DELETE FROM {table} x WHERE x.ctid = ANY (ARRAY(SELECT l.ctid"
        f" FROM touched_{tag} t CROSS JOIN LATERAL (SELECT y.ctid FROM {table} y"
        f" WHERE {match} OFFSET 0) AS l))"
        f" RETURNING {', '.join(f'x.{c}' for c in columns.split(', '))})"
    )


def _refolded(tag: str, table: str, key: str, columns: str) -> str:
    return (
        f"INSERT INTO {table} ({columns}, loose) SELECT {key}, {_SUMS}, false"
        f" FROM (SELECT {columns} FROM moved UNION ALL SELECT * FROM folded_{tag}) AS c"
        f" GROUP BY {key} {_NONZERO}"
    )


#: Every pending row taken: those of existing documents under their key (a document
#: gone has none, its rows just go), and, in both tables of counts, the deltas of every
#: key with a row moved now or a loose one (appended by a document's move since the last
#: fold) folded to one row: one statement. Every other key has one folded row and stays
#: as it is, so a fold rewrites what changed, found by index, not the whole table.
_FOLD = (
    "WITH pending AS (DELETE FROM ledger_pending RETURNING *),"
    " keys AS (SELECT p.document_id, d.* FROM (SELECT DISTINCT document_id FROM pending) p"
    f" {_key_of('p.document_id')}),"
    " moved AS (SELECT p.what, p.name, k.organization, k.responsible, k.kind, k.status,"
    " k.month, k.day, p.n, p.skipped, p.failed, p.in_doubt FROM pending p"
    " JOIN keys k ON k.document_id = p.document_id),"
    f"{_folded('m', 'ledger_deltas', _DELTA_KEY, _DELTA_COLUMNS)},"
    f"{_folded('d', 'ledger_day_deltas', _DAY_KEY, _DAY_COLUMNS)},"
    f" by_month AS ({_refolded('m', 'ledger_deltas', _DELTA_KEY, _DELTA_COLUMNS)})"
    f" {_refolded('d', 'ledger_day_deltas', _DAY_KEY, _DAY_COLUMNS)}"
)


def fold(conn: psycopg.Connection[Any]) -> bool:
    """In the caller's transaction: the pending rows into the deltas, the deltas folded.

    Skipped (False) while another runner folds or a document write is under way:
    the next tick's fold takes them; readers sum whatever is there meanwhile.
    """
    row = conn.execute(f"SELECT pg_try_advisory_xact_lock({_LOCK_ARGS})").fetchone()
    if not row or not row[0]:
        return False
    conn.execute(_FOLD)
    return True


def rebuild(conn: psycopg.Connection[Any]) -> None:
    """Inside the caller's transaction: the counts from the whole ledger (bulk writers
    disable the ledger's triggers and call this instead)."""
    for statement in _fill(14):
        conn.execute(statement)


#: The reader's rows of ``what`` under ``where`` (the page's equality filters), for
#: the counts' columns and with the documents aliased ``d`` in ``where_d``.
def counts_table(what: str, where: str, where_d: str, *, daily: bool = False) -> str:
    table = "ledger_day_deltas" if daily else "ledger_deltas"
    return (
        f"(SELECT name, n, skipped, failed, in_doubt FROM {table}"
        f" WHERE what = '{what}' AND {where} UNION ALL"
        " SELECT p.name, p.n, p.skipped, p.failed, p.in_doubt FROM ledger_pending p"
        f" {_key_of('p.document_id')} WHERE p.what = '{what}' AND {where_d}) AS c"
    )
