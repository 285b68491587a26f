"""The dashboard's summary in PostgreSQL: the same tables as SQLite's, kept by PL/pgSQL.

``dashboard_groups`` and ``workday_ranks`` have the layout and meaning of
:mod:`edo_rules.store._sqlite_dashboard` (read that module's notes): per
dimension and group value, how many documents have each (working days to sign,
status, rejected), changed by a row trigger on ``documents`` in the writer's
transaction. The dashboard's SQL reads both stores' summaries alike.

The trigger function pins its ``search_path`` to the schema it was created
in: a scratch copy (:meth:`PostgresStore.scratch_copy`) is written through a
connection whose path names the original schema, and its rows must still be
counted in the copy's own summary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edo_rules.store._sqlite_dashboard import (
    _FINGERPRINT,
    _KEY,
    _KEY_V8,
    _KIND_KEY,
    _PLAIN,
    _SCOPED_KEY,
    _SOURCE,
    _TOTALS_KEY,
    _V8,
    _V11,
    _WATCHED,
    _WATCHED_V8,
    DIMENSIONS,
    KIND_TABLE,
    OFFSET_MINUTES,
    SCOPED_DIMENSIONS,
    SCOPED_TABLE,
    SCOPES,
    SUMMARIES,
    TOTALS_TABLE,
    Summary,
    _bundled_fingerprint,
    _source_key,
    bundled_ranks,
    covering_index,
    fill_statements,
    moment_index,
    scoped_statements,
    tallies,
    totals_statements,
    totals_table,
    trigger_bodies,
)

if TYPE_CHECKING:  # the web's dialect imports local_day without the optional psycopg
    import psycopg


def local_day(column: str, offset_minutes: int = OFFSET_MINUTES) -> str:
    """The local date (``YYYY-MM-DD``) of a UTC ISO text column.

    A timestamp-without-zone literal drops the ``+00:00`` (the text is UTC);
    ``to_char`` does not depend on the session's DateStyle.
    """
    return (
        f"to_char(CAST({column} AS timestamp) + interval '{offset_minutes} minutes', 'YYYY-MM-DD')"
    )


def _rank(column: str) -> str:
    return f"(SELECT rank FROM workday_ranks WHERE day = {local_day(column)})"


def span(prefix: str = "") -> str:
    """Working days from sending to the counterparty's signature; -1 when either is unknown.

    Unlike SQLite's ``max(0, NULL)``, ``GREATEST`` skips a NULL: the difference is
    tested for NULL first.
    """
    signed, sent = _rank(f"{prefix}counterparty_signed_at"), _rank(f"{prefix}sent_at")
    return (
        "(SELECT CASE WHEN x IS NULL THEN -1 ELSE GREATEST(0, x) END"
        f" FROM (SELECT {signed} - {sent} AS x) AS s)"
    )


def _bump(row: str, change: int, key: tuple[str, ...], table: str) -> str:
    """One statement adding ``change`` to the row's bucket in every dimension."""
    values = ", ".join(f"('{d}', {row}.{d})" for d in DIMENSIONS)
    columns = {
        "dim": "v.dim",
        "known": "CASE WHEN v.value IS NULL THEN 0 ELSE 1 END",
        "key": "COALESCE(v.value, '')",
        "sign_days": span(row + "."),
        "status": f"{row}.status",
        "rejected": f"CASE WHEN {row}.rejected_at IS NULL THEN 0 ELSE 1 END",
        **{c: f"COALESCE({row}.{c}, '')" for c in _PLAIN},
    }
    return (
        f"INSERT INTO {table} ({', '.join((*key, 'n'))}) SELECT"
        f" {', '.join(columns[c] for c in key)}, {change}"
        f" FROM (VALUES {values}) AS v (dim, value) ON CONFLICT ({', '.join(key)})"
        f" DO UPDATE SET n = {table}.n + excluded.n;"
    )


