"""``edo-rules golive --config``: what the first real tick would send, on both emulators."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from _runner_helpers import onec_now, send_documents, write_config

from edo_rules.cli import main
from edo_rules.demo._company import seed_company
from edo_rules.demo._world import World
from edo_rules.store.sqlite import SQLiteStore

MSK = ZoneInfo("Europe/Moscow")
NOTIFY = """version: 1
name: waiting
rules:
  - id: notify-waiting
    match: {status: sent}
    when: {after: 0 минут, since: sent_at}
    do:
      - notify: {to: responsible, text: "Ждём подписи: {{ doc.title }}"}
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with World.started(seed=4, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(6), customers=5)
        path, variables = write_config(tmp_path, world, company, NOTIFY, interval=3600)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        send_documents(world, company, random.Random(3), 4)
        assert main(["sync", "--config", str(path)]) == 0
        yield path


def test_golive_shows_the_first_tick_and_records_nothing(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    now = datetime.now(MSK)
    earlier = (now - timedelta(hours=2)).isoformat(timespec="minutes")
    assert main(["golive", "--config", str(config), "--go-live", earlier]) == 0
    out = capsys.readouterr().out
    assert "Будет отправлено действий: 4" in out
    assert "По правилам:\n  waiting/notify-waiting: 4" in out
    assert "Не тронуты (история до go-live): 0" in out
    recipients = out.split("По получателям:\n")[1].split("По правилам:")[0].splitlines()
    assert all("(id " in line for line in recipients)  # Bitrix24 users, by name
    assert sum(int(line.rsplit(": ", 1)[1]) for line in recipients) == 4
    assert main(["golive", "--config", str(config), "--go-live", earlier, "--as-written"]) == 0
    assert "ответственный:" in capsys.readouterr().out
    later = (now + timedelta(minutes=1)).isoformat(timespec="minutes")
    with config.open("a", encoding="utf-8") as handle:
        handle.write(f"go_live: '{later}'\n")
    assert main(["golive", "--config", str(config), "--at", later]) == 0
    out = capsys.readouterr().out
    assert "Будет отправлено действий: 0" in out
    assert "Не тронуты (история до go-live): 4" in out
    with SQLiteStore(config.parent / "edo-rules.db") as store:
        assert all(store.firings_for(doc.id) == [] for doc in store.iter_documents())


def test_a_bad_go_live_in_the_config_is_reported(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with config.open("a", encoding="utf-8") as handle:
        handle.write("go_live: завтра\n")
    assert main(["golive", "--config", str(config)]) == 1  # bad input (exit codes: docs/cli.md)
    assert "go_live" in capsys.readouterr().err


def test_golive_never_creates_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "p.yaml").write_text(NOTIFY, encoding="utf-8")
    config = tmp_path / "edo-rules.yaml"
    config.write_text("store: {path: missing.db}\nplaybooks: playbooks\n", encoding="utf-8")
    assert main(["golive", "--config", str(config)]) == 1  # bad input (exit codes: docs/cli.md)
    assert "no store at" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()
