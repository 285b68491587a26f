"""The dashboard's small parts: quantiles, buckets, sessions, filters, charts, escaping."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from _web_helpers import fill_store, served
from store_contract import make_document

from edo_rules.calendar import ProductionCalendar
from edo_rules.model import Counterparty, Kind, Status
from edo_rules.store.sqlite import SQLiteStore
from edo_rules.web import Dashboard, Filters
from edo_rules.web._access import SESSION_SECONDS, Sessions
from edo_rules.web._dashboard import CHOICES_SECONDS
from edo_rules.web._queries import bucket_of, quantile
from edo_rules.web._sql import SQLiteReader, dialect_for
from edo_rules.web._svg import bars, columns


def test_nearest_rank_quantiles() -> None:
    assert quantile({}, 0.5) is None
    assert quantile({4: 1}, 0.9) == 4.0
    # 1, 2, 3, 4, 5, 6, 7, 8, 9, 10: the median is the 5th, the 90th percentile the 9th.
    spans = {v: 1 for v in range(1, 11)}
    assert (quantile(spans, 0.5), quantile(spans, 0.9)) == (5.0, 9.0)
    assert quantile({0: 3, 7: 1}, 0.5) == 0.0 and quantile({0: 3, 7: 1}, 0.9) == 7.0


def test_age_buckets_cover_every_age() -> None:
    assert [bucket_of(a) for a in (-2, 0, 3, 4, 5, 6, 10, 11, 400)] == [
        "0–3", "0–3", "0–3", "4–5", "4–5", "6–10", "6–10", ">10", ">10",
    ]  # fmt: skip


def test_sessions_expire_and_refuse_tampering() -> None:
    sessions = Sessions(b"k" * 32)
    cookie = sessions.issue("anna", now=1000.0)
    assert sessions.user(cookie, now=1000.0 + SESSION_SECONDS - 1) == "anna"
    assert sessions.user(cookie, now=1000.0 + SESSION_SECONDS + 1) is None
    user, expiry, mac = cookie.split("|")
    assert sessions.user(f"{user}|{int(expiry) + 9999}|{mac}", now=1000.0) is None
    assert Sessions(b"x" * 32).user(cookie, now=1000.0) is None
    assert sessions.user("garbage", now=1000.0) is None
    assert sessions.csrf("anna", "refresh:1") != sessions.csrf("boris", "refresh:1")


def test_filters_in_memory_agree_with_the_sql(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    fill_store(path, count=80)
    with SQLiteStore(path) as store:
        docs = list(store.iter_documents())
    rng = random.Random(3)
    conn = sqlite3.connect(path)
    for _ in range(40):
        doc = rng.choice(docs)
        filters = Filters.parse({
            "manager": doc.responsible or "" if rng.random() < 0.5 else "",
            "kind": doc.kind.value if rng.random() < 0.5 else "",
            "status": rng.choice([s.value for s in Status]) if rng.random() < 0.3 else "",
            "counterparty": doc.counterparty.inn or "" if rng.random() < 0.4 else "",
            "from": doc.date.isoformat() if doc.date and rng.random() < 0.3 else "",
        })  # fmt: skip
        where, params = filters.where()
        in_sql = {r[0] for r in conn.execute(f"SELECT id FROM documents WHERE {where}", params)}
        assert in_sql == {d.id for d in docs if filters.matches(d)}
    conn.close()


def test_charts_are_labelled_and_escaped() -> None:
    chart = str(bars("Возраст <b>", [("0–3", 5), ("<script>", 2.5)]))
    assert chart.startswith("<svg") and 'role="img"' in chart
    assert "<title>Возраст &lt;b&gt;</title>" in chart and "&lt;script&gt;" in chart
    assert "0–3: 5; &lt;script&gt;: 2.5" in chart  # every value in the description
    grouped = str(columns("Недели", ["11-02", "11-09"], [("отправлено", [3, 0])]))
    assert "11-09: отправлено 0" in grouped and "<script" not in grouped


def test_a_hostile_counterparty_name_is_shown_as_text(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    fill_store(path, count=5)
    evil = '<script>alert("x")</script>'
    doc = make_document(
        "evil",
        number="<b>1</b>",
        date=date(2024, 5, 1),
        kind=Kind.ACT,
        counterparty=Counterparty(evil, inn="7700000000"),
    )
    with SQLiteStore(path) as store:
        store.upsert_documents([replace(doc, responsible=evil)])
    with served(path) as base:
        pages = [
            httpx.get(f"{base}{p}").text
            for p in ("/companies", "/managers", "/document/evil", "/search?q=7700000000")
        ]
    for text in pages:
        assert evil not in text and "&lt;script&gt;" in text


def test_search_finds_a_name_without_its_legal_form(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    fill_store(path, count=30)
    with served(path) as base:
        found = httpx.get(f"{base}/search", params={"q": "ромашка", "format": "json"}).json()
        by_number = httpx.get(f"{base}/search", params={"q": "105", "format": "json"}).json()
        glob = httpx.get(f"{base}/search", params={"q": "*", "format": "json"}).json()
    with sqlite3.connect(path) as conn:
        expected = conn.execute(
            "SELECT COUNT(*) FROM documents WHERE counterparty_name = 'ООО «Ромашка»'"
        ).fetchone()[0]
    assert expected and len(found["tables"][0]["rows"]) == expected
    assert [r["number"] for r in by_number["tables"][0]["rows"]] == ["105"]
    assert glob["tables"][0]["rows"] == []  # a wildcard is a character, not "everything"


#: The rows' loop as the template wrote it before Table.html_rows (the reference).
_TEMPLATE_ROWS = (
    '{% for row in table.shown %}<tr>{% for c in table.columns %}<td data-key="{{ c.key }}"'
    '{% if c.numeric %} class="num"{% endif %}>{% if c.link and row[c.link] %}'
    "<a href=\"{{ row[c.link] }}\">{{ row[c.key] if row[c.key] is not none else '' }}</a>"
    "{% else %}{{ row[c.key] if row[c.key] is not none else '' }}{% endif %}</td>{% endfor %}"
    "</tr>\n{% endfor %}"
)


def test_table_rows_are_written_as_the_template_wrote_them() -> None:
    from decimal import Decimal

    from jinja2 import Environment
    from markupsafe import Markup

    from edo_rules.web._tables import Column, Table

    columns = [
        Column("number", "Номер", link="url"),
        Column("name", "Имя"),
        Column("n", "Число", numeric=True),
        Column("x", "Доля", numeric=True),
    ]
    rows = [
        {"number": '<b>"1"</b>', "url": "/document/a&b'c", "name": "ООО «Р&К»", "n": 3, "x": 2.5},
        {"number": None, "url": "", "name": Markup("<i>ok</i>"), "n": True, "x": Decimal("1.10")},
        {"number": 7, "name": None, "n": 0, "x": None},
    ]
    table = Table("t", "T", columns, rows)
    expected = Environment(autoescape=True).from_string(_TEMPLATE_ROWS).render(table=table)
    assert str(table.html_rows()) == expected


def test_a_deferred_column_is_computed_for_what_is_shown_or_exported() -> None:
    from edo_rules.web._tables import HTML_ROWS, Column, Deferred, Table, text_table

    filled: list[int] = []

    def fill(rows: Sequence[dict[str, Any]]) -> None:
        for row in rows:
            if "square" not in row:
                filled.append(row["n"])
                row["square"] = row["n"] * row["n"]

    def table() -> Table:
        filled.clear()
        rows = [{"n": n} for n in range(HTML_ROWS + 5)]
        columns = [Column("n", "N", numeric=True), Column("square", "N²", numeric=True)]
        return Table("t", "T", columns, rows, Deferred(frozenset({"square"}), fill))

    shown = table()
    html = str(shown.html_rows())
    assert sorted(filled) == list(range(HTML_ROWS))  # the shown rows, once each
    assert f'<td data-key="square" class="num">{(HTML_ROWS - 1) ** 2}</td>' in html
    assert "square" not in shown.rows[-1]
    assert shown.sorted_by("n", descending=True).rows[0] == {"n": HTML_ROWS + 4}
    by_square = table().sorted_by("square", descending=True)
    assert len(filled) == HTML_ROWS + 5 and by_square.rows[0]["square"] == (HTML_ROWS + 4) ** 2
    assert by_square.deferred is not None  # a sorted table still fills what it lacks
    for export in (
        lambda t: t.csv(),
        lambda t: t.as_json(),
        text_table,
    ):
        exported = table()
        export(exported)
        assert sorted(filled) == list(range(HTML_ROWS + 5))
    assert table().csv().splitlines()[-1] == f"{HTML_ROWS + 4},{(HTML_ROWS + 4) ** 2}"


MSK = ZoneInfo("Europe/Moscow")


def _form_managers(dashboard: Dashboard) -> list[str]:
    return dashboard.choices()["manager"]


def test_the_filter_forms_lists_are_kept_for_their_seconds_then_read_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.sqlite3"
    fill_store(path, count=20)
    calendar = ProductionCalendar.russia()
    reader = SQLiteReader(path, calendar)
    now = datetime(2026, 11, 20, 12, 0, tzinfo=MSK)
    kept = Dashboard(reader, dialect_for(MSK, now), calendar, MSK, lambda: now)
    fresh = replace(kept, choices_seconds=0.0)
    before = _form_managers(kept)
    assert before == _form_managers(fresh) and "Новый Менеджер" not in before
    with SQLiteStore(path) as store:
        store.upsert_documents([replace(make_document("new"), responsible="Новый Менеджер")])
    # Kept for CHOICES_SECONDS (10 s): the form still lists what it read...
    assert kept.choices_seconds == CHOICES_SECONDS and _form_managers(kept) == before
    # ... and one whose time is up reads the store again.
    assert _form_managers(fresh) == sorted([*before, "Новый Менеджер"])
    reader.close()


class _Asked(SQLiteReader):
    """A real reader that counts how often it is asked what the store keeps."""

    asked = 0

    def summary(self) -> tuple[bool, bool]:
        self.asked += 1
        return super().summary()


def test_what_the_store_keeps_is_asked_again_only_after_those_seconds(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    fill_store(path, count=5)
    calendar = ProductionCalendar.russia()
    now = datetime(2026, 11, 20, 12, 0, tzinfo=MSK)
    reader = _Asked(path, calendar)
    kept = Dashboard(reader, dialect_for(MSK, now), calendar, MSK, lambda: now)
    first, second = kept.context(), kept.context()
    assert reader.asked == 1 and first.summary and first.ledger and second.ledger
    fresh = replace(kept, choices_seconds=0.0)
    fresh.context()
    fresh.context()
    assert reader.asked == 3
    reader.close()