def _bump_totals(row: str, change: int, *, scoped: bool = False) -> str:
    """One statement adding ``change`` to the row's totals in every dimension (and, if
    ``scoped``, in every scope: its organisation's and its kind's)."""
    dims = SCOPED_DIMENSIONS if scoped else DIMENSIONS
    values = ", ".join(f"('{d}', {row}.{d})" for d in dims)
    counts = tallies(row + ".")
    key: tuple[str, ...] = _TOTALS_KEY
    table, scope, scopes = TOTALS_TABLE, "", ""
    if scoped:
        table, key, scope = SCOPED_TABLE, _SCOPED_KEY, "c.scope, COALESCE(c.value, ''), "
        listed = ", ".join(f"('{c}', {row}.{c})" for c in SCOPES)
        scopes = f" CROSS JOIN (VALUES {listed}) AS c (scope, value)"
    return (
        f"INSERT INTO {table} ({', '.join((*key, *counts))}) SELECT {scope}v.dim,"
        " CASE WHEN v.value IS NULL THEN 0 ELSE 1 END, COALESCE(v.value, ''),"
        f" {span(row + '.')}, "
        + ", ".join(f"CASE WHEN {c} THEN {change} ELSE 0 END" for c in counts.values())
        + f" FROM (VALUES {values}) AS v (dim, value){scopes} ON CONFLICT ({', '.join(key)})"
        " DO UPDATE SET " + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counts) + ";"
    )


def _function(summaries: tuple[Summary, ...], totals: bool = False, scoped: bool = False) -> str:
    removed, added = trigger_bodies(_bump, _bump_totals, summaries, totals, scoped)
    return (
        "CREATE FUNCTION edo_dashboard_groups() RETURNS trigger LANGUAGE plpgsql"
        " SET search_path FROM CURRENT AS $$ BEGIN"
        f" IF TG_OP <> 'INSERT' THEN {removed} END IF;"
        f" IF TG_OP <> 'DELETE' THEN {added} END IF;"
        " RETURN NULL; END $$"
    )


def _update_trigger(watched: tuple[str, ...]) -> str:
    return (
        "CREATE TRIGGER documents_groups_update AFTER UPDATE ON documents FOR EACH ROW WHEN ("
        + " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in watched)
        + ") EXECUTE FUNCTION edo_dashboard_groups()"
    )


def _table(key: tuple[str, ...], table: str = "dashboard_groups") -> str:
    columns = "".join(f" {c} TEXT NOT NULL," for c in key if c in _PLAIN)
    return (
        f"CREATE TABLE {table} (dim TEXT NOT NULL, known INTEGER NOT NULL,"
        " key TEXT NOT NULL, sign_days INTEGER NOT NULL, status TEXT NOT NULL,"
        f" rejected INTEGER NOT NULL,{columns} n BIGINT NOT NULL,"
        f" PRIMARY KEY ({', '.join(key)}))"
    )


#: Schema v7 (frozen: migrations are never edited).
STATEMENTS_V7: tuple[str, ...] = (
    "CREATE TABLE workday_ranks (day TEXT PRIMARY KEY, rank INTEGER NOT NULL)",
    # Zero-count rows may remain after moves; readers skip groups whose sum is 0.
    _table(_KEY_V8),
    _function(_V8),
    "CREATE TRIGGER documents_groups_insert AFTER INSERT ON documents"
    " FOR EACH ROW EXECUTE FUNCTION edo_dashboard_groups()",
    _update_trigger(_WATCHED_V8),
    "CREATE TRIGGER documents_groups_delete AFTER DELETE ON documents"
    " FOR EACH ROW EXECUTE FUNCTION edo_dashboard_groups()",
    # The wait start in order, per status: the age buckets' recent starts and
    # "stuck longest" read it (the expression is spelled as the queries spell it).
    "CREATE INDEX documents_wait_start ON documents"
    " (status, (COALESCE(sent_at, status_changed_at)))",
    # The lookups SQLite's store has had since its dashboard columns: search by
    # number and name prefix (pattern ops: LIKE 'prefix%' whatever the locale),
    # the organisation filter and list, deal and company pages, noisy rules.
    "CREATE INDEX documents_number ON documents (number)",
    "CREATE INDEX documents_counterparty_name ON documents (counterparty_name text_pattern_ops)",
    "CREATE INDEX documents_organization ON documents (organization)",
    "CREATE INDEX documents_deal ON documents (deal_id) WHERE deal_id IS NOT NULL",
    "CREATE INDEX documents_company ON documents (company_id) WHERE company_id IS NOT NULL",
    "CREATE INDEX firings_rule ON firings (rule_key)",
)

#: Schema v9: as SQLite's v11, the summary keyed by organisation too, and the
#: period and manager filters served from indexes covering what pages aggregate.
STATEMENTS_V9: tuple[str, ...] = (
    "DROP TRIGGER documents_groups_update ON documents",
    "DROP TABLE dashboard_groups",
    _table(_KEY),
    # The insert and delete triggers call the function by name: replaced in place.
    _function(_V11).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1),
    _update_trigger(_WATCHED),
    covering_index("documents_by_date", "doc_date"),
    "DROP INDEX documents_responsible",
    covering_index("documents_responsible", "responsible"),
    *moment_index("sent_at"),
    *moment_index("counterparty_signed_at"),
)


