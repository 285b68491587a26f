"""The dashboard's summary in SQLite, kept by triggers as documents are written.

The breakdown pages (by manager, company, kind) count, per group,
documents by status, rejections and a histogram of working days from sending
to the counterparty's signature. Deriving those from the documents on every
request means joining every signed document to a working-day table twice (seconds
at a million documents). Instead ``dashboard_groups`` holds, per dimension and
group value, how many documents have each (working days to sign, status,
rejected) — triggers on ``documents`` add and remove one unit whenever a row is
inserted, changed in one of those columns, or deleted, in the same transaction,
so the summary always equals the documents whatever wrote them (sync, refresh,
copy, retention).

Working days need a calendar and a time zone. The store keeps the bundled
Russian production calendar as a rank table (``workday_ranks``: working days up
to and including each day, so ``rank(b) - rank(a)`` counts the working days in
``(a, b]``) and counts local days at UTC+3 (Moscow since 2014). A reader whose
calendar or zone differs (an override file, another region) cannot use the
spans and derives them itself; :func:`ensure` rewrites the table and the
summary when a newer release bundles different calendar data.
"""

from __future__ import annotations

import hashlib
import sqlite3
import warnings
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from functools import lru_cache
from typing import Protocol

#: Local days of the summary's spans: Moscow's offset from UTC (fixed since 2014).
OFFSET_MINUTES = 180
#: Years the rank tables cover: wider than any document's dates (the calendar
#: derives years past its data, with a warning of its own, silenced here).
RANK_YEARS = range(2013, 2061)
#: The columns the summary groups by: the breakdown pages' (each costs every document
#: write one more upsert; "kind" also gives the status counts, as every document has one).
DIMENSIONS = ("responsible", "counterparty_name", "kind")
#: The statuses of a document waiting for a signature (ours or the counterparty's), and
#: of a signed one: the totals (v21) count them as they are written, so a change here
#: needs a migration that fills the totals again.
WAITING = ("awaiting_our_signature", "sent")
SIGNED = ("signed", "signed_with_corrections", "closed")
#: The counter holding the fingerprint of the calendar the summary was built with.
_FINGERPRINT = "workday_ranks"


class WorkingDays(Protocol):
    def is_working_day(self, d: date) -> bool: ...


def working_day_ranks(calendar: WorkingDays) -> list[tuple[str, int]]:
    """(day, working days up to and including it): ``rank(b) - rank(a)`` counts (a, b]."""
    rows: list[tuple[str, int]] = []
    rank, day = 0, date(RANK_YEARS.start, 1, 1)
    last = date(RANK_YEARS.stop - 1, 12, 31)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while day <= last:
            rank += calendar.is_working_day(day)
            rows.append((day.isoformat(), rank))
            day += timedelta(days=1)
    return rows


@lru_cache(maxsize=1)
def bundled_ranks() -> tuple[tuple[str, int], ...]:
    """The rank table of the bundled calendar (no overrides), built once per process."""
    from edo_rules.calendar import ProductionCalendar

    return tuple(working_day_ranks(ProductionCalendar.russia()))


def fingerprint(ranks: tuple[tuple[str, int], ...] | list[tuple[str, int]]) -> int:
    """A 56-bit digest of a rank table (fits SQLite's INTEGER)."""
    digest = hashlib.sha256(repr(tuple(ranks)).encode()).digest()
    return int.from_bytes(digest[:7], "big")


def _rank(column: str) -> str:
    day = f"date({column}, '+{OFFSET_MINUTES} minutes')"
    return f"(SELECT rank FROM workday_ranks WHERE day = {day})"


def span(prefix: str = "") -> str:
    """Working days from sending to the counterparty's signature; -1 when either is unknown."""
    signed, sent = _rank(f"{prefix}counterparty_signed_at"), _rank(f"{prefix}sent_at")
    # max(0, NULL) is NULL in SQLite: a missing or out-of-range day gives -1.
    return f"IFNULL(MAX(0, {signed} - {sent}), -1)"


