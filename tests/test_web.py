"""The dashboard over HTTP: numbers equal the SQL, filters, exports, access, headers, the hook."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest
from _web_helpers import MANAGERS, MSK, NOW, Ticks, fill_store, served, sql

from edo_rules.calendar import ProductionCalendar
from edo_rules.web import Access, hash_password, verify_password


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite3"
    fill_store(path)
    return path


def _figures(html: str) -> list[int]:
    return [int(v) for v in re.findall(r'data-figure="\d+">(\d+)<', html)]


def _overdue(path: Path, manager: str | None = None) -> int:
    cal = ProductionCalendar.russia()
    rows = sql(
        path,
        "SELECT sent_at, responsible FROM documents"
        " WHERE status IN ('sent', 'awaiting_our_signature')",
    )
    count = 0
    for sent, who in rows:
        local = datetime.fromisoformat(str(sent)).astimezone(MSK).date()
        if (manager is None or who == manager) and cal.working_days_between(local, NOW.date()) > 3:
            count += 1
    return count


def test_overview_figures_are_the_sql_counts(store: Path) -> None:
    with served(store) as base:
        html = httpx.get(f"{base}/").text
    total = sql(store, "SELECT COUNT(*) FROM documents")[0][0]
    waiting = sql(
        store, "SELECT COUNT(*) FROM documents WHERE status IN ('sent', 'awaiting_our_signature')"
    )[0][0]
    figures = _figures(html)
    assert figures[:3] == [total, waiting, _overdue(store)]
    assert "<svg" in html and "<title>Неподписанные по возрасту" in html


def test_a_manager_filter_changes_the_numbers_as_the_sql_says(store: Path) -> None:
    manager = MANAGERS[1]
    with served(store) as base:
        html = httpx.get(f"{base}/", params={"manager": manager}).text
        data = httpx.get(f"{base}/managers", params={"format": "json"}).json()
    total = sql(store, "SELECT COUNT(*) FROM documents WHERE responsible = ?", manager)[0][0]
    assert _figures(html)[0] == total
    assert _figures(html)[2] == _overdue(store, manager)
    rows = {r["name"]: r for r in data["tables"][0]["rows"]}
    for name in MANAGERS:
        expected = sql(
            store,
            "SELECT COUNT(*), SUM(rejected_at IS NOT NULL) FROM documents WHERE responsible = ?",
            name,
        )[0]
        assert (rows[name]["total"], rows[name]["rejections"]) == expected
        assert rows[name]["overdue"] == _overdue(store, name)


def test_csv_export_equals_the_json_table(store: Path) -> None:
    with served(store) as base:
        data = httpx.get(f"{base}/companies", params={"format": "json"}).json()["tables"][0]
        reply = httpx.get(f"{base}/companies", params={"format": "csv", "table": "companies"})
        missing = httpx.get(f"{base}/companies", params={"format": "csv", "table": "nope"})
    assert reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(reply.text.lstrip("\ufeff"))))
    assert rows[0] == [c["label"] for c in data["columns"]]
    keys = [c["key"] for c in data["columns"]]
    expected = [["" if r[k] is None else str(r[k]) for k in keys] for r in data["rows"]]
    assert rows[1:] == expected
    assert missing.status_code == 404 and "companies" in missing.text


def test_a_bad_filter_is_a_clear_error_page(store: Path) -> None:
    with served(store) as base:
        reply = httpx.get(f"{base}/", params={"from": "20.05.2024"})
        status = httpx.get(f"{base}/", params={"status": "lost"})
    assert reply.status_code == 400 and "ожидается дата ГГГГ-ММ-ДД" in reply.text
    assert status.status_code == 400 and "допустимые значения" in status.text


def test_search_document_and_deal_pages(store: Path) -> None:
    with served(store) as base:
        found = httpx.get(f"{base}/search", params={"q": "7702345678", "format": "json"}).json()
        doc = httpx.get(f"{base}/document/doc-005").text
        deal = httpx.get(f"{base}/deal/20", params={"format": "json"}).json()
        absent = httpx.get(f"{base}/document/nope")
    inn = sql(store, "SELECT COUNT(*) FROM documents WHERE counterparty_inn = '7702345678'")
    assert len(found["tables"][0]["rows"]) == inn[0][0]
    assert "Обновить из 1С" in doc and 'name="csrf"' in doc and "№ 105" in doc
    assert (
        len(deal["tables"][0]["rows"])
        == sql(store, "SELECT COUNT(*) FROM documents WHERE deal_id = '20'")[0][0]
    )
    assert absent.status_code == 404


def test_the_refresh_button_needs_the_csrf_token_and_ticks(store: Path) -> None:
    ticks = Ticks()
    with served(store, ticks=ticks) as base:
        page = httpx.get(f"{base}/document/doc-001").text
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert token is not None
        forged = httpx.post(f"{base}/document/doc-001/refresh", data={"csrf": "0" * 64})
        assert forged.status_code == 403 and ticks.count == 0
        reply = httpx.post(
            f"{base}/document/doc-001/refresh", data={"csrf": token.group(1)}, follow_redirects=True
        )
    assert reply.status_code == 200 and "Обновлено из 1С" in reply.text and ticks.count == 1


def test_secure_headers_and_configurable_frame_ancestors(store: Path) -> None:
    with served(store) as base:
        plain = httpx.get(f"{base}/")
        missing = httpx.get(f"{base}/no-such-page")
    with served(store, frame_ancestors=("https://example.bitrix24.ru",)) as base:
        framed = httpx.get(f"{base}/deal/20", params={"embed": "1"})
    assert plain.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in plain.headers["content-security-policy"]
    assert plain.headers["x-content-type-options"] == "nosniff"
    assert plain.headers["cache-control"] == "no-store"
    # The server's own time, on every response (the benchmark reads it).
    assert float(plain.headers["server-timing"].removeprefix("app;dur=")) > 0
    assert missing.status_code == 404 and missing.headers["x-frame-options"] == "DENY"
    assert "x-frame-options" not in framed.headers
    assert (
        "frame-ancestors https://example.bitrix24.ru" in framed.headers["content-security-policy"]
    )
    assert "<nav" not in framed.text


def test_token_login_users_and_proxy(store: Path) -> None:
    token = "dashboard-token-0123456789"
    with served(store, Access(token=token)) as base:
        assert httpx.get(f"{base}/").status_code == 303
        assert httpx.get(f"{base}/", headers={"Authorization": f"Bearer {token}"}).is_success
        with httpx.Client(base_url=base) as client:
            bad = client.post("/login", data={"token": "wrong", "next": "/"})
            assert bad.status_code == 401 and token not in bad.text
            ok = client.post("/login", data={"token": token, "next": "//evil.example/"})
            assert ok.status_code == 303 and ok.headers["location"] == "/"
            page = client.get("/")
            assert page.status_code == 200 and token not in page.text
    hashed = hash_password("correct horse")
    assert verify_password("correct horse", hashed) and not verify_password("x", hashed)
    assert not verify_password("correct horse", "plain-text")
    with (
        served(store, Access(users={"anna": hashed})) as base,
        httpx.Client(base_url=base) as client,
    ):
        assert client.post("/login", data={"user": "anna", "password": "no"}).status_code == 401
        assert (
            client.post("/login", data={"user": "anna", "password": "correct horse"}).status_code
            == 303
        )
        assert client.get("/managers").status_code == 200
    with served(store, Access(proxy_header="X-Remote-User")) as base:
        assert httpx.get(f"{base}/").status_code == 403
        assert httpx.get(f"{base}/", headers={"X-Remote-User": "anna"}).status_code == 200


def test_the_hook_takes_its_own_token_in_the_path(store: Path) -> None:
    ticks = Ticks()
    hook, control = "hook-token-0123456789abcdef", "control-token-0123456789abc"
    with served(store, ticks=ticks, hook_token=hook, control_token=control) as base:
        assert httpx.get(f"{base}/hooks/wrong-token/sync?deal=20").status_code == 404
        assert httpx.get(f"{base}/hooks/{control}/sync?deal=20").status_code == 404
        assert httpx.get(f"{base}/hooks/{hook}/sync").status_code == 400
        assert httpx.get(f"{base}/hooks/{hook}/sync?deal=abc").status_code == 400
        assert ticks.count == 0
        reply = httpx.get(f"{base}/hooks/{hook}/sync?deal=20", timeout=10)
        one = httpx.post(f"{base}/hooks/{hook}/sync?document=doc-001", timeout=10)
        # The hook's token opens nothing else.
        as_bearer = {"Authorization": f"Bearer {hook}"}
        assert httpx.post(f"{base}/sync", headers=as_bearer).status_code == 401
        assert httpx.get(f"{base}/metrics", headers=as_bearer).status_code == 401
    deal = sql(store, "SELECT id FROM documents WHERE deal_id = '20' ORDER BY id")
    assert sorted(reply.json()["documents"]) == [r[0] for r in deal]
    assert one.json()["documents"] == ["doc-001"] and ticks.count == 2


def test_bottlenecks_and_age_buckets(store: Path) -> None:
    with served(store) as base:
        data = httpx.get(f"{base}/bottlenecks", params={"format": "json"}).json()["tables"]
        ages = httpx.get(f"{base}/", params={"format": "json"}).json()["tables"][1]["rows"]
    waiting = {r["place"]: r["count"] for r in data[0]["rows"]}
    assert (
        waiting["Ждёт подписи контрагента"]
        == sql(store, "SELECT COUNT(*) FROM documents WHERE status = 'sent'")[0][0]
    )
    assert (
        sum(r["count"] for r in ages)
        == sql(
            store,
            "SELECT COUNT(*) FROM documents WHERE status IN ('sent', 'awaiting_our_signature')",
        )[0][0]
    )
    stuck = data[2]["rows"]
    assert [r["days"] for r in stuck] == sorted((r["days"] for r in stuck), reverse=True)
    assert date.fromisoformat(stuck[0]["since"]) <= NOW.date()


def test_bottlenecks_show_what_rules_read_as_counterparty_stats(store: Path) -> None:
    from edo_rules.engine._stats import StatsReader, refresh
    from edo_rules.model import Counterparty
    from edo_rules.store.sqlite import SQLiteStore

    with served(store) as base:  # no rule has asked yet: no statistics built
        before = httpx.get(f"{base}/bottlenecks", params={"format": "json"}).json()["tables"]
    assert all(r["rule_median"] is None for r in before[1]["rows"])
    with SQLiteStore(store) as opened:
        refresh(opened, ProductionCalendar.russia())
    with served(store) as base:
        rows = httpx.get(f"{base}/bottlenecks", params={"format": "json"}).json()["tables"][1]
    checked = 0
    with SQLiteStore(store) as opened:
        reader = StatsReader(opened, NOW)
        for row in rows["rows"]:
            ((inn,),) = sql(
                store,
                "SELECT DISTINCT counterparty_inn FROM documents WHERE counterparty_name = ?",
                row["name"],
            )
            stats = reader.get(Counterparty(row["name"], inn))
            assert (row["rule_median"], row["rule_signed"]) == (
                stats.median_working_days,
                stats.signed,
            )
            checked += stats.signed > 0
    assert checked > 0
