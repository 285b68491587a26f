"""The SQLite schema as ordered migrations, and the code that applies them.

A store file records its version in ``schema_version``; opening a file runs
every migration above that version, each in its own transaction. Never edit a
released migration: append a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from edo_rules.model import TIMESTAMP_FIELDS
from edo_rules.store import _sqlite_dashboard, _sqlite_ledger


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]
    #: Runs after the statements, in the same transaction: data only code can compute.
    fill: Callable[[sqlite3.Connection], None] | None = None
    #: Rebuilds a table others refer to: applied with the foreign keys off (a
    #: ``DROP TABLE`` would cascade to the referring rows), checked before it commits.
    rebuilds: bool = False


def _document_indexes() -> tuple[str, ...]:
    # Status leads every timestamp index: time rules nearly always filter on
    # status, and the store passes the full status list when a rule does not,
    # so each candidate query is a handful of index range scans.
    per_field = tuple(
        f"CREATE INDEX documents_status_{name} ON documents (status, {name}) "
        f"WHERE {name} IS NOT NULL"
        for name in TIMESTAMP_FIELDS
    )
    return (*per_field, "CREATE INDEX documents_inn ON documents (counterparty_inn)")


_V1 = Migration(
    1,
    "documents, status history, firing ledger, outbox, outcomes, sync state, cache",
    (
        "CREATE TABLE documents ("
        " id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL,"
        " direction TEXT NOT NULL, counterparty_inn TEXT, amount REAL,"
        + "".join(f" {name} TEXT," for name in TIMESTAMP_FIELDS)
        + " json TEXT NOT NULL)",
        *_document_indexes(),
        "CREATE TABLE status_events ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,"
        " at_utc TEXT NOT NULL, at TEXT NOT NULL,"
        " from_status TEXT, from_raw TEXT, to_status TEXT NOT NULL, to_raw TEXT NOT NULL,"
        " comment TEXT, actor TEXT, historical INTEGER NOT NULL DEFAULT 0,"
        " UNIQUE (document_id, at_utc, to_raw))",
        "CREATE TABLE firings ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " rule_key TEXT NOT NULL,"
        " document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,"
        " step TEXT NOT NULL, episode TEXT NOT NULL,"
        " due_at TEXT NOT NULL, fired_at TEXT NOT NULL, playbook_hash TEXT NOT NULL,"
        " skipped INTEGER NOT NULL DEFAULT 0,"
        " UNIQUE (rule_key, document_id, step, episode))",
        "CREATE INDEX firings_document ON firings (document_id)",
        "CREATE TABLE action_requests ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " firing_id INTEGER REFERENCES firings (id) ON DELETE CASCADE,"
        " action TEXT NOT NULL, params TEXT NOT NULL,"
        " idempotency_key TEXT NOT NULL UNIQUE,"
        " document_id TEXT NOT NULL, rule_key TEXT NOT NULL, created_at TEXT NOT NULL,"
        " state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
        " next_attempt_at TEXT, last_error TEXT)",
        "CREATE INDEX action_requests_due ON action_requests (state, next_attempt_at, id)",
        "CREATE TABLE outcomes ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " request_id INTEGER NOT NULL REFERENCES action_requests (id) ON DELETE CASCADE,"
        " status TEXT NOT NULL, at TEXT NOT NULL, remote_id TEXT, reason TEXT,"
        " retry_after REAL)",
        "CREATE INDEX outcomes_request ON outcomes (request_id)",
        "CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at TEXT NOT NULL)",
    ),
)

_V2 = Migration(
    2,
    "event-rule cursors, time-rule progress and a document write sequence",
    (
        "CREATE TABLE event_cursors (rule_key TEXT PRIMARY KEY, last_event_id INTEGER NOT NULL)",
        "CREATE INDEX status_events_document ON status_events (document_id, at_utc)",
        # Every document write takes the next number: the engine asks for the
        # documents written since its last evaluation instead of re-reading all.
        "ALTER TABLE documents ADD COLUMN seq INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX documents_seq ON documents (seq)",
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT INTO counters (name, value) VALUES ('document_seq', 0)",
        "CREATE TABLE rule_progress (rule_key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,"
        " document_seq INTEGER NOT NULL, ranges TEXT NOT NULL)",
    ),
)

_V3 = Migration(
    3,
    "snoozes",
    (
        "CREATE TABLE snoozes ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,"
        " rule_key TEXT, until TEXT NOT NULL, reason TEXT, created_at TEXT NOT NULL,"
        # The engine's catch-up bookkeeping: which status events the snooze may
        # have held back, and whether the engine has caught up after it ended.
        " after_event_id INTEGER NOT NULL DEFAULT 0, released INTEGER NOT NULL DEFAULT 0)",
        # The candidate queries ask "is there an active snooze for this document".
        "CREATE INDEX snoozes_document ON snoozes (document_id, until)",
        "CREATE INDEX snoozes_unreleased ON snoozes (until) WHERE released = 0",
    ),
)

_V4 = Migration(
    4,
    "drop the status events' document index: the unique key serves its queries",
    (
        # UNIQUE (document_id, at_utc, to_raw) already indexes every lookup by
        # document (the history, the cascade from documents); a second random-key
        # index only doubled the pages a sync's event inserts dirty.
        "DROP INDEX IF EXISTS status_events_document",
    ),
)

_V5 = Migration(
    5,
    "counterparty statistics: one sample per document and per-counterparty histograms",
    (
        # The statistics walk the documents written since their cursor in (seq, id)
        # order; the same index keeps serving "written since" (INDEXED BY documents_seq).
        "DROP INDEX IF EXISTS documents_seq",
        "CREATE INDEX documents_seq ON documents (seq, id)",
        "CREATE TABLE counterparty_samples (document_id TEXT PRIMARY KEY, inn TEXT NOT NULL,"
        " month TEXT NOT NULL, outcome TEXT NOT NULL, working_days INTEGER NOT NULL)",
        # A handful of rows per counterparty and month: what a tick reads instead of
        # the counterparty's documents.
        "CREATE TABLE counterparty_histogram (inn TEXT NOT NULL, month TEXT NOT NULL,"
        " outcome TEXT NOT NULL, working_days INTEGER NOT NULL, count INTEGER NOT NULL,"
        " PRIMARY KEY (inn, month, outcome, working_days)) WITHOUT ROWID",
        "INSERT INTO counters (name, value) VALUES ('stats_seq', 0)",
    ),
)

#: Columns the dashboard groups, filters and searches by, copied out of the JSON.
READ_COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", "$.number"),
    ("doc_date", "$.date"),
    ("organization", "$.organization"),
    ("counterparty_name", "$.counterparty.name"),
    ("responsible", "$.responsible"),
    ("deal_id", "$.crm.deal_id"),
    ("company_id", "$.crm.company_id"),
)

_V6 = Migration(
    6,
    "dashboard columns (number, date, organization, counterparty, responsible, CRM ids)",
    (
        *(f"ALTER TABLE documents ADD COLUMN {name} TEXT" for name, _ in READ_COLUMNS),
        # Existing stores get the values from the JSON every row already carries.
        "UPDATE documents SET "
        + ", ".join(f"{name} = json_extract(json, '{path}')" for name, path in READ_COLUMNS),
        # One index covers every column the dashboard's aggregates read, status
        # first: a page scans it (about a tenth of the rows' size, which carry
        # the JSON) instead of the table, and a status filter becomes a range.
        "CREATE INDEX documents_dashboard ON documents (status, responsible,"
        " counterparty_name, kind, organization, doc_date, sent_at, status_changed_at,"
        " counterparty_signed_at, rejected_at, counterparty_inn)",
        # The filter form's lists (a loose index scan) and the manager filter.
        "CREATE INDEX documents_responsible ON documents (responsible)",
        "CREATE INDEX documents_organization ON documents (organization)",
        "CREATE INDEX documents_number ON documents (number)",
        "CREATE INDEX documents_counterparty_name ON documents (counterparty_name)",
        "CREATE INDEX documents_deal ON documents (deal_id) WHERE deal_id IS NOT NULL",
        "CREATE INDEX documents_company ON documents (company_id) WHERE company_id IS NOT NULL",
        "CREATE INDEX firings_rule ON firings (rule_key)",
        "CREATE INDEX action_requests_document ON action_requests (document_id)",
    ),
)

# Self-contained (it reads and writes only what v1 created), so it can be
# renumbered if another migration lands first.
_KEYS_FROM_1C = Migration(
    7,
    "event firings keyed by the 1C state record; requests know when their firing was due",
    (
        # An event firing's episode was the store's own event id; it becomes the
        # state register's record (period and state), as store.base.event_episode
        # writes it. Requests already in the outbox keep their idempotency keys.
        "UPDATE firings SET episode = (SELECT e.at_utc || '|' || e.to_raw"
        " FROM status_events e WHERE CAST(e.id AS TEXT) = firings.episode"
        " AND e.document_id = firings.document_id)"
        " WHERE step = 'event' AND EXISTS (SELECT 1 FROM status_events e"
        " WHERE CAST(e.id AS TEXT) = firings.episode AND e.document_id = firings.document_id)",
        # The dispatcher looks up in Bitrix24, before creating, what was due
        # before it started (a rebuilt or restored store cannot know it was sent).
        "ALTER TABLE action_requests ADD COLUMN due_at TEXT",
        "UPDATE action_requests SET due_at = (SELECT f.due_at FROM firings f"
        " WHERE f.id = action_requests.firing_id)",
    ),
)

# Self-contained (it reads only v6's dashboard columns and v1's timestamps).
_DASHBOARD_SUMMARY = Migration(
    8,
    "dashboard summary: per-group counts kept by triggers, working-day ranks, wait-start index",
    _sqlite_dashboard.STATEMENTS_V8,
    # Existing documents: the bundled calendar's ranks, then the summary from every row.
    fill=_sqlite_dashboard.rebuild_v8,
)

# Self-contained (a new table only), so it can be renumbered if another migration lands first.
_RETENTION = Migration(
    9,
    "retention: tombstones of the documents pruned from the store",
    (
        # A pruned document's id and the time of its last state: a sync that
        # reads it again drops it unless 1C shows a newer state (store._prune). The
        # candidates are found by the (status, status_changed_at) index of v1.
        "CREATE TABLE pruned_documents (id TEXT PRIMARY KEY, status_changed_at TEXT NOT NULL,"
        " pruned_at TEXT NOT NULL) WITHOUT ROWID",
    ),
)

# Deleting a firing (retention, an undone tick) cascades to its requests: without
# this index each deleted firing scans the whole outbox.
_REQUEST_FIRING = Migration(
    10,
    "index: the outbox requests of a firing",
    ("CREATE INDEX action_requests_firing ON action_requests (firing_id)",),
)

# Self-contained (the v8 summary and v6's columns only), so it can be renumbered.
_FILTERED_DASHBOARD = Migration(
    11,
    "dashboard summary keyed by organisation; date- and manager-led covering indexes",
    _sqlite_dashboard.STATEMENTS_V11,
    # The summary rebuilt from every row with its new key.
    fill=_sqlite_dashboard.rebuild_v11,
)

# Self-contained (one index dropped), so it can be renumbered if another migration lands first.
# Every firing a tick records wrote one more entry here; the ledger's unique key
# (rule_key, document_id, step, episode) leads with the rule, so it already serves
# every query by rule (recorded steps, "no firing yet", the dashboard's noisy rules).
_NO_RULE_INDEX = Migration(
    12,
    "drop firings_rule: the ledger's unique key, rule first, serves the queries by rule",
    ("DROP INDEX IF EXISTS firings_rule",),
)

_EVENT_FIELDS = (
    "id, document_id, at_utc, at, from_status, from_raw, to_status, to_raw, comment, actor,"
    " historical"
)

# Self-contained (a new table only), so it can be renumbered if another migration lands first.
_BULK_LOAD = Migration(
    13,
    "bulk load: the indexes and triggers an initial sync builds once at its end",
    (
        # A row per schema object an initial load dropped (its CREATE statement),
        # plus one for the dashboard summary to rebuild (store._sqlite_bulk).
        "CREATE TABLE deferred_schema (name TEXT PRIMARY KEY, sql TEXT NOT NULL) WITHOUT ROWID",
    ),
)

_FIRING_COLUMNS = (
    "id, rule_key, document_id, step, episode, due_at, fired_at, playbook_hash, skipped"
)

# Self-contained (it rebuilds only v1's firings table), so it can be renumbered.
# A tick writes a firing per due document at random documents; each row dirtied a
# page of two random-key indexes: the unique key (rule first) and
# `firings_document`. With the key led by the document, the one index serves the
# lookups by document (a document's page, prune, "recorded" checks with the rule
# second) and a tick writes one random-key entry per firing instead of two.
# SQLite cannot change a table's UNIQUE constraint in place: the table is rebuilt
# (https://sqlite.org/lang_altertable.html, "other kinds of table schema changes").
_LEDGER_BY_DOCUMENT = Migration(
    14,
    "ledger keyed by document first; firings_document dropped (the key serves it)",
    (
        "CREATE TABLE firings_by_document ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " rule_key TEXT NOT NULL,"
        " document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,"
        " step TEXT NOT NULL, episode TEXT NOT NULL,"
        " due_at TEXT NOT NULL, fired_at TEXT NOT NULL, playbook_hash TEXT NOT NULL,"
        " skipped INTEGER NOT NULL DEFAULT 0,"
        " UNIQUE (document_id, rule_key, step, episode))",
        f"INSERT INTO firings_by_document ({_FIRING_COLUMNS})"
        f" SELECT {_FIRING_COLUMNS} FROM firings ORDER BY id",
        # AUTOINCREMENT: an id once given (a deleted firing's too) is never given again.
        # The old table's counter moves over (it is at least its largest id).
        "DELETE FROM sqlite_sequence WHERE name = 'firings_by_document'",
        "UPDATE sqlite_sequence SET name = 'firings_by_document' WHERE name = 'firings'",
        "DROP TABLE firings",
        # The requests' REFERENCES firings (id) names the table: it is this one again.
        "ALTER TABLE firings_by_document RENAME TO firings",
    ),
    rebuilds=True,
)


# Self-contained (it rebuilds v1's table as it is), so it can be renumbered.
_EVENTS_KEY = Migration(
    16,
    "status events: their unique key as a named index a bulk load can build once",
    (
        # SQLite cannot drop a table constraint's index: the table is rebuilt with
        # the same columns and the key as an index of its own (store._sqlite_bulk).
        "ALTER TABLE status_events RENAME TO status_events_old",
        "CREATE TABLE status_events ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,"
        " at_utc TEXT NOT NULL, at TEXT NOT NULL,"
        " from_status TEXT, from_raw TEXT, to_status TEXT NOT NULL, to_raw TEXT NOT NULL,"
        " comment TEXT, actor TEXT, historical INTEGER NOT NULL DEFAULT 0)",
        f"INSERT INTO status_events ({_EVENT_FIELDS}) SELECT {_EVENT_FIELDS}"
        " FROM status_events_old ORDER BY id",
        # The AUTOINCREMENT counter moves over, as in v14: pruned events may have held
        # the highest ids, and reusing them would put new events behind the event
        # rules' cursors (`event_cursors.last_event_id`).
        "DELETE FROM sqlite_sequence WHERE name = 'status_events'",
        "UPDATE sqlite_sequence SET name = 'status_events' WHERE name = 'status_events_old'",
        "DROP TABLE status_events_old",
        "CREATE UNIQUE INDEX status_events_key ON status_events (document_id, at_utc, to_raw)",
    ),
)

# Self-contained (a new table and triggers over v1's ledger and v6's columns), so it can
# be renumbered. The dashboard's «Узкие места» joined every firing and request to its
# document: seconds at a million documents (benchmarks/README.md).
_LEDGER_COUNTS = Migration(
    17,
    "ledger counts: firings and requests per rule/action and document filters, kept by triggers",
    _sqlite_ledger.STATEMENTS_V17,
)

# Self-contained (v17's table and triggers replaced, over v1's ledger and v6's columns), so
# it can be renumbered. Under a period «Узкие места» still joined the period's documents to
# their ledger rows: 1.3 s for a month at a million documents. With the month of the
# document's date in the key, a period's whole months are sums of counts.
_LEDGER_COUNTS_BY_MONTH = Migration(
    18,
    "ledger counts by month of the document's date, for the dashboard's period filter",
    _sqlite_ledger.STATEMENTS_V18,
)

# Self-contained (a new table beside v18's, whose triggers are replaced by ones keeping
# both), so it can be renumbered. A period starting or ending mid-month still joined the
# partial months' documents to their ledger rows: 0.6-1.5 s at a million documents.
_LEDGER_COUNTS_BY_DAY = Migration(
    19,
    "ledger counts by the document's date, for periods that are not whole months",
    _sqlite_ledger.STATEMENTS_V19,
)

# Self-contained (a new table filled from v6's columns, v11's summary triggers replaced by
# ones keeping both), so it can be renumbered. The summary is keyed by organisation, not by
# kind: under a kind filter the breakdowns counted every document of the kind (0.7-4.7 s
# at a million documents).
_KIND_SUMMARY = Migration(
    20,
    "dashboard summary by kind, for the dashboard's kind filter",
    _sqlite_dashboard.STATEMENTS_V20,
    fill=_sqlite_dashboard.fill_kinds,
)

# Self-contained (a new table filled from v6's columns, v20's triggers replaced by ones
# keeping all three), so it can be renumbered. A page without filters read every status
# and organisation row of a group's summary: «По компаниям» and «Узкие места» at 0.4 s
# at a million documents.
_TOTALS = Migration(
    21,
    "dashboard totals per group and working days to sign, for the unfiltered breakdowns",
    _sqlite_dashboard.STATEMENTS_V21,
    fill=_sqlite_dashboard.fill_totals,
)

# Self-contained (a new table filled from v6's columns, v21's triggers replaced by ones
# keeping all four), so it can be renumbered. Under an organisation or a kind filter a
# breakdown read every status and rejection row of a group's summary: «По компаниям» for
# one organisation at 89 ms of SQL at a million documents, against 48 ms without a filter.
_SCOPED_TOTALS = Migration(
    22,
    "dashboard totals per organisation and per kind, for the breakdowns under those filters",
    _sqlite_dashboard.STATEMENTS_V22,
    fill=_sqlite_dashboard.fill_scoped,
)

#: Every migration, in order. The last one's version is the current schema version.
MIGRATIONS: tuple[Migration, ...] = (
    _V1,
    _V2,
    _V3,
    _V4,
    _V5,
    _V6,
    _KEYS_FROM_1C,
    _DASHBOARD_SUMMARY,
    _RETENTION,
    _REQUEST_FIRING,
    _FILTERED_DASHBOARD,
    _NO_RULE_INDEX,
    _BULK_LOAD,
    _LEDGER_BY_DOCUMENT,
    _EVENTS_KEY,
    _LEDGER_COUNTS,
    _LEDGER_COUNTS_BY_MONTH,
    _LEDGER_COUNTS_BY_DAY,
    _KIND_SUMMARY,
    _TOTALS,
    _SCOPED_TOTALS,
)
CURRENT_VERSION = MIGRATIONS[-1].version

_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER NOT NULL, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


class ForeignDatabaseError(Exception):
    """The file is a SQLite database, but not one of ours."""

    def __init__(self, tables: list[str]):
        self.tables = tables
        super().__init__(", ".join(tables))


class TooNewError(Exception):
    """The file was written by a newer edo-rules."""

    def __init__(self, version: int):
        self.version = version
        super().__init__(str(version))


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return sorted(str(row[0]) for row in rows)


def current_version(conn: sqlite3.Connection) -> int:
    """The file's schema version; 0 for an empty file. Raises ForeignDatabaseError / TooNewError."""
    tables = _tables(conn)
    if not tables:
        return 0
    if "schema_version" not in tables:
        raise ForeignDatabaseError(tables)
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    version = int(row[0] or 0)
    if version > CURRENT_VERSION:
        raise TooNewError(version)
    return version


