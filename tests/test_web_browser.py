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
from _web_helpers import MANAGERS, fill_store, served, sql

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


def test_every_page_loads_without_console_errors(browser: Any, store: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with served(store) as base:
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
