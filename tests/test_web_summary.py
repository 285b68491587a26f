"""The dashboard's summary (kept by triggers) gives the same numbers as deriving them."""

from __future__ import annotations

import hashlib
import random
import re
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from _web_helpers import MSK, NOW, fill_store, rebuilt_rows, regrouped, served, summary_rows
from store_contract import make_document

from edo_rules.calendar import ProductionCalendar
from edo_rules.model import Counterparty, Document, Kind, Status
from edo_rules.store import _pg_dashboard as pg
from edo_rules.store import _sqlite_dashboard as d
from edo_rules.store._sqlite_dashboard import (
    DIMENSIONS,
    ensure,
    fill_kinds,
    fill_scoped,
    fill_totals,
)
from edo_rules.store._sqlite_rows import DOCUMENT_COLUMNS, UPSERT_DOCUMENT
from edo_rules.store._sqlite_schema import MIGRATIONS, migrate
from edo_rules.store.sqlite import SQLiteStore
from edo_rules.web import _pages
from edo_rules.web import _queries as q
from edo_rules.web import _summary as s
from edo_rules.web._dashboard import context
from edo_rules.web._filters import Filters
from edo_rules.web._sql import SQLiteReader, dialect_for
from edo_rules.web._tables import HTML_ROWS

CALENDAR = ProductionCalendar.russia()


def _ctx(path: Path, overdue_after: int = 3, zone: Any = MSK) -> q.Context:
    reader = SQLiteReader(path, CALENDAR)
    return context(reader, dialect_for(zone, NOW), CALENDAR, NOW, zone, overdue_after)


def _awkward(rng: random.Random, i: int) -> Document:
    """Documents the summary must not miscount: no manager, no start, future or
    pre-2013 starts, a signature before sending, dates on holidays."""
    sent: datetime | None = NOW - timedelta(days=rng.randint(-5, 60), hours=rng.randint(0, 23))
    if i % 17 == 0:
        sent = datetime(2012, 12, 30, 10, tzinfo=MSK)
    status = rng.choice(list(Status))
    signed = None
    if status in (Status.SIGNED, Status.CLOSED, Status.SIGNED_WITH_CORRECTIONS):
        assert sent is not None
        signed = sent + timedelta(days=rng.randint(-1, 15), hours=rng.randint(0, 12))
    changed = (signed or sent or NOW).astimezone(UTC)
    if i % 11 == 0:
        sent, changed = None, datetime(2024, 1, 3, 22, 30, tzinfo=UTC)  # a holiday, late
    return make_document(
        f"odd-{i:03d}",
        number=str(500 + i),
        date=(sent or changed).date(),
        status=status,
        kind=rng.choice([Kind.CONTRACT, Kind.ACT, Kind.UPD]),
        counterparty=Counterparty(rng.choice(["ООО «Ромашка»", "АО «Вектор»"]), inn="7701234567"),
        responsible=None if i % 7 == 0 else rng.choice(["Петров П. П.", "Кузнецов Е. Н."]),
        organization=None if i % 9 == 0 else "ООО «Наша фирма»",
        sent_at=None if sent is None else sent.astimezone(UTC),
        status_changed_at=changed,
        counterparty_signed_at=None if signed is None else signed.astimezone(UTC),
        rejected_at=changed if status is Status.REJECTED else None,
    )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite3"
    fill_store(path, count=150)
    rng = random.Random(3)
    with SQLiteStore(path) as opened:
        opened.upsert_documents([_awkward(rng, i) for i in range(120)])
    return path


def _sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: row["name"])


def _derived_ages(ctx: q.Context, filters: Filters) -> tuple[dict[str, int], int]:
    """Buckets and overdue from every waiting document's age (the rank-table join)."""
    counts = {label: 0 for label, _, _ in q.AGE_BUCKETS}
    overdue = 0
    for _, age, count in q.waiting_ages(ctx, filters):
        counts[q.bucket_of(int(age))] += int(count)
        overdue += int(count) if age > ctx.overdue_after else 0
    return counts, overdue


STATUS_FILTERS = [Filters(), Filters(status="sent"), Filters(status="signed")]
#: What the summaries answer: the status, the organisation and the kind, alone or together.
SUMMARY_FILTERS = [
    *STATUS_FILTERS,
    Filters(organization="ООО «Наша фирма»"),
    Filters(organization="ООО «Наша фирма»", status="sent"),
    Filters(kind="act"),
    Filters(kind="upd", organization="ООО «Наша фирма»", status="signed"),
]


