"""Read models: the dashboard's aggregates as SQL over the store's indexed columns.

Each function runs a few ``GROUP BY`` queries and turns their (small) results
into numbers in working days with the production calendar: the database
groups by local day, Python maps each distinct day to its working-day age.
The store is only read; nothing here writes.
"""

from __future__ import annotations

import itertools
import json
import threading
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from typing import Any, Protocol

from edo_rules.engine._stats import STATS_ZONE, first_month, stats_from
from edo_rules.model import CounterpartyStats, Status
from edo_rules.store import _sqlite_dashboard
from edo_rules.store._sqlite_dashboard import RANK_YEARS, in_list
from edo_rules.web._filters import Filters
from edo_rules.web._sql import Dialect

#: Waiting for a signature (ours or the counterparty's), and signed: the store's, whose
#: totals count them as documents are written.
WAITING = _sqlite_dashboard.WAITING
SIGNED = _sqlite_dashboard.SIGNED
#: Stuck: needs a person (rejected, an operator error, an unknown 1C state).
STUCK = ("rejected", "error", "unknown")
ALL_STATUSES = tuple(status.value for status in Status)
#: Unsigned-age buckets in working days (inclusive bounds; None = no upper bound).
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0–3", 0, 3),
    ("4–5", 4, 5),
    ("6–10", 6, 10),
    (">10", 11, None),
)
#: Group columns a breakdown may use (the report's ``--by``).
GROUPS = {
    "manager": "responsible",
    "company": "counterparty_name",
    "kind": "kind",
    "organization": "organization",
}


class Reader(Protocol):
    def rows(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]: ...

    def summary(self) -> tuple[bool, bool]: ...

    def ledger(self) -> bool: ...


class Days(Protocol):
    def working_days_between(self, a: date, b: date) -> int: ...


@dataclass(frozen=True, slots=True)
class Context:
    """What every read model needs: the data, the calendar and "today"."""

    reader: Reader
    dialect: Dialect
    calendar: Days
    today: date
    overdue_after: int = 3  # working days unsigned before a document is overdue
    #: The store keeps the dashboard summary (counts per group and status).
    summary: bool = False
    #: ... and its working days to signature agree with this calendar and time zone.
    spans: bool = False
    #: The store keeps the ledger's counts per rule/action and document filters.
    ledger: bool = False


def documents_for(ctx: Context, filters: Filters, alias: str = "") -> str:
    """The documents table read through the index that narrows ``filters`` most.

    A period or a manager is a slice of an index that covers every column a page
    aggregates (a month is 4% of a two-year store), read without touching the rows.
    SQLite's planner, without statistics, would rather take any equality (a status
    list, one of two organisations) and read most of the table; PostgreSQL's planner
    has statistics and is not told. A store without the summary (older, served
    before its migration) has not these indexes either.
    """
    table = f"documents {alias}".rstrip()
    if not sliced(ctx, filters):
        return table
    if filters.period_from is not None or filters.period_to is not None:
        return ctx.dialect.indexed(table, "documents_by_date")
    if filters.manager is not None:
        return ctx.dialect.indexed(table, "documents_responsible")
    return table


def sliced(ctx: Context, filters: Filters) -> bool:
    """Whether the filters read a slice of a covering index (a period or a manager, on a
    store with the summary and its indexes)."""
    narrow = (filters.period_from, filters.period_to, filters.manager)
    return ctx.summary and any(value is not None for value in narrow)


def _start(prefix: str = "") -> str:
    # When the wait began: sent to the counterparty, or the last status change.
    return f"COALESCE({prefix}sent_at, {prefix}status_changed_at)"


def working_age(ctx: Context, day: str | None) -> int | None:
    """Working days since a local day; None outside the years ages are counted for
    (the calendar has no data before 2013)."""
    if day is None:
        return None
    local = date.fromisoformat(day)
    if not date(RANK_YEARS.start, 1, 1) <= local <= date(RANK_YEARS.stop - 1, 12, 31):
        return None
    return ctx.calendar.working_days_between(local, ctx.today)