#: The summary's key in schema v8: per group, (working days to sign, status, rejected).
_KEY_V8 = ("dim", "known", "key", "sign_days", "status", "rejected")
#: Since v11 the key ends with the document's organisation ('' when unknown; a filter
#: value is never empty): an organisation filter reads the same rows, one
#: organisation's, and an unfiltered page sums the few organisations of a group.
#: Last in the key, so a group's rows stay in working-day order.
_KEY = (*_KEY_V8, "organization")

#: Since v20 a second summary, ``dashboard_kind_groups``, holds the same counts with the
#: document's kind leading the key: a kind filter reads one range of it, in the same
#: group and working-day order. Kind is not added to ``dashboard_groups``' key instead:
#: a counterparty's rows would double at a million documents (their few documents spread
#: over four kinds), and every page without a kind filter would read them all.
KIND_TABLE = "dashboard_kind_groups"
_KIND_KEY = ("kind", *_KEY)
#: The key columns that are a document's text column as it is ('' when unknown).
_PLAIN = ("organization", "kind")


def _conflict(key: tuple[str, ...]) -> str:
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET n = n + excluded.n"


def _dims(row: str, dims: tuple[str, ...] = DIMENSIONS) -> str:
    return " UNION ALL ".join(
        f"SELECT '{d}' AS dim, {row}.{d} IS NOT NULL AS known, IFNULL({row}.{d}, '') AS key"
        for d in dims
    )


def _bump(row: str, change: int, key: tuple[str, ...], table: str) -> str:
    """One statement adding ``change`` to the row's bucket in every dimension (NEW or OLD)."""
    values = {
        "dim": "g.dim",
        "known": "g.known",
        "key": "g.key",
        "sign_days": "s.days",
        "status": f"{row}.status",
        "rejected": f"{row}.rejected_at IS NOT NULL",
        **{c: f"IFNULL({row}.{c}, '')" for c in _PLAIN},
    }
    return (
        f"INSERT INTO {table} ({', '.join((*key, 'n'))}) SELECT"
        f" {', '.join(values[c] for c in key)}, {change}"
        f" FROM (SELECT {span(row + '.')} AS days) AS s, ({_dims(row)}) AS g"
        f" WHERE true {_conflict(key)};"
    )


#: A summary: (its key, its table).
Summary = tuple[tuple[str, ...], str]
_V8: tuple[Summary, ...] = ((_KEY_V8, "dashboard_groups"),)
_V11: tuple[Summary, ...] = ((_KEY, "dashboard_groups"),)
#: Since v20: both summaries, kept by the same triggers.
SUMMARIES: tuple[Summary, ...] = (*_V11, (_KIND_KEY, KIND_TABLE))


#: A dialect's statement adding ``change`` to one summary's rows of a document (NEW or OLD).
Bump = Callable[[str, int, tuple[str, ...], str], str]


class BumpTotals(Protocol):
    """A dialect's statement adding ``change`` to the totals' (or scoped totals') rows."""

    def __call__(self, row: str, change: int, *, scoped: bool = False) -> str: ...


def trigger_bodies(
    bump: Bump,
    bump_totals: BumpTotals,
    summaries: tuple[Summary, ...],
    totals: bool = False,
    scoped: bool = False,
) -> tuple[str, str]:
    """(the statements taking a document's OLD row out, those putting its NEW row in):
    every summary's, then the totals' and the scoped totals' if kept (both dialects)."""

    def bodies(row: str, change: int) -> str:
        bumps = [bump(row, change, key, table) for key, table in summaries]
        bumps += [bump_totals(row, change)] if totals else []
        return " ".join([*bumps, bump_totals(row, change, scoped=True)] if scoped else bumps)

    return bodies("OLD", -1), bodies("NEW", 1)


#: Since v21 a third summary, ``dashboard_totals``: per dimension, group and working days
#: to sign, the documents and how many of them wait for a signature, were rejected and
#: are signed, whatever their status and organisation. A page without filters reads one
#: row per group and day: at a million documents 232,444 counterparty rows of
#: ``dashboard_groups`` (a day's rows split by status and organisation) are 83,986 here.
TOTALS_TABLE = "dashboard_totals"
_TOTALS_KEY = ("dim", "known", "key", "sign_days")

