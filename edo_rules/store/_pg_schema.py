"""The PostgreSQL schema as ordered migrations, and the code that applies them.

The layout follows SQLite's current schema (so the shared SQL runs on both),
with two PostgreSQL-specific choices:

* timestamps are the same normalised UTC ISO text as in SQLite
  (``store.base.episode_of``), because an episode *is* that text and the SQL
  compares them directly; the columns use the ``"C"`` collation so that text
  order is byte order (chronological) whatever the database's locale;
* the outbox carries ``claimed_by`` / ``claimed_until`` for several runners.

The database records its version in ``edo_schema_version``. An empty database
is set up on first open; an older one is brought up to date only by
``edo-rules store migrate`` (several runners may share it); a newer one is
refused. Migrations run under an advisory lock. Never edit a released
migration: append a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from edo_rules.model import TIMESTAMP_FIELDS
from edo_rules.store import _pg_dashboard, _pg_ledger

#: The advisory lock key taken while migrating (any constant unique to edo-rules).
MIGRATION_LOCK = 0x6564_6F5F_6D69  # "edo_mi"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]
    #: Fills the new tables from existing rows, in the migration's transaction.
    fill: Callable[[psycopg.Connection[Any]], None] | None = None


_TS = 'TEXT COLLATE "C"'


def _document_indexes() -> tuple[str, ...]:
    per_field = tuple(
        f"CREATE INDEX documents_status_{name} ON documents (status, {name}) "
        f"WHERE {name} IS NOT NULL"
        for name in TIMESTAMP_FIELDS
    )
    return (
        *per_field,
        "CREATE INDEX documents_inn ON documents (counterparty_inn)",
        "CREATE INDEX documents_seq ON documents (seq)",
    )


_V1 = Migration(
    1,
    "documents, history, ledger, outbox with claims, outcomes, sync state, cache,"
    " cursors, progress, snoozes",
    (
        "CREATE TABLE documents ("
        " id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL,"
        " direction TEXT NOT NULL, counterparty_inn TEXT, amount DOUBLE PRECISION,"
        + "".join(f" {name} {_TS}," for name in TIMESTAMP_FIELDS)
        + " json TEXT NOT NULL, seq BIGINT NOT NULL DEFAULT 0)",
        *_document_indexes(),
        "CREATE TABLE status_events ("
        " id BIGSERIAL PRIMARY KEY,"
        " document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,"
        f" at_utc {_TS} NOT NULL, at TEXT NOT NULL,"
        " from_status TEXT, from_raw TEXT, to_status TEXT NOT NULL, to_raw TEXT NOT NULL,"
        " comment TEXT, actor TEXT, historical INTEGER NOT NULL DEFAULT 0,"
        " UNIQUE (document_id, at_utc, to_raw))",
        "CREATE TABLE firings ("
        " id BIGSERIAL PRIMARY KEY,"
        " rule_key TEXT NOT NULL,"
        " document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,"
        f" step TEXT NOT NULL, episode {_TS} NOT NULL,"
        " due_at TEXT NOT NULL, fired_at TEXT NOT NULL, playbook_hash TEXT NOT NULL,"
        " skipped INTEGER NOT NULL DEFAULT 0,"
        " UNIQUE (rule_key, document_id, step, episode))",
        "CREATE INDEX firings_document ON firings (document_id)",
        "CREATE TABLE action_requests ("
        " id BIGSERIAL PRIMARY KEY,"
        " firing_id BIGINT REFERENCES firings (id) ON DELETE CASCADE,"
        " action TEXT NOT NULL, params TEXT NOT NULL,"
        " idempotency_key TEXT NOT NULL UNIQUE,"
        " document_id TEXT NOT NULL, rule_key TEXT NOT NULL, created_at TEXT NOT NULL,"
        " state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
        f" next_attempt_at {_TS}, last_error TEXT, due_at TEXT,"
        # A claim's lease runs on the server's clock: runners on several hosts agree on it.
        " claimed_by TEXT, claimed_until TIMESTAMPTZ)",
        "CREATE INDEX action_requests_due ON action_requests (state, next_attempt_at, id)",
        "CREATE TABLE outcomes ("
        " id BIGSERIAL PRIMARY KEY,"
        " request_id BIGINT NOT NULL REFERENCES action_requests (id) ON DELETE CASCADE,"
        " status TEXT NOT NULL, at TEXT NOT NULL, remote_id TEXT, reason TEXT,"
        " retry_after DOUBLE PRECISION)",
        "CREATE INDEX outcomes_request ON outcomes (request_id)",
        "CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE cache (key TEXT PRIMARY KEY, value TEXT NOT NULL,"
        f" expires_at {_TS} NOT NULL)",
        "CREATE TABLE event_cursors (rule_key TEXT PRIMARY KEY, last_event_id BIGINT NOT NULL)",
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
        "INSERT INTO counters (name, value) VALUES ('document_seq', 0)",
        "CREATE TABLE rule_progress (rule_key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,"
        " document_seq BIGINT NOT NULL, ranges TEXT NOT NULL)",
        "CREATE TABLE snoozes ("
        " id BIGSERIAL PRIMARY KEY,"
        " document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,"
        f" rule_key TEXT, until {_TS} NOT NULL, reason TEXT, created_at TEXT NOT NULL,"
        " after_event_id BIGINT NOT NULL DEFAULT 0, released INTEGER NOT NULL DEFAULT 0)",
        "CREATE INDEX snoozes_document ON snoozes (document_id, until)",
        "CREATE INDEX snoozes_unreleased ON snoozes (until) WHERE released = 0",
    ),
)

_V2 = Migration(
    2,
    "runners and leases: several runners on one database",
    (
        # Each live runner's heartbeat; the Bitrix24 rate is shared among the live ones.
        "CREATE TABLE runners (id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL,"
        " started_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),"
        " seen_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(), lease_seconds REAL NOT NULL)",
        # Work only one runner does at a time (the sync), on the server's clock.
        "CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL,"
        " until TIMESTAMPTZ NOT NULL)",
        "CREATE INDEX action_requests_claims ON action_requests (claimed_by)"
        " WHERE state = 'in_flight'",
    ),
)

_V3 = Migration(
    3,
    "counterparty statistics: one sample per document and per-counterparty histograms",
    (
        # The statistics walk the documents written since their cursor in (seq, id) order.
        "DROP INDEX IF EXISTS documents_seq",
        "CREATE INDEX documents_seq ON documents (seq, id)",
        "CREATE TABLE counterparty_samples (document_id TEXT PRIMARY KEY, inn TEXT NOT NULL,"
        f" month {_TS} NOT NULL, outcome TEXT NOT NULL, working_days INTEGER NOT NULL)",
        f"CREATE TABLE counterparty_histogram (inn TEXT NOT NULL, month {_TS} NOT NULL,"
        " outcome TEXT NOT NULL, working_days INTEGER NOT NULL, count INTEGER NOT NULL,"
        " PRIMARY KEY (inn, month, outcome, working_days))",
        "INSERT INTO counters (name, value) VALUES ('stats_seq', 0)",
    ),
)

_V4 = Migration(
    4,
    "dashboard columns (number, date, organization, counterparty, responsible, CRM ids)",
    (
        *(
            f"ALTER TABLE documents ADD COLUMN {name} TEXT"
            for name in (
                "number",
                "doc_date",
                "organization",
                "counterparty_name",
                "responsible",
                "deal_id",
                "company_id",
            )
        ),
        # Existing rows get the values from the JSON every row already carries.
        "UPDATE documents SET number = json::jsonb ->> 'number',"
        " doc_date = json::jsonb ->> 'date', organization = json::jsonb ->> 'organization',"
        " counterparty_name = json::jsonb -> 'counterparty' ->> 'name',"
        " responsible = json::jsonb ->> 'responsible',"
        " deal_id = json::jsonb -> 'crm' ->> 'deal_id',"
        " company_id = json::jsonb -> 'crm' ->> 'company_id'",
        "CREATE INDEX documents_responsible ON documents (responsible)",
        "CREATE INDEX action_requests_document ON action_requests (document_id)",
    ),
)

# Self-contained (a new table only), so it can be renumbered if another migration lands first.
_RETENTION = Migration(
    5,
    "retention: tombstones of the documents pruned from the store",
    (
        f"CREATE TABLE pruned_documents (id TEXT PRIMARY KEY, status_changed_at {_TS} NOT NULL,"
        f" pruned_at {_TS} NOT NULL)",
    ),
)

# Deleting a firing (retention, an undone tick) cascades to its requests: without
# this index each deleted firing scans the whole outbox.
_REQUEST_FIRING = Migration(
    6,
    "index: the outbox requests of a firing",
    ("CREATE INDEX action_requests_firing ON action_requests (firing_id)",),
)

# Self-contained (it reads only v4's dashboard columns and v1's timestamps).
_DASHBOARD_SUMMARY = Migration(
    7,
    "dashboard summary: per-group counts kept by triggers, working-day ranks, wait-start index",
    _pg_dashboard.STATEMENTS_V7,
    # Existing documents: the bundled calendar's ranks, then the summary from every row.
    fill=_pg_dashboard.rebuild_v7,
)

# Self-contained (a new table only), so it can be renumbered if another migration lands first.
_REFRESH_REQUESTS = Migration(
    8,
    "refresh requests: on-demand refreshes served by the runner holding the sync lease",
    (
        # A runner without the sync lease (or `edo-rules sync --document`) asks here; the
        # holder takes the request (served_by, for a lease), refreshes, writes the answer.
        "CREATE TABLE sync_requests (id BIGSERIAL PRIMARY KEY, request TEXT NOT NULL,"
        " asked_by TEXT NOT NULL,"
        " asked_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),"
        " served_by TEXT, served_until TIMESTAMPTZ, answer TEXT, answered_at TIMESTAMPTZ)",
        "CREATE INDEX sync_requests_open ON sync_requests (id) WHERE answer IS NULL",
    ),
)

# Self-contained (the v7 summary and v4's columns only), so it can be renumbered.
_FILTERED_DASHBOARD = Migration(
    9,
    "dashboard summary keyed by organisation; date- and manager-led covering indexes",
    _pg_dashboard.STATEMENTS_V9,
    # The summary rebuilt from every row with its new key (the ranks kept).
    fill=_pg_dashboard.rebuild_v9,
)

# Self-contained (one index dropped), so it can be renumbered if another migration lands first.
# Every firing a tick records wrote one more entry here; the ledger's unique key
# (rule_key, document_id, step, episode) leads with the rule, so it already serves
# every query by rule (recorded steps, "no firing yet", the dashboard's noisy rules).
_NO_RULE_INDEX = Migration(
    10,
    "drop firings_rule: the ledger's unique key, rule first, serves the queries by rule",
    ("DROP INDEX IF EXISTS firings_rule",),
)

# Self-contained (one constraint dropped), so it can be renumbered.
# A tick writes a firing per due document at random documents; the foreign key to
# `documents` checked each row with a `FOR KEY SHARE` lock, which writes into a
# random page of the largest table: 61 % of the firings' insert at 1M documents
# (docs/engine.md, "Writing the ledger"). The integrity it gave is kept by the
# writers: a tick inserts only the firings whose document exists, under a shared
# advisory lock that a prune takes exclusively while it deletes documents and their
# firings (store._pg_outbox, store._prune). Unlike SQLite's v14, the ledger's key
# keeps the rule first: PostgreSQL's planner answers a full re-scan's "not yet
# recorded" with a hash anti-join over the rule's firings, read by that key.
_NO_DOCUMENT_KEY = Migration(
    11,
    "firings without a foreign key to documents (the writers keep it)",
    ("ALTER TABLE firings DROP CONSTRAINT IF EXISTS firings_document_id_fkey",),
)

# Self-contained (new tables and triggers over v1's ledger and v4's columns), so it can
# be renumbered. The dashboard's «Узкие места» joined every firing and request to its
# document: seconds at a million documents (benchmarks/README.md).
_LEDGER_COUNTS = Migration(
    12,
    "ledger counts: pending rows by document and folded deltas by document filters",
    _pg_ledger.STATEMENTS_V12,
)

# Self-contained (a column on v12's table, its documents function replaced, the counts
# filled again), so it can be renumbered. Under a period «Узкие места» still joined the
# period's documents to their ledger rows: 1.7 s for a month at a million documents.
_LEDGER_COUNTS_BY_MONTH = Migration(
    13,
    "ledger counts by month of the document's date, for the dashboard's period filter",
    _pg_ledger.STATEMENTS_V13,
)

# Self-contained (a table beside v13's, its documents function replaced, the days filled
# from the ledger minus its pending rows), so it can be renumbered. A period starting or
# ending mid-month still joined the partial months' documents to their ledger rows:
# 1.4-2 s at a million.
_LEDGER_COUNTS_BY_DAY = Migration(
    14,
    "ledger counts by the document's date, for periods that are not whole months",
    _pg_ledger.STATEMENTS_V14,
)

# Self-contained (a new table filled from v4's columns, the v9 trigger function replaced
# to keep it too), so it can be renumbered. The summary is keyed by organisation, not by
# kind: under a kind filter the breakdowns counted every document of the kind (seconds at
# a million documents).
_KIND_SUMMARY = Migration(
    15,
    "dashboard summary by kind, for the dashboard's kind filter",
    _pg_dashboard.STATEMENTS_V15,
    fill=_pg_dashboard.fill_kinds,
)

# Self-contained (a new table filled from v4's columns, the v15 trigger function replaced
# to keep it too), so it can be renumbered. A page without filters read every status and
# organisation row of a group's summary (0.5 s at a million documents).
_TOTALS = Migration(
    16,
    "dashboard totals per group and working days to sign, for the unfiltered breakdowns",
    _pg_dashboard.STATEMENTS_V16,
    fill=_pg_dashboard.fill_totals,
)

# Self-contained (a new table filled from v4's columns, the v16 trigger function replaced
# to keep it too), so it can be renumbered. Under an organisation or a kind filter a
# breakdown read every status and rejection row of a group's summary: «По компаниям» for
# one kind at 125 ms of SQL at a million documents, against 53 ms without a filter.
_SCOPED_TOTALS = Migration(
    17,
    "dashboard totals per organisation and per kind, for the breakdowns under those filters",
    _pg_dashboard.STATEMENTS_V17,
    fill=_pg_dashboard.fill_scoped,
)

#: Every migration, in order. The last one's version is the current schema version.
MIGRATIONS: tuple[Migration, ...] = (
    _V1,
    _V2,
    _V3,
    _V4,
    _RETENTION,
    _REQUEST_FIRING,
    _DASHBOARD_SUMMARY,
    _REFRESH_REQUESTS,
    _FILTERED_DASHBOARD,
    _NO_RULE_INDEX,
    _NO_DOCUMENT_KEY,
    _LEDGER_COUNTS,
    _LEDGER_COUNTS_BY_MONTH,
    _LEDGER_COUNTS_BY_DAY,
    _KIND_SUMMARY,
    _TOTALS,
    _SCOPED_TOTALS,
)
CURRENT_VERSION = MIGRATIONS[-1].version

_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS edo_schema_version ("
    " version INTEGER NOT NULL, description TEXT NOT NULL,"
    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
)


class ForeignDatabaseError(Exception):
    """The schema has tables, but not ours."""

    def __init__(self, tables: list[str]):
        self.tables = tables
        super().__init__(", ".join(tables))


class TooNewError(Exception):
    """The database was written by a newer edo-rules."""

    def __init__(self, version: int):
        self.version = version
        super().__init__(str(version))


class TooOldError(Exception):
    """The database needs ``edo-rules store migrate``."""

    def __init__(self, version: int):
        self.version = version
        super().__init__(str(version))


def _tables(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    ).fetchall()
    return sorted(str(row[0]) for row in rows)


def current_version(conn: psycopg.Connection[Any]) -> int:
    """The schema's version; 0 when empty. Raises ForeignDatabaseError / TooNewError."""
    tables = _tables(conn)
    if not tables:
        return 0
    if "edo_schema_version" not in tables:
        raise ForeignDatabaseError(tables)
    row = conn.execute("SELECT MAX(version) FROM edo_schema_version").fetchone()
    version = int(row[0] or 0) if row else 0
    if version > CURRENT_VERSION:
        raise TooNewError(version)
    return version


def migrate(
    conn: psycopg.Connection[Any], *, target: int = CURRENT_VERSION, upgrade: bool = True
) -> int:
    """Bring the schema up to ``target`` under an advisory lock; returns the starting version.

    With ``upgrade=False`` only an empty schema is set up; an older one raises
    :class:`TooOldError`. ``conn`` must be in autocommit mode; each migration
    runs in its own transaction.
    """
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        start = current_version(conn)
        if 0 < start < target and not upgrade:
            raise TooOldError(start)
        for migration in MIGRATIONS:
            if start < migration.version <= target:
                _apply(conn, migration)
        if target >= _DASHBOARD_SUMMARY.version:
            # A release with new calendar data recomputes the dashboard's spans.
            _pg_dashboard.ensure(conn)
        return start
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def _apply(conn: psycopg.Connection[Any], migration: Migration) -> None:
    with conn.transaction():
        conn.execute(_VERSION_TABLE)
        for statement in migration.statements:
            conn.execute(statement)
        if migration.fill is not None:
            migration.fill(conn)
        conn.execute(
            "INSERT INTO edo_schema_version (version, description) VALUES (%s, %s)",
            (migration.version, migration.description),
        )
