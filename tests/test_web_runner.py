"""The runner's web app over the emulators: dashboard pages, refresh from 1C, hook, metrics."""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
from _browser import ARTIFACTS, launched_browser, open_page
from _runner_helpers import onec_now, send_documents, write_config
from _web_helpers import agenda_ready

from edo_rules.demo._company import seed_company
from edo_rules.demo._world import World

NOTIFY = """version: 1
name: waiting
rules:
  - id: notify-waiting
    match: {status: sent}
    when: {after: 0 минут, since: sent_at}
    do:
      - notify: {to: responsible, text: "Ждём подписи: {{ doc.title }}"}
"""
TOKEN = "test-token-0123456789abcdef"
HOOK = "hook-token-0123456789abcdef"
_RUNNER = "import sys; from edo_rules.cli import main; sys.exit(main())"


@dataclass
class _Running:
    base: str
    world: World
    keys: list[str]
    lines: list[str]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def running(tmp_path: Path) -> Iterator[_Running]:
    with World.started(seed=4, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(6), customers=4)
        config, env = write_config(tmp_path, world, company, NOTIFY, interval=3600)
        env["EDO_TEST_HTTP_TOKEN"], env["EDO_TEST_HOOK"] = TOKEN, HOOK
        with config.open("a", encoding="utf-8") as handle:
            handle.write(
                "http: {token: '${EDO_TEST_HTTP_TOKEN}', hook_token: '${EDO_TEST_HOOK}'}\n"
            )
            handle.write("dashboard: {overdue_after: 3}\n")
        keys = send_documents(world, company, random.Random(2), 4)
        port = _free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _RUNNER,
                "run",
                "--config",
                str(config),
                "--listen",
                f"127.0.0.1:{port}",
            ],
            env={**os.environ, **env},
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        lines: list[str] = []
        ticked = threading.Event()

        def read() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                lines.append(line)
                if "tick:" in line:
                    ticked.set()

        threading.Thread(target=read, daemon=True).start()
        try:
            assert ticked.wait(30), "".join(lines)
            yield _Running(f"http://127.0.0.1:{port}", world, keys, lines)
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        assert TOKEN not in "".join(lines) and HOOK not in "".join(lines)


def test_pages_metrics_and_the_hook(running: _Running) -> None:
    base = running.base
    overview = httpx.get(f"{base}/?format=json").json()["tables"][0]["rows"]
    assert {r["status"]: r["count"] for r in overview} == {"sent": 4}
    agenda = agenda_ready(httpx.get, f"{base}/agenda?days=3")["agenda"]
    # The runner commits every tick: the plan may already be stale, never missing.
    assert agenda["state"] in {"fresh", "stale"} and agenda["as_of"] and not agenda["error"]
    doc = httpx.get(f"{base}/document/{running.keys[0]}").text
    assert "waiting/notify-waiting" in doc and "done" in doc  # the firing and its outcome
    metrics = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert 'edo_rules_rule_firings_total{rule="waiting/notify-waiting"} 4.0' in metrics
    assert 'edo_rules_outbox_requests{state="pending"} 0.0' in metrics
    assert "edo_rules_tick_duration_seconds_count 1.0" in metrics
    assert "edo_rules_sync_lag_seconds" in metrics
    running.world.base.sign(running.keys[1], at=onec_now())
    reply = httpx.get(f"{base}/hooks/{HOOK}/sync", params={"document": running.keys[1]}, timeout=10)
    assert reply.status_code == 200 and reply.json()["ok"] is True, reply.text
    status = httpx.get(f"{base}/document/{running.keys[1]}").text
    assert 'data-status="signed"' in status
    assert httpx.get(f"{base}/hooks/{TOKEN}/sync?document=x").status_code == 404


def test_the_refresh_button_in_a_browser_reads_1c(running: _Running) -> None:
    key = running.keys[2]
    with launched_browser() as browser:
        errors: list[str] = []
        page = open_page(browser, f"{running.base}/document/{key}", errors)
        assert page.locator("[data-status]").get_attribute("data-status") == "sent"
        running.world.base.reject(key, "Неверная сумма", at=onec_now())
        page.click("#refresh")
        page.wait_for_url(re.compile("message="))
        assert page.locator("[data-status]").get_attribute("data-status") == "rejected"
        assert "Неверная сумма" in page.content()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "runner-document.png"), full_page=True)
        for path in ("/", "/companies", "/managers", "/bottlenecks", "/agenda"):
            page.goto(running.base + path)
            assert page.locator("h1").count() == 1
        page.close()
    assert errors == []