#: Since v22 the totals again per organisation and per kind, in ``dashboard_scoped_totals``
#: (``scope`` names the filter's column, ``value`` its value, '' when unknown). Under one
#: of those filters a breakdown reads one range of it instead of the summary's rows split
#: by status and rejection: at a million documents one organisation's counterparties are
#: 83,421 rows here against 142,353 in ``dashboard_groups`` (PostgreSQL's statement
#: 105 -> 61 ms), one kind's 70,089 against 128,078 (125 -> 51 ms).
#: Only the counterparties are kept so: the managers' and kinds' few groups are read
#: from the summaries in milliseconds, and each dimension kept costs every document
#: change two more upserts. Writing 20,000 changed documents in pages of 200 (the
#: summaries' triggers on) took 634 -> 860 us a document on SQLite and 476 -> 574 us on
#: PostgreSQL with the counterparties alone; with all three dimensions PostgreSQL's was
#: 485 -> 645 us.
SCOPED_TABLE = "dashboard_scoped_totals"
SCOPES = ("organization", "kind")
SCOPED_DIMENSIONS = ("counterparty_name",)
_SCOPED_KEY = ("scope", "value", *_TOTALS_KEY)


def in_list(values: Iterable[str]) -> str:
    """Constant texts as an SQL list, ``('a', 'b')`` (the dashboard's own status names)."""
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def tallies(row: str = "") -> dict[str, str]:
    """The totals' counts: each one's condition on a document (``row`` prefixes its columns)."""
    return {
        "n": "TRUE",
        "waiting": f"{row}status IN {in_list(WAITING)}",
        "rejected": f"{row}rejected_at IS NOT NULL",
        "signed": f"{row}status IN {in_list(SIGNED)}",
    }


def _bump_totals(row: str, change: int, *, scoped: bool = False) -> str:
    """One statement adding ``change`` to the row's totals in every dimension (and, if
    ``scoped``, in every scope: its organisation's and its kind's)."""
    counts = tallies(row + ".")
    key: tuple[str, ...] = _TOTALS_KEY
    table, scope, scopes = TOTALS_TABLE, "", ""
    if scoped:
        table, key, scope = SCOPED_TABLE, _SCOPED_KEY, "c.scope, c.value, "
        scopes = (
            ", ("
            + " UNION ALL ".join(
                f"SELECT '{c}' AS scope, IFNULL({row}.{c}, '') AS value" for c in SCOPES
            )
            + ") AS c"
        )
    return (
        f"INSERT INTO {table} ({', '.join((*key, *counts))}) SELECT {scope}"
        f"g.dim, g.known, g.key, s.days, {', '.join(f'{change} * ({c})' for c in counts.values())}"
        f" FROM (SELECT {span(row + '.')} AS days) AS s,"
        f" ({_dims(row, SCOPED_DIMENSIONS if scoped else DIMENSIONS)}) AS g{scopes}"
        f" WHERE true ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{c} = {c} + excluded.{c}" for c in counts)
        + ";"
    )


#: An update moves a document between buckets only when one of these changes.
_WATCHED_V8 = ("status", "rejected_at", "sent_at", "counterparty_signed_at", *DIMENSIONS)
_WATCHED = (*_WATCHED_V8, "organization")


def _triggers(
    summaries: tuple[Summary, ...],
    watched: tuple[str, ...],
    totals: bool = False,
    scoped: bool = False,
) -> tuple[str, ...]:
    """The triggers keeping ``summaries`` (and the totals, and the scoped totals) as
    documents are written."""
    removed, added = trigger_bodies(_bump, _bump_totals, summaries, totals, scoped)
    return (
        f"CREATE TRIGGER documents_groups_insert AFTER INSERT ON documents BEGIN {added} END",
        "CREATE TRIGGER documents_groups_update AFTER UPDATE ON documents WHEN "
        + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watched)
        + f" BEGIN {removed} {added} END",
        f"CREATE TRIGGER documents_groups_delete AFTER DELETE ON documents BEGIN {removed} END",
    )