def migrate(conn: sqlite3.Connection, target: int = CURRENT_VERSION) -> int:
    """Bring the file up to ``target``; returns the version it started from.

    ``conn`` must be in autocommit mode (``isolation_level=None``): each
    migration runs in its own ``BEGIN IMMEDIATE`` transaction.
    """
    start = current_version(conn)
    for migration in MIGRATIONS:
        if start < migration.version <= target:
            _apply(conn, migration)
    return start


def _apply(conn: sqlite3.Connection, migration: Migration) -> None:
    # The pragma is a no-op inside a transaction: set before it, restored after.
    enforced = bool(conn.execute("PRAGMA foreign_keys").fetchone()[0])
    if migration.rebuilds:
        conn.execute("PRAGMA foreign_keys = OFF")
    try:
        _transaction(conn, migration)
    finally:
        if migration.rebuilds and enforced:
            conn.execute("PRAGMA foreign_keys = ON")


def _transaction(conn: sqlite3.Connection, migration: Migration) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(_VERSION_TABLE)
        for statement in migration.statements:
            conn.execute(statement)
        if migration.fill is not None:
            migration.fill(conn)
        if migration.rebuilds and conn.execute("PRAGMA foreign_key_check").fetchone():
            raise sqlite3.IntegrityError(f"migration {migration.version}: foreign key broken")
        conn.execute(
            "INSERT INTO schema_version (version, description, applied_at)"
            " VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
            (migration.version, migration.description),
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