def bucket_of(age: int) -> str:
    for label, low, high in AGE_BUCKETS:
        if age >= low and (high is None or age <= high):
            return label
    return AGE_BUCKETS[0][0]  # a start in the future (clock skew) counts as fresh


# -- overview ---------------------------------------------------------------------------


def status_counts(ctx: Context, filters: Filters) -> dict[str, int]:
    where, params = filters.where()
    rows = ctx.reader.rows(
        f"SELECT status, COUNT(*) FROM {documents_for(ctx, filters)} WHERE {where} GROUP BY status",
        params,
    )
    return {str(status): int(count) for status, count in rows}


#: Today's working-day rank, from the reader's rank table.
_TODAY = "(SELECT rank FROM {ranks} WHERE day = ?)"


def waiting_ages(ctx: Context, filters: Filters, group: str | None = None) -> list[tuple[Any, ...]]:
    """(group value, age in working days, count) of the documents waiting for a signature."""
    where, params = filters.where()
    key = f"{group}, " if group else "NULL, "
    by = f"{group}, " if group else ""  # PostgreSQL refuses a constant in GROUP BY
    join, rank = ctx.dialect.rank_of("r", _start())
    today = _TODAY.format(ranks=ctx.dialect.ranks)
    return ctx.reader.rows(
        f"SELECT {key}{today} - {rank} AS age, COUNT(*) FROM {documents_for(ctx, filters)} {join}"
        f" WHERE {where} AND status IN {in_list(WAITING)} GROUP BY {by}age",
        [ctx.today.isoformat(), *params],
    )


def _by_moment(ctx: Context, column: str) -> str:
    """The documents read by the (status, ``column``) index, which carries every filter's
    column: a range of moments is counted under any filter from the index alone."""
    return (
        ctx.dialect.indexed("documents", f"documents_status_{column}")
        if ctx.summary
        else "documents"
    )


def signed_since(ctx: Context, filters: Filters, since: datetime) -> int:
    where, params = filters.where()
    rows = ctx.reader.rows(
        f"SELECT COUNT(*) FROM {_by_moment(ctx, 'counterparty_signed_at')} WHERE {where}"
        f" AND status IN {in_list(SIGNED)} AND counterparty_signed_at >= ?",
        [*params, since.isoformat()],
    )
    return int(rows[0][0])


def weekly_trend(ctx: Context, filters: Filters, weeks: int = 12) -> list[dict[str, Any]]:
    """Sent and signed per ISO week (Monday) over the last ``weeks`` weeks."""
    monday = ctx.today - timedelta(days=ctx.today.weekday())
    mondays = [monday - timedelta(weeks=weeks - 1 - k) for k in range(weeks + 1)]
    bounds = [local_midnight(ctx, day) for day in mondays]
    series: list[dict[str, Any]] = [
        {"week": week.isoformat(), "sent": 0, "signed": 0} for week in mondays[:-1]
    ]
    for name, column in (("sent", "sent_at"), ("signed", "counterparty_signed_at")):
        for k, count in _per_week(ctx, filters, column, bounds):
            series[k][name] = count
    return series


def _per_week(
    ctx: Context, filters: Filters, column: str, bounds: list[str]
) -> list[tuple[int, int]]:
    """(week, documents) whose ``column`` falls in [bounds[k], bounds[k + 1]).

    The week comes from comparing the UTC text with each week's local midnight: no
    date is computed per row. Naming every status makes a range one scan per status.
    """
    where, params = filters.where()
    statuses = f"status IN {in_list(ALL_STATUSES)}"
    if filters.with_status(None) == Filters():
        # Only the (status, column) index is read: one count per week, no row, no sort.
        return [
            (
                k,
                int(
                    ctx.reader.rows(
                        f"SELECT COUNT(*) FROM documents WHERE {where} AND {statuses}"
                        f" AND {column} >= ? AND {column} < ?",
                        [*params, low, high],
                    )[0][0]
                ),
            )
            for k, (low, high) in enumerate(itertools.pairwise(bounds))
        ]
    # Another filter: one pass over the range, the filter checked in the index.
    week = " ".join(f"WHEN {column} < ? THEN {k}" for k in range(len(bounds) - 1))
    rows = ctx.reader.rows(
        f"SELECT CASE {week} END AS w, COUNT(*) FROM {_by_moment(ctx, column)} WHERE {where}"
        f" AND {statuses} AND {column} >= ? AND {column} < ? GROUP BY w",
        [*bounds[1:], *params, bounds[0], bounds[-1]],
    )
    return [(int(k), int(count)) for k, count in rows]