def totals_table(count: str = "INTEGER", rest: str = " WITHOUT ROWID", scoped: bool = False) -> str:
    """The totals' table, or the scoped totals' (``count``: the counts' type; ``rest`` ends
    the statement)."""
    counts = "".join(f" {c} {count} NOT NULL," for c in tallies())
    key: tuple[str, ...] = _TOTALS_KEY
    table, scope = TOTALS_TABLE, ""
    if scoped:
        table, key, scope = SCOPED_TABLE, _SCOPED_KEY, "scope TEXT NOT NULL, value TEXT NOT NULL, "
    return (
        f"CREATE TABLE {table} ({scope}dim TEXT NOT NULL, known INTEGER NOT NULL,"
        f" key TEXT NOT NULL, sign_days INTEGER NOT NULL,{counts}"
        f" PRIMARY KEY ({', '.join(key)})){rest}"
    )


def _table(key: tuple[str, ...], table: str = "dashboard_groups") -> str:
    columns = "".join(f" {c} TEXT NOT NULL," for c in key if c in _PLAIN)
    return (
        f"CREATE TABLE {table} (dim TEXT NOT NULL, known INTEGER NOT NULL,"
        " key TEXT NOT NULL, sign_days INTEGER NOT NULL, status TEXT NOT NULL,"
        f" rejected INTEGER NOT NULL,{columns} n INTEGER NOT NULL,"
        f" PRIMARY KEY ({', '.join(key)})) WITHOUT ROWID"
    )


#: Schema v8 (frozen: migrations are never edited).
STATEMENTS_V8: tuple[str, ...] = (
    "CREATE TABLE workday_ranks (day TEXT PRIMARY KEY, rank INTEGER NOT NULL) WITHOUT ROWID",
    # Zero-count rows may remain after moves; readers skip groups whose sum is 0.
    _table(_KEY_V8),
    *_triggers(_V8, _WATCHED_V8),
    # When each waiting or stuck document's wait began, in order: the age buckets
    # and "overdue" count the few recent (and unknown) starts through it, and
    # "stuck longest" reads the first rows of each status.
    "CREATE INDEX documents_wait_start ON documents (status, COALESCE(sent_at, status_changed_at))",
)

#: The columns a filtered page aggregates, after the filter's own: an index led by
#: the filter column and carrying these answers the page from the index alone.
COVERED = (
    "status",
    "organization",
    "responsible",
    "kind",
    "counterparty_name",
    "counterparty_inn",
    "doc_date",
    "sent_at",
    "status_changed_at",
    "counterparty_signed_at",
    "rejected_at",
)


def covering_index(name: str, lead: str) -> str:
    """An index on ``lead`` then every other column a page aggregates."""
    rest = ", ".join(c for c in COVERED if c != lead)
    return f"CREATE INDEX {name} ON documents ({lead}, {rest})"


#: The filters' columns, carried by the (status, moment) indexes the weekly trend and
#: "signed this week/month" read: a filtered count never reads a row.
FILTER_COLUMNS = "organization, responsible, kind, doc_date, counterparty_name, counterparty_inn"


def moment_index(column: str) -> tuple[str, str]:
    """Schema v1's (status, ``column``) index, replaced by one carrying the filters."""
    name = f"documents_status_{column}"
    return (
        f"DROP INDEX {name}",
        f"CREATE INDEX {name} ON documents (status, {column}, {FILTER_COLUMNS})"
        f" WHERE {column} IS NOT NULL",
    )


