"""Read models that stay fast at a million documents.

Two things make them cheap:

* the store's ``dashboard_groups`` summary (kept by triggers, see
  ``store._sqlite_dashboard``): per group, documents by status, rejections and
  the histogram of working days to signature — a few rows per group instead of
  every document; under a kind filter, the same counts by kind
  (``dashboard_kind_groups``); without a filter, one row per group and day
  (``dashboard_totals``), and the counterparties' the same per organisation
  and per kind (``dashboard_scoped_totals``);
* the index on (status, wait start): of the documents waiting for a signature,
  only the recent ones (younger than the widest age bucket) and those with an
  unknown start need their local day; every older one is overdue and over ten
  working days old, so it is counted, not dated.

Each function gives the same numbers as the derivation in :mod:`._queries`,
which still serves what the summaries cannot (filters other than status, organisation
and kind, another calendar or time zone).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from edo_rules.store._sqlite_dashboard import (
    DIMENSIONS,
    KIND_TABLE,
    RANK_YEARS,
    SCOPED_DIMENSIONS,
    SCOPED_TABLE,
    SCOPES,
    TOTALS_TABLE,
    in_list,
)
from edo_rules.web._filters import Filters
from edo_rules.web._queries import (
    AGE_BUCKETS,
    SIGNED,
    WAITING,
    Context,
    bucket_of,
    local_midnight,
    pair_quantiles,
    working_age,
)

#: The wait start, exactly as the store's ``documents_wait_start`` index spells it.
START = "COALESCE(sent_at, status_changed_at)"
_FIRST_DAY = date(RANK_YEARS.start, 1, 1)


def answerable(filters: Filters) -> bool:
    """Whether the summaries can answer under these filters (they know the status, the
    organisation and the kind of their documents)."""
    return replace(filters, status=None, organization=None, kind=None) == Filters()


def _source(filters: Filters) -> tuple[str, str, list[object]]:
    """(summary table, its condition, parameters) under the filters (of which only status,
    organisation and kind are set): a kind filter reads one range of the summary by kind."""
    table = "dashboard_groups" if filters.kind is None else KIND_TABLE
    extra, params = "", list[object]()
    for column in ("kind", "status", "organization"):
        value = getattr(filters, column)
        if value is not None:
            extra += f" AND {column} = ?"
            params.append(value)
    return table, extra, params


# -- status counts ------------------------------------------------------------------------


def status_counts(ctx: Context, filters: Filters) -> dict[str, int]:
    """Documents per status: every document has one kind, so the kind rows count each once."""
    table, extra, params = _source(filters)
    rows = ctx.reader.rows(
        f"SELECT status, SUM(n) FROM {table} WHERE dim = 'kind'{extra}"
        " GROUP BY status HAVING SUM(n) > 0",
        params,
    )
    return {str(status): int(count) for status, count in rows}


# -- waiting documents by age ---------------------------------------------------------------


def _recent_from(ctx: Context, within: int) -> date:
    """The first day whose wait is at most ``within`` working days old today."""
    day = ctx.today
    while ctx.calendar.working_days_between(day - timedelta(days=1), ctx.today) <= within:
        day -= timedelta(days=1)
    return day


def _waiting_parts(
    ctx: Context, filters: Filters, group: str | None, within: int
) -> tuple[list[tuple[Any, str, int]], dict[Any, int]]:
    """(group, local day, count) of starts at most ``within`` working days old; per group,
    the starts unknown or before the counted years."""
    where, params = filters.where()
    key = group or "NULL"
    # PostgreSQL refuses a constant in GROUP BY: without a group, none.
    by = f"{group}, " if group else ""
    waiting = f"{where} AND status IN {in_list(WAITING)}"
    # Grouped by a column with an index of its own, the planner would rather walk that
    # index (every row) than the few rows of the wait-start range; a store with the
    # summary has the wait-start index.
    table = ctx.dialect.indexed("documents", "documents_wait_start") if ctx.summary else "documents"
    recent = ctx.reader.rows(
        f"SELECT {key}, {ctx.dialect.day(START)} AS d, COUNT(*) FROM {table}"
        f" WHERE {waiting} AND {START} >= ? GROUP BY {by}d",
        [*params, local_midnight(ctx, _recent_from(ctx, within))],
    )
    early: dict[Any, int] = defaultdict(int)
    for condition, extra in ((f"{START} IS NULL", []), (f"{START} < ?", [_first_bound(ctx)])):
        for value, count in ctx.reader.rows(
            f"SELECT {key}, COUNT(*) FROM {table} WHERE {waiting} AND {condition}"
            + (f" GROUP BY {group}" if group else ""),
            [*params, *extra],
        ):
            early[value] += int(count)
    return [(k, str(d), int(n)) for k, d, n in recent], early


def _first_bound(ctx: Context) -> str:
    return local_midnight(ctx, _FIRST_DAY)


def age_summary(
    ctx: Context, filters: Filters, counts: Mapping[str, int]
) -> tuple[dict[str, int], int]:
    """(unsigned per age bucket, overdue now); ``counts`` are the filters' status counts."""
    buckets = {label: 0 for label, _, _ in AGE_BUCKETS}
    within = max(AGE_BUCKETS[-2][2] or 0, ctx.overdue_after)
    recent, early = _waiting_parts(ctx, filters, None, within)
    old = sum(counts.get(s, 0) for s in WAITING) - sum(early.values())
    overdue = 0
    for _, day, count in recent:
        old -= count
        age = working_age(ctx, day)
        if age is not None:
            buckets[bucket_of(age)] += count
            overdue += count if age > ctx.overdue_after else 0
    # Every older wait is past the widest bucket and the overdue limit.
    buckets[AGE_BUCKETS[-1][0]] += old
    return buckets, overdue + old


