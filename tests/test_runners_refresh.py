"""Three runner processes on one PostgreSQL: refreshes go to the sync lease's holder,
and each runner shows itself, what it holds and the others on /healthz and /metrics."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
import psycopg
import pytest
import yaml
from _runner_helpers import onec_now, send_documents, write_config
from test_postgres_runner import with_schema

from edo_rules.demo._company import Company, seed_company
from edo_rules.demo._world import World
from edo_rules.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres

_CLI = "import sys; from edo_rules.cli import main; sys.exit(main())"
TOKEN = "runners-token-1234567890"
#: Long enough that a loaded machine's late heartbeat does not pass the lease around
#: (the test asserts who served each refresh), short enough for the take-over.
LEASE = 6.0
NOTIFY = """version: 1
name: waiting
rules:
  - id: notify-waiting
    match: {status: sent}
    when: {after: 0 минут, since: sent_at}
    do:
      - notify: {to: responsible, text: "Ждём подписи: {{ doc.title }}"}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class _Process:
    process: subprocess.Popen[str]
    base: str
    lines: list[str] = field(default_factory=list)
    ticked: threading.Event = field(default_factory=threading.Event)

    @property
    def id(self) -> str:
        return f"{socket.gethostname()}:{self.process.pid}"

    def read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            if "tick:" in line:
                self.ticked.set()

    def get(self, path: str, token: str | None = TOKEN) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(f"{self.base}{path}", headers=headers, timeout=30)


@dataclass
class _Fleet:
    world: World
    company: Company
    config: Path
    env: dict[str, str]
    dsn: str
    runners: list[_Process]

    def start(self) -> _Process:
        port = _free_port()
        command = ["run", "--config", str(self.config), "--listen", f"127.0.0.1:{port}"]
        process = subprocess.Popen(
            [sys.executable, "-c", _CLI, *command],
            env={**os.environ, **self.env},
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        runner = _Process(process, f"http://127.0.0.1:{port}")
        threading.Thread(target=runner.read, daemon=True).start()
        return runner

    def holder(self) -> str | None:
        with PostgresStore(self.dsn) as store:
            return next((r.id for r in store.runners() if "sync" in r.leases and r.alive), None)

    def requests(self) -> list[tuple[str, str | None, bool]]:
        """(asked by, served by, answered) of every refresh request, oldest first."""
        with psycopg.connect(self.dsn) as conn:
            rows = conn.execute(
                "SELECT asked_by, served_by, answer IS NOT NULL FROM sync_requests ORDER BY id"
            ).fetchall()
        return [(str(a), s, bool(done)) for a, s, done in rows]

    def stored(self, key: str) -> bool:
        with PostgresStore(self.dsn) as store:
            return store.get_document(key) is not None


@pytest.fixture
def fleet(tmp_path: Path, pg_database: str, pg_schema: str) -> Iterator[_Fleet]:
    with World.started(seed=3, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(5), customers=3)
        config, env = write_config(tmp_path, world, company, NOTIFY, interval=3600)
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["store"] = {"dsn": "${EDO_TEST_DSN}", "lease": LEASE}
        data["http"] = {"token": "${EDO_TEST_HTTP_TOKEN}"}
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        dsn = with_schema(pg_database, pg_schema)
        env |= {"EDO_TEST_DSN": dsn, "EDO_TEST_HTTP_TOKEN": TOKEN, "EDO_RULES_LANG": "en"}
        send_documents(world, company, random.Random(1), 2)
        fleet = _Fleet(world, company, config, env, dsn, [])
        try:
            for _ in range(3):
                fleet.runners.append(fleet.start())
                time.sleep(0.3)  # the first one takes the sync lease
            for runner in fleet.runners:
                assert runner.ticked.wait(60), "".join(runner.lines)
            yield fleet
        finally:
            for runner in fleet.runners:
                if runner.process.poll() is None:
                    runner.process.send_signal(signal.SIGTERM)
                    runner.process.wait(timeout=30)


def _holder_and_others(fleet: _Fleet) -> tuple[_Process, list[_Process]]:
    holder = fleet.holder()
    assert holder is not None
    (mine,) = [r for r in fleet.runners if r.id == holder]
    return mine, [r for r in fleet.runners if r.id != holder and r.process.poll() is None]


def test_each_runner_shows_itself_what_it_holds_and_the_others(fleet: _Fleet) -> None:
    holder, others = _holder_and_others(fleet)
    ids = sorted(r.id for r in fleet.runners)
    for runner in fleet.runners:
        cluster = runner.get("/healthz").json()["cluster"]
        assert cluster["runner"] == runner.id
        assert cluster["holds"] == (["sync"] if runner is holder else [])
        assert cluster["live_runners"] == 3
        assert sorted(r["id"] for r in cluster["runners"]) == ids
        assert [r["id"] for r in cluster["runners"] if r["holds"]] == [holder.id]
    # Without the token the runners' ids (hosts, processes) stay hidden.
    assert "cluster" not in others[0].get("/healthz", token=None).json()
    metrics = holder.get("/metrics").text
    assert f'edo_rules_runner_info{{runner="{holder.id}"}} 1.0' in metrics
    assert "edo_rules_runner_holds_sync_lease 1.0" in metrics
    assert "edo_rules_live_runners 3.0" in metrics
    assert "edo_rules_runner_claims 0.0" in metrics
    for runner in fleet.runners:
        host = socket.gethostname()
        lease = "yes" if runner is holder else "no"
        assert (
            f'edo_rules_runner_up{{host="{host}",runner="{runner.id}",sync_lease="{lease}"}} 1.0'
            in metrics
        )
    assert "edo_rules_runner_holds_sync_lease 0.0" in others[0].get("/metrics").text


def test_refreshes_go_to_the_sync_lease_holder_or_wait_for_the_next(fleet: _Fleet) -> None:
    holder, others = _holder_and_others(fleet)
    # POST /sync?document=… at a runner without the lease: the holder refreshes.
    (key,) = send_documents(fleet.world, fleet.company, random.Random(2), 1)
    reply = httpx.post(
        f"{others[0].base}/sync",
        params={"document": key, "wait": "1"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["synced"] == 1 and reply.json()["ok"]
    assert fleet.stored(key)
    assert fleet.requests() == [(others[0].id, holder.id, True)]
    # `edo-rules sync --document` in another process: the holder refreshes too.
    (key,) = send_documents(fleet.world, fleet.company, random.Random(3), 1)
    done = subprocess.run(
        [sys.executable, "-c", _CLI, "sync", "--config", str(fleet.config), "--document", key],
        env={**os.environ, **fleet.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "1 document(s) synced" in done.stdout
    assert fleet.stored(key)
    asked_by, served_by, answered = fleet.requests()[-1]
    assert served_by == holder.id and asked_by not in {r.id for r in fleet.runners} and answered
    # The holder dies: a refresh asked now waits for the next holder, then is served.
    holder.process.send_signal(signal.SIGKILL)
    holder.process.wait()
    (key,) = send_documents(fleet.world, fleet.company, random.Random(4), 1)
    reply = httpx.post(
        f"{others[1].base}/sync",
        params={"document": key, "wait": "1"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["synced"] == 1
    assert fleet.stored(key)
    assert fleet.holder() in {r.id for r in others}