def local_midnight(ctx: Context, day: date) -> str:
    """The UTC text of ``day``'s local midnight (timestamps are UTC text; text order is time)."""
    moment = datetime.combine(day, time(), UTC) - timedelta(minutes=ctx.dialect.offset_minutes)
    return moment.isoformat()


# -- breakdowns (companies, managers, kinds) --------------------------------------------


def breakdown(
    ctx: Context, filters: Filters, by: str, *, overdue: bool = True
) -> list[dict[str, Any]]:
    """Per group: documents, unsigned, overdue, median/p90 working days to sign, rejections
    (``overdue=False`` leaves the overdue counts at 0, for a page that shows none)."""
    column = GROUPS[by]
    rows: dict[Any, dict[str, Any]] = defaultdict(_empty_row)
    where, params = filters.where()
    # Unsigned counts every waiting document, also one whose wait start is unknown.
    for key, total, rejected, unsigned in ctx.reader.rows(
        f"SELECT {column}, COUNT(*), SUM(CASE WHEN rejected_at IS NOT NULL THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN status IN {in_list(WAITING)} THEN 1 ELSE 0 END)"
        f" FROM {documents_for(ctx, filters)} WHERE {where} GROUP BY {column}",
        params,
    ):
        rows[key].update(
            total=int(total), rejections=int(rejected or 0), unsigned=int(unsigned or 0)
        )
    for key, age, count in waiting_ages(ctx, filters, column) if overdue else ():
        if age > ctx.overdue_after:
            rows[key]["overdue"] += int(count)
    for key, (signed, median, p90) in signing_quantiles(ctx, filters, column):
        rows[key].update(signed=signed, median_days=median, p90_days=p90)
    return [{"name": "—" if key is None else str(key), **row} for key, row in rows.items()]


def _empty_row() -> dict[str, Any]:
    return {
        "total": 0,
        "unsigned": 0,
        "overdue": 0,
        "signed": 0,
        "rejections": 0,
        "median_days": None,
        "p90_days": None,
    }


def signing_quantiles(ctx: Context, filters: Filters, column: str) -> list[tuple[Any, Quantiles]]:
    """Per group, (signed, median, 90th percentile) of the working days from sending to
    the counterparty's signature.

    The database sums each group's days and joins them into one "days count …" text
    per group (as the summary's histograms): a group's few dozen days cross into
    Python as one string, not as a row each (a manager's 5,000 counterparties were
    95,000 rows, as long to turn into histograms in Python as the SQL took).
    """
    where, params = filters.where()
    sent_join, sent = ctx.dialect.rank_of("a", "sent_at")
    signed_join, signed = ctx.dialect.rank_of("b", "counterparty_signed_at")
    pairs = ctx.dialect.pairs("span || ' ' || n")
    grouped = (
        f"SELECT {column} AS g, {ctx.dialect.at_least_zero(f'{signed} - {sent}')} AS span,"
        f" COUNT(*) AS n FROM {documents_for(ctx, filters)} {sent_join} {signed_join}"
        f" WHERE {where} AND status IN {in_list(SIGNED)} GROUP BY {column}, span"
    )
    found = ctx.reader.rows(
        f"SELECT g, {pairs} FROM ({ctx.dialect.in_order(grouped, 'span')}) AS h GROUP BY g",
        params,
    )
    return list(zip((key for key, _ in found), pair_quantiles([t for _, t in found]), strict=True))