def overdue_by(
    ctx: Context, filters: Filters, group: str, unsigned: Mapping[Any, int]
) -> dict[Any, int]:
    """Overdue documents per group value, given each group's unsigned count."""
    recent, early = _waiting_parts(ctx, filters, group, ctx.overdue_after)
    old = {key: count - early.get(key, 0) for key, count in unsigned.items()}
    overdue: dict[Any, int] = defaultdict(int)
    for key, day, count in recent:
        old[key] = old.get(key, 0) - count
        age = working_age(ctx, day)
        if age is not None and age > ctx.overdue_after:
            overdue[key] += count
    return {key: overdue.get(key, 0) + old.get(key, 0) for key in unsigned}


# -- breakdowns -------------------------------------------------------------------------------

#: Per group, in one pass over a dimension's summary rows: documents, rejections,
#: unsigned, and the histogram of working days to sign as "days count days count …" (a
#: day may repeat, once per status, organisation and rejection; ``pair_quantiles`` adds
#: them up, and checks the order). A group's rows come in day order: SQLite reads them
#: in the key's order; PostgreSQL sorts them by the integer day and its hash aggregate
#: appends them in that order (``pairs_order``). Summing each day in SQL first took a
#: second pass over the rows. At a million documents, «По компаниям»'s read model, medians
#: (benchmarks/README.md): SQLite 448 -> 255 ms unfiltered, 265 -> 187 ms for one
#: organisation. PostgreSQL's statement under the reader's work_mem: 389 ms unfiltered,
#: 197 ms for one organisation, 205 ms for one kind; ordered by (group, day) instead, its
#: planner sorted the rows by their text key (482, 222, 249 ms), and the unfiltered page
#: costs about as much as it did with two passes (the longer texts' quantiles: 97 ms).
#: The dimension is spelled in the statement, not passed: for ``dim = $1`` PostgreSQL's
#: generic plan (once a prepared statement has run five times) expects a third of the rows.
#: Ranking the days with window functions instead measured 4x slower in SQLite.
_GROUPS = (
    "SELECT known, key, SUM(n), {rejected}, {waiting}, {pairs}"
    " FROM (SELECT * FROM {table} WHERE dim = '{dim}'{status}{order}) AS g"
    " GROUP BY known, key HAVING SUM(n) > 0"
)
#: What a group sums from a summary's rows: (rejected, unsigned, the day and count of a
#: row that counts toward the histogram, NULL when it does not).
_SUMMARY_SUMS = (
    "SUM(CASE WHEN rejected = 1 THEN n ELSE 0 END)",
    f"SUM(CASE WHEN status IN {in_list(WAITING)} THEN n ELSE 0 END)",
    f"CASE WHEN status IN {in_list(SIGNED)} AND sign_days >= 0 AND n > 0"
    " THEN sign_days || ' ' || n END",
)
#: The same from the totals (read without a filter): one row per group and day, its
#: counts already split by what the page shows (each day once in the histogram's text).
_TOTALS_SUMS = (
    "SUM(rejected)",
    "SUM(waiting)",
    "CASE WHEN sign_days >= 0 AND signed > 0 THEN sign_days || ' ' || signed END",
)