@pytest.mark.parametrize(
    "filters",
    SUMMARY_FILTERS,
    ids=["all", "sent", "signed", "organization", "org+sent", "kind", "kind+org+signed"],
)
@pytest.mark.parametrize("by", sorted(q.GROUPS))
def test_breakdowns_from_the_summary_equal_the_derivation(
    store: Path, by: str, filters: Filters
) -> None:
    ctx = _ctx(store)
    assert ctx.summary and ctx.spans
    derived = _sorted(q.breakdown(ctx, filters, by))
    # A group the summary does not keep (organisation) is derived on the page.
    assert _sorted(_pages.breakdown_rows(ctx, filters, by)) == derived
    if q.GROUPS[by] not in DIMENSIONS:
        return
    fast = s.breakdown(ctx, filters, q.GROUPS[by])
    assert _sorted(fast) == derived
    assert any(row["overdue"] for row in fast) or filters.status == "signed"


class _Noting:
    """A reader noting the statements it runs."""

    def __init__(self, reader: SQLiteReader) -> None:
        self.reader, self.statements = reader, list[str]()

    def rows(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        self.statements.append(sql)
        return self.reader.rows(sql, params)

    def summary(self) -> tuple[bool, bool]:
        return self.reader.summary()

    def ledger(self) -> bool:
        return self.reader.ledger()


@pytest.mark.parametrize("filters", SUMMARY_FILTERS)
def test_an_organisation_or_a_kind_alone_is_read_from_the_scoped_totals(
    store: Path, filters: Filters
) -> None:
    noting = _Noting(SQLiteReader(store, CALENDAR))
    ctx = replace(_ctx(store), reader=noting)
    s.breakdown(ctx, filters, "counterparty_name")
    alone = filters.status is None and (filters.organization is None) != (filters.kind is None)
    assert any(d.SCOPED_TABLE in sql for sql in noting.statements) is alone
    # A scoped row changed shows through on the page it serves (it is read, not rederived).
    if alone:
        with sqlite3.connect(store) as conn:
            conn.execute(f"UPDATE {d.SCOPED_TABLE} SET n = n + 7 WHERE dim = 'counterparty_name'")
        bigger = sum(row["total"] for row in s.breakdown(ctx, filters, "counterparty_name"))
        assert bigger > sum(q.status_counts(ctx, filters).values())


@pytest.mark.parametrize("overdue_after", [0, 3, 12])
def test_ages_and_overdue_equal_the_derivation(store: Path, overdue_after: int) -> None:
    ctx = _ctx(store, overdue_after)
    for filters in [*SUMMARY_FILTERS, Filters(manager="Петров П. П."), Filters(kind="act")]:
        counts = q.status_counts(ctx, filters)
        assert s.age_summary(ctx, filters, counts) == _derived_ages(ctx, filters)
        if s.answerable(filters):
            assert s.status_counts(ctx, filters) == counts
    assert s.breakdown(ctx, Filters(), "responsible") is not None


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        # A status filter reads its own status's waits only (none for a signed one).
        Filters(status="signed"),
        Filters(status="sent"),
        Filters(status="rejected"),
        Filters(manager="Петров П. П."),
        # Read through the date-led index and the (status, moment) indexes' filter columns.
        Filters(period_from=NOW.date() - timedelta(days=40), period_to=NOW.date()),
        Filters(organization="ООО «Наша фирма»", kind="act"),
        # All of a counterparty's waits, by its ИНН's or name's index, then sorted.
        Filters(counterparty="7701234567"),
        Filters(counterparty="АО «Вектор»", status="sent"),
    ],
)
def test_the_weekly_trend_and_stuck_list_count_local_days(store: Path, filters: Filters) -> None:
    ctx = _ctx(store)
    with SQLiteStore(store) as opened:
        docs = [doc for doc in opened.iter_documents() if filters.matches(doc)]
    first = ctx.today - timedelta(days=ctx.today.weekday(), weeks=11)
    expected: dict[str, dict[str, int]] = {}
    for doc in docs:
        for name, moment in (("sent", doc.sent_at), ("signed", doc.counterparty_signed_at)):
            if moment is None:
                continue
            day = moment.astimezone(MSK).date()
            week = (day - timedelta(days=day.weekday())).isoformat()
            if first <= day < ctx.today + timedelta(days=7 - ctx.today.weekday()):
                expected.setdefault(week, {"sent": 0, "signed": 0})[name] += 1
    trend = q.weekly_trend(ctx, filters)
    assert len(trend) == 12
    found = {r["week"]: {"sent": r["sent"], "signed": r["signed"]} for r in trend}
    assert {week: row for week, row in found.items() if any(row.values())} == expected
    assert expected
    waiting = [d for d in docs if d.status.value in q.WAITING + q.STUCK]
    oldest = sorted(waiting, key=lambda d: (d.sent_at or d.status_changed_at, d.id))[:20]
    assert [r["id"] for r in q.stuck_longest(ctx, filters)] == [d.id for d in oldest]