#: Schema v15: as SQLite's v20, the summary by kind beside the first (the trigger
#: function, called by name, is replaced in place to keep both).
STATEMENTS_V15: tuple[str, ...] = (
    _table(_KIND_KEY, KIND_TABLE),
    _function(SUMMARIES).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1),
)


#: Schema v16: as SQLite's v21, the totals beside both summaries (the function replaced
#: in place to keep all three).
STATEMENTS_V16: tuple[str, ...] = (
    totals_table("BIGINT", ""),
    _function(SUMMARIES, totals=True).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1),
)


#: Schema v17: as SQLite's v22, the totals per organisation and per kind beside the rest
#: (the function replaced in place to keep all four).
STATEMENTS_V17: tuple[str, ...] = (
    totals_table("BIGINT", "", scoped=True),
    _function(SUMMARIES, totals=True, scoped=True).replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
    ),
)


def rebuild_v7(conn: psycopg.Connection[Any]) -> None:
    """Schema v7's fill (frozen): the summary without the organisation."""
    _ranks_and_counters(conn)
    _fill(conn, _V8)


def rebuild_v9(conn: psycopg.Connection[Any]) -> None:
    """Schema v9's fill (frozen): the summary keyed by organisation, not yet by kind."""
    _fill(conn, _V11)


def rebuild(conn: psycopg.Connection[Any]) -> None:
    """Inside the caller's transaction: the bundled rank table and the summaries from scratch."""
    _ranks_and_counters(conn)
    rebuild_summary(conn)


def _ranks_and_counters(conn: psycopg.Connection[Any]) -> None:
    conn.execute("DELETE FROM workday_ranks")
    with conn.cursor().copy("COPY workday_ranks (day, rank) FROM STDIN") as copy:
        for row in bundled_ranks():
            copy.write_row(row)
    for name, value in ((_FINGERPRINT, _bundled_fingerprint()), (_SOURCE, _source_key())):
        conn.execute(
            "INSERT INTO counters (name, value) VALUES (%s, %s)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )


def rebuild_summary(conn: psycopg.Connection[Any]) -> None:
    """The summaries from every document, in one pass per dimension (the rank table kept).

    Bulk writers (``store copy``) disable the row trigger and call this instead:
    row by row, a million documents in one transaction would update the same few
    summary rows a million times, and each update walks its row's versions.
    """
    _fill(conn, SUMMARIES)
    fill_totals(conn)
    fill_scoped(conn)


def fill_totals(conn: psycopg.Connection[Any]) -> None:
    """Schema v16's fill: the totals from every document."""
    conn.execute(f"DELETE FROM {TOTALS_TABLE}")
    for statement in totals_statements(span()):
        conn.execute(statement)


def fill_scoped(conn: psycopg.Connection[Any]) -> None:
    """Schema v17's fill: the scoped totals from every document."""
    conn.execute(f"DELETE FROM {SCOPED_TABLE}")
    for statement in scoped_statements(span()):
        conn.execute(statement)


def fill_kinds(conn: psycopg.Connection[Any]) -> None:
    """Schema v15's fill: the summary by kind from every document."""
    _fill(conn, ((_KIND_KEY, KIND_TABLE),))


def _fill(conn: psycopg.Connection[Any], summaries: tuple[Summary, ...]) -> None:
    for key, table in summaries:
        conn.execute(f"DELETE FROM {table}")
        for statement in fill_statements(key, span(), table):
            conn.execute(statement)


def _counter(conn: psycopg.Connection[Any], name: str) -> int | None:
    row = conn.execute("SELECT value FROM counters WHERE name = %s", (name,)).fetchone()
    return None if row is None else int(row[0])


def ensure(conn: psycopg.Connection[Any]) -> bool:
    """Rebuild when the bundled calendar changed since the summary was built; True if it did.

    As :func:`edo_rules.store._sqlite_dashboard.ensure`: the usual open reads one
    counter. The caller holds the migration lock (several runners open at once).
    """
    if _counter(conn, _SOURCE) == _source_key():
        return False
    rebuilt = _counter(conn, _FINGERPRINT) != _bundled_fingerprint()
    with conn.transaction():
        if rebuilt:
            rebuild(conn)
        conn.execute(
            "INSERT INTO counters (name, value) VALUES (%s, %s)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (_SOURCE, _source_key()),
        )
    return rebuilt
