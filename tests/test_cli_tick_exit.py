"""``edo-rules tick --config``: exit 0 all done, 1 actions failed, 3 retry pending (emulators)."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from textwrap import dedent

import pytest
from _runner_helpers import onec_now, send_documents, write_config

from edo_rules.cli import main
from edo_rules.demo._company import Company, seed_company
from edo_rules.demo._world import World
from edo_rules.emulators.bitrix24._faults import Fault

NOTIFY = dedent(
    """
    version: 1
    name: waiting
    rules:
      - id: notify-waiting
        description: Ждём подписи контрагента
        match: {status: sent}
        when: {after: 0 минут, since: sent_at}
        do:
          - notify: {to: responsible, text: "Ждём подписи: {{ doc.title }}"}
    """
).lstrip()


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[World, Company, Path]]:
    with World.started(seed=3, first_day=date(2026, 11, 2), now=onec_now()) as world:
        company = seed_company(world.portal, world.base, random.Random(5), customers=4)
        config, variables = write_config(tmp_path, world, company, NOTIFY, interval=3600)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        yield world, company, config


def _tick(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    status = main(["tick", "--config", str(config), "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_exit_0_when_every_action_is_done(
    setup: tuple[World, Company, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    world, company, config = setup
    assert main(["tick", "--config", str(config)]) == 0  # the initial sync: history only
    capsys.readouterr()
    send_documents(world, company, random.Random(1), 2)
    status, report = _tick(config, capsys)
    assert (status, report["fired"], report["actions"]) == (0, 2, {"done": 2})


def test_exit_3_when_actions_wait_for_a_retry(
    setup: tuple[World, Company, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    world, company, config = setup
    assert main(["tick", "--config", str(config)]) == 0
    capsys.readouterr()
    send_documents(world, company, random.Random(1), 2)
    world.bitrix24.inject(Fault("500"), times=50)
    assert main(["tick", "--config", str(config)]) == 3
    out = capsys.readouterr().out
    assert "ждут повтора 2" in out and "часть действий ждёт повтора" in out
    world.bitrix24.faults.clear()
    assert main(["outbox", "--config", str(config), "--json"]) == 0
    pending = json.loads(capsys.readouterr().out)
    assert {r["state"] for r in pending} == {"pending"} and len(pending) == 2
    assert all(" № " in r["title"] and r["next_attempt_at"].endswith("+03:00") for r in pending)


def test_exit_1_when_actions_fail(
    setup: tuple[World, Company, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world, company, config = setup
    assert main(["tick", "--config", str(config)]) == 0
    capsys.readouterr()
    # A webhook without the `im` scope: notifications fail for good (insufficient_scope).
    monkeypatch.setenv("EDO_TEST_WEBHOOK", world.bitrix24.add_webhook(1, scopes=["crm", "user"]))
    send_documents(world, company, random.Random(1), 2)
    status, report = _tick(config, capsys)
    assert status == 1 and report["actions"] == {"failed": 2}
    assert main(["outbox", "--failed", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "С ОШИБКОЙ (2):" in out and "insufficient_scope" in out
    assert re.search(
        r"waiting/notify-waiting  (Акт|УПД|Договор) № \S+ от \d\d\.\d\d\.\d{4} \(", out
    )