def test_writes_updates_and_deletes_keep_the_summary_equal_to_a_rebuild(store: Path) -> None:
    assert summary_rows(store) == rebuilt_rows(store)
    with SQLiteStore(store) as opened:
        docs = list(opened.iter_documents())[:40]
        changed = regrouped(docs, NOW)
        opened.upsert_documents(changed)
        opened.upsert_documents(changed)  # unchanged: the update trigger does nothing
    with sqlite3.connect(store) as conn:
        conn.execute("DELETE FROM documents WHERE id LIKE 'odd-0%'")
    assert summary_rows(store) == rebuilt_rows(store)
    ctx = _ctx(store)
    by = q.GROUPS["manager"]
    assert _sorted(s.breakdown(ctx, Filters(), by)) == _sorted(
        q.breakdown(ctx, Filters(), "manager")
    )


def test_another_time_zone_or_calendar_derives_the_spans(store: Path) -> None:
    yekaterinburg = _ctx(store, zone=ZoneInfo("Asia/Yekaterinburg"))
    assert yekaterinburg.summary and not yekaterinburg.spans
    # A store built by a release with other calendar data (and so other code or data).
    with sqlite3.connect(store) as conn:
        conn.execute("UPDATE counters SET value = value + 1 WHERE name LIKE 'workday_ranks%'")
        conn.execute("UPDATE workday_ranks SET rank = rank + 1 WHERE day >= '2024-05-01'")
    other = _ctx(store)
    assert other.summary and not other.spans
    table = _pages.breakdown_table(other, Filters(), "manager")
    assert _sorted(table.rows) == _sorted(q.breakdown(other, Filters(), "manager"))
    # Opening the store for writing rebuilds the summary with the bundled calendar.
    SQLiteStore(store).close()
    assert _ctx(store).spans
    assert summary_rows(store) == rebuilt_rows(store)


def test_new_calendar_code_with_the_same_ranks_rebuilds_nothing(store: Path) -> None:
    with sqlite3.connect(store) as conn:
        conn.execute("UPDATE counters SET value = 1 WHERE name = 'workday_ranks_source'")
        conn.execute("UPDATE dashboard_groups SET n = n + 100 WHERE dim = 'kind'")  # a marker
    with sqlite3.connect(store, isolation_level=None) as conn:
        assert ensure(conn) is False  # the ranks are computed, equal, the summary kept
        assert ensure(conn) is False  # and the next open reads one counter
        marked = conn.execute("SELECT MIN(n) FROM dashboard_groups WHERE dim = 'kind'")
        assert marked.fetchone()[0] > 100
        source = conn.execute("SELECT value FROM counters WHERE name = 'workday_ranks_source'")
        assert source.fetchone()[0] != 1


def test_a_dimension_the_summaries_do_not_keep_is_refused(store: Path) -> None:
    # The dimension is spelled into the statement (not a parameter): only the summaries' own.
    with pytest.raises(ValueError, match="no dimension 'organization'"):
        s.breakdown(_ctx(store), Filters(), "organization")


def test_a_filter_the_summary_cannot_answer_is_derived(store: Path) -> None:
    ctx = _ctx(store)
    filters = Filters(manager="Петров П. П.", period_from=date(2024, 5, 1))
    assert not s.answerable(filters)
    rows = _pages.breakdown_table(ctx, filters, "company").rows
    assert _sorted(rows) == _sorted(q.breakdown(ctx, filters, "company"))
    assert sum(row["total"] for row in rows) == sum(q.status_counts(ctx, filters).values())