#: Schema v11: the summary keyed by organisation too; the period and manager
#: filters read a slice of an index that covers every column a page aggregates.
STATEMENTS_V11: tuple[str, ...] = (
    *(f"DROP TRIGGER documents_groups_{op}" for op in ("insert", "update", "delete")),
    "DROP TABLE dashboard_groups",
    _table(_KEY),
    *_triggers(_V11, _WATCHED),
    covering_index("documents_by_date", "doc_date"),
    # Replaces the plain manager index (the filter form's list reads either alike).
    "DROP INDEX documents_responsible",
    covering_index("documents_responsible", "responsible"),
    *moment_index("sent_at"),
    *moment_index("counterparty_signed_at"),
)


#: Schema v20: the summary by kind beside the first, both kept by the same triggers.
STATEMENTS_V20: tuple[str, ...] = (
    *(f"DROP TRIGGER documents_groups_{op}" for op in ("insert", "update", "delete")),
    _table(_KIND_KEY, KIND_TABLE),
    *_triggers(SUMMARIES, _WATCHED),
)


#: Schema v21: the totals beside both summaries, all three kept by the same triggers.
STATEMENTS_V21: tuple[str, ...] = (
    *(f"DROP TRIGGER documents_groups_{op}" for op in ("insert", "update", "delete")),
    totals_table(),
    *_triggers(SUMMARIES, _WATCHED, totals=True),
)


#: Schema v22: the scoped totals beside the rest, all four kept by the same triggers.
STATEMENTS_V22: tuple[str, ...] = (
    *(f"DROP TRIGGER documents_groups_{op}" for op in ("insert", "update", "delete")),
    totals_table(scoped=True),
    *_triggers(SUMMARIES, _WATCHED, totals=True, scoped=True),
)


def rebuild_v8(conn: sqlite3.Connection) -> None:
    """Schema v8's fill (frozen): the summary without the organisation."""
    _fill(conn, _V8)


def rebuild_v11(conn: sqlite3.Connection) -> None:
    """Schema v11's fill (frozen): the summary keyed by organisation, not yet by kind."""
    _fill(conn, _V11)


def rebuild(conn: sqlite3.Connection) -> None:
    """Inside the caller's transaction: the bundled rank table, the summaries and the
    totals from scratch."""
    _fill(conn, SUMMARIES)
    fill_totals(conn)
    fill_scoped(conn)


def fill_kinds(conn: sqlite3.Connection) -> None:
    """Schema v20's fill: the summary by kind from every document (the first is kept, and
    the rank table its spans were counted with)."""
    _count(conn, ((_KIND_KEY, KIND_TABLE),))


def fill_totals(conn: sqlite3.Connection) -> None:
    """Schema v21's fill: the totals from every document, with the stored rank table."""
    conn.execute(f"DELETE FROM {TOTALS_TABLE}")
    for statement in totals_statements(span()):
        conn.execute(statement)


def fill_scoped(conn: sqlite3.Connection) -> None:
    """Schema v22's fill: the scoped totals from every document, with the stored rank table."""
    conn.execute(f"DELETE FROM {SCOPED_TABLE}")
    for statement in scoped_statements(span()):
        conn.execute(statement)


def _fill(conn: sqlite3.Connection, summaries: tuple[Summary, ...]) -> None:
    conn.execute("DELETE FROM workday_ranks")
    conn.executemany("INSERT INTO workday_ranks (day, rank) VALUES (?, ?)", bundled_ranks())
    _count(conn, summaries)
    _set_counter(conn, _FINGERPRINT, _bundled_fingerprint())
    _set_counter(conn, _SOURCE, _source_key())


def _count(conn: sqlite3.Connection, summaries: tuple[Summary, ...]) -> None:
    """``summaries`` counted again from every document, with the stored rank table."""
    for key, table in summaries:
        conn.execute(f"DELETE FROM {table}")
        for statement in fill_statements(key, span(), table):
            conn.execute(statement)


def fill_statements(key: tuple[str, ...], days: str, table: str = "dashboard_groups") -> list[str]:
    """A summary counted from every document, a statement per dimension; ``days`` is
    the dialect's working days to signature (PostgreSQL builds its summary with these too).
    Grouped in the key's order (the dimension is one constant), rows come in key order."""
    by = ", ".join(str(k) for k, column in enumerate(key, 1) if column != "dim")
    return [
        f"INSERT INTO {table} ({', '.join((*key, 'n'))}) SELECT"
        f" {', '.join(_counted(dim, days)[c] for c in key)}, COUNT(*)"
        f" FROM documents GROUP BY {by}"
        for dim in DIMENSIONS
    ]