def quantile(histogram: Mapping[int, int], q: float) -> float | None:
    """The nearest-rank ``q`` quantile of a value → count histogram (None when empty)."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, -(-int(q * total * 1000) // 1000))  # ceil(q * total) without float drift
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return float(value)
    return float(max(histogram))


#: (signed, median, 90th percentile) of one group.
Quantiles = tuple[int, float | None, float | None]


class QuantileMemo:
    """The quantiles of histogram texts already seen, up to about ``max_bytes`` of memory
    (then forgotten at once and begun again: a bound, not an eviction policy to tune).

    A group's text is all that its quantiles depend on, and between two syncs almost
    every group's text comes back the same: after a sync only the groups with newly
    signed documents change. «Узкие места» needs all 5,000 counterparties' medians to
    show the slowest 15, and their parse was a third of its time beyond the SQL
    (benchmarks/README.md). Threads share it: a dict's get and set are atomic.
    """

    #: What an entry holds beside its text's characters (the dict's slot, the string's
    #: header, the tuple and its floats), measured with tracemalloc: 125,000 entries of
    #: 14 characters on average took 18 MB.
    ENTRY_BYTES = 130

    def __init__(self, max_bytes: int = 8_000_000) -> None:
        self.max_bytes = max_bytes
        self._known: dict[str, Quantiles] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, text: str) -> Quantiles | None:
        return self._known.get(text)

    def add(self, found: Iterable[tuple[str, Quantiles]]) -> None:
        with self._lock:
            for text, quantiles in found:
                cost = len(text) + self.ENTRY_BYTES
                if self._bytes + cost > self.max_bytes:
                    self._known.clear()
                    self._bytes = 0
                self._known[text] = quantiles
                self._bytes += cost

    def __len__(self) -> int:
        return len(self._known)


#: What the web server's threads share: 5,000 counterparties' texts at a million
#: documents (359,000 characters) take about 1 MB of it.
MEMO = QuantileMemo()
_NONE: Quantiles = (0, None, None)


def pair_quantiles(texts: list[str | None], memo: QuantileMemo = MEMO) -> list[Quantiles]:
    """Per group, (signed, median, 90th percentile) by nearest rank, from its
    "days count days count …" text (days ascending, as the queries join them); the
    texts seen before are answered from ``memo``."""
    found = [memo.get(text) if text else _NONE for text in texts]
    missing = [t for t, quantiles in zip(texts, found, strict=True) if quantiles is None and t]
    computed = _pair_quantiles(missing) if missing else []
    memo.add(zip(missing, computed, strict=True))
    fresh = iter(computed)
    return [next(fresh) if quantiles is None else quantiles for quantiles in found]


def _pair_quantiles(texts: Sequence[str]) -> list[Quantiles]:
    """The quantiles of non-empty texts (``pair_quantiles`` answers the empty ones).

    Thousands of groups: every text is parsed in one go and the running counts are
    one ``accumulate`` over all of them; each group then costs two bisects. The parse
    is JSON's (in C): 5,000 counterparties' 158,000 numbers took 13.5 ms split and
    passed to ``int`` one by one, 7.2 ms as one JSON array.
    """
    pairs = [(text.count(" ") + 1) // 2 for text in texts]
    numbers: list[int] = json.loads(f"[{','.join(texts).replace(' ', ',')}]")
    days, running = numbers[0::2], list(accumulate(numbers[1::2]))
    out: list[Quantiles] = []
    start = 0
    for size, text in zip(pairs, texts, strict=True):
        end = start + size
        if days[start:end] != sorted(days[start:end]):
            # group_concat promises no order (SQLite keeps the key order)
            out.append(_unordered(text))
        else:
            base = running[start - 1] if start else 0
            total = running[end - 1] - base
            # ceil(q * total), as quantile ranks.
            median = days[bisect_left(running, base + (total + 1) // 2, start, end)]
            p90 = days[bisect_left(running, base + (9 * total + 9) // 10, start, end)]
            out.append((total, float(median), float(p90)))
        start = end
    return out


def _unordered(text: str) -> Quantiles:
    numbers = list(map(int, text.split(" ")))
    histogram: dict[int, int] = defaultdict(int)
    for day, count in zip(numbers[0::2], numbers[1::2], strict=True):
        histogram[day] += count
    total = sum(histogram.values())
    return total, quantile(histogram, 0.5), quantile(histogram, 0.9)


# -- bottlenecks ------------------------------------------------------------------------


_STUCK = f"SELECT id, kind, number, counterparty_name, responsible, status, {_start()} AS s"


def _first_waits(
    ctx: Context, table: str, where: str, params: list[object], limit: int
) -> list[tuple[Any, ...]]:
    """The first ``limit`` waits of a period's or a manager's slice, in two steps: the
    first ``limit`` wait starts from the slice's covering index alone, then the rows
    with those starts (ties included) — ordering the whole slice by (start, id) would
    read every row for its id.

    The first step orders by the dialect's "not by an index" spelling of the wait
    start: PostgreSQL's planner would otherwise walk the (status, wait start) index
    from the oldest wait, expecting the slice's rows among the first, and read every
    older wait of the store (a month of two years: 2 s, measured). The second looks
    the starts up exactly, which that index answers in a few probes.
    """
    waiting = f"{where} AND status IN {in_list(WAITING + STUCK)} AND {_start()} IS NOT NULL"
    order = ctx.dialect.unindexed(_start())
    starts = sorted(
        {
            row[0]
            for row in ctx.reader.rows(
                f"SELECT {_start()} AS s FROM {table} WHERE {waiting} ORDER BY {order} LIMIT ?",
                [*params, limit],
            )
        }
    )
    if not starts:
        return []
    marks = ", ".join("?" * len(starts))
    return ctx.reader.rows(
        f"{_STUCK} FROM {table} WHERE {waiting} AND {_start()} IN ({marks})"
        f" ORDER BY {order}, id LIMIT ?",
        [*params, *starts, limit],
    )


def stuck_longest(ctx: Context, filters: Filters, limit: int = 20) -> list[dict[str, Any]]:
    where, params = filters.where()
    if sliced(ctx, filters):
        rows = _first_waits(ctx, documents_for(ctx, filters), where, params, limit)
    elif filters.counterparty is not None:
        # All of one counterparty's waits, by its ИНН's and name's indexes, sorted below.
        # Per status in wait order, SQLite walked the (status, wait start) index and
        # checked every document of the status: 1.34 s at 1M for 196 documents.
        rows = ctx.reader.rows(
            f"{_STUCK} FROM documents WHERE {where} AND status IN {in_list(WAITING + STUCK)}"
            f" AND {_start()} IS NOT NULL",
            params,
        )
    else:
        # A status filter leaves its own status: the others' statements could find
        # nothing, and PostgreSQL still planned each as a parallel scan compiled by its
        # JIT (35 ms apiece at a million documents, for no row).
        statuses = [s for s in WAITING + STUCK if filters.status in (None, s)]
        rows = [
            # Per status, the first rows of the (status, wait start) index; merged below.
            row
            for status in statuses
            for row in ctx.reader.rows(
                f"{_STUCK} FROM documents WHERE {where} AND status = ?"
                f" AND {_start()} IS NOT NULL ORDER BY {_start()}, id LIMIT ?",
                [*params, status, limit],
            )
        ]
    rows.sort(key=lambda row: (row[6], row[0]))
    shift = timedelta(minutes=ctx.dialect.offset_minutes)
    out = []
    for doc_id, kind, number, name, manager, status, start in rows[:limit]:
        moment = datetime.fromisoformat(start).replace(tzinfo=None) + shift
        local = moment.date().isoformat()
        out.append(
            {
                "id": doc_id,
                "kind": kind,
                "number": number,
                "counterparty": name,
                "manager": manager,
                "status": status,
                "since": local,
                "days": working_age(ctx, local),
            }
        )
    return out


def _ledger_of(ctx: Context, filters: Filters, table: str, columns: str) -> str:
    """The filtered documents (``d``), then the ``columns`` of their rows of the ledger's
    ``table`` (``x``), read by document. The join serves what the counts cannot: a
    counterparty (or a store not yet migrated to them), a slice of the documents whose
    firings are a few index probes each. Read the other way round, every firing of
    the ledger looked its document up: 3.4 s for a month's rules at a million
    documents and 5.7 million firings, against 0.57 s."""
    return f"{documents_for(ctx, filters, 'd')} {ctx.dialect.rows_of_each(table, columns)}"


def counted(ctx: Context, filters: Filters) -> bool:
    """Whether the ledger's counts answer «Узкие места» under these filters: they are
    keyed by organisation, manager, kind, status and month (or day), not by
    counterparty."""
    return ctx.ledger and filters.counterparty is None


DateRange = tuple[date | None, date | None]  # document dates, inclusive


@dataclass(frozen=True, slots=True)
class PeriodSplit:
    """A period as the counts can answer it: whole months of counts by month, plus or
    minus a few days of counts by day."""

    #: The first and last month counted (``YYYY-MM``, inclusive; None: unbounded on that
    #: side); None: no month is counted.
    months: tuple[str | None, str | None] | None
    #: Date ranges whose counts by day are added, and those whose counts are taken away.
    plus: tuple[DateRange, ...] = ()
    minus: tuple[DateRange, ...] = ()


def split_period(start: date | None, end: date | None) -> PeriodSplit:
    """``[start, end]`` (either may be open) as months of counts plus or minus the days of
    a partial month at either end — its days in the period, or the month minus its days
    outside it, whichever are fewer: «октябрь» is October's counts, «3 октября –
    2 декабря» is October and November minus 1–2 October, plus 1–2 December. A partial
    month so reads at most half a month of counts by day."""
    if start is not None and end is not None and start > end:
        return PeriodSplit(None, ((start, end),))  # an empty period: no day counts
    if start is not None and end is not None and start.replace(day=1) == end.replace(day=1):
        return _within_a_month(start, end)
    low, high = _month(start), _month(end)
    plus: list[DateRange] = []
    minus: list[DateRange] = []
    if start is not None and start.day != 1:
        inside, outside = (start, _month_end(start)), (start.replace(day=1), start - _DAY)
        if _days(inside) <= _days(outside):
            plus.append(inside)
            low = _month(_month_end(start) + _DAY)
        else:
            minus.append(outside)
    if end is not None and end != _month_end(end):
        inside, outside = (end.replace(day=1), end), (end + _DAY, _month_end(end))
        if _days(inside) <= _days(outside):
            plus.append(inside)
            high = _month(end.replace(day=1) - _DAY)
        else:
            minus.append(outside)
    some = low is None or high is None or low <= high
    return PeriodSplit((low, high) if some else None, tuple(plus), tuple(minus))


_DAY = timedelta(days=1)


def _within_a_month(start: date, end: date) -> PeriodSplit:
    first, last = start.replace(day=1), _month_end(start)
    outside = [r for r in ((first, start - _DAY), (end + _DAY, last)) if r[0] <= r[1]]
    if _days((start, end)) <= sum(_days(r) for r in outside):
        return PeriodSplit(None, ((start, end),))
    month = _month(start)
    return PeriodSplit((month, month), (), tuple(outside))


def _days(days: tuple[date, date]) -> int:
    return (days[1] - days[0]).days + 1


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - _DAY


def _month(day: date | None) -> str | None:
    return None if day is None else day.isoformat()[:7]


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


@dataclass(frozen=True, slots=True)
class _Ledger:
    """One of the page's two tables: what it sums, from the counts or the ledger's rows."""

    what: str  # its rows in the counts
    counters: tuple[str, ...]  # its counters there
    table: str  # the ledger's table
    columns: str  # its columns read per document
    #: name and counters from its rows ``x``, grouped by name.
    joined: str

    def counts(self, sign: str) -> str:
        """Name and counters from the counts, each after ``sign`` (a range of days taken
        away from a counted month is subtracted)."""
        return ", ".join(("name", *(f"{sign}{c} AS {c}" for c in self.counters)))


_RULES = _Ledger(
    "rule",
    ("n", "skipped"),
    "firings",
    "rule_key, skipped",
    "x.rule_key AS name, COUNT(*) AS n, SUM(x.skipped) AS skipped",
)
_ACTIONS = _Ledger(
    "action",
    ("n", "failed", "in_doubt"),
    "action_requests",
    "action, state",
    "x.action AS name, COUNT(*) AS n,"
    " SUM(CASE WHEN x.state = 'failed' THEN 1 ELSE 0 END) AS failed,"
    " SUM(CASE WHEN x.state = 'in_doubt' THEN 1 ELSE 0 END) AS in_doubt",
)


def _summed(ctx: Context, filters: Filters, ledger: _Ledger) -> tuple[str, list[object]]:
    """A table (``u``) of name and counters for the page to sum: the counts by month for a
    period's whole months, plus or minus the counts by day at its partial ends; the join
    when the counts cannot answer (a counterparty, or a store not yet migrated)."""
    if not counted(ctx, filters):
        where, params = filters.where("d.")
        rows = _ledger_of(ctx, filters, ledger.table, ledger.columns)
        return f"(SELECT {ledger.joined} FROM {rows} WHERE {where} GROUP BY 1) AS u", params
    period = (filters.period_from, filters.period_to)
    split = PeriodSplit((None, None)) if period == (None, None) else split_period(*period)
    parts: list[tuple[str, list[object]]] = []
    if split.months is not None:
        table, params = _counts(ctx, filters, ledger.what, split.months)
        parts.append((f"SELECT {ledger.counts('')} FROM {table}", params))
    for (low, high), sign in [(r, "") for r in split.plus] + [(r, "-") for r in split.minus]:
        days = (_iso(low), _iso(high))
        table, params = _counts(ctx, filters, ledger.what, days, daily=True)
        parts.append((f"SELECT {ledger.counts(sign)} FROM {table}", params))
    union = " UNION ALL ".join(sql for sql, _ in parts)
    return f"({union}) AS u", [value for _, params in parts for value in params]


def _counts(
    ctx: Context,
    filters: Filters,
    what: str,
    span: tuple[str | None, str | None],
    *,
    daily: bool = False,
) -> tuple[str, list[object]]:
    """The ledger counts' rows of ``what`` (rule or action) under the equality filters
    within ``span``: months (``YYYY-MM``, inclusive; (None, None): every month, and
    documents without a date), or days (ISO dates) from the counts by day if ``daily``."""
    plain = replace(filters, period_from=None, period_to=None)
    where, params = plain.where()  # only equalities: counted() left no other filter
    where_d = plain.where("d.")[0]
    low, high = span
    column = "day" if daily else "month"
    if (low, high) != (None, None):  # a period: never a document without a date ('')
        conditions = [f"{column} >= ?" if low else f"{column} <> ''"]
        conditions += [f"{column} <= ?"] if high else []
        where += "".join(f" AND {c}" for c in conditions)
        where_d += "".join(f" AND d.{c}" for c in conditions)
        params += [value for value in (low, high) if value]
    table, times = ctx.dialect.ledger_counts(what, where, where_d, daily=daily)
    return table, params * times


def noisy_rules(ctx: Context, filters: Filters, limit: int = 10) -> list[dict[str, Any]]:
    table, params = _summed(ctx, filters, _RULES)
    rows = ctx.reader.rows(
        f"SELECT name, SUM(n), SUM(skipped) FROM {table} GROUP BY name HAVING SUM(n) > 0"
        f" ORDER BY 2 DESC, {ctx.dialect.binary('name')} LIMIT ?",
        [*params, limit],
    )
    return [{"rule": r, "firings": int(n), "skipped": int(s or 0)} for r, n, s in rows]


def failing_actions(ctx: Context, filters: Filters, limit: int = 10) -> list[dict[str, Any]]:
    table, params = _summed(ctx, filters, _ACTIONS)
    rows = ctx.reader.rows(
        f"SELECT name, SUM(n), SUM(failed), SUM(in_doubt) FROM {table} GROUP BY name"
        f" HAVING SUM(n) > 0 ORDER BY 3 DESC, 4 DESC, {ctx.dialect.binary('name')} LIMIT ?",
        [*params, limit],
    )
    return [
        {"action": a, "requests": int(n), "failed": int(f or 0), "in_doubt": int(d or 0)}
        for a, n, f, d in rows
    ]


# -- lists ------------------------------------------------------------------------------

_LIST = (
    "SELECT id, kind, number, doc_date, counterparty_name, counterparty_inn, responsible,"
    " status, amount, deal_id, company_id FROM documents"
)
LIST_KEYS = (
    "id",
    "kind",
    "number",
    "date",
    "counterparty",
    "inn",
    "manager",
    "status",
    "amount",
    "deal_id",
    "company_id",
)


#: Legal forms a counterparty's name starts with: «Ромашка» finds «ООО «Ромашка»».
LEGAL_FORMS = ("ООО «", "АО «", "ПАО «", "ЗАО «", "ИП ")


def name_prefixes(text: str) -> list[str]:
    """The name prefixes a search tries: as typed and capitalised, bare and after a legal form."""
    variants = dict.fromkeys([text, text[:1].upper() + text[1:]])
    return [form + v for v in variants for form in ("", *LEGAL_FORMS)]


def documents(
    ctx: Context,
    filters: Filters,
    *,
    search: str | None = None,
    deal: str | None = None,
    company: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Documents matching the filters and a search (number, ИНН, counterparty name prefix)."""
    where, params = filters.where()
    if search:
        names = [ctx.dialect.prefix_match("counterparty_name", p) for p in name_prefixes(search)]
        # Each branch is an index lookup: number, ИНН, a prefix of the name.
        where += " AND (number = ? OR counterparty_inn = ? OR "
        where += " OR ".join(condition for condition, _ in names) + ")"
        params += [search, search, *(pattern for _, pattern in names)]
    if deal is not None:
        where += " AND deal_id = ?"
        params.append(deal)
    if company is not None:
        where += " AND company_id = ?"
        params.append(company)
    rows = ctx.reader.rows(
        f"{_LIST} WHERE {where} ORDER BY {ctx.dialect.binary('doc_date')} DESC,"
        f" {ctx.dialect.binary('number')} LIMIT ?",
        [*params, limit],
    )
    return [dict(zip(LIST_KEYS, row, strict=True)) for row in rows]