@pytest.mark.parametrize(
    "fill", [fill_kinds, fill_totals, fill_scoped], ids=["kinds", "totals", "scoped"]
)
def test_migrating_the_previous_version_builds_the_summary(
    tmp_path: Path, fill: Callable[[sqlite3.Connection], None]
) -> None:
    fill_store(tmp_path / "now.sqlite3", count=80)
    expected = summary_rows(tmp_path / "now.sqlite3")
    path = tmp_path / "old.sqlite3"
    before = next(m.version for m in MIGRATIONS if m.fill is fill) - 1
    with sqlite3.connect(path, isolation_level=None) as conn:
        migrate(conn, target=before)
        with sqlite3.connect(tmp_path / "now.sqlite3") as source:
            rows = source.execute(f"SELECT {', '.join(DOCUMENT_COLUMNS)}, seq FROM documents")
            conn.executemany(UPSERT_DOCUMENT, rows.fetchall())
    assert _ctx(path).summary is False  # served read-only before the migration: derived
    with sqlite3.connect(path, isolation_level=None) as conn:
        assert migrate(conn) == before
    assert summary_rows(path) == expected
    ctx = _ctx(path)
    assert ctx.summary and ctx.spans
    assert _sorted(s.breakdown(ctx, Filters(), "counterparty_name")) == _sorted(
        q.breakdown(ctx, Filters(), "company")
    )


def test_the_dashboard_reads_what_was_written_after_it_started(store: Path) -> None:
    ctx = _ctx(store)
    closed = _pages.status_counts(ctx, Filters()).get("closed", 0)
    with SQLiteStore(store) as opened:
        doc = opened.get_document("doc-000")
        assert doc is not None and doc.status is not Status.CLOSED
        opened.upsert_documents([replace(doc, status=Status.CLOSED)])
    assert _pages.status_counts(ctx, Filters())["closed"] == closed + 1
    assert q.status_counts(ctx, Filters())["closed"] == closed + 1


def test_a_long_table_shows_its_first_rows_and_exports_them_all(tmp_path: Path) -> None:
    path = tmp_path / "many.sqlite3"
    docs = [
        make_document(
            f"many-{i:03d}",
            number=str(i),
            status=Status.SENT,
            counterparty=Counterparty(f"ООО «Клиент {i:03d}»", inn=f"77{i:08d}"),
            sent_at=(NOW - timedelta(days=i % 30)).astimezone(UTC),
        )
        for i in range(HTML_ROWS + 30)
    ]
    with SQLiteStore(path) as opened:
        opened.upsert_documents(docs)
    with served(path) as url:
        html = httpx.get(f"{url}/companies?sort=name").text
        csv = httpx.get(f"{url}/companies?format=csv&table=companies").text
    body = html.split('data-table="companies"')[1].split("</table>")[0]
    assert body.count("<tr>") == HTML_ROWS + 1  # the header's row and the rows shown
    assert "ООО «Клиент 000»" in body and "ООО «Клиент 229»" not in body
    assert f"Показаны первые {HTML_ROWS} строк из {HTML_ROWS + 30}" in html
    assert len(csv.strip().splitlines()) == HTML_ROWS + 31


def _slow_and_fast(i: int, j: int) -> Document:
    """Counterparty ``i``'s ``j``-th document: signed after ``(i * 7 + j * 3) % 13`` days, or
    still waiting (every third), so medians differ from the order of the unsigned."""
    sent = NOW - timedelta(days=40 + j)
    waiting = j % 3 == 0
    return make_document(
        f"q-{i:03d}-{j}",
        number=f"{i}-{j}",
        status=Status.SENT if waiting else Status.SIGNED,
        counterparty=Counterparty(f"ООО «Клиент {i:03d}»", inn=f"77{i:08d}"),
        sent_at=sent.astimezone(UTC),
        status_changed_at=sent.astimezone(UTC),
        counterparty_signed_at=None
        if waiting
        else (sent + timedelta(days=(i * 7 + j * 3) % 13)).astimezone(UTC),
    )


