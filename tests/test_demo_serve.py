"""`edo-rules demo --serve`: the dashboard stays open on the demo's data and prints its URL."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest
from _browser import ARTIFACTS, launched_browser, open_page

_CLI = "import sys; from edo_rules.cli import main; sys.exit(main())"
PAGES = ("/", "/companies", "/managers", "/bottlenecks", "/agenda", "/kinds")


@pytest.fixture(scope="module")
def demo() -> Iterator[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _CLI,
            "demo",
            "--days",
            "5",
            "--seed",
            "5",
            "--serve",
            "127.0.0.1:0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            match = re.search(r"Дашборд: (http://127\.0\.0\.1:\d+)/", line)
            if match:
                found.append(match.group(1))
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(120), process.stderr.read() if process.poll() is not None else ""
        yield found[0]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def test_demo_serve_keeps_the_dashboard_open(demo: str) -> None:
    statuses = httpx.get(f"{demo}/?format=json", timeout=30).json()["tables"][0]["rows"]
    total = sum(row["count"] for row in statuses)
    managers = httpx.get(f"{demo}/managers?format=json", timeout=30).json()["tables"][0]
    assert total > 0
    assert sum(row["total"] for row in managers["rows"]) == total
    assert httpx.get(f"{demo}/healthz").json()["status"] == "ok"


def test_every_page_over_the_demo_loads_in_a_browser(demo: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    stuck = httpx.get(f"{demo}/bottlenecks?format=json", timeout=30).json()["tables"][2]
    paths = [*PAGES, stuck["rows"][0]["url"]] if stuck["rows"] else list(PAGES)
    with launched_browser() as browser:
        for path in paths:
            errors: list[str] = []
            page = open_page(browser, demo + path, errors)
            assert page.locator("h1").count() == 1, path
            name = re.sub(r"[^a-z0-9]+", "-", path.split("?")[0]).strip("-") or "overview"
            page.screenshot(path=str(ARTIFACTS / f"demo-{name[:40]}.png"), full_page=True)
            page.close()
            assert errors == [], (path, errors)
