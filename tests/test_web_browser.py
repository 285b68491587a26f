"""The dashboard in a real headless Chromium (Debian's package) driven by Playwright.

Under CI=true a missing browser fails; elsewhere these tests skip with the
command that installs it. Screenshots go to ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _browser import ARTIFACTS, launched_browser, open_page
from _web_helpers import MANAGERS, PLAYBOOK, fill_store, served, sql

from edo_rules.model import Status

PAGES = (
    "/",
    "/companies",
    "/managers",
    "/bottlenecks",
    "/agenda",
    "/search?q=Ромашка",
    "/document/doc-003",
    "/deal/20?embed=1",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched_browser() as launched:
        yield launched


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite3"
    fill_store(path)
    return path


@pytest.fixture
def playbooks(tmp_path: Path) -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "waiting.yaml").write_text(PLAYBOOK, encoding="utf-8")
    return folder


def test_every_page_loads_without_console_errors(
    browser: Any, store: Path, playbooks: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with served(store, playbooks=playbooks) as base:
        for path in PAGES:
            errors: list[str] = []
            page = open_page(browser, base + path, errors)
            assert page.locator("h1").count() == 1, path
            name = re.sub(r"[^a-z0-9]+", "-", path).strip("-") or "overview"
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            page.close()
            assert errors == [], (path, errors)


def test_the_manager_filter_in_the_form_changes_the_figures(browser: Any, store: Path) -> None:
    manager = MANAGERS[0]
    with served(store) as base:
        errors: list[str] = []
        page = open_page(browser, base + "/", errors)
        page.select_option("select[name=manager]", manager)
        page.click("form.filters button[type=submit]")
        page.wait_for_url(re.compile("manager="))
        total = int(page.locator('[data-figure="0"]').inner_text())
        page.close()
    assert (
        total == sql(store, "SELECT COUNT(*) FROM documents WHERE responsible = ?", manager)[0][0]
    )
    assert errors == []


def test_csv_export_equals_the_table_on_screen(browser: Any, store: Path) -> None:
    with served(store) as base:
        errors: list[str] = []
        page = open_page(browser, base + "/managers", errors)
        cells = page.locator('table[data-table="managers"] tbody tr').all()
        on_screen = [[c.inner_text() for c in row.locator("td").all()] for row in cells]
        href = page.locator('#managers a[data-export="csv"]').get_attribute("href")
        page.close()
        exported = httpx.get(f"{base}/managers{href}").text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(exported)))[1:]
    assert rows == on_screen and len(rows) == len(MANAGERS)


def test_the_refresh_button_refreshes_the_document(browser: Any, store: Path) -> None:
    from _web_helpers import Ticks

    ticks = Ticks()
    with served(store, ticks=ticks) as base:
        errors: list[str] = []
        page = open_page(browser, base + "/document/doc-002", errors)
        page.click("#refresh")
        page.wait_for_url(re.compile("message="))
        text = page.locator("[role=status]").inner_text()
        page.close()
    assert "Обновлено из 1С" in text and ticks.count == 1 and errors == []


def _per_day(store: Path, playbooks: Path, days: int) -> list[list[str]]:
    """The agenda's «По дням» computed directly (the engine in this thread)."""
    from collections import Counter

    from _web_helpers import MSK, NOW

    from edo_rules.calendar import ProductionCalendar
    from edo_rules.engine import Engine
    from edo_rules.playbook import load_playbooks
    from edo_rules.store.sqlite import SQLiteStore
    from edo_rules.web._documents import plan_agenda

    calendar = ProductionCalendar.russia()
    with SQLiteStore(store) as opened:
        engine = Engine(opened, load_playbooks([playbooks]), calendar)
        planned = plan_agenda(engine, NOW, calendar, days, MSK)
    counts = Counter(row["day"] for _, row in planned)
    return [[day, str(count)] for day, count in sorted(counts.items())]


def _status_until(page: Any, wanted: str, unwanted: str = "\0", timeout: float = 60) -> str:
    """The agenda's status line once it says ``wanted`` (and not ``unwanted``), reloading
    the page as a person would (the «being computed» page also reloads itself)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        status = page.locator("#agenda-status").inner_text()
        if (wanted in status and unwanted not in status) or time.monotonic() > deadline:
            return str(status)
        time.sleep(0.2)
        page.reload()


def test_the_agenda_shows_its_plan_and_recomputes_it_after_a_commit(
    browser: Any, store: Path, playbooks: Path
) -> None:
    from _web_helpers import replace_doc

    with served(store, playbooks=playbooks) as base:
        errors: list[str] = []
        page = open_page(browser, base + "/agenda?days=3", errors)
        # The first view never waits: the page says so and reloads itself until the plan is in.
        assert "рассчитывается" in page.locator("#agenda-status").inner_text()
        page.wait_for_selector("text=Рассчитано в", timeout=30_000)
        rows = page.locator('table[data-table="by_day"] tbody tr').all()
        before = [[c.inner_text() for c in row.locator("td").all()] for row in rows]
        link = page.locator('table[data-table="planned"] tbody tr a').first.get_attribute("href")
        replace_doc(store, link.rsplit("/", 1)[1], status=Status.SIGNED)  # a sync's commit
        page.reload()
        assert "Данные изменились" in page.locator("#agenda-status").inner_text()
        status = _status_until(page, "Рассчитано в", "изменились")
        rows = page.locator('table[data-table="by_day"] tbody tr').all()
        after = [[c.inner_text() for c in row.locator("td").all()] for row in rows]
        page.close()
    assert before != after and "изменились" not in status
    assert after == _per_day(store, playbooks, 3) != []
    assert errors == []