def test_a_long_breakdown_computes_the_quantiles_it_shows_and_sorts_by_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "quantiles.sqlite3"
    with SQLiteStore(path) as opened:
        opened.upsert_documents(
            [_slow_and_fast(i, j) for i in range(HTML_ROWS + 30) for j in range(i % 4 + 1)]
        )
    ctx = _ctx(path)
    table = _pages.breakdown_table(ctx, Filters(), "company")
    # Deferred: no row has its quantiles until shown; the shown ones have them.
    assert table.deferred is not None
    assert not any(s.QUANTILE_KEYS & row.keys() for row in table.rows)
    shown = table.shown
    assert all(row.keys() >= s.QUANTILE_KEYS for row in shown)
    assert not any(s.QUANTILE_KEYS & row.keys() for row in table.rows[HTML_ROWS:])
    # Filled, every row is the derivation's, whatever was computed when.
    assert _sorted(table.complete().rows) == _sorted(q.breakdown(ctx, Filters(), "company"))
    with served(path) as url:
        exported = httpx.get(f"{url}/companies?format=json").json()["tables"][0]["rows"]
        by_name = {row["name"]: row for row in exported}
        for query, key in (("", None), ("?sort=median_days&desc=1", "median_days")):
            html = httpx.get(f"{url}/companies{query}").text
            body = html.split('data-table="companies"')[1].split("</table>")[0]
            names = re.findall(r'<td data-key="name">([^<]*)</td>', body)
            medians = re.findall(r'<td data-key="median_days" class="num">([^<]*)</td>', body)
            assert len(names) == len(medians) == HTML_ROWS
            # Each shown row's median is the export's for that counterparty.
            for name, median in zip(names, medians, strict=True):
                expected = by_name[unescape(name)]["median_days"]
                assert median == ("" if expected is None else str(expected))
            if key is not None:  # sorted over every row, not only the first shown
                values = [r[key] for r in exported]
                ordered = sorted((v for v in values if v is not None), reverse=True)
                ordered += [None] * values.count(None)  # the rows without one, last
                assert [by_name[unescape(n)][key] for n in names] == ordered[:HTML_ROWS]
        assert len({row["median_days"] for row in exported}) > 5


def test_quantiles_of_the_summary_pairs_in_any_order() -> None:
    # A day may repeat (a row per status, organisation and rejection), in order or not.
    texts = [
        "0 2 3 1 5 1",
        None,
        "5 1 0 2 3 1",
        "4 1 4 2",
        "",
        "0 1 0 1 3 1 5 1",
        "5 1 0 1 3 1 0 1",
    ]
    found = q.pair_quantiles(texts)
    assert found[0] == found[2] == found[5] == found[6] == (4, 0.0, 5.0)
    assert found[1] == found[4] == (0, None, None)
    assert found[3] == (3, 4.0, 4.0)
    assert found[0][1:] == (
        q.quantile({0: 2, 3: 1, 5: 1}, 0.5),
        q.quantile({0: 2, 3: 1, 5: 1}, 0.9),
    )


def test_quantiles_of_many_groups_find_each_unordered_one() -> None:
    # Thousands of groups at once, as a breakdown sends them: empty ones, ordered ones
    # with repeated days, and a few out of order, anywhere (the first, the last, beside
    # empty ones). Each group's answer is the histogram's nearest-rank quantiles.
    rng = random.Random(20261205)
    texts: list[str | None] = []
    histograms: list[dict[int, int]] = []
    for index in range(3000):
        if rng.random() < 0.1:
            texts.append(rng.choice([None, ""]))
            histograms.append({})
            continue
        pairs = sorted(
            (rng.randrange(40), rng.randrange(1, 9)) for _ in range(rng.randrange(1, 12))
        )
        if index in {0, 2999} or rng.random() < 0.05:
            rng.shuffle(pairs)
        texts.append(" ".join(f"{day} {count}" for day, count in pairs))
        histogram: dict[int, int] = {}
        for day, count in pairs:
            histogram[day] = histogram.get(day, 0) + count
        histograms.append(histogram)
    expected = [
        (sum(h.values()), q.quantile(h, 0.5), q.quantile(h, 0.9)) if h else (0, None, None)
        for h in histograms
    ]
    memo = q.QuantileMemo()
    assert q.pair_quantiles(texts, memo) == expected  # every text parsed
    assert len(memo) == len({t for t in texts if t})
    assert q.pair_quantiles(texts, memo) == expected  # every text remembered
    changed = [*texts[:10], "1 1 2 1 30 1", *texts[11:]]  # a sync changed one group
    expected[10] = (3, 2.0, 30.0)
    assert q.pair_quantiles(changed, memo) == expected


