"""The runner as ops run it: the store lock, SIGTERM, the HTTP endpoint, hot reload, the CLI."""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from textwrap import dedent

import httpx
import pytest
from _runner_helpers import (
    onec_now,
    other_threads,
    send_documents,
    stop_runner,
    tgkill,
    write_config,
)

from edo_rules._messages import in_language
from edo_rules.cli import main
from edo_rules.config import load_config
from edo_rules.demo._company import Company, seed_company
from edo_rules.demo._world import World
from edo_rules.runner.app import wall_clock
from edo_rules.runner.loop import Runner
from edo_rules.runner.schedule import IntervalSchedule
from edo_rules.runner.wiring import open_service

NOTIFY = dedent(
    """
    version: 1
    name: waiting
    rules:
      - id: notify-waiting
        match: {status: sent}
        when: {after: 0 минут, since: sent_at}
        do:
          - notify: {to: responsible, text: "Ждём подписи: {{ doc.title }}"}
    """
).lstrip()
TOKEN = "test-token-0123456789abcdef"
_RUNNER = "import sys; from edo_rules.cli import main; sys.exit(main())"


class _Env:
    def __init__(self, world: World, company: Company, config: Path, env: dict[str, str]) -> None:
        self.world = world
        self.company = company
        self.config = config
        self.env = env
        self.rng = random.Random(9)

    def send(self, count: int) -> list[str]:
        return send_documents(self.world, self.company, self.rng, count)

    def start(self, *args: str) -> tuple[subprocess.Popen[str], list[str], threading.Event]:
        process = subprocess.Popen(
            [sys.executable, "-c", _RUNNER, "run", "--config", str(self.config), *args],
            env={**os.environ, **self.env},
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        lines: list[str] = []
        started = threading.Event()

        def read() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                lines.append(line)
                if "tick:" in line:
                    started.set()

        threading.Thread(target=read, daemon=True).start()
        return process, lines, started

    def listening(self) -> tuple[subprocess.Popen[str], list[str], threading.Event, str]:
        """A runner serving HTTP on a free port: (process, its stderr, ticked, base URL)."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return (*self.start("--listen", f"127.0.0.1:{port}"), f"http://127.0.0.1:{port}")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Env]:
    with World.started(seed=3, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(5), customers=5)
        config, variables = write_config(tmp_path, world, company, NOTIFY, interval=3600)
        variables["EDO_TEST_HTTP_TOKEN"] = TOKEN
        with config.open("a", encoding="utf-8") as handle:
            handle.write("http: {token: '${EDO_TEST_HTTP_TOKEN}'}\n")
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        yield _Env(world, company, config, variables)


def test_a_second_runner_refuses_and_sigterm_stops_cleanly(
    env: _Env, capsys: pytest.CaptureFixture[str]
) -> None:
    process, lines, ticked = env.start()
    try:
        assert ticked.wait(30), "".join(lines)
        assert main(["run", "--config", str(env.config), "--lang", "en"]) == 1
        message = capsys.readouterr().err
        assert f"already used by another edo-rules runner: pid {process.pid}" in message
        assert "(run)" in message and "stop that runner first" in message
        assert main(["tick", "--config", str(env.config)]) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    text = "".join(lines)
    assert "SIGTERM received" in text and "runner stopped" in text


def test_a_sigterm_handed_to_another_thread_stops_an_idle_runner_at_once(env: _Env) -> None:
    """Python runs the handler in the main thread, which then sleeps between ticks (here an
    hour): it must wake in time to run it, not when its sleep ends."""
    process, lines, ticked, _ = env.listening()
    try:
        assert ticked.wait(30), "".join(lines)
        others = other_threads(process.pid)
        assert others, "the runner serving HTTP has threads besides its main one"
        tgkill(process.pid, others[-1], signal.SIGTERM)
        assert process.wait(timeout=15) == 0, "".join(lines)  # not an hour, nor a minute
    finally:
        if process.poll() is None:
            stop_runner(process, lines)
    text = "".join(lines)
    assert "SIGTERM received" in text and "runner stopped" in text, text


def test_sigusr1_writes_every_threads_stack_and_the_runner_goes_on(env: _Env) -> None:
    # For a runner that seems stuck: `kill -USR1 PID` shows where each thread is.
    process, lines, ticked = env.start()
    try:
        assert ticked.wait(30), "".join(lines)
        process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while "Current thread" not in "".join(lines) and time.monotonic() < deadline:
            time.sleep(0.1)
        text = "".join(lines)
        assert "Current thread" in text and "edo_rules/runner/loop.py" in text, text
        assert process.poll() is None  # still running
    finally:
        stop_runner(process, lines)
    assert "runner stopped" in "".join(lines)


def test_post_sync_triggers_a_tick_and_metrics_count_it(env: _Env) -> None:
    process, lines, ticked, base = env.listening()
    try:
        assert ticked.wait(30), "".join(lines)
        env.send(3)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.post(f"{base}/sync").status_code == 401
        reply = httpx.post(f"{base}/sync?wait=1", headers=auth, timeout=60)
        assert reply.status_code == 200, reply.text
        assert reply.json()["synced"] == 3 and reply.json()["actions"] == {"done": 3}
        assert httpx.get(f"{base}/healthz", headers=auth).json()["ticks"] == 2
        assert "cluster" not in httpx.get(f"{base}/healthz").json()  # not without the token
        cluster = httpx.get(f"{base}/healthz", headers=auth).json()["cluster"]
        assert cluster == {"runner": "local", "holds": ["store"], "live_runners": 1, "runners": []}
        metrics = httpx.get(f"{base}/metrics", headers=auth).text
        assert 'edo_rules_runner_info{runner="local"} 1.0' in metrics
        assert "edo_rules_runner_holds_sync_lease 1.0" in metrics
        assert 'edo_rules_ticks_total{result="ok"} 2' in metrics
        assert 'edo_rules_actions_total{action="notify",outcome="done"} 3' in metrics
        assert "edo_rules_documents 3" in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert TOKEN not in "".join(lines)
    assert env.env["EDO_TEST_WEBHOOK"] not in "".join(lines)


def test_a_broken_playbook_is_refused_and_the_old_one_keeps_running(
    env: _Env, caplog: pytest.LogCaptureFixture
) -> None:
    service = open_service(load_config(env.config), clock=wall_clock)
    runner = Runner(service.pipeline, IntervalSchedule(1), clock=wall_clock)
    playbook = env.config.parent / "playbooks" / "test.yaml"
    try:
        env.send(1)
        assert runner.tick().fired == 1
        playbook.write_text(NOTIFY.replace("match:", "mach:"), encoding="utf-8")
        env.send(1)
        with caplog.at_level(logging.ERROR, logger="edo_rules"):
            report = runner.tick()
        assert report.fired == 1  # the old version still works
        with in_language("en"):  # as the service's log handler renders it (runner/logs.py)
            logged = "\n".join(record.getMessage() for record in caplog.records)
        assert f"{playbook}:5:5: rules[0].mach: unknown key 'mach'" in logged
        assert service.metrics.value("edo_rules_playbook_reload_errors_total") == 1
        playbook.write_text(NOTIFY.replace("notify-waiting", "notify-again"), encoding="utf-8")
        with caplog.at_level(logging.INFO, logger="edo_rules.runner"):
            assert runner.tick().fired == 2  # the new rule fires for both documents
        assert (
            "playbooks changed: > waiting/notify-again (renamed): renamed from"
            " waiting/notify-waiting; its firings do not carry over" in caplog.text
        )
        assert "+2 added, -0 removed, 0 moved, 0 with other parameters, 2 replayed" in caplog.text
        assert "переименовано" not in caplog.text  # the admin reads Russian, the log stays English
    finally:
        service.close()
    assert len(env.world.portal.notifications()) == 4


def test_tick_and_outbox_commands(env: _Env, capsys: pytest.CaptureFixture[str]) -> None:
    env.send(2)
    assert main(["tick", "--config", str(env.config)]) == 0
    out = capsys.readouterr().out
    assert "тик: синхронизировано документов 2, срабатываний 2, действия: выполнено 2" in out
    assert main(["outbox", "--config", str(env.config)]) == 0
    assert "очередь пуста" in capsys.readouterr().out
    assert main(["validate", "--config", str(env.config)]) == 0
    assert "OK:" in capsys.readouterr().out
    env.send(1)
    assert (
        main(["run", "--config", str(env.config), "--max-ticks", "1", "--log-format", "json"]) == 0
    )
    logged = capsys.readouterr().err
    assert (
        '"message": "action notify done"' in logged and '"rule": "waiting/notify-waiting"' in logged
    )
    assert env.env["EDO_TEST_WEBHOOK"] not in logged


STATS = NOTIFY.replace(
    "match: {status: sent}",
    "match: {status: sent, where: 'counterparty.stats.rejections >= 0'}",
)


@pytest.mark.parametrize("reads_stats", [True, False])
def test_the_sync_stage_keeps_counterparty_stats_up_to_date(env: _Env, reads_stats: bool) -> None:
    """The statistics follow the sync's writes in the sync stage itself, so the tick after it
    only reads them; with no rule reading them nothing is built."""
    playbook = env.config.parent / "playbooks" / "test.yaml"
    playbook.write_text(STATS if reads_stats else NOTIFY, encoding="utf-8")
    service = open_service(load_config(env.config), clock=wall_clock)
    try:
        env.send(3)
        pipeline = service.pipeline
        assert pipeline.sync is not None
        assert pipeline.sync(wall_clock()) == 3
        store = service.store
        assert store.document_seq() > 0
        assert store.stats_seq() == (store.document_seq() if reads_stats else 0)
        seq = store.document_seq()
        env.send(2)
        assert pipeline.sync(wall_clock()) == 2
        assert store.document_seq() > seq
        assert store.stats_seq() == (store.document_seq() if reads_stats else 0)
        assert Runner(pipeline, IntervalSchedule(3600), clock=wall_clock).tick().fired == 5
    finally:
        service.close()
