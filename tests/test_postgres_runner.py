"""The runner on a PostgreSQL store (``store: {dsn: …}``): migrate, tick, every action kind."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import pytest
import yaml
from _runner_helpers import EVERY_ACTION, KINDS_PER_DOCUMENT, onec_now, send_documents, write_config
from psycopg import sql

from edo_rules.cli import main
from edo_rules.config import load_config
from edo_rules.demo._company import Company, seed_company
from edo_rules.demo._world import World
from edo_rules.model import RequestState
from edo_rules.runner.app import wall_clock
from edo_rules.runner.wiring import open_service
from edo_rules.store._pg_schema import CURRENT_VERSION
from edo_rules.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres

_CLI = "import sys; from edo_rules.cli import main; sys.exit(main())"


@dataclass
class _Env:
    world: World
    company: Company
    config: Path
    dsn: str
    schema: str


def with_schema(dsn: str, schema: str) -> str:
    """A DSN whose connections use ``schema`` (created here), as an admin would write it."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    return f"{dsn} options='-c search_path={schema}'"


@pytest.fixture
def env(
    tmp_path: Path, pg_database: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[_Env]:
    with World.started(seed=3, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(5), customers=5)
        config, variables = write_config(tmp_path, world, company, EVERY_ACTION, interval=3600)
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["store"] = {"dsn": "${EDO_TEST_DSN}"}
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        variables["EDO_TEST_DSN"] = with_schema(pg_database, pg_schema)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("EDO_RULES_LANG", "en")  # the assertions read the English output
        yield _Env(world, company, config, variables["EDO_TEST_DSN"], pg_schema)


def test_migrate_then_tick_does_every_action_once(
    env: _Env, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["store", "migrate", "--config", str(env.config)]) == 0
    assert f"migrated from schema version 0 to {CURRENT_VERSION}" in capsys.readouterr().out
    assert main(["store", "migrate", "--config", str(env.config)]) == 0
    assert f"is up to date (schema version {CURRENT_VERSION})" in capsys.readouterr().out
    send_documents(env.world, env.company, random.Random(1), 3)
    assert main(["tick", "--config", str(env.config)]) == 0
    out = capsys.readouterr().out
    assert f"3 document(s) synced, 3 firing(s), actions: {3 * KINDS_PER_DOCUMENT} done" in out
    assert main(["tick", "--config", str(env.config)]) == 0
    assert "0 firing(s)" in capsys.readouterr().out
    counts = env.world.portal.counts()
    assert (counts["tasks"], counts["comments"], counts["todos"], counts["workflows"]) == (
        3,
        3,
        3,
        3,
    )
    with PostgresStore(env.dsn) as store:
        requests = store.requests(list(RequestState))
    assert len(requests) == 3 * KINDS_PER_DOCUMENT
    assert {r.state for r in requests} == {RequestState.DONE}
    assert main(["outbox", "--config", str(env.config)]) == 0
    assert "the outbox is empty" in capsys.readouterr().out
    assert main(["runners", "--config", str(env.config)]) == 0  # each tick left cleanly
    assert "no runner is registered in the store" in capsys.readouterr().out
    assert main(["runners", "--config", str(env.config), "--lang", "ru"]) == 0
    assert capsys.readouterr().out == "в хранилище не зарегистрирован ни один раннер\n"


def test_a_service_reports_itself_among_the_runners(
    env: _Env, capsys: pytest.CaptureFixture[str]
) -> None:
    service = open_service(load_config(env.config), clock=wall_clock)
    try:
        status = service.cluster_status()
        assert status["runner"] == f"{socket.gethostname()}:{os.getpid()}"
        assert status["holds"] == ["sync"] and status["live_runners"] == 1
        assert [r["id"] for r in status["runners"]] == [status["runner"]]
        assert main(["runners", "--config", str(env.config), "--lang", "ru"]) == 0
        head, row = capsys.readouterr().out.splitlines()
        assert head.split() == ["раннер", "хост", "pid", "состояние", "держит", "отправляет",
                                "последний", "сигнал"]  # fmt: skip
        assert row.split()[:6] == [status["runner"], socket.gethostname(), str(os.getpid()),
                                   "жива", "sync", "0"]  # fmt: skip
        assert row.endswith(" MSK")  # the config's zone, as every moment the CLI shows
        assert main(["runners", "--config", str(env.config)]) == 0  # EDO_RULES_LANG=en
        head, row = capsys.readouterr().out.splitlines()
        assert head.split()[:6] == ["runner", "host", "pid", "state", "holds", "claims"]
        assert row.split()[3] == "alive"
        # A hand-run sync (another process) does not race the runner holding the lease.
        done = subprocess.run(
            [sys.executable, "-c", _CLI, "sync", "--config", str(env.config)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        assert f"{status['runner']} holds the sync lease" in done.stderr
    finally:
        service.close()
    with PostgresStore(env.dsn) as store:
        assert store.runners() == []  # a clean stop leaves
    send_documents(env.world, env.company, random.Random(2), 1)
    assert main(["sync", "--config", str(env.config)]) == 0
    assert "1 documents" in capsys.readouterr().out


def test_a_bad_dsn_is_a_clear_error(env: _Env, capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load(env.config.read_text(encoding="utf-8"))
    data["store"] = {"dsn": "postgresql://edo:hunter2@127.0.0.1:1/edo?connect_timeout=2"}
    env.config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert main(["tick", "--config", str(env.config)]) != 0
    err = capsys.readouterr()
    text = err.out + err.err
    assert "pg_isready" in text and "hunter2" not in text