def totals_statements(days: str) -> list[str]:
    """The totals counted from every document, a statement per dimension (both dialects)."""
    counted = tallies()
    counts = ", ".join(f"SUM(CASE WHEN {c} THEN 1 ELSE 0 END)" for c in counted.values())
    return [
        f"INSERT INTO {TOTALS_TABLE} ({', '.join((*_TOTALS_KEY, *counted))}) SELECT"
        f" {', '.join(_counted(dim, days)[c] for c in _TOTALS_KEY)}, {counts}"
        " FROM documents GROUP BY 2, 3, 4"
        for dim in DIMENSIONS
    ]


def scoped_statements(days: str) -> list[str]:
    """The scoped totals counted from every document, a statement per scope and kept
    dimension (both dialects)."""
    counted = tallies()
    counts = ", ".join(f"SUM(CASE WHEN {c} THEN 1 ELSE 0 END)" for c in counted.values())
    return [
        f"INSERT INTO {SCOPED_TABLE} ({', '.join((*_SCOPED_KEY, *counted))}) SELECT"
        f" '{scope}', COALESCE({scope}, ''),"
        f" {', '.join(_counted(dim, days)[c] for c in _TOTALS_KEY)}, {counts}"
        " FROM documents GROUP BY 2, 4, 5, 6"
        for scope in SCOPES
        for dim in SCOPED_DIMENSIONS
    ]


def _counted(dim: str, days: str) -> dict[str, str]:
    """Each key column's value, counted over the documents for dimension ``dim``."""
    return {
        "dim": f"'{dim}'",
        "known": f"CASE WHEN {dim} IS NULL THEN 0 ELSE 1 END",
        "key": f"COALESCE({dim}, '')",
        "sign_days": days,
        "status": "status",
        "rejected": "CASE WHEN rejected_at IS NULL THEN 0 ELSE 1 END",
        **{c: f"COALESCE({c}, '')" for c in _PLAIN},
    }


@lru_cache(maxsize=1)
def _bundled_fingerprint() -> int:
    return fingerprint(bundled_ranks())


#: The counter holding a digest of the calendar's data and code the ranks came from.
_SOURCE = "workday_ranks_source"


@lru_cache(maxsize=1)
def _source_key() -> int:
    """A digest of what the bundled ranks are computed from (the data file and the
    calendar's code): reading it costs a millisecond where the ranks cost 100 ms."""
    from importlib import resources

    package = resources.files("edo_rules.calendar")
    digest = hashlib.sha256(repr((RANK_YEARS, OFFSET_MINUTES)).encode())
    for name in ("data/ru.json", "_calendar.py", "_data.py", "_derive.py", "_year.py"):
        digest.update(package.joinpath(name).read_bytes())
    return int.from_bytes(digest.digest()[:7], "big")


def _counter(conn: sqlite3.Connection, name: str) -> int | None:
    row = conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
    return None if row is None else int(row[0])


def _set_counter(conn: sqlite3.Connection, name: str, value: int) -> None:
    conn.execute(
        "INSERT INTO counters (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, value),
    )


def ensure(conn: sqlite3.Connection) -> bool:
    """Rebuild when the bundled calendar changed since the summary was built; True if it did.

    The usual open reads one counter: the ranks are computed again only when the
    calendar's data or code changed, and the summary rebuilt only if they differ.
    """
    if _counter(conn, _SOURCE) == _source_key():
        return False
    rebuilt = _counter(conn, _FINGERPRINT) != _bundled_fingerprint()
    conn.execute("BEGIN IMMEDIATE")
    try:
        if rebuilt:
            rebuild(conn)
        _set_counter(conn, _SOURCE, _source_key())
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return rebuilt
