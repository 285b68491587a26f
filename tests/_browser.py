"""Debian's headless Chromium driven by Playwright (no browser download at run time).

Under CI=true a missing browser fails the run; elsewhere the browser tests
skip with the one command that installs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
#: Screenshots of every page (gitignored; CI keeps them as artifacts).
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _playwright_or_skip() -> Any:
    present = Path(CHROMIUM).exists() or shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if present and sync_playwright is not None:
        return sync_playwright
    message = "no headless browser: run `apt-get install -y chromium` to run the browser tests"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def launched_browser() -> Iterator[Any]:
    sync_playwright = _playwright_or_skip()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Any, url: str, errors: list[str]) -> Any:
    """A new page at ``url``; console errors and uncaught exceptions land in ``errors``."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page