def choices(ctx: Context, column: str, limit: int = 500) -> list[str]:
    """The distinct values of a filter column, for the filter form.

    A loose index scan: one index seek per distinct value (a few dozen
    managers), where ``SELECT DISTINCT`` would read every row's entry.
    """
    rows = ctx.reader.rows(
        f"WITH RECURSIVE v(x, n) AS (SELECT MIN({column}), 1 FROM documents"
        f" UNION ALL SELECT (SELECT MIN({column}) FROM documents WHERE {column} > v.x), n + 1"
        " FROM v WHERE v.x IS NOT NULL AND n < ?) SELECT x FROM v WHERE x IS NOT NULL",
        [limit],
    )
    # Sorted by code point, as SQLite's BINARY order (a PostgreSQL locale sorts otherwise).
    return sorted(str(r[0]) for r in rows)


def rule_stats(ctx: Context, names: Sequence[str]) -> dict[str, CounterpartyStats]:
    """``counterparty.stats`` — what rules read (last 12 months) — for counterparties by name.

    Read from the histograms the engine keeps; a counterparty whose statistics no
    rule has asked for yet has none (the engine builds them for rules that read them).
    """
    if not names:
        return {}
    marks = ",".join("?" * len(names))
    pairs = ctx.reader.rows(
        "SELECT DISTINCT counterparty_name, counterparty_inn FROM documents"
        f" WHERE counterparty_name IN ({marks}) AND counterparty_inn IS NOT NULL",
        list(names),
    )
    since = first_month(datetime.combine(ctx.today, time(12), tzinfo=STATS_ZONE))
    found: dict[str, CounterpartyStats] = {}
    for name, inn in pairs:
        rows = ctx.reader.rows(
            "SELECT outcome, working_days, SUM(count) FROM counterparty_histogram"
            " WHERE inn = ? AND month >= ? GROUP BY outcome, working_days",
            (inn, since),
        )
        found[str(name)] = stats_from(str(inn), [(str(o), int(d), int(c)) for o, d, c in rows])
    return found