def _scope(filters: Filters, column: str) -> tuple[str, str] | None:
    """(scope, value) of the scoped totals that answer the filters for ``column``'s groups:
    an organisation or a kind, alone (a status needs the summaries' rows by status)."""
    if filters.status is not None or column not in SCOPED_DIMENSIONS:
        return None
    found = [(c, getattr(filters, c)) for c in SCOPES if getattr(filters, c) is not None]
    return found[0] if len(found) == 1 else None


def _groups_source(
    filters: Filters, column: str
) -> tuple[str, str, list[object], tuple[str, str, str]]:
    """(table, its condition, parameters, what a group sums) for ``column``'s groups: the
    scoped totals for an organisation or a kind alone, the totals without a filter, else
    the summaries' rows by status."""
    scope = _scope(filters, column)
    if scope is not None:
        # The scope is spelled, as the dimension is; only the value is a parameter.
        return SCOPED_TABLE, f" AND scope = '{scope[0]}' AND value = ?", [scope[1]], _TOTALS_SUMS
    table, extra, params = _source(filters)
    if not extra:
        return TOTALS_TABLE, "", [], _TOTALS_SUMS
    return table, extra, params, _SUMMARY_SUMS


def _groups(ctx: Context, filters: Filters, column: str) -> list[tuple[Any, ...]]:
    """(known, key, documents, rejected, unsigned, histogram text) per group of ``column``."""
    table, extra, params, (rejected, waiting, pair) = _groups_source(filters, column)
    query = _GROUPS.format(
        dim=column,
        table=table,
        rejected=rejected,
        waiting=waiting,
        status=extra,
        pairs=ctx.dialect.pairs(pair),
        order=ctx.dialect.pairs_order("sign_days"),
    )
    return ctx.reader.rows(query, params)


#: The columns a breakdown's row gets from its histogram (see :func:`breakdown`).
QUANTILE_KEYS = frozenset({"signed", "median_days", "p90_days"})
#: Where a deferred row keeps its histogram's text until :func:`fill_quantiles`.
_PAIRS = "_pairs"


def breakdown(
    ctx: Context, filters: Filters, column: str, *, overdue: bool = True, defer: bool = False
) -> list[dict[str, Any]]:
    """Per group, from the summary: the same row as ``_queries.breakdown``
    (``overdue=False`` leaves the overdue counts at 0, for a page that shows none).

    With ``defer``, the rows lack :data:`QUANTILE_KEYS` until :func:`fill_quantiles`
    is given them: a table computes them for the rows it shows (``_tables.Deferred``).
    """
    if column not in DIMENSIONS:
        raise ValueError(f"the summaries have no dimension {column!r}")
    rows: dict[Any, dict[str, Any]] = {}
    for known, key, total, rejected, unsigned, pairs in _groups(ctx, filters, column):
        rows[key if known else None] = {
            "name": key if known else "—",
            "total": int(total),
            "unsigned": int(unsigned),
            "overdue": 0,
            "rejections": int(rejected),
            _PAIRS: pairs,
        }
    if overdue:
        unsigned_by = {key: row["unsigned"] for key, row in rows.items() if row["unsigned"]}
        for key, count in overdue_by(ctx, filters, column, unsigned_by).items():
            rows[key]["overdue"] = count
    found = list(rows.values())
    if not defer:
        fill_quantiles(found)
    return found


def fill_quantiles(rows: Sequence[dict[str, Any]]) -> None:
    """Set :data:`QUANTILE_KEYS` on the rows of :func:`breakdown` that lack them."""
    pending = [row for row in rows if _PAIRS in row]
    if not pending:
        return
    quantiles = pair_quantiles([row.pop(_PAIRS) for row in pending])
    for row, (signed, median, p90) in zip(pending, quantiles, strict=True):
        row["signed"], row["median_days"], row["p90_days"] = signed, median, p90