def test_the_quantile_memo_answers_what_it_holds_and_stays_bounded() -> None:
    memo = q.QuantileMemo(max_bytes=3 * q.QuantileMemo.ENTRY_BYTES + 20)
    memo.add([("0 1 7 1", (2, 0.0, 7.0))])
    # What it holds is what it answers (a wrong entry would show): no parse.
    memo.add([("5 1", (9, 9.0, 9.0))])
    assert q.pair_quantiles(["5 1", None, "0 1 7 1", "3 2"], memo) == [
        (9, 9.0, 9.0),
        (0, None, None),
        (2, 0.0, 7.0),
        (2, 3.0, 3.0),
    ]
    assert len(memo) == 3
    memo.add([("10 1 11 1 12 1", (3, 11.0, 12.0))])  # 13 characters held, 14 more: over 20
    assert len(memo) == 1 and memo.get("5 1") is None
    assert memo.get("10 1 11 1 12 1") == (3, 11.0, 12.0)


#: SHA-256 of the released migrations' summary statements (and of what their fills run).
RELEASED = {
    "sqlite v8": "eff9c684b8fe7b11588882afd9b84ee893a5f4519d1e6c92fb31cb5c776ed6c9",
    "sqlite v8 fill": "a055cf5a752272bf32bd33fbcbf303cf78046807278ebe4c62d07377d2b5cf6a",
    "sqlite v11": "b71bbc6890369dc41d9fe3e710bda1c3919961107da3083373ece20487b2b57c",
    "sqlite v11 fill": "90291b162fdaab997a5d2fb9b34c812b505e20067419cb07f872f20275ceb0b2",
    "postgresql v7": "ef5f6cdca065d8108ce5ba4638af9fb929c369ca82f2ce1f2f92da83775ec687",
    "postgresql v7 fill": "abd44675a31df1cbe692a2a8a70b3dcc5a3b75505ff590b7cfc5f6671df4102e",
    "postgresql v9": "b9bb22db750c664c5cf86119b3ce8ee167ece10f0a486a151678f536e12e7e8a",
    "postgresql v9 fill": "0dfa9cdff3f49ee1b495841a02a1785cfe3b0c154109f3c46f4e2bacd03e6149",
    "sqlite v20": "466161525027c18df99a0ce33c5934cef41289492ce1677513b6fff91beeafbf",
    "sqlite v20 fill": "0919c4e7a81acc1ac5f532b60999d5bbad78f7ad8e7bdb1b34f37caddab8a7f9",
    "postgresql v15": "f2de0dfe4c2fa0df9c5e39e0feb039ff2d39c627e5da7c625de60b917de33e85",
    "postgresql v15 fill": "1a7460b1b1bfa755bf8734b09d823444ddbc14e4387d25327837a3fab5219407",
}


def test_the_released_summary_statements_are_unchanged() -> None:
    """The kind summary (v20, PostgreSQL v15) and the totals (v21, v16) reuse the builders
    of the summary's earlier migrations: a change to them must not change what a released
    migration runs (digests of the code that released each)."""
    released = {
        "sqlite v8": d.STATEMENTS_V8,
        "sqlite v8 fill": d.fill_statements(d._KEY_V8, d.span()),
        "sqlite v11": d.STATEMENTS_V11,
        "sqlite v11 fill": d.fill_statements(d._KEY, d.span()),
        "postgresql v7": pg.STATEMENTS_V7,
        "postgresql v7 fill": d.fill_statements(d._KEY_V8, pg.span()),
        "postgresql v9": pg.STATEMENTS_V9,
        "postgresql v9 fill": d.fill_statements(d._KEY, pg.span()),
        "sqlite v20": d.STATEMENTS_V20,
        "sqlite v20 fill": d.fill_statements(d._KIND_KEY, d.span(), d.KIND_TABLE),
        "postgresql v15": pg.STATEMENTS_V15,
        "postgresql v15 fill": d.fill_statements(d._KIND_KEY, pg.span(), d.KIND_TABLE),
    }
    digests = {
        name: hashlib.sha256("\n".join(statements).encode()).hexdigest()
        for name, statements in released.items()
    }
    assert digests == RELEASED
