"""Retention over the emulators: prune, re-read everything from 1C, tick — nothing is done twice.

The service runs in this process on an injected clock, so that a year can
pass between two ticks; 1C and Bitrix24 are the emulators over HTTP.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path
from textwrap import dedent
from zoneinfo import ZoneInfo

import pytest
from _runner_helpers import write_config

from edo_rules._messages import in_language
from edo_rules.cli import main
from edo_rules.config import load_config
from edo_rules.demo._company import Company, seed_company
from edo_rules.demo._world import World
from edo_rules.errors import ConfigError
from edo_rules.model import RequestState
from edo_rules.runner.loop import Runner, TickReport
from edo_rules.runner.retention import prune_store
from edo_rules.runner.wiring import open_service
from edo_rules.sources.onec import run_sync
from edo_rules.store.sqlite import SQLiteStore

MOSCOW = ZoneInfo("Europe/Moscow")
START = datetime(2025, 3, 3, 9, 0)  # 1C's local time

# A time rule on signed documents: a pruned document brought back by a re-read
# would be a new candidate for it, and its overdue step fires (catch_up: latest).
PLAYBOOK = dedent(
    """
    version: 1
    name: retention
    rules:
      - id: thanks
        match: {status: signed}
        when: {after: 0 минут, since: counterparty_signed_at}
        do:
          - notify: {to: responsible, text: "Подписан: {{ doc.title }}"}
          - task: {responsible: responsible, title: "Закрыть {{ doc.id }}"}
      - id: signed-event
        when: {status_changed: {to: signed}}
        do:
          - notify: {to: responsible, text: "Событие: {{ doc.title }} подписан"}
    """
).lstrip()


class _Clock:
    def __init__(self, world: World) -> None:
        self.world = world

    def __call__(self) -> datetime:
        return self.world.base.now.replace(tzinfo=MOSCOW)


def _documents(world: World, company: Company, count: int) -> list[str]:
    rng = random.Random(3)
    keys = []
    for _ in range(count):
        customer = rng.choice(company.customers)
        key = world.base.create_document(
            counterparty=customer.counterparty_key,
            responsible=company.managers[customer.manager],
            organization=company.organization_key,
            contract=customer.contract_key,
            at=world.base.now - timedelta(hours=2),
        )
        world.base.send(key, at=world.base.now - timedelta(hours=1))
        keys.append(key)
    return keys


def _sent(world: World) -> int:
    """Every notification ever sent (replaced ones too) and every task."""
    portal = world.portal
    with portal.lock:
        notifications = len(portal.t.notifications)
    return notifications + len(portal.tasks())


def test_pruned_documents_are_never_acted_on_again(tmp_path: Path) -> None:
    with World.started(seed=11, first_day=date(2025, 3, 3), now=START) as world:
        company = seed_company(world.portal, world.base, random.Random(5), customers=6)
        config_path, env = write_config(tmp_path, world, company, PLAYBOOK)
        config = load_config(config_path, env=env)
        clock = _Clock(world)
        docs = _documents(world, company, 12)
        service = open_service(config, clock=clock)
        runner = Runner(service.pipeline, config.schedule.build(config.timezone), clock=clock)

        def tick() -> TickReport:
            report = runner.tick()
            assert report.ok, report.errors
            return report

        try:
            tick()  # the first load: history
            world.base.advance(days=1)
            for key in docs[:10]:
                world.base.sign(key)
            world.base.advance(minutes=5)
            assert tick().fired == 20  # each signed document: the time rule and the event rule
            before = _sent(world)
            assert before == 30  # two notifications and a task per signed document

            world.base.advance(days=400)
            report, _ = prune_store(config, now=clock())
            assert report.documents == 10
            assert service.store.count_documents() == 2
            # Everything read again from 1C (the pruned documents too), then ticks.
            full = run_sync(config.onec, service.store, clock=clock, full=True)  # type: ignore[arg-type]
            assert full.documents == 12
            assert service.store.count_documents() == 2
            world.base.advance(minutes=5)
            world.base.annul(docs[0])  # a pruned document that changes again comes back
            world.base.advance(minutes=10)
            ticks = [tick() for _ in range(3)]
        finally:
            service.close()
    assert [t.fired for t in ticks] == [0, 0, 0]
    assert _sent(world) == before
    with SQLiteStore(tmp_path / "edo-rules.db") as store:
        assert store.get_document(docs[0]) is not None
        waiting = store.requests([RequestState.PENDING, RequestState.IN_FLIGHT])
        assert waiting == []


def test_prune_refuses_a_retention_shorter_than_a_rule_ladder(tmp_path: Path) -> None:
    ladder = PLAYBOOK.replace("after: 0 минут", "after: 40 рабочих дней")
    with World.started(seed=11, first_day=date(2025, 3, 3), now=START) as world:
        company = seed_company(world.portal, world.base, random.Random(5), customers=2)
        config_path, env = write_config(tmp_path, world, company, ladder)
        config = load_config(config_path, env=env)
        with in_language("en"), pytest.raises(ConfigError, match="longest rule ladder"):
            prune_store(config, now=START.replace(tzinfo=MOSCOW), older_than=timedelta(days=60))
        report, horizon = prune_store(config, now=START.replace(tzinfo=MOSCOW), dry_run=True)
    assert report.dry_run and report.documents == 0
    assert horizon == START.replace(tzinfo=MOSCOW) - timedelta(days=365)


def test_store_prune_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "p.yaml").write_text(PLAYBOOK, encoding="utf-8")
    config = tmp_path / "edo-rules.yaml"
    config.write_text(
        "version: 1\nstore: {path: edo.db, retention: 400d}\nplaybooks: playbooks\n",
        encoding="utf-8",
    )
    prune = ["store", "prune", "--config", str(config), "--lang", "en"]
    assert main([*prune, "--dry-run"]) == 0
    assert "would remove 0 closed document(s)" in capsys.readouterr().out
    assert main(["store", "prune", "--config", str(config), "--dry-run"]) == 0
    assert "пробный прогон, ничего не удалено" in capsys.readouterr().out
    assert main([*prune, "--older-than", "5"]) == 1
    assert "shorter than the least retention allowed" in capsys.readouterr().err
    assert main([*prune, "--older-than", "year"]) == 2
    assert "give whole days" in capsys.readouterr().err
    config.write_text("version: 1\nstore: {retention: 7d}\n", encoding="utf-8")
    with in_language("en"), pytest.raises(ConfigError, match="at least 30 days"):
        load_config(config)
